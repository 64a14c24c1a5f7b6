import Foundation
import RetentionMetrics
import Testing

/// Opt-in timings: `RETENTION_PERF=1 swift test -c release --filter KernelPerfTests`.
/// `RETENTION_PERF_ORDERS` sets the number of orders (default 10,000,000).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["RETENTION_PERF"] == "1"))
struct KernelPerfTests {
    static var orderCount: Int {
        ProcessInfo.processInfo.environment["RETENTION_PERF_ORDERS"].flatMap(Int.init) ?? 10_000_000
    }

    @Test func reportOverALargeLedger() throws {
        let (buildSeconds, ledger) = bestSeconds(runs: 1) { KernelFixture.ledger(count: Self.orderCount) }
        print("ledger: \(ledger.count) orders, \(ledger.customerCount) customers, built in \(buildSeconds) s")
        let options = RetentionReport.Options(calendar: .utc)
        let berlin = RetentionReport.Options(calendar: PeriodCalendar(identifier: "Europe/Berlin")!)
        let report = try bestSeconds(runs: 7) { try RetentionReport(ledger, options: options) }
        print("RetentionReport (UTC, month cohorts): \(report.seconds * 1000) ms best of 7")
        let zoned = try bestSeconds(runs: 7) { try RetentionReport(ledger, options: berlin) }
        print("RetentionReport (Europe/Berlin): \(zoned.seconds * 1000) ms best of 7")
        let (groupSeconds, grouped) = bestSeconds { ledger.groupedByCustomer() }
        print("groupedByCustomer(): \(groupSeconds * 1000) ms best of 3")
        let groupedReport = try bestSeconds(runs: 7) { try RetentionReport(grouped, options: options) }
        print("RetentionReport(grouped) (UTC, month cohorts): \(groupedReport.seconds * 1000) ms best of 7")
        let groupedZoned = try bestSeconds(runs: 7) { try RetentionReport(grouped, options: berlin) }
        print("RetentionReport(grouped) (Europe/Berlin): \(groupedZoned.seconds * 1000) ms best of 7")
        #expect(groupedReport.result == report.result)
        #expect(groupedZoned.result == zoned.result)
        let asOf = report.result.asOf.flatMap { _ in ledger.timestampRange }
        let window = RetentionReport.dataWindow(ledger, calendar: .utc)
        let pieces: [(String, () throws -> Any)] = [
            ("summaries(in:)", { ledger.summaries(in: window) }),
            ("PeriodRetention", { try PeriodRetention(ledger, period: window, activeWithin: nil) }),
            ("ReturningRate", { try ReturningRate(ledger, period: window) }),
            ("ReturningCustomerRate", { ReturningCustomerRate(ledger, in: window) }),
            ("SpendUplift", { SpendUplift(ledger) }),
            (
                "CohortTable",
                {
                    CohortTable(
                        ledger: ledger, unit: .month, calendar: .utc,
                        asOf: Timestamp(secondsSince1970: asOf?.upperBound ?? 0))
                }
            ),
            (
                "RFMSummary+Scores+sizes",
                {
                    let day = PeriodCalendar.utc.localDay(of: Timestamp(secondsSince1970: asOf?.upperBound ?? 0))
                    let rfm = RFMSummary(ledger: ledger, asOf: day, calendar: .utc)
                    return RFMSegmentation.standard.sizes(of: RFMScores(rfm))
                }
            ),
        ]
        for (name, body) in pieces {
            let timing = try bestSeconds(runs: 1, body)
            print("  \(name): \(timing.seconds * 1000) ms")
        }
        #expect(report.result.orders > 0)
    }
}

