import ArgumentParser
import RetentionMetrics
import RetentionStorage

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
        let columns = ["customer_id", "recency_days", "frequency", "monetary", "R", "F", "M", "segment"]
        if let file = source.file, ties == .share {
            // One pass that never holds the orders, when the file allows it (else the ledger below).
            let options = try input.orderInputOptions(calendar: calendar)
            let rfm = try input.reading(file) { () throws -> (RFMColumns?, LoadReport) in
                let result = try RFMColumns.onePass(fromCSV: file, input: options, asOf: global.asOf?.date, bins: bins)
                return (result?.columns, result?.load ?? LoadReport())
            }
            if let rfm {
                let digits = options.defaultCurrency.minorUnitDigits
                let format = try global.outputFormat(default: .csv)
                let out = BufferedWriter()
                defer { out.flush() }
                if format == .csv, !Table.needsQuotes(rfm.idPrefix) {
                    Self.writeCSV(rfm, digits: digits, columns: columns, to: out)
                    return
                }
                let table = Table(columns: columns, concurrentCount: rfm.count, row: { index in
                    [
                        .text(rfm.customerID(at: index)), .int(Int(rfm.recency[index])),
                        .int(Int(rfm.frequency[index])), .money(rfm.monetary[index], digits: digits),
                        .int(Int(rfm.recencyScore[index])), .int(Int(rfm.frequencyScore[index])),
                        .int(Int(rfm.monetaryScore[index])), .text(rfm.segmentNames[Int(rfm.segments[index])]),
                    ]
                })
                table.write(format, to: out)
                return
            }
        }
        let ledger = try await source.ledger(input: input, calendar: calendar)
        let asOf = try global.asOfDay(ledger, calendar: calendar)
        let summary = RFMSummary(ledger: ledger, asOf: asOf, calendar: calendar)
        let scores = RFMScores(summary, bins: bins, binning: ties)
        let segments = RFMSegmentation.standard.segments(of: scores)
        let digits = ledger.currency?.minorUnitDigits ?? 2
        let rows = scores.rows
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

    /// The CSV the table writes for the same cells, straight from the columns: no cell values or strings per
    /// row, two threads (``writeInRounds(count:to:row:)``).
    private static func writeCSV(_ rfm: RFMColumns, digits: Int, columns: [String], to out: BufferedWriter) {
        out.line(columns.map(Table.csvField).joined(separator: ","))
        let prefix = Array(rfm.idPrefix.utf8)
        let names = rfm.segmentNames.map { Array(Table.csvField($0).utf8) }
        writeInRounds(count: rfm.count, to: out) { index, writer in
            writer.write(prefix)
            writer.paddedInteger(rfm.keys[index], minimumDigits: rfm.idDigits)
            writer.byte(0x2C)
            writer.integer(Int64(rfm.recency[index]))
            writer.byte(0x2C)
            writer.integer(Int64(rfm.frequency[index]))
            writer.byte(0x2C)
            writer.decimal(rfm.monetary[index], digits: digits)
            writer.byte(0x2C)
            writer.integer(Int64(rfm.recencyScore[index]))
            writer.byte(0x2C)
            writer.integer(Int64(rfm.frequencyScore[index]))
            writer.byte(0x2C)
            writer.integer(Int64(rfm.monetaryScore[index]))
            writer.byte(0x2C)
            writer.write(names[Int(rfm.segments[index])])
            writer.byte(0x0A)
        }
    }
}
