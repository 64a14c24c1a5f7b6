import RetentionMetrics
import RetentionStorage

/// The store's orders as an ``OrderLedger``, loaded once and reused until the store changes.
///
/// Metrics requests need every order (cohorts, RFM binning and the report are whole-history computations), so
/// the server keeps one ledger in memory instead of reading the store per request:
///
///     ledger is fresh  <=>  ledger.count == store.count()      (stores are append-only: no deletes, no updates)
///
/// Each metrics request asks the store for its count (one cheap query) and reloads the ledger only when it
/// differs, so appends made by this process, by another server instance or by a batch job are all seen on the
/// next request. Concurrent requests that find the ledger stale share one reload.
///
/// - Complexity: a fresh request costs one `count()`; a reload streams the store once, O(*n*).
public actor LedgerCache {
    private let store: any OrderStore
    private var ledger: OrderLedger?
    private var loading: Task<OrderLedger, any Error>?
    /// How many times the ledger was (re)loaded from the store; for tests and logs.
    public private(set) var loads = 0

    public init(store: any OrderStore) {
        self.store = store
    }

    /// The current ledger: the cached one when the store's count still matches, a reloaded one otherwise.
    ///
    /// - Throws: The store's read errors, or ``LedgerError`` for data a ledger refuses.
    public func current() async throws -> OrderLedger {
        let count = try await store.count()
        if let ledger, ledger.count == count { return ledger }
        if let loading { return try await loading.value }
        let store = self.store
        let task = Task { try await loadLedger(from: store) }
        loading = task
        defer { loading = nil }
        let fresh = try await task.value
        ledger = fresh
        loads += 1
        return fresh
    }

    /// Drops the cached ledger (after an append by this process), so the next request reloads it.
    public func invalidate() {
        ledger = nil
    }
}
