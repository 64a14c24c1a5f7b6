import Foundation
import RetentionMetrics
import Testing

struct BTYDSummaryTests {
    /// lifetimes' own fixture (`test_summary_data_from_transaction_data_returns_correct_results`), with amounts added.
    static let tiny = RFMTestLedger.ledger([
        ("1", "2015-02-01", 1_000), ("1", "2015-02-06", 2_000),
        ("2", "2015-01-01", 500),
        ("3", "2015-01-01", 100), ("3", "2015-01-02", 200), ("3", "2015-01-05", 400),
    ])
    static let tinyEnd = RFMTestLedger.date("2015-02-07")

    static func text(_ summary: BTYDSummary) -> [String] {
        summary.rows.map { "\($0.customerID) \($0.frequency) \($0.recency) \($0.age) \($0.monetaryValue)" }
    }

    @Test func lifetimesTinyFixtureInDays() {
        let summary = BTYDSummary(ledger: Self.tiny, calendar: .utc, observationEnd: Self.tinyEnd)
        #expect(Self.text(summary) == ["1 1 5.0 6.0 20.0", "2 0 0.0 37.0 0.0", "3 2 4.0 37.0 3.0"])
        #expect(summary.rows.map(\.firstPeriodAmount) == [1_000, 500, 100])
        #expect(summary.rows.map(\.repeatAmount) == [2_000, 0, 600])
    }

    @Test func lifetimesTinyFixtureInWeeks() {
        // End 2015-02-07 (Saturday) is in the week of Monday 02-02; 02-01 is a Sunday (week of 01-26);
        // 01-01 and 01-02 share the week of Monday 2014-12-29; 01-05 is a Monday.
        let summary = BTYDSummary(ledger: Self.tiny, calendar: .utc, observationEnd: Self.tinyEnd, unit: .week)
        #expect(Self.text(summary) == ["1 1 1.0 1.0 20.0", "2 0 0.0 5.0 0.0", "3 1 1.0 5.0 4.0"])
        #expect(summary.rows.map(\.firstPeriodAmount) == [1_000, 500, 300])
    }

    @Test func lifetimesTinyFixtureInWeeksFromDays() {
        let summary = BTYDSummary(
            ledger: Self.tiny, calendar: .utc, observationEnd: Self.tinyEnd, unit: .weeksFromDays)
        #expect(summary.rows.map(\.frequency) == [1, 0, 2])
        let recency: [Double] = [5.0 / 7, 0, 4.0 / 7]
        let age: [Double] = [6.0 / 7, 37.0 / 7, 37.0 / 7]
        #expect(summary.rows.map(\.recency) == recency)
        #expect(summary.rows.map(\.age) == age)
    }

    /// The 30-customer fixture of `BTYDFixture.swift`, against lifetimes 0.11.3's output for each variant.
    @Test(arguments: [
        (BTYDSummary.Unit.day, BTYDFixture.day), (.week, BTYDFixture.week), (.weeksFromDays, BTYDFixture.weeksFromDays),
    ])
    func matchesLifetimes(unit: BTYDSummary.Unit, expected: String) throws {
        let ledger = RFMTestLedger.ledger(csv: BTYDFixture.orders)
        let summary = BTYDSummary(
            ledger: ledger, calendar: .utc, observationEnd: RFMTestLedger.date("2023-05-31"), unit: unit)
        let lines = expected.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        #expect(ledger.customerCount == 30)
        try #require(summary.rows.count == lines.count)
        #expect(lines.count == 28)  // two customers' first purchase is after the observation end
        for (row, fields) in zip(summary.rows, lines) {
            #expect(row.customerID == fields[0])
            #expect(row.frequency == Int(fields[1]))
            // Same arithmetic as pandas (integer periods, one division by 7): equal to the last bit.
            #expect(row.recency == Double(fields[2]))
            #expect(row.age == Double(fields[3]))
            // lifetimes sums and averages floating dollars; we divide the exact cents once.
            let monetary = try #require(Double(fields[4]))
            let tolerance: Double = 1e-12 * max(1, abs(monetary))
            #expect(abs(row.monetaryValue - monetary) <= tolerance, "\(row.customerID)")
        }
    }

    /// x: a purchase at 23:30Z on Jan 1 (Jan 2 in Berlin), a refund on Jan 2, a purchase on Jan 5, a refund on
    /// Jan 7 (no purchase that day). y: first purchase after the observation end. z: a refund before its only
    /// purchase.
    static let withRefunds = RFMTestLedger.ledger([
        ("x", "2015-01-01T23:30:00Z", 1_000), ("x", "2015-01-02T10:00:00Z", -200),
        ("x", "2015-01-05T10:00:00Z", 3_000), ("x", "2015-01-07T10:00:00Z", -500),
        ("y", "2015-02-10T10:00:00Z", 700),
        ("z", "2014-12-20T10:00:00Z", -100), ("z", "2015-01-10T10:00:00Z", 500),
    ])

    @Test func refundsAndTimeZones() throws {
        let end = RFMTestLedger.date("2015-01-31")
        let berlin = try #require(PeriodCalendar(identifier: "Europe/Berlin"))
        // Berlin: x's purchase days are Jan 2 and Jan 5; the Jan 2 refund hits the first period (800), the Jan 7
        // refund the repeat money (3000 - 500).
        let local = BTYDSummary(ledger: Self.withRefunds, calendar: berlin, observationEnd: end)
        #expect(Self.text(local) == ["x 1 3.0 29.0 25.0", "z 0 0.0 21.0 0.0"])
        #expect(local.rows.map(\.firstPeriodAmount) == [800, 500])
        #expect(local.rows.map(\.repeatAmount) == [2_500, 0])
        // UTC: x's first day is Jan 1, so both refunds fall after it: repeat money -200 + 3000 - 500.
        let utc = BTYDSummary(ledger: Self.withRefunds, calendar: .utc, observationEnd: end)
        #expect(Self.text(utc) == ["x 1 4.0 30.0 23.0", "z 0 0.0 21.0 0.0"])
        #expect(utc.rows.map(\.firstPeriodAmount) == [1_000, 500])
        let gross = BTYDSummary(ledger: Self.withRefunds, calendar: berlin, observationEnd: end, refunds: .exclude)
        #expect(Self.text(gross) == ["x 1 3.0 29.0 30.0", "z 0 0.0 21.0 0.0"])
        #expect(gross.rows.map(\.firstPeriodAmount) == [1_000, 500])
    }

    @Test func emptyAndCodable() throws {
        let empty = BTYDSummary(ledger: OrderLedger(), calendar: .utc, observationEnd: Self.tinyEnd)
        #expect(empty.rows.isEmpty && empty.currency == nil)
        let summary = BTYDSummary(ledger: Self.tiny, calendar: .utc, observationEnd: Self.tinyEnd, unit: .week)
        let decoded = try JSONDecoder().decode(BTYDSummary.self, from: JSONEncoder().encode(summary))
        #expect(decoded == summary)
    }
}
