import Foundation
import Testing

@testable import RetentionMetrics

struct RetentionReportTests {
    /// Four customers over January to March 2024 (UTC); every figure below is worked by hand in the comments.
    static func ledger() throws -> OrderLedger {
        func at(_ month: Int, _ day: Int, _ hour: Int = 12) -> Timestamp {
            let start = PeriodCalendar.utc.startOfDay(CivilDate(year: 2024, month: month, day: day)!)
            return Timestamp(secondsSince1970: start.secondsSince1970 + Int64(hour) * 3600)
        }
        return try OrderLedger([
            Order(id: "1", customerID: "alice", timestamp: at(1, 5), amount: 1000),
            Order(id: "2", customerID: "alice", timestamp: at(2, 10), amount: 2000),
            Order(id: "3", customerID: "alice", timestamp: at(3, 15), amount: 3000),
            Order(id: "4", customerID: "bob", timestamp: at(1, 20), amount: 1500),
            Order(id: "5", customerID: "carol", timestamp: at(2, 1), amount: 4000),
            Order(id: "6", customerID: "carol", timestamp: at(2, 1, 18), amount: -500),
            Order(id: "7", customerID: "carol", timestamp: at(3, 2), amount: 1000),
            Order(id: "8", customerID: "dave", timestamp: at(3, 20), amount: 2500),
        ])
    }

    static let february: Range<Timestamp> =
        PeriodCalendar.utc.startOfDay(CivilDate(year: 2024, month: 2, day: 1)!)
        ..< PeriodCalendar.utc.startOfDay(CivilDate(year: 2024, month: 3, day: 1)!)

    @Test func februaryWindow() throws {
        let report = try RetentionReport(Self.ledger(), options: .init(window: Self.february))
        #expect(report.from == "2024-02-01T00:00:00Z")
        #expect(report.to == "2024-03-01T00:00:00Z")
        #expect(report.currency == "USD")
        // in February: alice 20.00, carol 40.00 and a 5.00 refund
        #expect(report.customers == 2)
        #expect(report.orders == 2)
        #expect(report.revenue == "55.00")
        #expect(report.revenueMinorUnits == 5500)
        #expect(report.averageOrderValue == 27.5)
        #expect(report.purchaseFrequency == 1.0)
        #expect(report.repeatPurchaseRate == 0.0)
        #expect(report.returningCustomerRate == 0.5)  // alice bought before February, carol did not
        // activeWithin = 29 days. S = {alice, bob} (purchases in [Jan 3, Feb 1)), E = {alice, carol}, N = {carol}
        #expect(report.retention.activeWithinDays == 29)
        #expect(report.retention.start == 2)
        #expect(report.retention.end == 2)
        #expect(report.retention.new == 1)
        #expect(report.retention.retained == 1)
        #expect(report.retention.reactivated == 0)
        #expect(report.retention.rate == 0.5)
        #expect(report.retention.cohortRate == 0.5)
        #expect(report.retention.churnRate == 0.5)
        #expect(report.retention.lostRate == 0.5)
        // seed 001: alice and bob bought before February, alice again in it
        #expect(report.returning == .init(existing: 2, returned: 1, rate: 0.5))
        // CLV = 27.5 x (1 x 365.2425 / 29) x (29 days / 0.5 churn in years) = 27.5 x 2 = 55
        let clv = report.customerLifetimeValue
        #expect(clv.lifespanSource == "estimatedFromChurn")
        #expect(clv.annualPurchaseFrequency == 365.2425 / 29)
        #expect(abs(clv.lifespanYears! - 2 * 29 * 86_400 / 31_556_952) < 1e-15)
        #expect(abs(clv.value! - 55) < 1e-12)
        // all-time first purchases 9000 over 4, repeat purchases 6000 over 3
        #expect(abs(report.spendUplift! - (2000.0 / 2250.0 - 1)) < 1e-15)
    }

