import Dispatch
import Foundation
import RetentionMetrics
import RetentionStorage

/// One cell of a result table.
enum Cell {
    case integer(Int64)
    /// A measured or estimated figure; written with `Double.description`, which round-trips.
    case number(Double)
    /// An exact money amount as a decimal string ("12.50"); a string in JSON so that no digit is lost.
    case decimal(String)
    /// An exact money amount in minor units with its fraction digits; written like ``decimal`` (and
    /// `Money.decimalString`), straight into the output without an intermediate string.
    case money(Int64, digits: Int)
    case text(String)
    /// An undefined figure: empty in CSV, `null` in JSON, `n/a` in text.
    case missing

    static func int(_ value: some BinaryInteger) -> Cell { .integer(Int64(value)) }

    static func optional(_ value: Double?) -> Cell {
        guard let value, value.isFinite else { return .missing }
        return .number(value)
    }

    var plain: String {
        switch self {
        case .integer(let value): String(value)
        case .number(let value): value.description
        case .decimal(let text), .text(let text): text
        case .money(let minorUnits, let digits): Money.decimalString(minorUnits, digits: digits)
        case .missing: ""
        }
    }

    var isText: Bool {
        if case .text = self { return true }
        return false
    }

    var isNumeric: Bool {
        switch self {
        case .integer, .number, .decimal, .money: true
        case .text, .missing: false
        }
    }

    var json: JSONValue {
        switch self {
        case .integer(let value): .int(value)
        case .number(let value): .double(value)
        case .decimal(let text), .text(let text): .string(text)
        case .money: .string(plain)
        case .missing: .null
        }
    }
}

/// Rows under named columns, written as CSV, a JSON array of objects, or an aligned text table.
///
/// A table either holds its rows (`rows`) or makes them on demand (``init(columns:count:row:)``): per-customer
/// outputs have millions of rows, and building each one only as it is written keeps memory flat.
struct Table {
    var columns: [String]
    var rows: [[Cell]] = []
    /// Rows made on demand; when set, `rows` is not used.
    private var generated: (count: Int, row: (Int) -> [Cell])?
    /// The same function when it may run on several threads at once: large CSV outputs are then formatted by two
    /// threads (see ``writeCSV(to:)``).
    private var concurrentRow: (@Sendable (Int) -> [Cell])?

    init(columns: [String], rows: [[Cell]] = []) {
        self.columns = columns
        self.rows = rows
    }

    /// A table of `count` rows, row `i` made by `row(i)` when it is written.
    init(columns: [String], count: Int, row: @escaping (Int) -> [Cell]) {
        self.columns = columns
        self.generated = (count, row)
    }

    /// A table of `count` rows, row `i` made by `row(i)` when it is written, possibly on two threads at once.
    init(columns: [String], concurrentCount count: Int, row: @escaping @Sendable (Int) -> [Cell]) {
        self.columns = columns
        self.generated = (count, row)
        self.concurrentRow = row
    }

    var rowCount: Int { generated?.count ?? rows.count }

    func forEachRow(_ body: ([Cell]) -> Void) {
        if let generated {
            for index in 0..<generated.count { body(generated.row(index)) }
        } else {
            for row in rows { body(row) }
        }
    }

    func write(_ format: OutputFormat, to out: BufferedWriter) {
        switch format {
        case .csv: writeCSV(to: out)
        case .json: writeJSON(to: out)
        case .text: writeText(to: out)
        case .html: preconditionFailure("outputFormat(default:) refuses html for tables")
        }
    }

    /// RFC 4180: a field with a comma, quote, CR or LF is quoted, its quotes doubled. Cells are written straight
    /// into the buffer (no joined line strings).
    ///
    /// With ``init(columns:concurrentCount:row:)`` and 65,536 rows or more, rows are formatted in rounds of
    /// 2 x 32,768: each half of a round by its own thread into its own buffer, then both buffers are written in
    /// order (the same bytes as one thread would write).
    func writeCSV(to out: BufferedWriter) {
        out.line(columns.map(Table.csvField).joined(separator: ","))
        if let concurrentRow, rowCount >= 1 << 16 {
            writeInRounds(count: rowCount, to: out) { index, writer in
                Table.writeCSVRow(concurrentRow(index), to: writer)
            }
            return
        }
        forEachRow { Table.writeCSVRow($0, to: out) }
    }

    private static func writeCSVRow(_ row: [Cell], to out: BufferedWriter) {
        for (index, cell) in row.enumerated() {
            if index > 0 { out.byte(0x2C) }
            cell.writeCSV(to: out)
        }
        out.byte(0x0A)
    }

