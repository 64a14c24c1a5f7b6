import RetentionMetrics
import Testing

struct ChurnRateTests {
    typealias F = MetricsFixture

    @Test func directFormFromCounts() throws {
        let churn = try ChurnRate(start: 200, lost: 30)
        #expect(churn.rate == 0.15)
        #expect(churn.retentionComplement == nil)
        #expect(try ChurnRate(start: 0, lost: 0).rate == nil)
    }

    @Test(arguments: [(-1, 0, MetricError.Code.negativeCount), (5, 6, .partExceedsWhole)])
    func invalidCountsThrow(start: Int, lost: Int, code: MetricError.Code) {
        #expect { try ChurnRate(start: start, lost: lost) } throws: { ($0 as? MetricError)?.code == code }
    }

    @Test func complementOfTheSeedRetentionRate() throws {
        let retention = try RetentionRate(start: 50_000, new: 1_000, end: 40_000)
        #expect(ChurnRate.complement(of: retention) == 0.22)  // 11,000 / 50,000, not 1 - 0.78
        #expect(ChurnRate.complement(of: try RetentionRate(start: 0, new: 1, end: 1)) == nil)
    }

    @Test func bothFormsFromOrders() throws {
        // S = a b f h i; lost = b f h; one reactivated (c) offsets one loss in the complement form.
        let churn = try ChurnRate(try F.retentionLedger(), period: F.q2, activeWithin: 90 * F.day)
        #expect(churn.start == 5)
        #expect(churn.lost == 3)
        #expect(churn.rate == 3.0 / 5.0)
        #expect(churn.retentionComplement == 1 - 3.0 / 5.0)
    }

    @Test func formsAgreeWithoutReactivations() throws {
        let ledger = try F.ledger([
            ("a", F.instant(2024, 3, 1), 100), ("a", F.instant(2024, 6, 1), 100),
            ("b", F.instant(2024, 3, 2), 100),
            ("c", F.instant(2024, 3, 3), 100), ("c", F.instant(2024, 5, 1), 100),
            ("d", F.instant(2024, 3, 4), 100),
        ])
        let churn = try ChurnRate(ledger, period: F.q2, activeWithin: 90 * F.day)
        #expect(churn.rate == 0.5)
        #expect(churn.retentionComplement == 0.5)
    }

    @Test func anyTimeBeforeMeansNoChurn() throws {
        let churn = try ChurnRate(try F.retentionLedger(), period: F.q2, activeWithin: nil)
        #expect(churn.rate == 0)
        #expect(churn.retentionComplement == 0)
    }
}
