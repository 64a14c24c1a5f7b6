import ArgumentParser
import RetentionMetrics

/// `retention summary`: the per-customer BTYD summary in lifetimes' convention.
struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Per-customer frequency, recency, T and monetary value (lifetimes' convention).",
        discussion: """
            frequency = repeat purchase periods, recency = age at the last purchase, T = age at the as-of day,
            monetary_value = mean of the repeat periods' sums. --model-input gives fractional weeks (days / 7).
            """)

    enum Unit: String, ExpressibleByArgument, CaseIterable { case day, week }

    @Argument(help: "The order file (CSV).") var file: String
    @Option(help: "Time unit: day or week (weeks Monday..Sunday).") var unit: Unit = .day
    @Flag(name: .customLong("model-input"), help: "Fractional weeks from days (days / 7), as the models use.")
    var modelInput = false
    @OptionGroup var global: GlobalOptions
    @OptionGroup var input: InputOptions

    func run() throws {
        let calendar = try global.calendar
        let ledger = try input.load(file, calendar: calendar)
        let end = try global.asOfDay(ledger, calendar: calendar)
        let btydUnit: BTYDSummary.Unit = modelInput ? .weeksFromDays : (unit == .day ? .day : .week)
        let summary = BTYDSummary(ledger: ledger, calendar: calendar, observationEnd: end, unit: btydUnit)
        let whole = btydUnit != .weeksFromDays
        var table = Table(columns: ["customer_id", "frequency", "recency", "T", "monetary_value"])
        table.rows.reserveCapacity(summary.rows.count)
        for row in summary.rows {
            table.rows.append([
                .text(row.customerID), .int(row.frequency),
                whole ? .int(Int64(row.recency)) : .number(row.recency),
                whole ? .int(Int64(row.age)) : .number(row.age),
                .number(row.monetaryValue),
            ])
        }
        let out = BufferedWriter()
        defer { out.flush() }
        table.write(try global.outputFormat(default: .csv), to: out)
    }
}
