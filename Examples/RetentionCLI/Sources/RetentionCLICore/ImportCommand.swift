import ArgumentParser
import RetentionMetrics
import RetentionStorage

/// `retention import`: appends a CSV export to an order store, batch by batch.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Append the orders of a CSV export to a store (SQLite, CSV or JSON Lines file store).",
        discussion: """
            The file is streamed: --batch-size orders are read, then appended in one atomic batch, so memory stays \
            bounded however large the file. Appends are idempotent by order id: importing the same file again \
            inserts nothing and counts every order as a duplicate. A bad row stops the import with its line and \
            column; the batch it was in is not stored (earlier batches are). With --skip-bad-rows every valid row \
            is stored and the first errors are listed. The store is created when it does not exist.
            """)

    @Argument(help: "The order file (a CSV export).") var file: String

    @Option(
        name: .customLong("into"),
        help: ArgumentHelp("The store: sqlite:PATH, csv:PATH or jsonl:PATH.", valueName: "scheme:path"))
    var into: String

    @Option(name: .customLong("batch-size"), help: "Orders per atomic append.") var batchSize = 10_000
    @OptionGroup var global: GlobalOptions
    @OptionGroup var input: InputOptions

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        _ = try StoreLocation(parsing: into, option: "--into")
    }

    func run() async throws {
        let calendar = try global.calendar
        let format = try global.outputFormat(default: .text)
        let location = try StoreLocation(parsing: into, option: "--into")
        let clock = ContinuousClock()
        let started = clock.now
        // Open the file first: an unreadable file or a bad header must not leave an empty store behind.
        var reader: CSVOrderReader
        do {
            reader = try CSVOrderReader(path: file, options: try input.orderInputOptions(calendar: calendar))
        } catch let error as InputError {
            throw CLIError("\(file): \(error)")
        }
        let store = try location.open(creating: true)
        var stored = AppendSummary(inserted: 0, duplicatesIgnored: 0)
        var progress = ProgressLine(verb: "imported")
        var batch: [Order] = []
        batch.reserveCapacity(batchSize)
        while true {
            batch.removeAll(keepingCapacity: true)
            do {
                while batch.count < batchSize, let order = try reader.next() { batch.append(order) }
            } catch {
                progress.finish()
                throw CLIError("\(file): \(error); \(storedSoFar(stored))")
            }
            if batch.isEmpty { break }
            do {
                let summary = try await store.append(batch)
                stored.inserted += summary.inserted
                stored.duplicatesIgnored += summary.duplicatesIgnored
            } catch {
                progress.finish()
                throw CLIError("\(location): \(error) (in the batch of rows up to line \(reader.line) of \(file)); "
                    + storedSoFar(stored))
            }
            progress.update(stored.inserted + stored.duplicatesIgnored)
        }
        progress.finish()
        let elapsed = seconds(clock.now - started)
        let result = ImportSummary(
            file: file, store: location.description, report: reader.report, stored: stored, seconds: elapsed)
        let out = BufferedWriter()
        defer { out.flush() }
        switch format {
        case .json: out.line(try JSONValue.encode(result).rendered())
        case .csv:
            var table = Table(columns: ["figure", "value"])
            table.rows = [
                [.text("rowsRead"), .int(result.rowsRead)], [.text("inserted"), .int(result.inserted)],
                [.text("duplicatesIgnored"), .int(result.duplicatesIgnored)],
                [.text("lineItemRowsCollapsed"), .int(result.lineItemRowsCollapsed)],
                [.text("skippedRows"), .int(result.skippedRows)], [.text("seconds"), .number(result.seconds)],
                [.text("ordersPerSecond"), .optional(result.ordersPerSecond)],
            ]
            table.writeCSV(to: out)
        case .text, .html:  // html is refused by outputFormat(default:)
            writeText(result, to: out)
        }
    }

    private func storedSoFar(_ stored: AppendSummary) -> String {
        let earlier = stored.inserted + stored.duplicatesIgnored
        guard earlier > 0 else { return "nothing was stored" }
        return "nothing of its batch was stored; the \(grouped(earlier)) orders of the earlier batches are "
            + "(\(grouped(stored.inserted)) new), so running the import again resumes where it stopped"
    }

    private func writeText(_ result: ImportSummary, to out: BufferedWriter) {
        out.line("Imported \(result.file) into \(result.store)")
        var table = Table(columns: ["figure", "value"])
        table.rows = [
            [.text("rows read"), .decimal(grouped(result.rowsRead))],
            [.text("inserted"), .decimal(grouped(result.inserted))],
            [.text("duplicates ignored"), .decimal(grouped(result.duplicatesIgnored))],
        ]
        if result.lineItemRowsCollapsed > 0 {
            table.rows.append([.text("line-item rows collapsed"), .decimal(grouped(result.lineItemRowsCollapsed))])
        }
        table.rows.append([.text("skipped bad rows"), .decimal(grouped(result.skippedRows))])
        let rate = result.ordersPerSecond.map { " (\(grouped(Int($0.rounded()))) orders/s)" } ?? ""
        table.rows.append([.text("elapsed"), .decimal(String(format: "%.2f s", result.seconds) + rate)])
        table.writeText(to: out)
        if !result.errors.isEmpty {
            let shown = result.errors.count < result.skippedRows ? "the first \(result.errors.count)" : "all"
            out.line("Skipped rows (\(shown)):")
            for error in result.errors { out.line("  \(error)") }
        }
    }
}

/// What `retention import` did, as printed by `--format json`.
struct ImportSummary: Codable {
    var file: String
    var store: String
    /// Data rows of the file (header excluded).
    var rowsRead: Int
    /// Orders newly stored.
    var inserted: Int
    /// Orders already in the store (or repeated in the file) with identical content.
    var duplicatesIgnored: Int
    /// Shopify line-item rows folded into their order.
    var lineItemRowsCollapsed: Int
    /// Bad rows skipped under --skip-bad-rows.
    var skippedRows: Int
    /// The first skipped rows' errors.
    var errors: [String]
    /// Wall time of the whole import, opening included.
    var seconds: Double
    /// Orders read from the file per second of ``seconds``; `nil` when no time was measured.
    var ordersPerSecond: Double?

    init(file: String, store: String, report: LoadReport, stored: AppendSummary, seconds: Double) {
        self.file = file
        self.store = store
        rowsRead = report.rowsRead
        inserted = stored.inserted
        duplicatesIgnored = stored.duplicatesIgnored
        lineItemRowsCollapsed = report.lineItemRowsCollapsed
        skippedRows = report.skippedRows
        errors = report.errors.map(\.description)
        self.seconds = seconds
        ordersPerSecond = seconds > 0 ? Double(report.ordersLoaded) / seconds : nil
    }
}
