/// A problem in an order file (CSV or JSON Lines), with where it is and what was found.
///
/// ```swift
/// do { _ = try CSVOrderReader.loadLedger(path: "orders.csv") } catch {
///     print(error)   // line 4, column timestamp: '2024-02-30T00:00:00Z' is not a valid date (day 30 does not
///                    // exist in February 2024)
///     error.code     // .invalidTimestamp
/// }
/// ```
///
/// The catalogue of codes, with what triggers each one and what the loaders do about it, is in
/// `Documentation/CSVInput.md`.
public struct InputError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// A stable error code; its `rawValue` never changes between releases.
    public struct Code: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The file is empty (or holds only a byte-order mark / blank lines): there is no header row.
        public static let emptyFile = Code(rawValue: "emptyFile")
        /// The file could not be opened or read.
        public static let unreadableFile = Code(rawValue: "unreadableFile")
        /// A row has the wrong number of fields, a stray quote, characters after a closing quote, or (JSON
        /// Lines) is not a JSON object of the expected shape.
        public static let malformedRow = Code(rawValue: "malformedRow")
        /// A quoted field is still open at the end of the file.
        public static let unbalancedQuote = Code(rawValue: "unbalancedQuote")
        /// A required column is absent from the header (or a required key from a JSON object).
        public static let missingColumn = Code(rawValue: "missingColumn")
        /// A column the mapping uses appears twice in the header.
        public static let duplicateColumn = Code(rawValue: "duplicateColumn")
        /// The timestamp is not a valid date or time, or not in an accepted shape.
        public static let invalidTimestamp = Code(rawValue: "invalidTimestamp")
        /// The amount is not a plain decimal with at most the currency's decimals.
        public static let invalidAmount = Code(rawValue: "invalidAmount")
        /// The amount does not fit in `Int64` minor units, or the ledger's totals would overflow.
        public static let amountOverflow = Code(rawValue: "amountOverflow")
        /// The currency is not a three-letter code.
        public static let invalidCurrency = Code(rawValue: "invalidCurrency")
        /// A required field (order id, customer id, timestamp, amount) is empty.
        public static let emptyField = Code(rawValue: "emptyField")
        /// A field (or JSON line) is longer than the configured limit.
        public static let fieldTooLong = Code(rawValue: "fieldTooLong")
        /// A field (or the header) is not valid UTF-8.
        public static let invalidUTF8 = Code(rawValue: "invalidUTF8")
        /// An order id already loaded from another line with different content.
        public static let conflictingDuplicate = Code(rawValue: "conflictingDuplicate")
        /// An order's currency differs from the ledger's (a ledger holds one currency).
        public static let mixedCurrency = Code(rawValue: "mixedCurrency")
    }

    /// What went wrong.
    public var code: Code
    /// The 1-based physical line on which the offending record starts; `nil` for file-level problems.
    public var line: Int?
    /// The column (header name, or JSON key) of the offending field, when one field is at fault.
    public var column: String?
    /// The offending value, truncated to ``maxValueLength`` characters for display.
    public var value: String?
    /// What is wrong with it, e.g. `is not a valid date (day 30 does not exist in February 2024)`.
    public var message: String

    /// Values longer than this many characters are truncated (with `...`) in ``value``.
    public static let maxValueLength = 60

    public init(_ code: Code, line: Int?, column: String? = nil, value: String? = nil, _ message: String) {
        self.code = code
        self.line = line
        self.column = column
        if let value, value.count > InputError.maxValueLength {
            self.value = String(value.prefix(InputError.maxValueLength)) + "..."
        } else {
            self.value = value
        }
        self.message = message
    }

    /// `line 4, column timestamp: '2024-02-30T00:00:00Z' is not a valid date (day 30 does not exist in
    /// February 2024)`.
    public var description: String {
        var location: [String] = []
        if let line { location.append("line \(line)") }
        if let column { location.append("column \(column)") }
        let prefix = location.isEmpty ? "" : location.joined(separator: ", ") + ": "
        if let value { return prefix + "'" + value + "' " + message }
        return prefix + message
    }
}
