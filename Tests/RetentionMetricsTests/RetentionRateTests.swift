import Foundation
import Testing

import RetentionMetrics

struct RetentionRateTests {
    typealias F = MetricsFixture

    // MARK: Counts form

    @Test func seedExampleIs78PercentNot81() throws {
        let retention = try RetentionRate(start: 50_000, new: 1_000, end: 40_000)
        #expect(retention.retained == 39_000)
        #expect(retention.rate == 39_000.0 / 50_000.0)
        #expect(retention.rate == 0.78)
        // Computed as 11,000 / 50,000, not 1 - 0.78 (= 0.21999999999999997).
        #expect(retention.churnRate == 0.22)
        #expect(1 - 0.78 != 0.22)
        // The seed printed 81%: 40,000 / 49,000 = 0.816..., i.e. E / (S - N), not (E - N) / S.
        #expect(retention.rate != 40_000.0 / 49_000.0)
    }

    @Test func noCustomersAtStartIsUndefined() throws {
        let retention = try RetentionRate(start: 0, new: 7, end: 7)
        #expect(retention.rate == nil)
        #expect(retention.churnRate == nil)
        #expect(retention.retained == 0)
    }

    @Test func everyoneKeptIsOne() throws {
        let retention = try RetentionRate(start: 10, new: 3, end: 13)
        #expect(retention.rate == 1)
        #expect(retention.churnRate == 0)
    }

    @Test(arguments: [
        (-1, 0, 0, MetricError.Code.negativeCount),
        (5, -1, 3, .negativeCount),
        (5, 0, -3, .negativeCount),
        (5, 4, 3, .newExceedsEnd),
        (5, 1, 7, .retainedExceedsStart),
    ])
    func invalidCountsThrow(start: Int, new: Int, end: Int, code: MetricError.Code) {
        #expect(throws: MetricError.self) { try RetentionRate(start: start, new: new, end: end) }
        do {
            _ = try RetentionRate(start: start, new: new, end: end)
        } catch let error as MetricError {
            #expect(error.code == code)
            #expect(!error.description.isEmpty)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    // MARK: From orders

    @Test func ledgerWithNinetyDayWindow() throws {
        let retention = try PeriodRetention(try F.retentionLedger(), period: F.q2, activeWithin: 90 * F.day)
        #expect(retention.start == 5)  // a b f h i
        #expect(retention.end == 4)  // a c d i
        #expect(retention.new == 1)  // d
        #expect(retention.acquired == 2)  // d e
        #expect(retention.retained == 2)  // a i
        #expect(retention.reactivated == 1)  // c
        #expect(retention.lost == 3)  // b f h
        #expect(retention.rate == 3.0 / 5.0)
        #expect(retention.cohortRate == 2.0 / 5.0)
        #expect(retention.churnRate == 1 - 3.0 / 5.0)
        #expect(retention.lostRate == 3.0 / 5.0)
    }

    @Test func anyTimeBeforeMakesEveryoneRetained() throws {
        let retention = try PeriodRetention(try F.retentionLedger(), period: F.q2, activeWithin: nil)
        #expect(retention.start == 7)  // a b c f h i j
        #expect(retention.end == 9)  // + d e
        #expect(retention.new == 2)
        #expect(retention.acquired == 2)
        #expect(retention.retained == 7)
        #expect(retention.lost == 0)
        #expect(retention.reactivated == 0)
        #expect(retention.rate == 1)
        #expect(retention.cohortRate == 1)
        #expect(retention.lostRate == 0)
    }

    @Test func summariesCoreFormMatchesLedgerForm() throws {
        let ledger = try F.retentionLedger()
        for activeWithin in [nil, 90 * F.day, 30 * F.day, 400 * F.day] as [Int64?] {
            let (atStart, atEnd) = try PeriodRetention.summaryWindows(period: F.q2, activeWithin: activeWithin)
            let fromSummaries = PeriodRetention(
                period: F.q2, atStart: ledger.summaries(in: atStart), atEnd: ledger.summaries(in: atEnd),
                allTime: ledger.summaries())
            #expect(fromSummaries == (try PeriodRetention(ledger, period: F.q2, activeWithin: activeWithin)))
        }
    }

    @Test func summariesFromADatabaseMatchByCustomerID() throws {
        let ledger = try F.retentionLedger()
        let (atStart, atEnd) = try PeriodRetention.summaryWindows(period: F.q2, activeWithin: 90 * F.day)
        // A database returns only customers with rows, in its own order.
        func database(_ summaries: CustomerSummaries) -> CustomerSummaries {
            let rows = zip(summaries.customerIDs, summaries.summaries).filter { $0.1 != CustomerSummary() }.reversed()
            return CustomerSummaries(
                customerIDs: rows.map(\.0), summaries: rows.map(\.1), currency: summaries.currency)
        }
        let retention = PeriodRetention(
            period: F.q2, atStart: database(ledger.summaries(in: atStart)),
            atEnd: database(ledger.summaries(in: atEnd)), allTime: database(ledger.summaries()))
        #expect(retention == (try PeriodRetention(ledger, period: F.q2, activeWithin: 90 * F.day)))
        #expect(retention.retained == 2)
    }

    @Test func reactivationsCanPushTheRateAboveOne() throws {
        let ledger = try F.ledger([
            ("x", F.instant(2024, 3, 1), 100),  // active at start, gone at end
            ("y", F.instant(2023, 1, 1), 100), ("y", F.instant(2024, 6, 1), 100),  // back after lapsing
            ("z", F.instant(2023, 2, 1), 100), ("z", F.instant(2024, 6, 2), 100),
        ])
        let retention = try PeriodRetention(ledger, period: F.q2, activeWithin: 90 * F.day)
        #expect(retention.start == 1)
        #expect(retention.reactivated == 2)
        #expect(retention.rate == 2)
        #expect(retention.churnRate == -1)
        #expect(retention.cohortRate == 0)
        #expect(retention.lostRate == 1)
    }

    @Test func emptyLedgerIsUndefined() throws {
        let retention = try PeriodRetention(OrderLedger(), period: F.q2, activeWithin: 90 * F.day)
        #expect(retention.start == 0 && retention.end == 0 && retention.new == 0)
        #expect(retention.rate == nil)
        #expect(retention.cohortRate == nil)
        #expect(retention.churnRate == nil)
        #expect(retention.lostRate == nil)
    }

    @Test(arguments: [0, -86_400] as [Int64])
    func nonPositiveActivityWindowThrows(activeWithin: Int64) throws {
        let ledger = try F.retentionLedger()
        let expected = MetricError(.invalidActivityWindow, "activeWithin must be positive seconds, got \(activeWithin)")
        #expect(throws: expected) {
            try PeriodRetention(ledger, period: F.q2, activeWithin: activeWithin)
        }
    }

    @Test func hugeActivityWindowClampsInsteadOfOverflowing() throws {
        let ledger = try F.retentionLedger()
        let huge = try PeriodRetention(ledger, period: F.q2, activeWithin: .max)
        #expect(huge == (try PeriodRetention(ledger, period: F.q2, activeWithin: nil)))
    }

    @Test func roundTripsThroughCodable() throws {
        let retention = try PeriodRetention(try F.retentionLedger(), period: F.q2, activeWithin: 90 * F.day)
        let data = try JSONEncoder().encode(retention)
        #expect(try JSONDecoder().decode(PeriodRetention.self, from: data) == retention)
    }
}
