import RetentionStorage
import RetentionTesting
import Testing

/// The adapter example of Documentation/StorageAdapters.md, verbatim: it must compile and pass the suite.
public actor DictionaryOrderStore: OrderStore {
    private var byID: [[UInt8]: Order] = [:]  // keyed by the id's UTF-8 bytes (rule 6)
    private var storeCurrency: Currency?

    public init() {}

    public func append(_ orders: [Order]) throws -> AppendSummary {
        // Validation, currency, in-batch duplicates: the shared rules.
        let batch = try OrderBatchRules.prepare(orders, storeCurrency: storeCurrency)
        // Check every conflict before writing anything: atomic.
        var fresh: [Order] = []
        for order in batch {
            if let stored = byID[Array(order.id.utf8)] {
                guard OrderBatchRules.identical(stored, order) else {
                    throw StoreError(.conflictingDuplicate, orderID: order.id, "order \(order.id) differs")
                }
            } else {
                fresh.append(order)
            }
        }
        for order in fresh { byID[Array(order.id.utf8)] = order }
        if storeCurrency == nil { storeCurrency = fresh.first?.currency }
        return AppendSummary(inserted: fresh.count, duplicatesIgnored: orders.count - fresh.count)
    }

    public func orders(placedIn range: Range<Timestamp>, after cursor: OrderCursor?, limit: Int) -> [Order] {
        let matching = byID.values.filter { order in
            range.contains(order.timestamp) && (cursor.map { OrderBatchRules.isAfter(order, $0) } ?? true)
        }
        return Array(matching.sorted(by: OrderBatchRules.precedes).prefix(limit))
    }

    public func orders(ofCustomer customerID: String) -> [Order] {
        byID.values.filter { $0.customerID.utf8.elementsEqual(customerID.utf8) }.sorted(by: OrderBatchRules.precedes)
    }

    public func count() -> Int { byID.count }
    public func currency() -> Currency? { storeCurrency }
}

struct StorageAdaptersDocumentationTests {
    @Test func theDocumentedAdapterPassesTheSuite() async {
        let failures = await OrderStoreConformance { DictionaryOrderStore() }.run()
        #expect(failures.isEmpty, "\(failures)")
    }
}
