/// An ``OrderStore`` kept in a CSV file of the library's standard format, with an in-memory index.
///
///     order_id,customer_id,timestamp,amount,currency
///     #commit,0
///     1001,alice,2024-03-01T12:00:00Z,25.00,USD
///     1002,bob,2024-03-02T09:30:00Z,12.00,USD
///     #commit,2,USD,2
///
/// Each ``append(_:)`` validates the whole batch against the index (``OrderBatchRules``, stored ids), then writes
/// its new rows followed by a commit marker `#commit,<orders in the file>,<currency>,<minor digits>` in one
/// `write` on a descriptor opened with `O_APPEND`, and `fsync`s before returning. Opening the store reads the
/// file once, cuts away everything after the last commit marker (an append that never returned: a torn last
/// line or a whole unacknowledged batch; see ``recovery``) and indexes every order, so reads never touch the
/// file again. A file written by ``CSVOrderWriter`` (no markers) opens as it is; the first append commits its
/// rows with a marker before adding its own. To read a store's file with ``CSVOrderReader``, set
/// ``OrderInputOptions/skipsCommitMarkers``.
///
/// One store per file: the index is not shared with other processes or other instances on the same path.
///
/// ```swift
/// let store = try CSVFileOrderStore(path: "orders.csv")
/// try await store.append([Order(id: "1001", customerID: "alice", timestamp: t, amount: 2_500)])
/// try await store.count()   // 1, and still 1 after reopening
/// ```
///
/// - Complexity: opening is O(*n* log *n*) time and O(*n*) memory for *n* orders (the whole file is read and
///   indexed); an append is O(*k*) plus one `fsync` for *k* orders; a page is O(log *n* + `limit`), plus an
///   O(*n* + *k* log *k*) merge on the first read after appends.
public actor CSVFileOrderStore: SummarizingOrderStore {
    /// The file.
    public nonisolated let path: String
    /// What opening the store cut from the end of the file.
    public nonisolated let recovery: FileStoreRecovery
    private let backend: FileOrderBackend

    /// Opens the store in `path`, creating the file (header and an empty commit) when it does not exist.
    ///
    /// ```swift
    /// let store = try CSVFileOrderStore(path: "/var/lib/shop/orders.csv")
    /// store.recovery.isClean   // false after a crash during an append
    /// ```
    ///
    /// - Parameter path: The CSV file.
    /// - Throws: ``StoreError``: ``StoreError/Code/ioError`` when the file cannot be opened, read or repaired;
    ///   ``StoreError/Code/corruptData`` when it is not in the standard format (another header, a bad row, two
    ///   currencies, one id with two contents, a marker count that disagrees with the rows).
    /// - Complexity: O(*n* log *n*) for *n* orders in the file; memory O(file size) while opening.
    public init(path: String) throws(StoreError) {
        let backend = try FileOrderBackend(path: path, format: .csv)
        self.backend = backend
        self.path = path
        self.recovery = backend.recovery
    }

    @discardableResult
    public func append(_ orders: [Order]) async throws -> AppendSummary { try backend.append(orders) }

    public func orders(placedIn range: Range<Timestamp>, after cursor: OrderCursor?, limit: Int) async throws
        -> [Order]
    {
        try backend.orders(placedIn: range, after: cursor, limit: limit)
    }

    public func orders(ofCustomer customerID: String) async throws -> [Order] {
        backend.orders(ofCustomer: customerID)
    }

    public func count() async throws -> Int { backend.count }

    public func currency() async throws -> Currency? { backend.count == 0 ? nil : backend.storeCurrency }

    public func customerSummaries(placedIn range: Range<Timestamp>) async throws -> CustomerSummaries {
        backend.customerSummaries(placedIn: range)
    }

    public func purchaseActivity(placedIn range: Range<Timestamp>, unit: PeriodUnit, calendar: PeriodCalendar)
        async throws -> PeriodActivity
    {
        backend.purchaseActivity(placedIn: range, unit: unit, calendar: calendar)
    }
}
