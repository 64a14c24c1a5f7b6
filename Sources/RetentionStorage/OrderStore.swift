/// Where orders live: a small backend protocol, in the spirit of swift-log's `LogHandler` and Hummingbird's
/// `PersistDriver`. Code that computes metrics takes a store as a parameter; ``InMemoryOrderStore`` and
/// `SQLiteOrderStore` (module RetentionSQLite) implement it, and adapters for other databases prove themselves
/// with the `OrderStoreConformance` suite (module RetentionTesting).
///
/// The contract:
/// - ``append(_:)`` is atomic: a batch with one bad order stores nothing.
/// - It is idempotent by order id: an identical order sent again is not a second order. The same id with
///   different content is ``StoreError/Code/conflictingDuplicate``. Ids compare as UTF-8 bytes
///   (see ``OrderBatchRules``).
/// - One currency per store: another is ``StoreError/Code/mixedCurrency``.
/// - Reads return orders ordered by (timestamp, order id as UTF-8 bytes), and range reads are half-open:
///   `placedIn: a..<b` holds `a <= timestamp < b`.
/// - Reads page: ``orders(placedIn:after:limit:)`` returns at most `limit` orders after a cursor (keyset
///   pagination), and ``orders(placedIn:batchSize:)`` turns that into an `AsyncSequence` of batches whose
///   memory is bounded by the batch size for any range.
///
/// ```swift
/// let store = InMemoryOrderStore()
/// try await store.append([
///     Order(id: "1001", customerID: "alice", timestamp: Timestamp(secondsSince1970: 1_709_251_200), amount: 2_500),
///     Order(id: "1002", customerID: "bob", timestamp: Timestamp(secondsSince1970: 1_709_337_600), amount: 1_200),
/// ])
/// for try await batch in store.orders(placedIn: .allTime, batchSize: 1_000) {
///     for order in batch { print(order.id) }   // 1001, 1002
/// }
/// ```
///
/// Only ``append(_:)``, ``orders(placedIn:after:limit:)`` and ``orders(ofCustomer:)`` are required; ``count()``
/// and ``currency()`` have scanning defaults that an adapter should replace with a query.
public protocol OrderStore: Sendable {
    /// Appends a batch of orders atomically and idempotently.
    ///
    /// - Parameter orders: The batch. Identical repeats (in the batch or of stored orders) are ignored.
    /// - Returns: How many orders were stored and how many were already there.
    /// - Throws: ``StoreError`` (``StoreError/Code/invalidOrder``, ``StoreError/Code/mixedCurrency``,
    ///   ``StoreError/Code/conflictingDuplicate``), or the backend's own error; in every case nothing of the
    ///   batch is stored.
    @discardableResult
    func append(_ orders: [Order]) async throws -> AppendSummary

    /// One page of the orders placed in `range`: the first `limit` orders after `cursor`, in store order.
    ///
    /// - Parameters:
    ///   - range: Half-open: `range.lowerBound <= timestamp < range.upperBound`.
    ///   - cursor: The position of the last order of the previous page; `nil` for the first page.
    ///   - limit: The maximum number of orders to return, at least 1.
    /// - Returns: Up to `limit` orders; fewer (possibly none) at the end of the range.
    func orders(placedIn range: Range<Timestamp>, after cursor: OrderCursor?, limit: Int) async throws -> [Order]

    /// Every order of one customer (customer id compared as UTF-8 bytes), in store order.
    func orders(ofCustomer customerID: String) async throws -> [Order]

    /// The number of stored orders (refund rows included).
    func count() async throws -> Int

    /// The store's currency; `nil` while the store is empty.
    func currency() async throws -> Currency?
}

/// Where the previous page ended: the (timestamp, order id) of its last order.
public struct OrderCursor: Hashable, Sendable, Codable {
    public var timestamp: Timestamp
    public var orderID: String

    public init(timestamp: Timestamp, orderID: String) {
        self.timestamp = timestamp
        self.orderID = orderID
    }

    /// The cursor just past `order`.
    public init(after order: Order) {
        self.init(timestamp: order.timestamp, orderID: order.id)
    }
}

/// What an append did.
public struct AppendSummary: Hashable, Sendable, Codable {
    /// Orders newly stored.
    public var inserted: Int
    /// Orders of the batch that were already stored, or repeated in the batch, with identical content.
    public var duplicatesIgnored: Int

    public init(inserted: Int, duplicatesIgnored: Int) {
        self.inserted = inserted
        self.duplicatesIgnored = duplicatesIgnored
    }
}

