/// An ``OrderStore`` kept in a JSON Lines file (the format of ``JSONLinesOrderWriter``), with an in-memory index.
///
///     {"commit":0}
///     {"orderId":"1001","customerId":"alice","timestamp":"2024-03-01T12:00:00Z","amount":"25.00","currency":"USD"}
///     {"orderId":"1002","customerId":"bob","timestamp":"2024-03-02T09:30:00Z","amount":"12.00","currency":"USD"}
///     {"commit":2,"currency":"USD","minorUnitDigits":2}
///
/// The same design as ``CSVFileOrderStore``: each ``append(_:)`` validates the whole batch, writes its new lines
/// and a commit marker `{"commit":<orders in the file>,...}` in one `O_APPEND` `write`, then `fsync`s; opening
/// reads the file once, cuts away everything after the last marker (see ``recovery``) and indexes every order.
/// A file written by ``JSONLinesOrderWriter`` opens as it is. To read a store's file with
/// ``JSONLinesOrderReader``, set ``OrderInputOptions/skipsCommitMarkers``.
///
/// One store per file: the index is not shared with other processes or other instances on the same path.
///
/// ```swift
/// let store = try JSONLinesOrderStore(path: "orders.jsonl")
/// try await store.append([Order(id: "1001", customerID: "alice", timestamp: t, amount: 2_500)])
/// try await store.count()   // 1, and still 1 after reopening
/// ```
///
/// - Complexity: as ``CSVFileOrderStore``; decoding a JSON line on open costs more than a CSV row.
public actor JSONLinesOrderStore: SummarizingOrderStore {
    /// The file.
    public nonisolated let path: String
    /// What opening the store cut from the end of the file.
    public nonisolated let recovery: FileStoreRecovery
    private let backend: FileOrderBackend

    /// Opens the store in `path`, creating the file (with an empty commit) when it does not exist.
    ///
    /// ```swift
    /// let store = try JSONLinesOrderStore(path: "/var/lib/shop/orders.jsonl")
    /// store.recovery.isClean   // false after a crash during an append
    /// ```
    ///
    /// - Parameter path: The JSON Lines file.
    /// - Throws: ``StoreError``: ``StoreError/Code/ioError`` when the file cannot be opened, read or repaired;
    ///   ``StoreError/Code/corruptData`` when it is not in the format (a line that is not an order or a marker, two
    ///   currencies, one id with two contents, a marker count that disagrees with the rows).
    /// - Complexity: O(*n* log *n*) for *n* orders in the file; memory O(file size) while opening.
    public init(path: String) throws(StoreError) {
        let backend = try FileOrderBackend(path: path, format: .jsonLines)
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
