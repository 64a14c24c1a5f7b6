import RetentionSQLite
import Testing

/// The push-down report (`RetentionReport.pushedDown(from:options:)`, SQL `GROUP BY` in SQLite) equals the
/// report from the ledger of the same orders in every field but the revenue series, on seeded random data.
@Suite struct PushDownReportTests {
    /// The ledger's report with the one field push-down leaves out cleared.
    private func expected(_ ledger: OrderLedger, _ options: RetentionReport.Options) throws -> RetentionReport {
        var report = try RetentionReport(ledger, options: options)
        report.revenueByPeriod = []
        return report
    }

    @Test func pushedDownReportEqualsTheLedgersOnRandomData() async throws {
        let berlin = PeriodCalendar(identifier: "Europe/Berlin")!
        let newYork = PeriodCalendar(identifier: "America/New_York")!
        for seed in propertySeeds(30, base: 77_001) {
            var rng = SeededGenerator(seed: seed)
            let orders = randomOrders(
                &rng, count: Int.random(in: 1...150, using: &rng), customers: Int.random(in: 1...25, using: &rng))
            let store = try SQLiteOrderStore(path: ":memory:")
            _ = try await store.append(orders)
            let ledger = try OrderLedger(orders)
            let windowStart = 1_672_531_200 + Int64.random(in: 30...200, using: &rng) * 86_400
            let optionSets: [RetentionReport.Options] = [
                .init(calendar: .utc),
                .init(calendar: berlin, cohortUnit: .week, refunds: .exclude),
                .init(
                    calendar: newYork,
                    window: Timestamp(
                        secondsSince1970: windowStart)..<Timestamp(secondsSince1970: windowStart + 90 * 86_400),
                    activeWithin: 60 * 86_400, lifespanYears: 2, grossMargin: 0.4, cohortUnit: .quarter,
                    asOf: CivilDate(year: 2023, month: 9, day: 14)!),
            ]
            for (index, options) in optionSets.enumerated() {
                let pushed = try await RetentionReport.pushedDown(from: store, options: options)
                #expect(pushed == (try expected(ledger, options)), "seed \(seed), options #\(index)")
            }
        }
    }

    @Test func refundsBeforeAndAfterEveryPurchaseSetTheDataWindow() async throws {
        let orders = [
            Order(id: "r0", customerID: "a", timestamp: Timestamp(secondsSince1970: 1_700_000_000), amount: -500),
            Order(id: "p1", customerID: "a", timestamp: Timestamp(secondsSince1970: 1_700_200_000), amount: 2_000),
            Order(id: "p2", customerID: "b", timestamp: Timestamp(secondsSince1970: 1_700_900_000), amount: 1_000),
            Order(id: "r3", customerID: "b", timestamp: Timestamp(secondsSince1970: 1_702_000_000), amount: -300),
        ]
        let store = try SQLiteOrderStore(path: ":memory:")
        _ = try await store.append(orders)
        let pushed = try await RetentionReport.pushedDown(from: store)
        // Whole UTC days from the first refund's day to the last refund's day.
        #expect(pushed.from == "2023-11-14T00:00:00Z")
        #expect(pushed.to == "2023-12-09T00:00:00Z")
        #expect(pushed.asOf == "2023-12-08")
        #expect(pushed.revenue == "22.00")
        #expect(pushed == (try expected(try OrderLedger(orders), .init())))
    }

    @Test func anEmptyStoreHasNoWindow() async throws {
        let store = try SQLiteOrderStore(path: ":memory:")
        await #expect(throws: MetricError.self) { try await RetentionReport.pushedDown(from: store) }
        #expect(throws: MetricError.self) { try RetentionReport(OrderLedger()) }
    }
}
