import ArgumentParser
import RetentionMetrics
import RetentionStorage

/// `retention rate`: seed 001's retention rate from three counts.
struct RateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rate", abstract: "Retention and churn rate from counts: (E - N) / S.")

    @Option(help: "S: customers at the start of the period.") var start: Int
    @Option(help: "N: new customers acquired during the period.") var new: Int
    @Option(help: "E: customers at the end of the period.") var end: Int
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let retention = try RetentionRate(start: start, new: new, end: end)
        let out = BufferedWriter()
        defer { out.flush() }
        switch try global.outputFormat(default: .text) {
        case .json:
            out.line(
                JSONValue.object([
                    "retentionRate": .double(retention.rate), "churnRate": .double(retention.churnRate),
                    "start": .int(start), "new": .int(new), "end": .int(end), "retained": .int(retention.retained),
                ]).rendered())
        case .csv:
            Table(
                columns: ["start", "new", "end", "retained", "retention_rate", "churn_rate"],
                rows: [[
                    .int(start), .int(new), .int(end), .int(retention.retained), .optional(retention.rate),
                    .optional(retention.churnRate),
                ]]
            ).writeCSV(to: out)
        case .text, .html:  // html is refused by outputFormat(default:)
            out.line("Retention rate  (E - N) / S = (\(end) - \(new)) / \(start) = \(percent(retention.rate))")
            out.line("Churn rate      1 - retention = \(percent(retention.churnRate))")
            if retention.rate == nil { out.line("n/a: no customers at the start (S = 0)") }
        }
    }
}
