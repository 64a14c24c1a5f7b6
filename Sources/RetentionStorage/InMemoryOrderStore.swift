/// An ``OrderStore`` that keeps orders in memory: for tests, examples and data sets that fit in RAM.
///
/// An actor, so concurrent appends are serialised and each batch is applied entirely or not at all. Orders are
/// kept in append order with an id index and a per-customer index; the (timestamp, id) order that range reads
/// need is built on the first read after an append (O(*n* log *n*)) and reused until the next append.
///
/// ```swift
/// let store = InMemoryOrderStore()
/// try await store.append([Order(id: "1", customerID: "alice", timestamp: t, amount: 2_500)])
/// try await store.count()                                          // 1
/// try await store.customerSummaries(placedIn: .allTime).count      // 1
/// ```
public actor InMemoryOrderStore: SummarizingOrderStore {
    private var rows: [Order] = []
    private var rowOfID: [OrderKey: Int] = [:]
    private var rowsOfCustomer: [OrderKey: [Int]] = [:]
    private var storeCurrency: Currency?
    /// Row numbers in store order; `nil` after an append until the next read.
    private var sortedRows: [Int]?

    /// An empty store.
    public init() {}

    /// A store holding `orders`.
    /// - Throws: ``StoreError`` as ``append(_:)`` does.
    public init(_ orders: [Order]) throws {
        let batch = try OrderBatchRules.prepare(orders, storeCurrency: nil)
        var rowsOfCustomer: [OrderKey: [Int]] = [:]
        var rowOfID: [OrderKey: Int] = [:]
        for (row, order) in batch.enumerated() {
            rowOfID[OrderKey(order.id)] = row
            rowsOfCustomer[OrderKey(order.customerID), default: []].append(row)
        }
        self.rows = batch
        self.rowOfID = rowOfID
        self.rowsOfCustomer = rowsOfCustomer
        self.storeCurrency = batch.first?.currency
    }

    @discardableResult
    public func append(_ orders: [Order]) async throws -> AppendSummary {
        let batch = try OrderBatchRules.prepare(orders, storeCurrency: storeCurrency)
        // Validate everything before the first write, so a failing batch leaves no trace.
        var fresh: [Order] = []
        fresh.reserveCapacity(batch.count)
        for order in batch {
            if let row = rowOfID[OrderKey(order.id)] {
                guard OrderBatchRules.identical(rows[row], order) else {
                    throw StoreError(
                        .conflictingDuplicate, orderID: order.id,
                        "order id \(order.id) is already stored with different content")
                }
            } else {
                fresh.append(order)
            }
        }
        for order in fresh { insert(order) }
        if storeCurrency == nil { storeCurrency = fresh.first?.currency }
        if !fresh.isEmpty { sortedRows = nil }
        return AppendSummary(inserted: fresh.count, duplicatesIgnored: orders.count - fresh.count)
    }

    private func insert(_ order: Order) {
        let row = rows.count
        rows.append(order)
        rowOfID[OrderKey(order.id)] = row
        rowsOfCustomer[OrderKey(order.customerID), default: []].append(row)
    }

    public func orders(placedIn range: Range<Timestamp>, after cursor: OrderCursor?, limit: Int) async throws
        -> [Order]
    {
        guard limit >= 1 else { throw StoreError(.invalidArgument, "page limit \(limit) is below 1") }
        let sorted = storeOrder()
        // First position whose order is inside the range and after the cursor.
        var low = 0
        var high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            let order = rows[sorted[mid]]
            let before =
                order.timestamp < range.lowerBound || (cursor.map { !OrderBatchRules.isAfter(order, $0) } ?? false)
            if before { low = mid + 1 } else { high = mid }
        }
        var page: [Order] = []
        var position = low
        while position < sorted.count, page.count < limit {
            let order = rows[sorted[position]]
            guard order.timestamp < range.upperBound else { break }
            page.append(order)
            position += 1
        }
        return page
    }

    public func orders(ofCustomer customerID: String) async throws -> [Order] {
        (rowsOfCustomer[OrderKey(customerID)] ?? []).map { rows[$0] }.sorted(by: OrderBatchRules.precedes)
    }

    public func count() async throws -> Int { rows.count }

    public func currency() async throws -> Currency? { storeCurrency }

    public func customerSummaries(placedIn range: Range<Timestamp>) async throws -> CustomerSummaries {
        var summaries: [OrderKey: CustomerSummary] = [:]
        for order in rows where range.contains(order.timestamp) {
            summaries[OrderKey(order.customerID), default: CustomerSummary()]
                .record(timestamp: order.timestamp.secondsSince1970, amount: order.amount)
        }
        let sorted = summaries.sorted { $0.key < $1.key }
        return CustomerSummaries(
            customerIDs: sorted.map(\.key.value), summaries: sorted.map(\.value),
            currency: sorted.isEmpty ? nil : storeCurrency)
    }

    public func purchaseActivity(placedIn range: Range<Timestamp>, unit: PeriodUnit, calendar: PeriodCalendar)
        async throws -> PeriodActivity
    {
        var builder = PeriodActivity.Builder(unit: unit, timeZoneIdentifier: calendar.identifier)
        for (customer, customerRows) in rowsOfCustomer.sorted(by: { $0.key < $1.key }) {
            var periods: [Int64] = []
            for row in customerRows {
                let order = rows[row]
                guard order.amount >= 0, range.contains(order.timestamp) else { continue }
                periods.append(calendar.period(unit, of: order.timestamp).index)
            }
            for period in periods.sorted() { builder.add(customerID: customer.value, periodIndex: period) }
        }
        return builder.build()
    }

    private func storeOrder() -> [Int] {
        if let sortedRows { return sortedRows }
        let sorted = rows.indices.sorted { OrderBatchRules.precedes(rows[$0], rows[$1]) }
        sortedRows = sorted
        return sorted
    }
}
