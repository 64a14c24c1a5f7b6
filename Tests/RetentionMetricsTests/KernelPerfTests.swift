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
        let report = try bestSeconds { try RetentionReport(ledger, options: options) }
        print("RetentionReport (UTC, month cohorts): \(report.seconds * 1000) ms best of 3")
        let zoned = try bestSeconds { try RetentionReport(ledger, options: berlin) }
        print("RetentionReport (Europe/Berlin): \(zoned.seconds * 1000) ms best of 3")
        let asOf = report.result.asOf.flatMap { _ in ledger.timestampRange }
        let window = RetentionReport.dataWindow(ledger, calendar: .utc)
        let pieces: [(String, () throws -> Any)] = [
            ("summaries(in:)", { ledger.summaries(in: window) }),
            ("PeriodRetention", { try PeriodRetention(ledger, period: window, activeWithin: nil) }),
            ("ReturningRate", { try ReturningRate(ledger, period: window) }),
            ("ReturningCustomerRate", { ReturningCustomerRate(ledger, in: window) }),
            ("SpendUplift", { SpendUplift(ledger) }),
            (
                "CohortTable", {
                    CohortTable(
                        ledger: ledger, unit: .month, calendar: .utc,
                        asOf: Timestamp(secondsSince1970: asOf?.upperBound ?? 0))
                }
            ),
            (
                "RFMSummary+Scores+sizes", {
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
    /// Tracker timings: ingestion rate and report latency at about 3 million customers.
    @Test func trackerIngestionAndReportLatency() throws {
        let count = KernelPerfTests.orderCount
        let orders = KernelFixture.orders(count: count)
        var tracker = RetentionTracker()
        let start = DispatchTime.now().uptimeNanoseconds
        var index = 0
        while index < orders.count {
            // Alternate single orders and batches of 16.
            if index % 32 == 0 {
                try tracker.record(contentsOf: orders[index..<min(index + 16, orders.count)])
                index += 16
            } else {
                try tracker.record(orders[index])
                index += 1
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(
            "RetentionTracker: \(tracker.count) orders, \(tracker.customerCount) customers ingested in \(seconds) s"
                + " = \(Double(tracker.count) / seconds / 1e6) M orders/s")
        let report = try bestSeconds { try tracker.report(options: .init(calendar: .utc)) }
        print("RetentionTracker.report: \(report.seconds * 1000) ms best of 3")
        #expect(report.result.orders > 0)
    }
}
