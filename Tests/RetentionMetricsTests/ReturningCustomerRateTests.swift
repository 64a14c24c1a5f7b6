import RetentionMetrics
import Testing

struct ReturningCustomerRateTests {
    typealias F = MetricsFixture

    @Test func countsForm() throws {
        let rate = try ReturningCustomerRate(customers: 40, returning: 10)
        #expect(rate.rate == 0.25)
        #expect(try ReturningCustomerRate(customers: 0, returning: 0).rate == nil)
    }

    @Test(arguments: [(-1, 0, MetricError.Code.negativeCount), (2, 3, .partExceedsWhole)])
    func invalidCountsThrow(customers: Int, returning: Int, code: MetricError.Code) {
        #expect { try ReturningCustomerRate(customers: customers, returning: returning) } throws: {
            ($0 as? MetricError)?.code == code
        }
    }

    @Test func shareOfWindowBuyersWhoBoughtBefore() throws {
        // Buyers in Q2: a c d e i (g and h only refunded; f and k bought exactly at the end, outside).
        // Of them bought before 04-01: a, c (in 2023), i.
        let rate = ReturningCustomerRate(try F.retentionLedger(), in: F.q2)
        #expect(rate.customers == 5)
        #expect(rate.returning == 3)
        #expect(rate.rate == 0.6)
    }

    @Test func summariesCoreFormMatchesLedgerForm() throws {
        let ledger = try F.retentionLedger()
        let rate = ReturningCustomerRate(
            before: ledger.summaries(in: .distantPast..<F.q2.lowerBound), during: ledger.summaries(in: F.q2))
        #expect(rate == ReturningCustomerRate(ledger, in: F.q2))
    }

    @Test func sameSetsAsReturningRateWithAnotherDenominator() throws {
        let ledger = try F.retentionLedger()
        let shopify = ReturningCustomerRate(ledger, in: F.q2)
        let cohort = try ReturningRate(ledger, period: F.q2)
        #expect(shopify.returning == cohort.returned)
        #expect(shopify.customers != cohort.existing)
    }

    @Test func emptyLedgerAndRefundOnlyWindowAreUndefined() throws {
        #expect(ReturningCustomerRate(OrderLedger(), in: F.q2).rate == nil)
        let refundsOnly = try F.ledger([("g", F.instant(2024, 1, 5), 900), ("g", F.instant(2024, 5, 1), -900)])
        let rate = ReturningCustomerRate(refundsOnly, in: F.q2)
        #expect(rate.customers == 0)
        #expect(rate.rate == nil)
    }
}
