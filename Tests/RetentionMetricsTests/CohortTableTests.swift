import Foundation
import RetentionMetrics
import Testing

struct CohortTableTests {
    typealias Cell = (label: String, offset: Int, active: Int, size: Int)

    /// a: Jan, Feb, Apr. b: Jan, Mar. c: Feb twice, Mar. d: a refund in Jan (not a purchase), first purchase Mar.
    /// e: Feb, then only a refund in Mar (not active in Mar).
    static let orders: [(String, String, Int64)] = [
        ("a", "2024-01-10T10:00:00Z", 1_000), ("b", "2024-01-20T10:00:00Z", 2_000),
        ("d", "2024-01-05T10:00:00Z", -500), ("a", "2024-02-05T10:00:00Z", 1_500),
        ("c", "2024-02-10T10:00:00Z", 700), ("c", "2024-02-20T10:00:00Z", 800),
        ("e", "2024-02-01T10:00:00Z", 900), ("c", "2024-03-01T10:00:00Z", 300),
        ("b", "2024-03-15T10:00:00Z", 400), ("d", "2024-03-10T10:00:00Z", 600),
        ("e", "2024-03-03T10:00:00Z", -900), ("a", "2024-04-01T10:00:00Z", 100),
    ]

    static func cells(_ table: CohortTable) -> [String] {
        table.rows.map { "\($0.cohort) +\($0.offset): \($0.active)/\($0.size)" }
    }

