import Foundation

/// Reads orders from JSON Lines: one JSON object per line.
///
///     {"orderId":"1001","customerId":"alice","timestamp":"2024-03-01T12:00:00Z","amount":"25.00","currency":"USD"}
///
/// `amount` is a decimal string or a JSON number (both parsed exactly by ``AmountParser``; a number's exponent
/// is expanded first); `timestamp` is a string in any shape ``TimestampParser`` accepts; `currency` is optional
/// (``OrderInputOptions/defaultCurrency``). Blank lines are skipped; a trailing CR is ignored. Errors name the
/// line and the key.
///
/// ```swift
/// var reader = try JSONLinesOrderReader(path: "orders.jsonl")
/// while let order = try reader.next() { ... }
/// let (ledger, report) = try JSONLinesOrderReader.loadLedger(path: "orders.jsonl")
/// ```
///
/// - Complexity: O(*n*) in the input size; memory one chunk plus one line.
public struct JSONLinesOrderReader {
    public let options: OrderInputOptions
    /// What has been read so far.
    public private(set) var report = LoadReport()
    /// The line of the order returned last.
    public private(set) var line = 0

    private let source: ByteSource
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEOF = false
    private var physicalLine = 0
    private var lineBytes: [UInt8] = []
    private let decoder = JSONDecoder()

    /// Opens a JSON Lines file.
    ///
    /// ```swift
    /// var reader = try JSONLinesOrderReader(path: "orders.jsonl", options: .init(badRows: .skip))
    /// ```
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - options: Zone, default currency, bad-row policy, line-length limit (``OrderInputOptions/maxFieldBytes``).
    /// - Throws: ``InputError/Code/unreadableFile``.
    /// - Complexity: O(1).
    public init(path: String, options: OrderInputOptions = OrderInputOptions()) throws(InputError) {
        self.options = options
        self.source = try ByteSource(path: path, chunkSize: options.chunkSize)
    }

    /// Reads JSON Lines held in memory.
    ///
    /// ```swift
    /// var reader = JSONLinesOrderReader(bytes: Array(text.utf8))
    /// ```
    ///
    /// - Parameters:
    ///   - bytes: The JSON Lines text.
    ///   - options: As for files.
    /// - Complexity: O(1).
    public init(bytes: [UInt8], options: OrderInputOptions = OrderInputOptions()) {
        self.options = options
        self.source = ByteSource(bytes: bytes, chunkSize: options.chunkSize)
    }

    /// The next order, or `nil` at the end; bad lines are thrown (`.fail`) or counted and skipped (`.skip`).
    ///
    /// ```swift
    /// while let order = try reader.next() { orders.append(order) }
    /// ```
    ///
    /// - Returns: The next valid order.
    /// - Throws: ``InputError``.
    /// - Complexity: O(line length).
    public mutating func next() throws(InputError) -> Order? {
        while true {
            do throws(InputError) {
                guard try nextLine() else { return nil }
                if lineBytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                if options.skipsCommitMarkers, lineBytes.starts(with: JSONLinesOrderReader.commitPrefix) {
                    continue
                }
                report.rowsRead += 1
                line = physicalLine
                let order = try decodeLine()
                report.ordersLoaded += 1
                return order
            } catch {
                if error.code == .unreadableFile || options.badRows == .fail { throw error }
                if error.code == .fieldTooLong { report.rowsRead += 1 }
                line = error.line ?? line
                recordSkipped(error)
            }
        }
    }

    private mutating func recordSkipped(_ error: InputError) {
        report.skippedRows += 1
        if report.errors.count < options.maxReportedErrors { report.errors.append(error) }
    }

    /// Reads the next physical line into `lineBytes` (without its line end).
    private mutating func nextLine() throws(InputError) -> Bool {
        lineBytes.removeAll(keepingCapacity: true)
        var tooLong = false
        var sawAnything = false
        while true {
            if position == buffer.count {
                position = 0
                if !atEOF, try source.read(into: &buffer) {
                } else {
                    atEOF = true
                    buffer.removeAll(keepingCapacity: true)
                    guard sawAnything else { return false }
                    physicalLine += 1
                    break
                }
            }
            sawAnything = true
            var end = position
            while end < buffer.count, buffer[end] != 0x0A { end += 1 }
            if !tooLong {
                if lineBytes.count + (end - position) > options.maxFieldBytes {
                    tooLong = true
                    lineBytes.removeAll()
                } else {
                    lineBytes.append(contentsOf: buffer[position..<end])
                }
            }
            position = end
            if end < buffer.count {
                position += 1
                physicalLine += 1
                break
            }
        }
        if tooLong {
            throw InputError(
                .fieldTooLong, line: physicalLine, "the line is longer than \(options.maxFieldBytes) bytes")
        }
        if lineBytes.last == 0x0D { lineBytes.removeLast() }
        return true
    }

