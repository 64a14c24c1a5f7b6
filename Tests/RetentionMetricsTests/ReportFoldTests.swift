import Dispatch
import Testing

@testable import RetentionMetrics

/// The streaming fold (`ReportFold`) gives exactly the ledger's report, whatever the batch sizes, the row order
/// and the key numbering, and gives up (`nil`) only where its fixed references cannot stand in for the data.
struct ReportFoldTests {
    private struct Columns: @unchecked Sendable {
        let keys: UnsafeBufferPointer<Int32>
        let timestamps: UnsafeBufferPointer<Int64>
        let amounts: UnsafeBufferPointer<Int64>
    }

    /// Folds the ledger's rows in batches of `batch` (rows in reverse order when `reversed`), customer number `c`
    /// as key `c * stride + offset`, from two concurrent workers; `nil` when the fold declines.
    static func folded(
        _ ledger: OrderLedger, _ options: RetentionReport.Options, batch: Int, reversed: Bool = false,
        stride: Int32 = 1, offset: Int32 = 0
    ) throws -> RetentionReport? {
        var keys = ledger.customerColumn.map { $0 * stride + offset }
        var timestamps = ledger.timestampColumn
        var amounts = ledger.amountColumn
        if reversed {
            keys.reverse()
            timestamps.reverse()
            amounts.reverse()
        }
        let keyLimit = Int(Int32(ledger.customerCount) * stride + offset)
        guard let first = timestamps.first,
            let fold = try ReportFold(options: options, keyLimit: keyLimit, around: first)
        else { return nil }
        var start = 0
        while start < keys.count {
            let end = min(start + batch, keys.count)
            keys.withUnsafeBufferPointer { k in
                timestamps.withUnsafeBufferPointer { t in
                    amounts.withUnsafeBufferPointer { a in
                        let columns = Columns(
                            keys: UnsafeBufferPointer(rebasing: k[start..<end]),
                            timestamps: UnsafeBufferPointer(rebasing: t[start..<end]),
                            amounts: UnsafeBufferPointer(rebasing: a[start..<end]))
                        DispatchQueue.concurrentPerform(iterations: fold.workers) { worker in
                            fold.fold(
                                worker: worker, keys: columns.keys, timestamps: columns.timestamps,
                                amounts: columns.amounts)
                        }
                    }
                }
            }
            start = end
        }
        return try fold.report(currency: ledger.currency)
    }

    static func expectFoldEqualsLedger(
        _ ledger: OrderLedger, _ options: RetentionReport.Options, supported: Bool = true,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let expected = try RetentionReport(ledger, options: options)
        for (batch, reversed, stride, offset) in [
            (1 << 20, false, Int32(1), Int32(0)), (97, true, 3, 5), (1, false, 2, 1),
        ] {
            let report = try folded(ledger, options, batch: batch, reversed: reversed, stride: stride, offset: offset)
            if supported {
                let report = try #require(report, sourceLocation: sourceLocation)
                #expect(report == expected, sourceLocation: sourceLocation)
            } else if let report {
                #expect(report == expected, sourceLocation: sourceLocation)
            }
        }
    }

    @Test(arguments: ReportKernelTests.zones, PeriodUnit.allCases)
    func generatedLedgerEveryZoneAndUnit(zone: String, unit: PeriodUnit) throws {
        let ledger = KernelFixture.ledger(count: 3_000, seed: 7, years: 2, refundShare: 0.1)
        let calendar = try #require(PeriodCalendar(identifier: zone))
        for refunds in RefundPolicy.allCases {
            // Daily or weekly cohorts over two years: a customer may span 64 periods or more, and the fold may
            // decline.
            try Self.expectFoldEqualsLedger(
                ledger, .init(calendar: calendar, cohortUnit: unit, refunds: refunds),
                supported: unit != .day && unit != .week)
        }
    }

    @Test(arguments: ReportKernelTests.zones)
    func windowsAsOfAndActivityWindows(zone: String) throws {
        let ledger = KernelFixture.ledger(count: 4_000, seed: 11, years: 3, refundShare: 0.05)
        let calendar = try #require(PeriodCalendar(identifier: zone))
        let instants = ledger.timestampColumn
        let low = Timestamp(secondsSince1970: instants[1_000])
        let high = Timestamp(secondsSince1970: instants[3_000])
        let middle = calendar.localDay(of: Timestamp(secondsSince1970: instants[2_500]))
        let supported: [RetentionReport.Options] = [
            .init(calendar: calendar, window: low..<high),
            .init(calendar: calendar, window: low..<high, activeWithin: 90 * 86_400, cohortUnit: .quarter),
            .init(calendar: calendar, window: low..<high, cohortUnit: .quarter, asOf: middle, refunds: .exclude),
            .init(calendar: calendar, window: low..<high, asOf: middle.adding(days: 400), refunds: .net),
            .init(calendar: calendar, window: low..<high, asOf: CivilDate(year: 1999, month: 1, day: 1)!),
            .init(calendar: calendar, activeWithin: 30 * 86_400),
            .init(calendar: calendar, lifespanYears: 2, grossMargin: 0.4, annualDiscountRate: 0.1, bins: 3),
            .init(calendar: calendar, bins: 1),
            .init(calendar: calendar, bins: 7, segmentation: RFMSegmentation(rules: [], otherName: "All")),
        ]
        for option in supported { try Self.expectFoldEqualsLedger(ledger, option) }
        // An as-of day without a window, `.split` binning: the ledger's business.
        for option in [RetentionReport.Options(calendar: calendar, asOf: middle), .init(binning: .split)] {
            #expect(try Self.folded(ledger, option, batch: 1_000) == nil)
        }
    }