    /// An array of objects, one per row, keys in column order (written directly: tables can be large).
    func writeJSON(to out: BufferedWriter) {
        guard rowCount > 0 else {
            out.line("[]")
            return
        }
        var keys: [String] = []
        for column in columns {
            var quoted = ""
            JSONValue.quote(column, into: &quoted)
            keys.append(quoted)
        }
        out.line("[")
        var index = 0
        let last = rowCount - 1
        forEachRow { row in
            let members = zip(keys, row).map { "\($0): \($1.json.rendered())" }
            out.line("  {" + members.joined(separator: ", ") + (index == last ? "}" : "},"))
            index += 1
        }
        out.line("]")
    }

    /// Columns padded to their widest cell; numbers right-aligned, text left-aligned.
    func writeText(to out: BufferedWriter) {
        var texts: [[String]] = []
        texts.reserveCapacity(rowCount)
        var anyNumeric = [Bool](repeating: false, count: columns.count)
        var anyText = [Bool](repeating: false, count: columns.count)
        forEachRow { row in
            texts.append(row.map { $0.textForm })
            for (index, cell) in row.enumerated() {
                if cell.isNumeric { anyNumeric[index] = true }
                if cell.isText { anyText[index] = true }
            }
        }
        var widths = columns.map(\.count)
        for row in texts { for (index, text) in row.enumerated() { widths[index] = max(widths[index], text.count) } }
        let numeric = columns.indices.map { anyNumeric[$0] && !anyText[$0] }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, text in
                let pad = String(repeating: " ", count: widths[index] - text.count)
                return numeric[index] ? pad + text : (index == cells.count - 1 ? text : text + pad)
            }.joined(separator: "  ")
        }
        out.line(line(columns))
        for row in texts { out.line(line(row)) }
    }

    static func needsQuotes(_ text: String) -> Bool {
        text.utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
    }

    static func csvField(_ text: String) -> String {
        guard needsQuotes(text) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension Cell {
    /// The CSV form, written into `out`: numbers as in ``plain``, text quoted when it needs to be.
    func writeCSV(to out: BufferedWriter) {
        switch self {
        case .integer(let value): out.integer(value)
        case .number(let value): out.write(value.description)
        case .decimal(let text): out.write(text)
        case .money(let minorUnits, let digits): out.decimal(minorUnits, digits: digits)
        case .text(let text): out.write(Table.needsQuotes(text) ? Table.csvField(text) : text)
        case .missing: break
        }
    }

    /// The text-table form: numbers shortened to 6 significant digits, undefined as n/a.
    var textForm: String {
        switch self {
        case .number(let value): formatted(value)
        case .missing: "n/a"
        default: plain
        }
    }
}

/// A figure for humans: up to 6 significant digits, no exponent for everyday magnitudes.
func formatted(_ value: Double) -> String {
    guard value.isFinite else { return "n/a" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    let text = String(format: "%.6g", value)
    return text
}

/// A rate as a percentage with one decimal: 0.78 -> "78.0%".
func percent(_ value: Double?) -> String {
    guard let value, value.isFinite else { return "n/a" }
    return String(format: "%.1f%%", value * 100)
}

/// Writes rows `0..<count` (`row(i, writer)` writes row i) in rounds of 2 x 32,768: each half of a round by its
/// own thread into its own buffer, then both buffers into `out` in order: the bytes one thread would write.
func writeInRounds(count: Int, to out: BufferedWriter, row: @Sendable (Int, BufferedWriter) -> Void) {
    let half = 1 << 15
    var start = 0
    while start < count {
        let (low, middle, high) = (start, Swift.min(start + half, count), Swift.min(start + 2 * half, count))
        let chunks = [ChunkSink(), ChunkSink()]
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            let writer = BufferedWriter(chunks[part], capacity: 1 << 20)
            for index in part == 0 ? low..<middle : middle..<high { row(index, writer) }
            writer.flush()
        }
        for chunk in chunks { chunk.drain(into: out) }
        start = high
    }
}

/// The bytes of one half of a round of ``writeInRounds(count:to:row:)``, written by one thread, then drained by the caller
/// after `concurrentPerform` returns (which orders the writes before the read).
private final class ChunkSink: OutputSink, @unchecked Sendable {
    private var bytes: [UInt8] = []

    func write(_ bytes: UnsafeRawBufferPointer) { self.bytes.append(contentsOf: bytes) }

    func drain(into out: BufferedWriter) { out.write(bytes) }
}