    /// How a commit-marker line of ``JSONLinesOrderStore`` starts.
    static let commitPrefix = Array(#"{"commit":"#.utf8)

    private struct Row: Decodable {
        var orderId: String
        var customerId: String
        var timestamp: String
        var amount: Amount
        var currency: String?
    }

    private enum Amount: Decodable {
        case text(String)
        case number(Decimal)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .number(try container.decode(Decimal.self))
            }
        }
    }

    private func decodeLine() throws(InputError) -> Order {
        let line = physicalLine
        guard String(validating: lineBytes, as: UTF8.self) != nil else {
            throw InputError(.invalidUTF8, line: line, "is not valid UTF-8")
        }
        let row: Row
        do {
            row = try decoder.decode(Row.self, from: Data(lineBytes))
        } catch DecodingError.keyNotFound(let key, _) {
            throw InputError(.missingColumn, line: line, column: key.stringValue, "is missing")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            throw InputError(
                .malformedRow, line: line, column: context.codingPath.first?.stringValue, "has the wrong JSON type")
        } catch {
            let value = String(decoding: lineBytes.prefix(InputError.maxValueLength), as: UTF8.self)
            throw InputError(.malformedRow, line: line, value: value, "is not a JSON object")
        }
        guard !row.orderId.isEmpty else { throw InputError(.emptyField, line: line, column: "orderId", "is empty") }
        guard !row.customerId.isEmpty else {
            throw InputError(.emptyField, line: line, column: "customerId", "is empty")
        }
        let seconds: Timestamp
        do throws(TimestampParseError) {
            seconds = try TimestampParser.parse(row.timestamp, in: options.calendar)
        } catch {
            let what = error.isDateReason ? "date" : error.isTimeReason ? "time" : "timestamp"
            throw InputError(
                error.reason == .empty ? .emptyField : .invalidTimestamp, line: line, column: "timestamp",
                value: row.timestamp, "is not a valid \(what) (\(error.message))")
        }
        var currency = options.defaultCurrency
        if let code = row.currency, !code.isEmpty {
            guard code.utf8.count == 3, code.utf8.allSatisfy({ ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }) else {
                throw InputError(
                    .invalidCurrency, line: line, column: "currency", value: code,
                    "is not a three-letter currency code")
            }
            currency = options.currency(code: code)
        }
        let amountText: String
        switch row.amount {
        case .text(let text): amountText = text
        case .number(let number): amountText = number.description
        }
        do throws(AmountParseError) {
            let minorUnits = try AmountParser.minorUnits(amountText, minorUnitDigits: currency.minorUnitDigits)
            return Order(
                id: row.orderId, customerID: row.customerId, timestamp: seconds, amount: minorUnits,
                currency: currency)
        } catch {
            throw InputError(
                error.reason == .overflow ? .amountOverflow : error.reason == .empty ? .emptyField : .invalidAmount,
                line: line, column: "amount", value: amountText,
                "is not a valid \(currency.code) amount (\(error.message))")
        }
    }

    /// Loads a JSON Lines file into an ``OrderLedger``, with the duplicate rules of
    /// ``CSVOrderReader/loadLedger(path:options:)``.
    ///
    ///     rowsRead = ordersLoaded + duplicatesIgnored + skippedRows
    ///
    /// ```swift
    /// let (ledger, report) = try JSONLinesOrderReader.loadLedger(path: "orders.jsonl")
    /// ```
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - options: Zone, default currency, bad-row policy, limits.
    /// - Returns: The ledger and the report.
    /// - Throws: ``InputError``.
    /// - Complexity: O(*n*).
    public static func loadLedger(
        path: String, options: OrderInputOptions = OrderInputOptions()
    ) throws(InputError) -> (ledger: OrderLedger, report: LoadReport) {
        var reader = try JSONLinesOrderReader(path: path, options: options)
        return try reader.loadLedger()
    }

    /// Loads in-memory JSON Lines into an ``OrderLedger``; see ``loadLedger(path:options:)``.
    ///
    /// ```swift
    /// let (ledger, report) = try JSONLinesOrderReader.loadLedger(bytes: Array(text.utf8))
    /// ```
    ///
    /// - Parameters:
    ///   - bytes: The JSON Lines text.
    ///   - options: As for files.
    /// - Returns: The ledger and the report.
    /// - Throws: ``InputError``.
    /// - Complexity: O(*n*).
    public static func loadLedger(
        bytes: [UInt8], options: OrderInputOptions = OrderInputOptions()
    ) throws(InputError) -> (ledger: OrderLedger, report: LoadReport) {
        var reader = JSONLinesOrderReader(bytes: bytes, options: options)
        return try reader.loadLedger()
    }

    private mutating func loadLedger() throws(InputError) -> (ledger: OrderLedger, report: LoadReport) {
        var builder = LedgerBuilder(orderIDColumn: "orderId", currencyColumn: "currency")
        while let order = try next() {
            do throws(InputError) {
                if try builder.add(order, line: line) == .duplicateIgnored {
                    report.ordersLoaded -= 1
                    report.duplicatesIgnored += 1
                }
            } catch {
                if options.badRows == .fail { throw error }
                report.ordersLoaded -= 1
                recordSkipped(error)
            }
        }
        return (builder.ledger, report)
    }
}