extension Range where Bound == Timestamp {
    /// Every representable instant except `Int64.max` seconds: `Int64.min ..< Int64.max`.
    public static var allTime: Range<Timestamp> {
        Timestamp(secondsSince1970: .min)..<Timestamp(secondsSince1970: .max)
    }
}

extension OrderStore {
    /// The orders placed in `range`, as an `AsyncSequence` of batches of at most `batchSize` orders, in store
    /// order. Each batch is one ``orders(placedIn:after:limit:)`` call, so memory stays bounded by the batch
    /// size however large the range; the sequence never yields an empty batch.
    ///
    /// Orders appended while the sequence is being consumed may or may not appear (keyset pagination: each
    /// page is read after the previous one's last order), but no order appears twice and none stored before
    /// the first page is skipped.
    ///
    /// ```swift
    /// var revenue: Int64 = 0
    /// for try await batch in store.orders(placedIn: march, batchSize: 10_000) {
    ///     revenue += batch.reduce(0) { $0 + $1.amount }
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - range: Half-open interval of instants.
    ///   - batchSize: Orders per batch, at least 1 (a programmer mistake otherwise).
    /// - Returns: A sequence that reads lazily, one page per iteration.
    /// - Complexity: O(*n* / `batchSize`) page reads for *n* orders in the range.
    public func orders(placedIn range: Range<Timestamp>, batchSize: Int = 1_000) -> OrderBatches {
        precondition(batchSize >= 1, "batchSize must be at least 1")
        return OrderBatches(batchSize: batchSize) { cursor, limit in
            try await self.orders(placedIn: range, after: cursor, limit: limit)
        }
    }

    /// Appends orders from any sequence in atomic batches of `batchSize`; a failing batch stops the load
    /// (earlier batches stay stored).
    ///
    /// - Returns: The summed ``AppendSummary`` of all batches.
    @discardableResult
    public func append(contentsOf orders: some Sequence<Order>, batchSize: Int = 1_000) async throws
        -> AppendSummary
    {
        precondition(batchSize >= 1, "batchSize must be at least 1")
        var total = AppendSummary(inserted: 0, duplicatesIgnored: 0)
        var batch: [Order] = []
        batch.reserveCapacity(batchSize)
        for order in orders {
            batch.append(order)
            if batch.count == batchSize {
                let summary = try await append(batch)
                total.inserted += summary.inserted
                total.duplicatesIgnored += summary.duplicatesIgnored
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty {
            let summary = try await append(batch)
            total.inserted += summary.inserted
            total.duplicatesIgnored += summary.duplicatesIgnored
        }
        return total
    }

    /// Default: counts every order by paging through the store. Adapters should answer with one query.
    /// - Complexity: O(*n*) reads.
    public func count() async throws -> Int {
        var total = 0
        for try await batch in orders(placedIn: .allTime, batchSize: 10_000) { total += batch.count }
        return total
    }

    /// Default: the currency of the first stored order.
    public func currency() async throws -> Currency? {
        try await orders(placedIn: .allTime, after: nil, limit: 1).first?.currency
    }
}

/// The orders of a range, read page by page from an ``OrderStore``. Created by
/// ``OrderStore/orders(placedIn:batchSize:)``.
public struct OrderBatches: AsyncSequence, Sendable {
    public typealias Element = [Order]
    public typealias Failure = any Error

    /// Reads one page: the first `limit` orders after the cursor.
    public typealias PageReader = @Sendable (_ cursor: OrderCursor?, _ limit: Int) async throws -> [Order]

    let batchSize: Int
    let readPage: PageReader

    /// A sequence of pages read by `readPage`, `batchSize` orders at a time. Adapters rarely need this: the
    /// default ``OrderStore/orders(placedIn:batchSize:)`` builds it.
    public init(batchSize: Int, readPage: @escaping PageReader) {
        precondition(batchSize >= 1, "batchSize must be at least 1")
        self.batchSize = batchSize
        self.readPage = readPage
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let batchSize: Int
        let readPage: PageReader
        var cursor: OrderCursor?
        var finished = false

        public mutating func next() async throws -> [Order]? {
            guard !finished else { return nil }
            let page = try await readPage(cursor, batchSize)
            if page.count < batchSize { finished = true }
            guard let last = page.last else { return nil }
            cursor = OrderCursor(after: last)
            return page
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(batchSize: batchSize, readPage: readPage)
    }
}