    /// Refunds before any purchase, refunds only, ties at the first instant, zero purchases, a DST change, and
    /// more than 64 periods of one customer (daily cohorts over 400 days: the fold declines, nothing else).
    @Test func adversarialRows() throws {
        let day: Int64 = 86_400
        let t0: Int64 = 1_711_846_800  // 2024-03-31T01:00:00Z, Berlin's DST change
        var orders: [Order] = []
        func add(_ customer: String, _ instant: Int64, _ amount: Int64) {
            orders.append(
                Order(
                    id: "o\(orders.count)", customerID: customer, timestamp: Timestamp(secondsSince1970: instant),
                    amount: amount))
        }
        add("refundOnly", t0 - 40 * day, -500)
        add("refundOnly", t0 + 10 * day, -700)
        add("refundFirst", t0 - 60 * day, -300)
        add("refundFirst", t0 - 3 * day, 1_000)
        add("refundFirst", t0 - 3 * day, 200)
        add("refundFirst", t0 + 45 * day, -100)
        add("refundSamePeriod", t0 + 2 * day, -40)
        add("refundSamePeriod", t0 + 1 * day, 400)
        add("late", t0 + 90 * day, 5_000)
        add("late", t0 - 1, 0)
        add("early", t0 - 400 * day, 2_000)
        add("early", t0, 3_000)
        add("early", t0 + 1, -3_000)
        for k in 0..<30 { add("many\(k % 7)", t0 + Int64(k) * 5 * day + Int64(k) * 3_607, Int64(100 * k)) }
        let ledger = try OrderLedger(orders)
        for zone in ReportKernelTests.zones {
            let calendar = try #require(PeriodCalendar(identifier: zone))
            let window = Timestamp(secondsSince1970: t0)..<Timestamp(secondsSince1970: t0 + 90 * day)
            for unit in PeriodUnit.allCases {
                for refunds in RefundPolicy.allCases {
                    // "early" spans 400 days (57 weeks).
                    let supported = unit != .day
                    try Self.expectFoldEqualsLedger(
                        ledger, .init(calendar: calendar, cohortUnit: unit, refunds: refunds), supported: supported)
                    try Self.expectFoldEqualsLedger(
                        ledger, .init(calendar: calendar, window: window, cohortUnit: unit, refunds: refunds),
                        supported: supported)
                    try Self.expectFoldEqualsLedger(
                        ledger,
                        .init(
                            calendar: calendar, window: window, activeWithin: 30 * day, cohortUnit: unit,
                            asOf: calendar.localDay(of: Timestamp(secondsSince1970: t0 + 20 * day)), refunds: refunds),
                        supported: supported)
                }
            }
        }
        #expect(try Self.folded(ledger, .init(cohortUnit: .day), batch: 10) == nil)
    }

    /// Two workers in the conversion and the customer pass (over 131,072 keys), heavy buyers, and cohort tables
    /// of more than 64 periods (two-year data by week, each customer within 64 weeks of its first purchase).
    @Test func manyCustomersAndWideTables() throws {
        var orders = KernelFixture.orders(count: 420_000, seed: 31, years: 1, refundShare: 0.03)
        let start = orders[0].timestamp.secondsSince1970
        for (customer, purchases) in [("heavy-a", 5_000), ("heavy-b", 4_096)] {
            for index in 0..<purchases {
                orders.append(
                    Order(
                        id: "\(customer)-\(index)", customerID: customer,
                        timestamp: Timestamp(secondsSince1970: start + Int64(index) * 3_000),
                        amount: Int64(500 + index % 97), currency: .usd))
            }
        }
        // Customers who start a year later, so that the weekly table spans about 104 periods.
        for index in 0..<2_000 {
            orders.append(
                Order(
                    id: "later-\(index)", customerID: "later-\(index % 500)",
                    timestamp: Timestamp(secondsSince1970: start + 380 * 86_400 + Int64(index) * 4_000),
                    amount: Int64(index % 50) - 5, currency: .usd))
        }
        let ledger = try OrderLedger(orders)
        #expect(ledger.customerCount > 131_072)
        for zone in ["UTC", "Europe/Berlin"] {
            let calendar = try #require(PeriodCalendar(identifier: zone))
            try Self.expectFoldEqualsLedger(ledger, .init(calendar: calendar))
            try Self.expectFoldEqualsLedger(ledger, .init(calendar: calendar, cohortUnit: .week, refunds: .net))
        }
    }

    @Test func onlyRefundsAndInstantsOutOfReach() throws {
        let refunds = try OrderLedger([
            Order(id: "r1", customerID: "a", timestamp: Timestamp(secondsSince1970: 1_700_000_000), amount: -10),
            Order(id: "r2", customerID: "b", timestamp: Timestamp(secondsSince1970: 1_700_090_000), amount: -20),
        ])
        try Self.expectFoldEqualsLedger(refunds, .init())
        let far = try OrderLedger([
            Order(id: "a", customerID: "a", timestamp: Timestamp(secondsSince1970: 0), amount: 10),
            Order(id: "b", customerID: "b", timestamp: Timestamp(secondsSince1970: 50 * 366 * 86_400), amount: 20),
        ])
        #expect(try Self.folded(far, .init(), batch: 10) == nil)
        let instant = Timestamp(secondsSince1970: 1_700_000_000)
        #expect(throws: MetricError.self) {
            try ReportFold(options: .init(window: instant..<instant), keyLimit: 10, around: 1_700_000_000)
        }
    }
}
