import ArgumentParser
import RetentionMetrics
import RetentionStorage

/// `retention report`: every headline figure in one report.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Headline figures, retention, CLV, RFM segments and the cohort triangle.",
        discussion: """
            The window is [--from, --to) in --time-zone, by default whole days covering all the data. A customer is \
            active at an instant when they bought within --active-within days before it (default: the window's \
            length). Cohorts and segments use every order up to the end of the --as-of day.
            """)

    @OptionGroup var source: OrderSource
    @Option(help: "First day of the window (inclusive).") var from: Day?
    @Option(help: "Day after the window (exclusive).") var to: Day?
    @Option(name: .customLong("active-within"), help: "Activity window of retention, in days.") var activeWithin: Int?
    @Option(name: .customLong("lifespan-years"), help: "Customer lifespan for the CLV (default: 1 / churn).")
    var lifespanYears: Double?
    @Option(help: "Gross margin in 0...1 applied to the CLV.") var margin: Double = 1
    @Option(name: .customLong("discount-rate"), help: "Annual discount rate of the CLV.") var discountRate: Double = 0
    @Option(help: "Cohort period: week, month or quarter.") var period: PeriodUnit = .month
    @Option(help: "Number of RFM scores.") var bins = 5
    @Option(help: "RFM ties: share or split.") var ties: RFMBinning = .share
    @Flag(
        name: .customLong("push-down"),
        help: """
            With --store: compute the report from per-customer rows the store aggregates (SQL GROUP BY) instead of \
            reading every order; every figure is the same, the revenue series is left out.
            """)
    var pushDown = false
    @OptionGroup var global: GlobalOptions
    @OptionGroup var input: InputOptions

    func validate() throws {
        if pushDown, source.store == nil { throw ValidationError("--push-down needs --store (a file has no database)") }
        if let from, let to, from.date >= to.date {
            throw ValidationError("--from \(from) must be before --to \(to) (the window is [from, to))")
        }
        if let activeWithin, !(1...36_500_000).contains(activeWithin) {
            throw ValidationError("--active-within must be between 1 and 36,500,000 days")
        }
        if let lifespanYears, !(lifespanYears > 0) { throw ValidationError("--lifespan-years must be > 0") }
        guard (0...1).contains(margin) else { throw ValidationError("--margin must be in 0...1") }
        guard discountRate > -1 else { throw ValidationError("--discount-rate must be > -1") }
        guard bins >= 1 else { throw ValidationError("--bins must be at least 1") }
        try validateCohortPeriod(period)
    }

    func run() async throws {
        let calendar = try global.calendar
        let report: RetentionReport
        if let file = source.file, (from == nil) == (to == nil) {
            // A file, with the window given or all of the data's: one pass that never holds the orders.
            let window = from.flatMap { from in to.map { calendar.startOfDay(from.date)..<calendar.startOfDay($0.date) } }
            let inputOptions = try input.orderInputOptions(calendar: calendar)
            let options = reportOptions(calendar: calendar, window: window)
            report = try input.reading(file) {
                try RetentionReport.streamed(fromCSV: file, input: inputOptions, options: options)
            }
        } else {
            report = try await fromLedgerOrStore(calendar: calendar)
        }
        let out = BufferedWriter()
        defer { out.flush() }
        switch try global.outputFormat(default: .text, allowsHTML: true) {
        case .json: out.line(try JSONValue.encode(report).rendered())
        case .csv: writeFigures(report, to: out)
        case .text: writeText(report, to: out)
        case .html: out.line(HTMLReport(report, title: "Retention report: \(source.name)").html)
        }
    }

    private func reportOptions(calendar: PeriodCalendar, window: Range<Timestamp>?) -> RetentionReport.Options {
        RetentionReport.Options(
            calendar: calendar, window: window, activeWithin: activeWithin.map { Int64($0) * 86_400 },
            lifespanYears: lifespanYears, grossMargin: margin, annualDiscountRate: discountRate, cohortUnit: period,
            asOf: global.asOf?.date, bins: bins, binning: ties)
    }

    /// The report from a ledger of every order (a store, or a file with half a window: its other end is the
    /// data's), or with --push-down from per-customer rows the store computes.
    private func fromLedgerOrStore(calendar: PeriodCalendar) async throws -> RetentionReport {
        // From a store with --push-down: per-customer rows, never the orders; otherwise a ledger of every order.
        let store =
            pushDown ? try StoreLocation(parsing: source.store ?? "", option: "--store").open(creating: false) : nil
        let ledger = store == nil ? try await source.ledger(input: input, calendar: calendar) : nil
        var window: Range<Timestamp>?
        if from != nil || to != nil {
            let data: Range<Timestamp>
            if let ledger {
                data = RetentionReport.dataWindow(ledger, calendar: calendar)
            } else {
                data = RetentionReport.dataWindow(instants: try await orderInstantRange(of: store!), calendar: calendar)
            }
            let lower = from.map { calendar.startOfDay($0.date) } ?? data.lowerBound
            let upper = to.map { calendar.startOfDay($0.date) } ?? data.upperBound
            guard lower < upper else {
                throw ValidationError(
                    "the window [\(from?.description ?? "first order"), \(to?.description ?? "last order")] is empty")
            }
            window = lower..<upper
        }
        let options = reportOptions(calendar: calendar, window: window)
        if let ledger { return try RetentionReport(ledger, options: options) }
        do {
            return try await RetentionReport.pushedDown(from: store!, options: options)
        } catch let error as MetricError {
            throw error
        } catch {
            throw CLIError("reading \(source.name): \(error)")
        }
    }

    /// `figure,value` lines for every scalar of the report (nested names dotted); lists are left out.
    private func writeFigures(_ report: RetentionReport, to out: BufferedWriter) {
        var table = Table(columns: ["figure", "value"])
        func walk(_ value: JSONValue, _ name: String) {
            switch value {
            case .object(let members):
                for key in members.keys.sorted() { walk(members[key]!, name.isEmpty ? key : name + "." + key) }
            case .array: break
            case .null: table.rows.append([.text(name), .missing])
            case .bool(let flag): table.rows.append([.text(name), .text(flag ? "true" : "false")])
            case .number(let text), .string(let text): table.rows.append([.text(name), .text(text)])
            }
        }
        if let tree = try? JSONValue.encode(report) { walk(tree, "") }
        table.writeCSV(to: out)
    }

    private func writeText(_ report: RetentionReport, to out: BufferedWriter) {
        let money = report.currency.map { " " + $0 } ?? ""
        out.line("Window    [\(report.from ?? "?"), \(report.to ?? "?")) in \(global.timeZone)")
        out.line("As of     \(report.asOf ?? "n/a") (cohorts and segments)")
        out.line()
        var headline = Table(columns: ["figure", "value"])
        headline.rows = [
            [.text("Customers"), .int(report.customers)],
            [.text("Orders"), .int(report.orders)],
            [.text("Revenue"), .decimal(report.revenue + money)],
            [.text("Average order value"), .optional(report.averageOrderValue)],
            [.text("Purchase frequency"), .optional(report.purchaseFrequency)],
            [.text("Repeat purchase rate"), .decimal(percent(report.repeatPurchaseRate))],
            [.text("Returning customer rate"), .decimal(percent(report.returningCustomerRate))],
            [.text("Spend uplift (repeat vs first AOV)"), .decimal(percent(report.spendUplift))],
        ]
        headline.writeText(to: out)

        let retention = report.retention
        out.line()
        out.line("Retention (active = bought within \(formatted(retention.activeWithinDays)) days)")
        if retention.start == 0 {
            out.line("  n/a: no customer was active before the window; pass --from")
        } else {
            out.line("  S start \(retention.start), N new \(retention.new), E end \(retention.end), "
                + "retained \(retention.retained), reactivated \(retention.reactivated)")
            out.line("  retention rate (E - N) / S   \(percent(retention.rate))")
            out.line("  cohort rate    |S and E| / S \(percent(retention.cohortRate))")
            out.line("  churn rate     1 - rate      \(percent(retention.churnRate))")
        }
        let returning = report.returning
        out.line(
            "  returning: \(returning.returned) of \(returning.existing) existing customers bought again "
                + "(\(percent(returning.rate)))")

        let clv = report.customerLifetimeValue
        out.line()
        out.line("Customer lifetime value = AOV x annual frequency x lifespan")
        if let value = clv.value {
            out.line(
                "  \(formatted(clv.averageOrderValue ?? 0)) x \(formatted(clv.annualPurchaseFrequency ?? 0)) x "
                    + "\(formatted(clv.lifespanYears ?? 0)) years (\(clv.lifespanSource ?? "")) = \(formatted(value))"
                    + money)
            if clv.grossMargin != 1 || clv.annualDiscountRate != 0 {
                out.line("  with gross margin \(clv.grossMargin) and annual discount rate \(clv.annualDiscountRate)")
            }
        } else {
            out.line("  n/a: no lifespan (pass --lifespan-years, or a window with churn) or no orders")
        }

        out.line()
        out.line("RFM segments")
        var segments = Table(columns: ["segment", "customers"])
        segments.rows = report.segments.map { [.text($0.name), .int($0.customers)] }
        segments.writeText(to: out)

        out.line()
        out.line("Cohorts by \(report.cohortPeriod.rawValue)")
        writeTriangle(
            report.cohorts.map { ($0.cohort, $0.offset, $0.size, $0.retention) }, unit: report.cohortPeriod, to: out)
    }
}
