import ArgumentParser
import RetentionMetrics
import RetentionStorage

/// `retention generate`: deterministic synthetic orders as CSV.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write deterministic synthetic orders (CSV, the standard columns) to stdout or a file.",
        discussion: """
            The same --orders, --seed, --customers, --start and --years give the same file on every platform. \
            Orders are written customer by customer (each customer's orders in time order), not globally by time.
            """)

    @Option(help: "Number of orders.") var orders: Int
    @Option(help: "Seed of the generator.") var seed: UInt64 = 42
    @Option(help: "Number of distinct customers (default: orders / 3).") var customers: Int?
    @Option(help: "First day of the span.") var start: Day = Day(argument: "2021-01-01")!
    @Option(help: "Length of the span in years.") var years = 3
    @Option(help: "Currency code of the amounts.") var currency = "USD"
    @Option(name: .customLong("refund-share"), help: "Share of repeat orders that are refunds, 0...1.")
    var refundShare: Double = 0
    @Option(name: [.short, .long], help: "Write to this file instead of standard output.") var output: String?

    func validate() throws {
        guard orders >= 0 else { throw ValidationError("--orders must be >= 0") }
        if let customers, orders > 0, !(1...orders).contains(customers) {
            throw ValidationError("--customers must be in 1...\(orders) (every customer has at least one order)")
        }
        guard (1...1_000).contains(years) else { throw ValidationError("--years must be between 1 and 1,000") }
        guard (0...1).contains(refundShare) else { throw ValidationError("--refund-share must be in 0...1") }
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw ValidationError("--currency '\(currency)' is not a three-letter currency code")
        }
    }

    func run() throws {
        let generated = SyntheticOrders(
            count: orders, customers: customers, start: start.date, years: years, seed: seed,
            currency: Currency(currency), refundShare: refundShare)
        if let output {
            do { try CSVOrderWriter.write(generated, toFile: output) } catch { throw CLIError(error.description) }
            return
        }
        let out = BufferedWriter()
        defer { out.flush() }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 * 1024 + 256)
        CSVOrderWriter.appendHeader(to: &bytes)
        for order in generated {
            CSVOrderWriter.appendRow(order, to: &bytes)
            if bytes.count >= 64 * 1024 {
                out.write(bytes)
                bytes.removeAll(keepingCapacity: true)
            }
        }
        out.write(bytes)
    }
}
