import RetentionStorage
import RetentionTesting
import Testing

/// The suite must catch broken stores: each fault below breaks one rule, and the check guarding that rule must
/// fail (while an honest store passes every check, see InMemoryOrderStoreTests).
struct OrderStoreConformanceTests {
    enum Fault: String, CaseIterable, Sendable {
        case reversedPages, closedUpperBound, notIdempotent, nonAtomic, noFirstInstant, activityInUTC, oversizedPages
    }

    struct FaultyStore: SummarizingOrderStore {
        let inner = InMemoryOrderStore()
        let fault: Fault

        func append(_ orders: [Order]) async throws -> AppendSummary {
            switch fault {
            case .notIdempotent:
                _ = try await inner.append(orders)
                return AppendSummary(inserted: orders.count, duplicatesIgnored: 0)
            case .nonAtomic:
                var total = AppendSummary(inserted: 0, duplicatesIgnored: 0)
                // Row by row, with a suspension between rows as a store doing I/O per row would have.
                for order in orders {
                    total.inserted += try await inner.append([order]).inserted
                    await Task.yield()
                }
                return total
            default:
                return try await inner.append(orders)
            }
        }

        func orders(placedIn range: Range<Timestamp>, after cursor: OrderCursor?, limit: Int) async throws -> [Order] {
            switch fault {
            case .reversedPages:
                return try await inner.orders(placedIn: range, after: cursor, limit: limit).reversed()
            case .closedUpperBound:
                let upper = Timestamp(secondsSince1970: range.upperBound.secondsSince1970 &+ 1)
                return try await inner.orders(
                    placedIn: range.lowerBound..<Swift.max(upper, range.upperBound), after: cursor, limit: limit)
            case .oversizedPages:
                return try await inner.orders(placedIn: range, after: cursor, limit: limit + 1)
            default:
                return try await inner.orders(placedIn: range, after: cursor, limit: limit)
            }
        }

        func orders(ofCustomer customerID: String) async throws -> [Order] {
            try await inner.orders(ofCustomer: customerID)
        }

        func customerSummaries(placedIn range: Range<Timestamp>) async throws -> CustomerSummaries {
            var result = try await inner.customerSummaries(placedIn: range)
            if fault == .noFirstInstant {
                for index in result.summaries.indices { result.summaries[index].firstInstantAmount = 0 }
            }
            return result
        }

        func purchaseActivity(placedIn range: Range<Timestamp>, unit: PeriodUnit, calendar: PeriodCalendar)
            async throws -> PeriodActivity
        {
            let activity = try await inner.purchaseActivity(
                placedIn: range, unit: unit, calendar: fault == .activityInUTC ? .utc : calendar)
            var relabelled = activity
            relabelled.timeZoneIdentifier = calendar.timeZone.identifier
            return relabelled
        }
    }

    static let expectedFailures: [(Fault, OrderStoreConformance.Check)] = [
        (.reversedPages, .ordering), (.closedUpperBound, .halfOpenRanges), (.notIdempotent, .idempotentAppend),
        (.nonAtomic, .atomicAppend), (.noFirstInstant, .summaries), (.activityInUTC, .purchaseActivity),
        (.oversizedPages, .paging), (.nonAtomic, .concurrentReadersAndWriters),
    ]

    @Test(arguments: expectedFailures)
    func suiteCatchesTheFault(fault: Fault, check: OrderStoreConformance.Check) async {
        let suite = OrderStoreConformance(generatedOrders: 400) { FaultyStore(fault: fault) }
        let failures = await suite.run(check)
        #expect(!failures.isEmpty)
        #expect(failures.allSatisfy { $0.check == check.rawValue })
    }

    @Test func runAllThrowsEveryFailureWithItsCheckName() async {
        let suite = OrderStoreConformance(generatedOrders: 400) { FaultyStore(fault: .reversedPages) }
        do {
            try await suite.runAll()
            Issue.record("runAll did not throw for a store with reversed pages")
        } catch let error as ConformanceFailures {
            #expect(error.failures.contains { $0.check == "ordering" })
            #expect(error.description.contains("[ordering]"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func aFactoryErrorIsAFailureNotACrash() async {
        struct Unavailable: Error {}
        let failures = await OrderStoreConformance { throw Unavailable() }.run(.emptyStore)
        #expect(failures.count == 1)
        #expect(failures.first?.message.contains("Unavailable") == true)
    }
}