extension KernelPerfTests {
    /// Records `orders` as singles (`batch` 1) or batches; returns orders per second.
    static func ingest(_ orders: [Order], into tracker: inout RetentionTracker, batch: Int) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        if batch == 1 {
            for order in orders { try tracker.record(order) }
        } else {
            var index = 0
            while index < orders.count {
                try tracker.record(contentsOf: orders[index..<min(index + batch, orders.count)])
                index += batch
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(orders.count) / seconds
    }

    /// Tracker timings: ingestion rate (singles, batches of 16; numeric and string ids; live and plain trackers)
    /// and report latency at about 3 million customers.
    @Test func trackerIngestionAndReportLatency() throws {
        let count = KernelPerfTests.orderCount
        var orders = KernelFixture.orders(count: count)
        // Numeric ids ("1234"), as a shop's database hands them out.
        for index in orders.indices {
            orders[index].id = String(index + 1_000_000)
            orders[index].customerID = String(orders[index].customerID.dropFirst())
        }
        let live = RetentionReport.Options(calendar: .utc)
        for (name, batch) in [("singles", 1), ("batches of 16", 16), ("batches of 64", 64)] {
            var tracker = RetentionTracker(live: live)
            let rate = try Self.ingest(orders, into: &tracker, batch: batch)
            print("live tracker, numeric ids, \(name): \(rate / 1e6) M orders/s (\(tracker.customerCount) customers)")
            if batch == 16 {
                let report = try bestSeconds(runs: 5) { try tracker.report(options: live) }
                print(
                    "live report (UTC, month), \(tracker.customerCount) customers: \(report.seconds * 1000) ms"
                        + " best of 5")
                let berlin = RetentionReport.Options(calendar: PeriodCalendar(identifier: "Europe/Berlin")!)
                let columns = try bestSeconds(runs: 1) { try tracker.report(options: berlin) }
                print("non-live options (Europe/Berlin) from the columns: \(columns.seconds * 1000) ms")
            }
        }
        // Customer ids not in order of first purchase (a bijection of the keys below 2^22): the tracker's guess of
        // a new order's customer number from its id (see `customerNumber(interning:)`) never holds.
        var scrambled = orders
        for index in scrambled.indices {
            let key = Int(scrambled[index].customerID)!
            scrambled[index].customerID = String((key &* 2_654_435_761) & ((1 << 22) - 1))
        }
        for (name, batch) in [("singles", 1), ("batches of 16", 16)] {
            var tracker = RetentionTracker(live: live)
            let rate = try Self.ingest(scrambled, into: &tracker, batch: batch)
            print("live tracker, numeric ids in scrambled order, \(name): \(rate / 1e6) M orders/s")
        }
        scrambled = []
        var plain = RetentionTracker()
        let plainRate = try Self.ingest(orders, into: &plain, batch: 1)
        print("plain tracker, numeric ids, singles: \(plainRate / 1e6) M orders/s")
        plain = RetentionTracker()
        let plainBatches = try Self.ingest(orders, into: &plain, batch: 16)
        print("plain tracker, numeric ids, batches of 16: \(plainBatches / 1e6) M orders/s")
        plain = RetentionTracker()
        // As a server receives them: in time order, ids handed out in that order.
        var timeOrdered = orders.sorted { $0.timestamp < $1.timestamp }
        for index in timeOrdered.indices { timeOrdered[index].id = String(index + 1_000_000) }
        var ordered = RetentionTracker(live: live)
        let orderedRate = try Self.ingest(timeOrdered, into: &ordered, batch: 16)
        print("live tracker, numeric ids, time order, batches of 16: \(orderedRate / 1e6) M orders/s")
        timeOrdered = []
        // String ids (not digits): hashed order ids.
        for index in orders.indices {
            orders[index].id = "ord-\(index)-x"
            orders[index].customerID = "cust-" + orders[index].customerID + "-x"
        }
        for (name, batch) in [("singles", 1), ("batches of 16", 16)] {
            var tracker = RetentionTracker(live: live)
            let rate = try Self.ingest(orders, into: &tracker, batch: batch)
            print("live tracker, string ids, \(name): \(rate / 1e6) M orders/s")
        }
    }
}