    @Test func monthlyTableIsExactAndRightCensored() {
        let table = CohortTable(ledger: RFMTestLedger.ledger(Self.orders), unit: .month, calendar: .utc)
        #expect(
            Self.cells(table) == [
                "2024-01 +0: 2/2", "2024-01 +1: 1/2", "2024-01 +2: 1/2", "2024-01 +3: 1/2",
                "2024-02 +0: 2/2", "2024-02 +1: 1/2", "2024-02 +2: 0/2",
                "2024-03 +0: 1/1", "2024-03 +1: 0/1",
            ])
        #expect(table.rows.map(\.retention) == [1, 0.5, 0.5, 0.5, 1, 0.5, 0, 1, 0])
        #expect(table.lastObservedPeriod?.description == "2024-04")
        let january = Period(unit: .month, containing: RFMTestLedger.date("2024-01-01"))
        let march = Period(unit: .month, containing: RFMTestLedger.date("2024-03-01"))
        #expect(table.retention(cohort: january, offset: 3) == 0.5)
        #expect(table.retention(cohort: march, offset: 1) == 0)
        // Right-censored: April + 1 is not observed, so March + 2 is absent, not zero.
        #expect(table.retention(cohort: march, offset: 2) == nil)
        #expect(table.retention(cohort: january, offset: -1) == nil)
        #expect(table.retention(cohort: Period(unit: .week, index: january.index), offset: 0) == nil)
    }

    @Test func asOfExtendsOrCutsTheObservation() {
        let ledger = RFMTestLedger.ledger(Self.orders)
        let later = CohortTable(ledger: ledger, unit: .month, calendar: .utc, asOf: RFMTestLedger.instant("2024-05-15"))
        #expect(later.lastObservedPeriod?.description == "2024-05")
        #expect(Self.cells(later).filter { $0.hasPrefix("2024-03") } == ["2024-03 +0: 1/1", "2024-03 +1: 0/1",
            "2024-03 +2: 0/1"])
        #expect(later.rows.count == 12)
        // The April order lies after asOf and is ignored; March is the last observed period.
        let earlier = CohortTable(
            ledger: ledger, unit: .month, calendar: .utc, asOf: RFMTestLedger.instant("2024-03-31T12:00:00Z"))
        #expect(
            Self.cells(earlier) == [
                "2024-01 +0: 2/2", "2024-01 +1: 1/2", "2024-01 +2: 1/2",
                "2024-02 +0: 2/2", "2024-02 +1: 1/2",
                "2024-03 +0: 1/1",
            ])
    }

    @Test func timeZoneDecidesThePeriod() throws {
        let ledger = RFMTestLedger.ledger([
            ("x", "2024-03-31T23:30:00Z", 1_000), ("x", "2024-04-15T12:00:00Z", 1_000),
            ("y", "2024-03-15T12:00:00Z", 1_000),
        ])
        let utc = CohortTable(ledger: ledger, unit: .month, calendar: .utc)
        #expect(Self.cells(utc) == ["2024-03 +0: 2/2", "2024-03 +1: 1/2"])
        // 23:30Z on March 31 is 01:30 on April 1 in Berlin (CEST, UTC+2): x's cohort is April.
        let berlin = try #require(PeriodCalendar(identifier: "Europe/Berlin"))
        let local = CohortTable(ledger: ledger, unit: .month, calendar: berlin)
        #expect(Self.cells(local) == ["2024-03 +0: 1/1", "2024-03 +1: 0/1", "2024-04 +0: 1/1"])
    }

    @Test func isoWeekLabelsAcrossYearEnds() {
        // Sunday 2024-12-29 is in 2024-W52; Monday 2024-12-30 starts 2025-W01.
        let ledger = RFMTestLedger.ledger([
            ("a", "2024-12-29T12:00:00Z", 100), ("a", "2024-12-30T12:00:00Z", 100),
            ("b", "2024-12-30T08:00:00Z", 100), ("b", "2025-01-05T08:00:00Z", 100),
        ])
        let table = CohortTable(ledger: ledger, unit: .week, calendar: .utc)
        #expect(Self.cells(table) == ["2024-W52 +0: 1/1", "2024-W52 +1: 1/1", "2025-W01 +0: 1/1"])
        let dec2020 = CohortTable(
            ledger: RFMTestLedger.ledger([("c", "2021-01-03T12:00:00Z", 1)]), unit: .week, calendar: .utc)
        #expect(dec2020.rows.map(\.cohort.description) == ["2020-W53"])
    }

    @Test(arguments: [
        (PeriodUnit.day, ["2024-02-29 +0: 1/1", "2024-02-29 +1: 0/1", "2024-02-29 +2: 1/1"]),
        (.quarter, ["2024-Q1 +0: 1/1"]),
        (.year, ["2024 +0: 1/1"]),
    ])
    func otherUnits(unit: PeriodUnit, expected: [String]) {
        let ledger = RFMTestLedger.ledger([("a", "2024-02-29T10:00:00Z", 100), ("a", "2024-03-02T10:00:00Z", 100)])
        #expect(Self.cells(CohortTable(ledger: ledger, unit: unit, calendar: .utc)) == expected)
    }

    @Test func activityFormMatchesLedgerForm() throws {
        let ledger = RFMTestLedger.ledger(Self.orders)
        // What `SELECT DISTINCT customer, month` would return, plus one duplicate pair and one pair past the end.
        let activity = ledger.orders.filter { !$0.isRefund }.map {
            CohortActivity(customerID: $0.customerID, period: PeriodCalendar.utc.period(.month, of: $0.timestamp))
        }
        let fromActivity = try CohortTable(activity: activity + [activity[0]], unit: .month)
        #expect(fromActivity == CohortTable(ledger: ledger, unit: .month, calendar: .utc))
        let march = Period(unit: .month, containing: RFMTestLedger.date("2024-03-01"))
        let cut = try CohortTable(activity: activity, unit: .month, lastObservedPeriod: march)
        let asOf = RFMTestLedger.instant("2024-03-31")
        #expect(cut == CohortTable(ledger: ledger, unit: .month, calendar: .utc, asOf: asOf))
    }

    @Test func activityOfAnotherUnitIsATypedError() {
        let week = Period(unit: .week, index: 2_800)
        #expect {
            try CohortTable(activity: [CohortActivity(customerID: "a", period: week)], unit: .month)
        } throws: { error in
            (error as? CohortTableError)?.code == .unitMismatch && (error as? CohortTableError)?.period == week
        }
    }

    @Test func emptyInputsGiveAnEmptyTable() throws {
        let empty = CohortTable(ledger: OrderLedger(), unit: .month, calendar: .utc)
        #expect(empty.rows.isEmpty && empty.lastObservedPeriod == nil)
        let refundsOnly = CohortTable(
            ledger: RFMTestLedger.ledger([("a", "2024-01-01", -100)]), unit: .month, calendar: .utc)
        #expect(refundsOnly.rows.isEmpty)
        #expect(refundsOnly.retention(cohort: Period(unit: .month, index: 24_288), offset: 0) == nil)
        #expect(try CohortTable(activity: [], unit: .day).rows.isEmpty)
    }

    @Test func codableRoundTrip() throws {
        let table = CohortTable(ledger: RFMTestLedger.ledger(Self.orders), unit: .quarter, calendar: .utc)
        let decoded = try JSONDecoder().decode(CohortTable.self, from: JSONEncoder().encode(table))
        #expect(decoded == table)
        #expect(Self.cells(table) == ["2024-Q1 +0: 5/5", "2024-Q1 +1: 1/5"])
    }
}
