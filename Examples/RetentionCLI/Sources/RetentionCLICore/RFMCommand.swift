import ArgumentParser
import RetentionMetrics

/// Ties policy of the RFM scores on the command line.
extension RFMBinning: @retroactive ExpressibleByArgument {}

/// `retention rfm`: recency, frequency, monetary value, their scores and segments.
struct RFMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rfm", abstract: "RFM values, 1..b scores and segments per customer at the as-of day.")

    @OptionGroup var source: OrderSource
    @Option(help: "Number of scores b.") var bins = 5
    @Option(help: "Ties: share (quantile cut points, equal values share a score) or split (NTILE).")
    var ties: RFMBinning = .share
    @OptionGroup var global: GlobalOptions
    @OptionGroup var input: InputOptions

    func validate() throws {
        guard bins >= 1 else { throw ValidationError("--bins must be at least 1") }
    }

    func run() async throws {
        let calendar = try global.calendar
        let ledger = try await source.ledger(input: input, calendar: calendar)
        let asOf = try global.asOfDay(ledger, calendar: calendar)
        let summary = RFMSummary(ledger: ledger, asOf: asOf, calendar: calendar)
        let scores = RFMScores(summary, bins: bins, binning: ties)
        let segments = RFMSegmentation.standard.segments(of: scores)
        let digits = ledger.currency?.minorUnitDigits ?? 2
        let rows = scores.rows
        let columns = ["customer_id", "recency_days", "frequency", "monetary", "R", "F", "M", "segment"]
        let table = Table(columns: columns, count: rows.count) {
            let row = rows[$0]
            return [
                .text(row.customerID), .int(row.recency), .int(row.frequency),
                .money(row.monetary, digits: digits), .int(row.recencyScore),
                .int(row.frequencyScore), .int(row.monetaryScore), .text(segments[$0]),
            ]
        }
        let out = BufferedWriter()
        defer { out.flush() }
        table.write(try global.outputFormat(default: .csv), to: out)
    }
}
