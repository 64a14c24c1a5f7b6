import ArgumentParser
import RetentionMetrics
import RetentionStorage

/// `retention summary`: the per-customer BTYD summary in lifetimes' convention.
struct SummaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Per-customer frequency, recency, T and monetary value (lifetimes' convention).",
        discussion: """
            frequency = repeat purchase periods, recency = age at the last purchase, T = age at the as-of day,
            monetary_value = mean of the repeat periods' sums. --model-input prints exactly what `fit` and \
            `predict` fit on: purchases merged per local day, durations in days / 7 (or days with --unit day), \
            refunds folded into the purchase day before them, up to --calibration-end.
            """)

    enum Unit: String, ExpressibleByArgument, CaseIterable { case day, week }

    @OptionGroup var source: OrderSource
    @Option(help: "Time unit: day or week (calendar weeks Monday..Sunday; with --model-input days / 7).")
    var unit: Unit?
    @Flag(
        name: .customLong("model-input"),
        help: "The models' input (as `fit` and `predict` use it): fractional weeks from days unless --unit day.")
    var modelInput = false
    @Option(name: .customLong("calibration-end"), help: "With --model-input: last calibration day.")
    var calibrationEnd: Day?
    @OptionGroup var global: GlobalOptions
    @OptionGroup var input: InputOptions

    func validate() throws {
        if calibrationEnd != nil, !modelInput { throw ValidationError("--calibration-end needs --model-input") }
    }

    func run() async throws {
        let columns = ["customer_id", "frequency", "recency", "T", "monetary_value"]
        let table: Table
        if modelInput {
            let data = try await ModelInput(
                source: source, unit: unit == .day ? .day : .week, calibrationEnd: calibrationEnd, global: global,
                input: input)
            let rows = data.rows
            table = Table(columns: columns, count: rows.count) {
                let row = rows[$0]
                let observation = row.calibration
                return [
                    .text(row.customer), .int(Int64(observation.frequency)), .number(observation.recency),
                    .number(observation.T), .number(observation.monetaryValue),
                ]
            }
        } else {
            let calendar = try global.calendar
            let btydUnit: BTYDSummary.Unit = unit == .week ? .week : .day
            if let file = source.file {
                // One pass that never holds the orders, when the file allows it (else the ledger below).
                let options = try input.orderInputOptions(calendar: calendar)
                let btyd = try input.reading(file) { () throws -> (BTYDSummaryColumns?, LoadReport) in
                    let result = try BTYDSummaryColumns.onePass(
                        fromCSV: file, input: options, observationEnd: global.asOf?.date, unit: btydUnit)
                    return (result?.columns, result?.load ?? LoadReport())
                }
                if let btyd {
                    let format = try global.outputFormat(default: .csv)
                    let out = BufferedWriter()
                    defer { out.flush() }
                    if format == .csv, !Table.needsQuotes(btyd.idPrefix) {
                        Self.writeCSV(btyd, columns: columns, to: out)
                        return
                    }
                    Table(columns: columns, concurrentCount: btyd.count) { index in
                        [
                            .text(btyd.customerID(at: index)), .int(btyd.frequency[index]), .int(btyd.recency[index]),
                            .int(btyd.age[index]), .number(btyd.monetaryValue(at: index)),
                        ]
                    }.write(format, to: out)
                    return
                }
            }
            let ledger = try await source.ledger(input: input, calendar: calendar)
            let end = try global.asOfDay(ledger, calendar: calendar)
            let summary = BTYDSummary(
                ledger: ledger, calendar: calendar, observationEnd: end, unit: unit == .week ? .week : .day)
            let rows = summary.rows
            table = Table(columns: columns, count: rows.count) {
                let row = rows[$0]
                return [
                    .text(row.customerID), .int(row.frequency), .int(Int64(row.recency)), .int(Int64(row.age)),
                    .number(row.monetaryValue),
                ]
            }
        }
        let out = BufferedWriter()
        defer { out.flush() }
        table.write(try global.outputFormat(default: .csv), to: out)
    }

    /// The CSV the table writes for the same cells, straight from the columns on two threads
    /// (``writeInRounds(count:to:row:)``); `monetary_value` as `Double.description` spells it.
    private static func writeCSV(_ btyd: BTYDSummaryColumns, columns: [String], to out: BufferedWriter) {
        out.line(columns.map(Table.csvField).joined(separator: ","))
        let prefix = Array(btyd.idPrefix.utf8)
        let zero = Array((0.0).description.utf8)
        writeInRounds(count: btyd.count, to: out) { index, writer in
            writer.write(prefix)
            writer.paddedInteger(btyd.keys[index], minimumDigits: btyd.idDigits)
            writer.byte(0x2C)
            writer.integer(Int64(btyd.frequency[index]))
            writer.byte(0x2C)
            writer.integer(Int64(btyd.recency[index]))
            writer.byte(0x2C)
            writer.integer(Int64(btyd.age[index]))
            writer.byte(0x2C)
            let value = btyd.monetaryValue(at: index)
            if value == 0 && value.sign == .plus { writer.write(zero) } else { writer.write(value.description) }
            writer.byte(0x0A)
        }
    }
}
