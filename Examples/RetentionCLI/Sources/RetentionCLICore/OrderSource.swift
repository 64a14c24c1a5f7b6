import ArgumentParser
import Foundation
import RetentionMetrics
import RetentionSQLite
import RetentionStorage

/// An order store named on the command line: `sqlite:PATH`, `csv:PATH` or `jsonl:PATH`.
///
/// `csv:` and `jsonl:` are the file *stores* (``CSVFileOrderStore``, ``JSONLinesOrderStore``: the library's
/// standard columns plus commit markers), not arbitrary exports; `sqlite:` is ``SQLiteOrderStore``.
struct StoreLocation: Hashable, CustomStringConvertible {
    enum Kind: String, CaseIterable {
        case sqlite, csv, jsonl
    }

    var kind: Kind
    var path: String

    /// The accepted forms, for messages.
    static let forms = "sqlite:PATH, csv:PATH or jsonl:PATH"

    /// Parses `scheme:path`; the scheme is case-insensitive, the path is taken verbatim.
    init(parsing text: String, option: String) throws {
        guard let colon = text.firstIndex(of: ":") else {
            throw ValidationError("\(option) '\(text)' has no scheme; use \(StoreLocation.forms)")
        }
        let scheme = text[..<colon].lowercased()
        guard let kind = Kind(rawValue: scheme) else {
            throw ValidationError(
                "unknown store scheme '\(scheme)' in \(option) '\(text)'; use \(StoreLocation.forms)")
        }
        let path = String(text[text.index(after: colon)...])
        guard !path.isEmpty else { throw ValidationError("\(option) '\(text)' has no path after '\(scheme):'") }
        self.kind = kind
        self.path = path
    }

    var description: String { "\(kind.rawValue):\(path)" }

    /// Opens the store; a missing file is an error unless `creating` (reading commands never create a store).
    func open(creating: Bool) throws -> any OrderStore {
        if !creating, !FileManager.default.fileExists(atPath: path) {
            throw CLIError("no store at \(path) (create one with `retention import FILE --into \(self)`)")
        }
        do {
            switch kind {
            case .sqlite: return try SQLiteOrderStore(path: path)
            case .csv: return try CSVFileOrderStore(path: path)
            case .jsonl: return try JSONLinesOrderStore(path: path)
            }
        } catch {
            throw CLIError("cannot open \(self): \(error)")
        }
    }
}

/// Where a reading subcommand gets its orders: a CSV export (the FILE argument) or `--store`. Exactly one.
struct OrderSource: ParsableArguments {
    @Argument(help: "The order file (a CSV export). Or give --store.") var file: String?

    @Option(
        help: ArgumentHelp(
            "Read the orders from a store instead of a file: sqlite:PATH, csv:PATH or jsonl:PATH "
                + "(see `retention import`).",
            valueName: "scheme:path"))
    var store: String?

    func validate() throws {
        switch (file, store) {
        case (nil, nil): throw ValidationError("give the order file or --store \(StoreLocation.forms)")
        case (.some, .some): throw ValidationError("give the order file or --store, not both")
        default: break
        }
        if let store { _ = try StoreLocation(parsing: store, option: "--store") }
    }

    /// The file, or the store as `scheme:path`, for titles.
    var name: String { file ?? store ?? "" }

    /// Loads the orders into a ledger: the file with `input`'s options, or every order of the store, streamed in
    /// batches (`input`'s column, currency and bad-row options concern files and are ignored for stores).
    func ledger(input: InputOptions, calendar: PeriodCalendar) async throws -> OrderLedger {
        if let file { return try input.load(file, calendar: calendar) }
        let location = try StoreLocation(parsing: store ?? "", option: "--store")
        let store = try location.open(creating: false)
        var progress = ProgressLine(verb: "read")
        defer { progress.finish() }
        do {
            var ledger = OrderLedger()
            for try await batch in store.orders(placedIn: .allTime, batchSize: 10_000) {
                try ledger.append(contentsOf: batch)
                progress.update(ledger.count)
            }
            return ledger
        } catch {
            throw CLIError("reading \(location): \(error)")
        }
    }
}

/// A running count on standard error, `\r imported 1,230,000 orders (412,000/s)`, redrawn at most every 0.5 s,
/// and only when standard error is a terminal: quiet in pipes, logs and tests.
struct ProgressLine {
    private let sink: (any OutputSink)?
    private let verb: String
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private var lastDrawn: ContinuousClock.Instant
    private var drawn = false

    init(verb: String, sink: any OutputSink = Console.errors) {
        self.sink = sink.isTerminal ? sink : nil
        self.verb = verb
        start = clock.now
        lastDrawn = start
    }

    /// Redraws the line when half a second has passed since the last drawing.
    mutating func update(_ count: Int) {
        guard let sink else { return }
        let now = clock.now
        guard now - lastDrawn >= .milliseconds(500) else { return }
        lastDrawn = now
        drawn = true
        let rate = Int((Double(count) / seconds(now - start)).rounded())
        sink.write("\r \(verb) \(grouped(count)) orders (\(grouped(rate))/s)\u{1B}[K")
    }

    /// Clears the line, so that the summary starts on a clean line.
    func finish() {
        if drawn, let sink { sink.write("\r\u{1B}[K") }
    }
}

/// Seconds of a duration, as a Double.
func seconds(_ duration: Duration) -> Double {
    let parts = duration.components
    return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
}

/// An integer with thousands separators: 1230000 -> "1,230,000".
func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var result = ""
    for (index, digit) in digits.enumerated() {
        if index > 0, (digits.count - index) % 3 == 0 { result.append(",") }
        result.append(digit)
    }
    return value < 0 ? "-" + result : result
}
