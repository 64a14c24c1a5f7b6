import RetentionMetrics
import Testing

struct ReturningRateTests {
    typealias F = MetricsFixture

    @Test func seedExampleIs45Percent() throws {
        let returning = try ReturningRate(existing: 2_000, returned: 900)
        #expect(returning.rate == 0.45)
        #expect(returning.rate == 900.0 / 2_000.0)
    }

    @Test func noExistingCustomersIsUndefined() throws {
        #expect(try ReturningRate(existing: 0, returned: 0).rate == nil)
    }

    @Test(arguments: [(-1, 0, MetricError.Code.negativeCount), (3, -1, .negativeCount), (3, 4, .partExceedsWhole)])
    func invalidCountsThrow(existing: Int, returned: Int, code: MetricError.Code) {
        #expect { try ReturningRate(existing: existing, returned: returned) } throws: {
            ($0 as? MetricError)?.code == code
        }
    }

    @Test func cohortIsEveryoneWhoBoughtBefore() throws {
        // Before 04-01: a b c f h i j. In Q2 with a purchase: a, c, i (f's 07-01 order is at the end: outside;
        // h only refunded; d and e are first-time buyers, not in the cohort).
        let returning = try ReturningRate(try F.retentionLedger(), period: F.q2)
        #expect(returning.existing == 7)
        #expect(returning.returned == 3)
        #expect(returning.rate == 3.0 / 7.0)
    }

    @Test func activityWindowNarrowsTheCohort() throws {
        // Bought in [2024-01-02, 2024-04-01): a b f h i; of them a and i bought in Q2.
        let returning = try ReturningRate(try F.retentionLedger(), period: F.q2, activeWithin: 90 * F.day)
        #expect(returning.existing == 5)
        #expect(returning.returned == 2)
        #expect(returning.rate == 0.4)
    }

    @Test func summariesCoreFormMatchesLedgerForm() throws {
        let ledger = try F.retentionLedger()
        let returning = ReturningRate(
            before: ledger.summaries(in: .distantPast..<F.q2.lowerBound), during: ledger.summaries(in: F.q2))
        #expect(returning == (try ReturningRate(ledger, period: F.q2)))
    }

    @Test func emptyLedgerIsUndefined() throws {
        let returning = try ReturningRate(OrderLedger(), period: F.q2)
        #expect(returning.existing == 0 && returning.returned == 0 && returning.rate == nil)
    }

    @Test func invalidActivityWindowThrows() throws {
        #expect { try ReturningRate(try F.retentionLedger(), period: F.q2, activeWithin: 0) } throws: {
            ($0 as? MetricError)?.code == .invalidActivityWindow
        }
    }
}
