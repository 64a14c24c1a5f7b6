import RetentionMetrics
import Testing

struct SpendUpliftTests {
    typealias F = MetricsFixture

    @Test func repeatBasketIs31PercentLarger() throws {
        let ledger = try F.ledger([
            // u's first instant has two purchases (15.00 + 25.00): both are first purchases.
            ("u", F.instant(2024, 1, 1), 1_500), ("u", F.instant(2024, 1, 1), 2_500),
            ("u", F.instant(2024, 2, 1), 2_620),
            ("v", F.instant(2024, 1, 3), 2_000), ("v", F.instant(2024, 1, 9), 2_620),
            ("v", F.instant(2024, 3, 9), 2_620),
            ("w", F.instant(2024, 1, 5), 2_000), ("w", F.instant(2024, 1, 6), -2_000),  // refund: ignored
            ("g", F.instant(2024, 1, 7), -700),  // refunds only: nothing
        ])
        let uplift = SpendUplift(ledger)
        #expect(uplift.firstPurchases == 4)
        #expect(uplift.firstAmount == 8_000)  // AOV 20.00
        #expect(uplift.repeatPurchases == 3)
        #expect(uplift.repeatAmount == 7_860)  // AOV 26.20
        #expect(F.isClose(uplift.value, 0.31))
    }

    @Test func repeatBasketSmallerIsNegative() throws {
        let ledger = try F.ledger([("a", F.instant(2024, 1, 1), 4_000), ("a", F.instant(2024, 1, 2), 1_000)])
        #expect(SpendUplift(ledger).value == -0.75)
    }

    @Test func undefinedWithoutRepeatsFirstsOrFirstMoney() throws {
        #expect(SpendUplift(OrderLedger()).value == nil)
        let singles = try F.ledger([("a", F.instant(2024, 1, 1), 4_000), ("b", F.instant(2024, 1, 2), 1_000)])
        #expect(SpendUplift(singles).value == nil)
        let freeFirst = try F.ledger([("a", F.instant(2024, 1, 1), 0), ("a", F.instant(2024, 1, 2), 1_000)])
        #expect(SpendUplift(freeFirst).repeatPurchases == 1)
        #expect(SpendUplift(freeFirst).value == nil)
    }

    @Test func summariesMergeLikeShards() throws {
        let ledger = try F.ledger([
            ("a", F.instant(2024, 1, 1), 1_000), ("a", F.instant(2024, 2, 1), 3_000),
            ("b", F.instant(2024, 1, 1), 2_000), ("b", F.instant(2024, 3, 1), 2_000),
        ])
        let split = F.instant(2024, 1, 15)
        let merged = ledger.summaries(in: .distantPast..<split)
            .merging(ledger.summaries(in: split..<F.instant(2025, 1, 1)))
        #expect(SpendUplift(merged) == SpendUplift(ledger))
        #expect(SpendUplift(ledger).value == 2.5 / 1.5 - 1)  // 25.00 vs 15.00
    }
}
