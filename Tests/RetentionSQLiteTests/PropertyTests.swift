import RetentionSQLite
import Testing

/// Push-down equals in-memory: the SQL aggregation of ``SQLiteOrderStore/customerSummaries(placedIn:)`` gives
/// the same per-customer summaries as ``OrderLedger/summaries(in:)`` on seeded random data.
@Suite struct SQLitePropertyTests {
    @Test func pushedDownSummariesEqualTheLedgers() async throws {
        for seed in propertySeeds(100) {
            var rng = SeededGenerator(seed: seed)
            let orders = randomOrders(
                &rng, count: Int.random(in: 0...80, using: &rng), customers: Int.random(in: 1...12, using: &rng))
            let store = try SQLiteOrderStore(path: ":memory:")
            var rest = orders[...]
            while !rest.isEmpty {
                let size = Int.random(in: 1...max(1, rest.count), using: &rng)
                _ = try await store.append(Array(rest.prefix(size)))
                rest = rest.dropFirst(size)
            }
            let ledger = try OrderLedger(orders)
            let windows: [Range<Timestamp>] = [
                Timestamp(secondsSince1970: .min)..<Timestamp(secondsSince1970: .max),
                {
                    let start = 1_672_531_200 + Int64.random(in: 0...300, using: &rng) * 86_400 + 3_600
                    return Timestamp(secondsSince1970: start)..<Timestamp(secondsSince1970: start + 40 * 86_400)
                }(),
            ]
            for window in windows {
                let pushed = try await store.customerSummaries(placedIn: window)
                let inMemory = ledger.summaries(in: window)
                // A customer without orders in the window may be listed by one side with an empty summary.
                #expect(
                    keyed(pushed).filter { $0.value != CustomerSummary() }
                        == keyed(inMemory).filter { $0.value != CustomerSummary() },
                    "seed \(seed), window \(window)")
            }
        }
    }
}