    @Test func cohortsSegmentsAndRevenueSeriesUseAllOrdersUpToAsOf() throws {
        let report = try RetentionReport(Self.ledger(), options: .init(window: Self.february, lifespanYears: 2))
        #expect(report.asOf == "2024-03-20")
        #expect(report.customerLifetimeValue.lifespanSource == "given")
        #expect(abs(report.customerLifetimeValue.value! - 27.5 * 365.2425 / 29 * 2) < 1e-12)
        let cells = report.cohorts.map { "\($0.cohort)+\($0.offset): \($0.active)/\($0.size)" }
        #expect(cells == ["2024-01+0: 2/2", "2024-01+1: 1/2", "2024-01+2: 1/2", "2024-02+0: 1/1", "2024-02+1: 1/1",
            "2024-03+0: 1/1"])
        // RFM as of 2024-03-20: alice 4/5/5, bob 1/1/1, carol 2/4/4, dave 5/1/2 (type-7 cut points by hand)
        let sizes = Dictionary(uniqueKeysWithValues: report.segments.filter { $0.customers > 0 }.map {
            ($0.name, $0.customers)
        })
        #expect(sizes == ["Potential Loyalist": 1, "Lost": 1, "Loyal Customers": 1, "New Customers": 1])
        #expect(report.revenueByPeriod == [
            .init(period: "2024-01", newCustomers: 2, returningCustomers: 0, newCustomerRevenue: "25.00",
                returningCustomerRevenue: "0.00"),
            .init(period: "2024-02", newCustomers: 1, returningCustomers: 1, newCustomerRevenue: "35.00",
                returningCustomerRevenue: "20.00"),
            .init(period: "2024-03", newCustomers: 1, returningCustomers: 2, newCustomerRevenue: "25.00",
                returningCustomerRevenue: "40.00"),
        ])
    }

    @Test func defaultWindowCoversAllDataAndRetentionIsUndefined() throws {
        let report = try RetentionReport(Self.ledger())
        #expect(report.from == "2024-01-05T00:00:00Z")
        #expect(report.to == "2024-03-21T00:00:00Z")
        #expect(report.customers == 4)
        #expect(report.orders == 7)
        #expect(report.revenue == "145.00")
        #expect(report.repeatPurchaseRate == 0.5)
        #expect(report.retention.start == 0)
        #expect(report.retention.rate == nil)
        #expect(report.customerLifetimeValue.value == nil)  // no churn, no lifespan given
        let json = try JSONEncoder().encode(report)
        #expect(try JSONDecoder().decode(RetentionReport.self, from: json) == report)
    }

    @Test func emptyLedgerHasNoFiguresAndAnEmptyWindowThrows() throws {
        let error = #expect(throws: MetricError.self) { try RetentionReport(OrderLedger()) }
        #expect(error?.code == .emptyWindow)
        let window = Self.february
        let report = try RetentionReport(OrderLedger(), options: .init(window: window))
        #expect(report.customers == 0)
        #expect(report.averageOrderValue == nil)
        #expect(report.repeatPurchaseRate == nil)
        #expect(report.cohorts.isEmpty)
        #expect(report.revenue == "0.00")
    }

    @Test func timeZoneMovesOrdersBetweenMonths() throws {
        // 2024-01-31T23:30:00Z is February 1st in Berlin.
        let ledger = try OrderLedger([
            Order(id: "1", customerID: "x", timestamp: Timestamp(secondsSince1970: 1_706_743_800), amount: 100)
        ])
        let berlin = try #require(PeriodCalendar(identifier: "Europe/Berlin"))
        let report = try RetentionReport(ledger, options: .init(calendar: berlin))
        #expect(report.timeZone == "Europe/Berlin")
        #expect(try RetentionReport(ledger).timeZone == "UTC")
        #expect(report.cohorts.map(\.cohort) == ["2024-02"])
        #expect(report.from == "2024-01-31T23:00:00Z")
        let utc = try RetentionReport(ledger)
        #expect(utc.cohorts.map(\.cohort) == ["2024-01"])
    }
}
