import Benchmark
import RetentionMetrics
import RetentionModels
import RetentionStorage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Every benchmark measures wall clock, CPU time, throughput (iterations per second) and mallocs, and carries the
// tolerances `swift package benchmark thresholds check` applies against the p90 values committed under
// Benchmarks/Thresholds. Times get generous tolerances (machines and their load vary); malloc counts are
// deterministic and tight.
//
// The data is SyntheticOrders with seed 7: 3 years from 2021-01-01, orders / 3 customers. Each benchmark runs
// in its own process, and the data it needs is built lazily (global lets) outside the measured region.
//
// Names have no spaces: benchmark 1.38.1 writes `Thresholds/<target>.<name>.p90.json` with spaces turned into `_`
// but reads it back with the spaces, so a name with a space never finds its thresholds.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal],
        warmupIterations: 1,
        maxDuration: .seconds(3),
        maxIterations: 20,
        thresholds: Tolerance.standard
    )

    // Loading: CSV file -> OrderLedger (the fast loader, as `retention` uses it).
    for size in [Size.hundredThousand, Size.million] {
        let path = Data.csvPath(size)
        Benchmark(
            "Load-CSV-\(size.label)",
            closure: { benchmark in
                benchmark.startMeasurement()
                let (ledger, _) = try CSVOrderReader.loadLedger(path: path)
                benchmark.stopMeasurement()
                precondition(ledger.count == size.orders, "loaded \(ledger.count) orders, expected \(size.orders)")
                blackHole(ledger)
            },
            setup: { try CSVOrderWriter.write(SyntheticOrders(count: size.orders, seed: Data.seed), toFile: path) },
            teardown: { _ = unlink(path) }
        )
    }

    // Loading a file whose order and customer ids are strings (`ord-<id>-x`, `cust-<id>-x`: no digit pattern), so
    // that the halves join through one order-id table built for both and customers merge by look-up.
    let stringIDPath = Data.csvPath(.million) + "-string-ids"
    Benchmark(
        "Load-CSV-string-ids-1M",
        closure: { benchmark in
            benchmark.startMeasurement()
            let (ledger, _) = try CSVOrderReader.loadLedger(path: stringIDPath)
            benchmark.stopMeasurement()
            precondition(ledger.count == Size.million.orders, "loaded \(ledger.count) orders")
            blackHole(ledger)
        },
        setup: {
            let orders = SyntheticOrders(count: Size.million.orders, seed: Data.seed).lazy.map {
                Order(
                    id: "ord-\($0.id)-x", customerID: "cust-\($0.customerID)-x", timestamp: $0.timestamp,
                    amount: $0.amount, currency: $0.currency)
            }
            try CSVOrderWriter.write(orders, toFile: stringIDPath)
        },
        teardown: { _ = unlink(stringIDPath) }
    )

    // One pass over a CSV file, never holding the orders (as `retention report`, `rfm` and `summary` read a file):
    // the report, the RFM columns, the BTYD summary of 10^6 orders.
    let onePassPath = Data.csvPath(.million) + "-one-pass"
    let onePassSetup: @Sendable () async throws -> Void = {
        try CSVOrderWriter.write(SyntheticOrders(count: Size.million.orders, seed: Data.seed), toFile: onePassPath)
    }
    Benchmark(
        "OnePass-report-CSV-1M",
        closure: { benchmark in
            benchmark.startMeasurement()
            let (report, load) = try RetentionReport.streamed(fromCSV: onePassPath)
            benchmark.stopMeasurement()
            precondition(load.ordersLoaded == Size.million.orders, "loaded \(load.ordersLoaded) orders")
            blackHole(report)
        }, setup: onePassSetup, teardown: { _ = unlink(onePassPath) })
    Benchmark(
        "OnePass-RFM-CSV-1M",
        closure: { benchmark in
            benchmark.startMeasurement()
            let result = try RFMColumns.onePass(fromCSV: onePassPath)
            benchmark.stopMeasurement()
            precondition(result != nil, "the one pass declined the generated file")
            blackHole(result)
        }, setup: onePassSetup, teardown: { _ = unlink(onePassPath) })
    Benchmark(
        "OnePass-BTYDSummary-CSV-1M",
        closure: { benchmark in
            benchmark.startMeasurement()
            let result = try BTYDSummaryColumns.onePass(fromCSV: onePassPath)
            benchmark.stopMeasurement()
            precondition(result != nil, "the one pass declined the generated file")
            blackHole(result)
        }, setup: onePassSetup, teardown: { _ = unlink(onePassPath) })

    // Ledger build: OrderLedger.append of 10^6 orders already in memory (interning, duplicate check, columns).
    Benchmark("Ledger-append-1M") { benchmark in
        let orders = Data.orders
        benchmark.startMeasurement()
        var ledger = OrderLedger()
        for order in orders { try ledger.append(order) }
        benchmark.stopMeasurement()
        blackHole(ledger)
    }

    // Metric kernels on the 10^6-order ledger.
    Benchmark("Summaries-1M") { benchmark in
        let ledger = Data.ledger
        benchmark.startMeasurement()
        blackHole(ledger.summaries())
    }

    Benchmark("PeriodRetention-1M") { benchmark in
        let ledger = Data.ledger
        benchmark.startMeasurement()
        blackHole(try PeriodRetention(ledger, period: Data.lastYear, activeWithin: 365 * 86_400))
    }

    Benchmark("RepeatPurchaseRate-1M") { benchmark in
        let ledger = Data.ledger
        benchmark.startMeasurement()
        blackHole(RepeatPurchaseRate(ledger, in: nil))
    }

    Benchmark("CohortTable-month-1M") { benchmark in
        let ledger = Data.ledger
        benchmark.startMeasurement()
        blackHole(CohortTable(ledger: ledger, unit: .month, calendar: .utc))
    }

    Benchmark("RFM-summary-and-scores-1M") { benchmark in
        let ledger = Data.ledger
        benchmark.startMeasurement()
        let summary = RFMSummary(ledger: ledger, asOf: Data.lastDay, calendar: .utc)
        blackHole(RFMScores(summary, bins: 5))
    }

    Benchmark("BTYDSummary-1M") { benchmark in
        let ledger = Data.ledger
        benchmark.startMeasurement()
        blackHole(BTYDSummary(ledger: ledger, calendar: .utc, observationEnd: Data.lastDay, unit: .weeksFromDays))
    }

    Benchmark("RetentionReport-1M") { benchmark in
        let ledger = Data.ledger
        benchmark.startMeasurement()
        blackHole(try RetentionReport(ledger, options: .init(calendar: .utc)))
    }

    // The customer-grouped index: built once, then every report over it reads the rows sequentially.
    Benchmark("Ledger-groupedByCustomer-1M") { benchmark in
        let ledger = Data.ledger
        benchmark.startMeasurement()
        blackHole(ledger.groupedByCustomer())
    }

    Benchmark("RetentionReport-grouped-1M") { benchmark in
        let grouped = Data.ledger.groupedByCustomer()
        benchmark.startMeasurement()
        blackHole(try RetentionReport(grouped, options: .init(calendar: .utc)))
    }

    // RetentionTracker: live ingestion of 10^6 orders one at a time, and a report from the tracker's columns.
    Benchmark("Tracker-record-1M") { benchmark in
        let orders = Data.orders
        benchmark.startMeasurement()
        var tracker = RetentionTracker()
        for order in orders { try tracker.record(order) }
        benchmark.stopMeasurement()
        blackHole(tracker)
    }

    Benchmark("Tracker-report-1M") { benchmark in
        let tracker = Data.tracker
        benchmark.startMeasurement()
        blackHole(try tracker.report(options: .init(calendar: .utc)))
    }

    // The live tracker: 10^6 orders in batches of 16 (the report kept up to date on every record), and its report.
    Benchmark("Tracker-live-record-batches-1M") { benchmark in
        let orders = Data.orders
        benchmark.startMeasurement()
        var tracker = RetentionTracker(live: .init(calendar: .utc))
        var index = 0
        while index < orders.count {
            try tracker.record(contentsOf: orders[index..<min(index + 16, orders.count)])
            index += 16
        }
        benchmark.stopMeasurement()
        blackHole(tracker)
    }

    Benchmark("Tracker-live-report-1M") { benchmark in
        let tracker = Data.liveTracker
        benchmark.startMeasurement()
        blackHole(try tracker.liveReport())
    }

    // Models: the ledger -> observations bridge, and BG/NBD fits.
    Benchmark("LedgerInput-observations-1M") { benchmark in
        let ledger = Data.ledger
        benchmark.startMeasurement()
        blackHole(LedgerInput.observations(ledger, calendar: .utc, observationEnd: Data.lastDay, unit: .week))
    }

    Benchmark("BGNBD-fit-CDNOW-sized") { benchmark in
        let data = Data.cdnowLike
        benchmark.startMeasurement()
        blackHole(BGNBDModel.fit(data))
    }

    Benchmark("BGNBD-fit-100k") { benchmark in
        let data = Data.observations100k
        benchmark.startMeasurement()
        blackHole(BGNBDModel.fit(data))
    }
}

