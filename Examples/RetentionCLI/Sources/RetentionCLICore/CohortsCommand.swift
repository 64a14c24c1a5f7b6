import ArgumentParser
import RetentionMetrics

extension PeriodUnit: @retroactive ExpressibleByArgument {}

/// The periods a cohort table or report can use.
func validateCohortPeriod(_ unit: PeriodUnit) throws {
    guard [.week, .month, .quarter].contains(unit) else {
        throw ValidationError("--period must be week, month or quarter")
    }
}

/// `retention cohorts`: the cohort retention table.
struct CohortsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cohorts",
        abstract: "Cohort retention: customers by first-purchase period, active share in each later period.")

    @Argument(help: "The order file (CSV).") var file: String
    @Option(help: "Cohort period: week, month or quarter.") var period: PeriodUnit = .month
    @OptionGroup var global: GlobalOptions
    @OptionGroup var input: InputOptions

    func validate() throws { try validateCohortPeriod(period) }

    func run() throws {
        let calendar = try global.calendar
        let ledger = try input.load(file, calendar: calendar)
        let asOf = try global.asOfDay(ledger, calendar: calendar)
        let cutoff = calendar.startOfDay(asOf.adding(days: 1)).secondsSince1970 - 1
        let table = CohortTable(
            ledger: ledger, unit: period, calendar: calendar, asOf: Timestamp(secondsSince1970: cutoff))
        let out = BufferedWriter()
        defer { out.flush() }
        switch try global.outputFormat(default: .csv) {
        case .text:
            writeTriangle(
                table.rows.map { ($0.cohort.description, $0.offset, $0.size, $0.retention) }, unit: period, to: out)
        case let format:
            Table(
                columns: ["cohort", "offset", "active", "size", "retention"],
                rows: table.rows.map { row -> [Cell] in
                    [
                        .text(row.cohort.description), .int(row.offset), .int(row.active), .int(row.size),
                        .number(row.retention),
                    ]
                }
            ).write(format, to: out)
        }
    }
}

/// The cohort triangle: one line per cohort, one column per offset, retention in percent.
func writeTriangle(
    _ cells: [(cohort: String, offset: Int, size: Int, retention: Double)], unit: PeriodUnit, to out: BufferedWriter
) {
    guard !cells.isEmpty else {
        out.line("no cohorts")
        return
    }
    var order: [String] = []
    var sizes: [String: Int] = [:]
    var values: [String: [Int: Double]] = [:]
    var maxOffset = 0
    for cell in cells {
        if sizes[cell.cohort] == nil {
            order.append(cell.cohort)
            sizes[cell.cohort] = cell.size
        }
        values[cell.cohort, default: [:]][cell.offset] = cell.retention
        maxOffset = max(maxOffset, cell.offset)
    }
    var table = Table(columns: [unit.rawValue, "size"] + (0...maxOffset).map { "+\($0)" })
    for cohort in order {
        let row = values[cohort]!
        table.rows.append(
            [.text(cohort), .int(sizes[cohort]!)]
                + (0...maxOffset).map { offset in .decimal(row[offset].map { percent($0) } ?? "") })
    }
    table.writeText(to: out)
}
