import ArgumentParser
import RetentionMetrics

/// `retention summary`: the per-customer BTYD summary in lifetimes' convention.
struct SummaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Per-customer frequency, recency, T and monetary value (lifetimes' convention).",
        discussion: """
            frequency = repeat purchase periods, recency = age at the last purchase, T = age at the as-of day,
            monetary_value = mean of the repeat periods' sums. --model-input gives fractional weeks (days / 7).
            """)

    enum Unit: String, ExpressibleByArgument, CaseIterable { case day, week }

    @OptionGroup var source: OrderSource
    @Option(help: "Time unit: day or week (weeks Monday..Sunday).") var unit: Unit = .day
    @Flag(name: .customLong("model-input"), help: "Fractional weeks from days (days / 7), as the models use.")
    var modelInput = false
    @OptionGroup var global: GlobalOptions
    @OptionGroup var input: InputOptions

    func run() async throws {
        let calendar = try global.calendar
        let ledger = try await source.ledger(input: input, calendar: calendar)
        let end = try global.asOfDay(ledger, calendar: calendar)
        let btydUnit: BTYDSummary.Unit = modelInput ? .weeksFromDays : (unit == .day ? .day : .week)
        let summary = BTYDSummary(ledger: ledger, calendar: calendar, observationEnd: end, unit: btydUnit)
        let whole = btydUnit != .weeksFromDays
        let rows = summary.rows
        let table = Table(columns: ["customer_id", "frequency", "recency", "T", "monetary_value"], count: rows.count) {
            let row = rows[$0]
            return [
                .text(row.customerID), .int(row.frequency),
                whole ? .int(Int64(row.recency)) : .number(row.recency),
                whole ? .int(Int64(row.age)) : .number(row.age),
                .number(row.monetaryValue),
            ]
        }
        let out = BufferedWriter()
        defer { out.flush() }
        table.write(try global.outputFormat(default: .csv), to: out)
    }
}