/// The data sets, by order count.
enum Size: Sendable {
    case hundredThousand, million

    var orders: Int { self == .hundredThousand ? 100_000 : 1_000_000 }
    var label: String { self == .hundredThousand ? "100k" : "1M" }
}

/// Tolerances of the threshold check (relative values in percent of the committed p90).
enum Tolerance {
    /// CPU time (user + system): up to 2x the committed p90 (100%); it moves less than wall clock when other work
    /// shares the machine. Wall clock: up to 3x (200%), since on a 2-core machine one concurrent compile job alone
    /// doubles it. Malloc counts: within 2%; they do not depend on the machine, so a change is a change in the code.
    /// Throughput is reported but not checked (a drop can never exceed 100%): it is 1 / wall clock, and benchmark
    /// 1.38.1 records its p90 from the fast end but checks the slow end, which flags noise as a regression.
    static var standard: [BenchmarkMetric: BenchmarkThresholds] {
        [
            .cpuTotal: .init(relative: [.p90: 100]),
            .wallClock: .init(relative: [.p90: 200]),
            .throughput: .init(relative: [.p90: 100]),
            .mallocCountTotal: .init(relative: [.p90: 2]),
        ]
    }
}

/// Lazily built inputs (each global is initialised once, on first use, outside the measured region).
enum Data {
    static let seed: UInt64 = 7
    /// The generated span is 2021-01-01 ..< 2024-01-01; its last day and its last year.
    static let lastDay = CivilDate(year: 2023, month: 12, day: 31)!
    static let lastYear =
        PeriodCalendar.utc.startOfDay(
            CivilDate(year: 2023, month: 1, day: 1)!)..<PeriodCalendar.utc.startOfDay(
            CivilDate(year: 2024, month: 1, day: 1)!)

