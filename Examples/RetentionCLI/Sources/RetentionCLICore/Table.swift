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
        case .missing: ""
        }
    }

    var isText: Bool {
        if case .text = self { return true }
        return false
    }

    var isNumeric: Bool {
        switch self {
        case .integer, .number, .decimal: true
        case .text, .missing: false
        }
    }

    var json: JSONValue {
        switch self {
        case .integer(let value): .int(value)
        case .number(let value): .double(value)
        case .decimal(let text), .text(let text): .string(text)
        case .missing: .null
        }
    }
}

/// Rows under named columns, written as CSV, a JSON array of objects, or an aligned text table.
struct Table {
    var columns: [String]
    var rows: [[Cell]] = []

    init(columns: [String], rows: [[Cell]] = []) {
        self.columns = columns
        self.rows = rows
    }

    func write(_ format: OutputFormat, to out: BufferedWriter) {
        switch format {
        case .csv: writeCSV(to: out)
        case .json: writeJSON(to: out)
        case .text: writeText(to: out)
        case .html: preconditionFailure("outputFormat(default:) refuses html for tables")
        }
    }

    func writeCSV(to out: BufferedWriter) {
        out.line(columns.map(Table.csvField).joined(separator: ","))
        for row in rows { out.line(row.map { Table.csvField($0.plain) }.joined(separator: ",")) }
    }

    /// An array of objects, one per row, keys in column order (written directly: tables can be large).
    func writeJSON(to out: BufferedWriter) {
        guard !rows.isEmpty else {
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
        for (index, row) in rows.enumerated() {
            let members = zip(keys, row).map { "\($0): \($1.json.rendered())" }
            out.line("  {" + members.joined(separator: ", ") + (index == rows.count - 1 ? "}" : "},"))
        }
        out.line("]")
    }

    /// Columns padded to their widest cell; numbers right-aligned, text left-aligned.
    func writeText(to out: BufferedWriter) {
        let texts = rows.map { $0.map { $0.textForm } }
        var widths = columns.map(\.count)
        for row in texts { for (index, text) in row.enumerated() { widths[index] = max(widths[index], text.count) } }
        let numeric = columns.indices.map { column in
            rows.contains { $0[column].isNumeric } && !rows.contains { $0[column].isText }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, text in
                let pad = String(repeating: " ", count: widths[index] - text.count)
                return numeric[index] ? pad + text : (index == cells.count - 1 ? text : text + pad)
            }.joined(separator: "  ")
        }
        out.line(line(columns))
        for row in texts { out.line(line(row)) }
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension Cell {
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
