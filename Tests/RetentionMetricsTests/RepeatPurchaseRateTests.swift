import RetentionMetrics
import Testing

struct RepeatPurchaseRateTests {
    typealias F = MetricsFixture

    static let march = F.instant(2024, 3, 1)..<F.instant(2024, 4, 1)

    @Test func halfOfCustomersRepeat() throws {
        let ledger = try F.ledger([
            ("p", F.instant(2024, 3, 1), 100), ("p", F.instant(2024, 3, 9), 100),
            ("q", F.instant(2024, 3, 2), 100), ("q", F.instant(2024, 3, 2), 300),  // same instant: two purchases
            ("r", F.instant(2024, 3, 3), 100), ("r", F.instant(2024, 3, 4), -100),  // a refund is not a purchase
            ("s", F.instant(2024, 2, 29), 100), ("s", F.instant(2024, 3, 31, plus: F.day - 1), 100),
            ("t", F.instant(2024, 3, 5), 100), ("t", F.instant(2024, 4, 1), 100),  // 04-01 is outside
            ("u", F.instant(2024, 3, 6), -50),  // refunds only: not a customer of the window
        ])
        let rate = RepeatPurchaseRate(ledger, in: Self.march)
        #expect(rate.customers == 5)  // p q r s t
        #expect(rate.repeatCustomers == 2)  // p q
        #expect(rate.rate == 0.4)
        let allTime = RepeatPurchaseRate(ledger, in: nil)
        #expect(allTime.repeatCustomers == 4)  // p q s t
        #expect(allTime.rate == 0.8)
    }

    @Test func retentionLedgerAllTimeAndQ2() throws {
        let ledger = try F.retentionLedger()
        let allTime = RepeatPurchaseRate(ledger.summaries())
        #expect(allTime.customers == 10)  // everyone but g
        #expect(allTime.repeatCustomers == 4)  // a c f i
        #expect(allTime.rate == 0.4)
        let q2 = RepeatPurchaseRate(ledger, in: F.q2)
        #expect(q2.customers == 5)
        #expect(q2.rate == 0)
    }

    @Test func emptyIsUndefined() {
        let rate = RepeatPurchaseRate(OrderLedger(), in: nil)
        #expect(rate.customers == 0 && rate.rate == nil)
    }
}