    static func csvPath(_ size: Size) -> String { "/tmp/retention-benchmarks-\(getpid())-\(size.label).csv" }

    static var orders: [Order] { generatedOrders }
    static var ledger: OrderLedger { millionLedger }
    static var tracker: RetentionTracker { millionTracker }
    static var liveTracker: RetentionTracker { millionLiveTracker }
    static var cdnowLike: BTYDData { cdnowLikeData }
    static var observations100k: BTYDData { hundredThousandData }
}

private let generatedOrders = Array(SyntheticOrders(count: 1_000_000, seed: Data.seed))

private let millionLedger: OrderLedger = {
    do { return try OrderLedger(SyntheticOrders(count: 1_000_000, seed: Data.seed)) } catch {
        fatalError("generated orders must load: \(error)")
    }
}()

private let millionTracker: RetentionTracker = {
    var tracker = RetentionTracker()
    do { try tracker.record(contentsOf: SyntheticOrders(count: 1_000_000, seed: Data.seed)) } catch {
        fatalError("generated orders must be recorded: \(error)")
    }
    return tracker
}()

private let millionLiveTracker: RetentionTracker = {
    var tracker = RetentionTracker(live: .init(calendar: .utc))
    do { try tracker.record(contentsOf: SyntheticOrders(count: 1_000_000, seed: Data.seed)) } catch {
        fatalError("generated orders must be recorded: \(error)")
    }
    return tracker
}()

/// BG/NBD input shaped like the CDNOW sample: 2,357 customers with about 6,900 orders over 1.5 years, weeks.
private let cdnowLikeData = observations(
    SyntheticOrders(
        count: 6_919, customers: 2_357, start: CivilDate(year: 1997, month: 1, day: 1)!, years: 2, seed: Data.seed),
    end: CivilDate(year: 1998, month: 6, day: 30)!)

private let hundredThousandData = observations(SyntheticOrders(count: 100_000, seed: Data.seed), end: Data.lastDay)

private func observations(_ orders: SyntheticOrders, end: CivilDate) -> BTYDData {
    do {
        let ledger = try OrderLedger(orders)
        let rows = LedgerInput.observations(ledger, calendar: .utc, observationEnd: end, unit: .week)
        return try BTYDData(rows.map(\.observation))
    } catch {
        fatalError("generated orders must give model input: \(error)")
    }
}