/// Writes orders as JSON Lines that ``JSONLinesOrderReader`` reads back to the same orders.
///
///     {"orderId":"1001","customerId":"alice","timestamp":"2024-03-01T12:00:00Z","amount":"25.00","currency":"USD"}
///
/// Keys in that order; `amount` an exact decimal string; `timestamp` ISO 8601 UTC; strings escaped per RFC 8259
/// (quote, backslash and control characters; other characters written as UTF-8).
///
/// ```swift
/// try JSONLinesOrderWriter.write(ledger.orders, toFile: "orders.jsonl")
/// ```
public enum JSONLinesOrderWriter {
    /// The JSON Lines text of `orders`, one line each, LF-terminated.
    ///
    /// ```swift
    /// JSONLinesOrderWriter.string([order])   // {"orderId":"1001",...}\n
    /// ```
    ///
    /// - Parameter orders: The orders.
    /// - Returns: The text.
    /// - Complexity: O(*n*) in the output size.
    public static func string(_ orders: some Sequence<Order>) -> String {
        var bytes: [UInt8] = []
        for order in orders { appendLine(order, to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `orders` to `path` (created or truncated), streaming.
    ///
    /// ```swift
    /// try JSONLinesOrderWriter.write(orders, toFile: "/tmp/orders.jsonl")
    /// ```
    ///
    /// - Parameters:
    ///   - orders: The orders.
    ///   - path: The destination.
    /// - Throws: ``InputError/Code/unreadableFile`` when the file cannot be created or written.
    /// - Complexity: O(*n*).
    public static func write(_ orders: some Sequence<Order>, toFile path: String) throws(InputError) {
        let sink = try ByteSink(path: path)
        var bytes: [UInt8] = []
        for order in orders {
            appendLine(order, to: &bytes)
            if bytes.count >= 64 * 1024 {
                try sink.append(bytes)
                bytes.removeAll(keepingCapacity: true)
            }
        }
        try sink.append(bytes)
        try sink.close()
    }

    static func appendLine(_ order: Order, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: #"{"orderId":"#.utf8)
        appendString(order.id, to: &bytes)
        bytes.append(contentsOf: #","customerId":"#.utf8)
        appendString(order.customerID, to: &bytes)
        bytes.append(contentsOf: #","timestamp":""#.utf8)
        bytes.append(contentsOf: order.timestamp.description.utf8)
        bytes.append(contentsOf: #"","amount":""#.utf8)
        bytes.append(contentsOf: Money.decimalString(order.amount, digits: order.currency.minorUnitDigits).utf8)
        bytes.append(contentsOf: #"","currency":"#.utf8)
        appendString(order.currency.code, to: &bytes)
        bytes.append(contentsOf: "}\n".utf8)
    }

    static func appendString(_ text: String, to bytes: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        bytes.append(0x22)
        for byte in text.utf8 {
            switch byte {
            case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
            case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
            case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
            case 0..<0x20:
                bytes.append(contentsOf: Array(#"\u00"#.utf8))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(0x22)
    }
}
