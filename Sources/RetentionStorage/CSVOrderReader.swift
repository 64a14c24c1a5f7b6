/// Which CSV columns hold an order's fields.
///
/// Each field lists acceptable header names in priority order; the first one present in the header is used.
/// Header names match case-insensitively, ignoring surrounding spaces.
///
/// ```swift
/// var options = OrderInputOptions(mapping: .shopify, calendar: PeriodCalendar(identifier: "America/Toronto")!)
/// let custom = ColumnMapping(orderID: ["id"], customerID: ["buyer"], timestamp: ["placed"], amount: ["net"])
/// ```
public struct ColumnMapping: Sendable, Hashable, Codable {
    /// Header names for the order id (required).
    public var orderID: [String]
    /// Header names for the customer id (required).
    public var customerID: [String]
    /// Header names for the timestamp (required).
    public var timestamp: [String]
    /// Header names for the amount (required).
    public var amount: [String]
    /// Header names for the currency (optional: when none is present, every row is in the default currency).
    public var currency: [String]
    /// Whether a row with an empty amount that repeats the previous row's order id is a further line item of
    /// that order (Shopify exports one row per line item, order-level fields only on the first). Such rows are
    /// skipped and counted in ``LoadReport/lineItemRowsCollapsed``.
    public var collapsesLineItems: Bool

    public init(
        orderID: [String], customerID: [String], timestamp: [String], amount: [String], currency: [String] = [],
        collapsesLineItems: Bool = false
    ) {
        self.orderID = orderID
        self.customerID = customerID
        self.timestamp = timestamp
        self.amount = amount
        self.currency = currency
        self.collapsesLineItems = collapsesLineItems
    }

    /// The library's own format: `order_id,customer_id,timestamp,amount[,currency]`, as ``CSVOrderWriter`` writes.
    public static let standard = ColumnMapping(
        orderID: ["order_id"], customerID: ["customer_id"], timestamp: ["timestamp"], amount: ["amount"],
        currency: ["currency"])

    /// Shopify's Orders export: `Name` (`#1001`), `Email`, `Created at` (`2024-01-15 10:23:45 -0500`), `Total`
    /// (the order total, with shipping and taxes), `Currency`. Line-item rows after an order's first row leave
    /// `Total` empty and are collapsed; rows repeating an order with identical content count as duplicates.
    public static let shopify = ColumnMapping(
        orderID: ["Name"], customerID: ["Email"], timestamp: ["Created at"], amount: ["Total"],
        currency: ["Currency"], collapsesLineItems: true)

    /// WooCommerce order exports (the common export plugins): order id from `Order ID`, else `Order Number`;
    /// customer from `Billing Email` (guests have no user id), else `Customer Email`, else `Customer User`; time
    /// from `Order Date`; amount from `Order Total`, else `Order Total Amount`; currency from `Order Currency`,
    /// else `Currency`. Plugins that export one row per line item repeat the order on each row: identical rows
    /// count as duplicates.
    public static let wooCommerce = ColumnMapping(
        orderID: ["Order ID", "Order Number"], customerID: ["Billing Email", "Customer Email", "Customer User"],
        timestamp: ["Order Date"], amount: ["Order Total", "Order Total Amount"],
        currency: ["Order Currency", "Currency"])
}

/// What to do with a row that cannot be read.
public enum BadRowPolicy: String, Sendable, Hashable, Codable {
    /// Throw the first row error (the default).
    case fail
    /// Skip the row, count it and keep the first errors in the ``LoadReport``; every valid row is still loaded.
    case skip
}

/// Options for reading orders from CSV or JSON Lines.
public struct OrderInputOptions: Sendable {
    /// CSV only: which columns hold which field. Default ``ColumnMapping/standard``.
    public var mapping: ColumnMapping
    /// The zone for timestamps without a UTC offset and for plain dates. Default UTC.
    public var calendar: PeriodCalendar
    /// The currency of rows without a currency column or with an empty currency field. Default USD.
    public var defaultCurrency: Currency
    /// Fail on the first bad row, or skip bad rows. Default ``BadRowPolicy/fail``.
    public var badRows: BadRowPolicy
    /// CSV only: the delimiter. Default `,`.
    public var delimiter: Unicode.Scalar
    /// The longest field (CSV) or line (JSON Lines) accepted, in bytes. Default 1 MiB.
    public var maxFieldBytes: Int
    /// Bytes read at a time. Default 1 MiB.
    public var chunkSize: Int
    /// How many errors a ``LoadReport`` keeps. Default 10.
    public var maxReportedErrors: Int
    /// Whether to skip the commit-marker lines that ``CSVFileOrderStore`` and ``JSONLinesOrderStore`` write
    /// after each batch. CSV: every line starting with an unquoted `#` is a comment (so a field starting with
    /// `#` must be quoted, as ``CSVOrderWriter`` and the store do). JSON Lines: every line starting with
    /// `{"commit":`. Default `false`: such lines are bad rows.
    public var skipsCommitMarkers: Bool
    /// The exact currency (with its minor digits) of rows whose code is this currency's code; `nil` uses the
    /// ISO 4217 digits. The file stores record non-ISO digits in their commit markers.
    var exactCurrency: Currency?

    public init(
        mapping: ColumnMapping = .standard, calendar: PeriodCalendar = .utc, defaultCurrency: Currency = .usd,
        badRows: BadRowPolicy = .fail, delimiter: Unicode.Scalar = ",", maxFieldBytes: Int = 1 << 20,
        chunkSize: Int = 1 << 20, maxReportedErrors: Int = 10, skipsCommitMarkers: Bool = false
    ) {
        self.mapping = mapping
        self.calendar = calendar
        self.defaultCurrency = defaultCurrency
        self.badRows = badRows
        self.delimiter = delimiter
        self.maxFieldBytes = maxFieldBytes
        self.chunkSize = chunkSize
        self.maxReportedErrors = maxReportedErrors
        self.skipsCommitMarkers = skipsCommitMarkers
    }

    /// The currency of a row's code: ``exactCurrency`` when the codes match, the ISO digits otherwise.
    func currency(code: String) -> Currency {
        let currency = Currency(code)
        if let exactCurrency, exactCurrency.code == currency.code { return exactCurrency }
        return currency
    }
}

/// What a load did: rows read and where each went.
///
///     rowsRead = ordersLoaded + duplicatesIgnored + lineItemRowsCollapsed + skippedRows
public struct LoadReport: Sendable, Hashable, Codable {
    /// Data rows read (header and blank lines excluded).
    public var rowsRead = 0
    /// Orders loaded (into the ledger, or returned by a streaming reader).
    public var ordersLoaded = 0
    /// Rows repeating an already loaded order id with identical content (ledger loads only).
    public var duplicatesIgnored = 0
    /// Shopify line-item rows folded into their order (``ColumnMapping/collapsesLineItems``).
    public var lineItemRowsCollapsed = 0
    /// Bad rows skipped under ``BadRowPolicy/skip``.
    public var skippedRows = 0
    /// The first skipped rows' errors (at most ``OrderInputOptions/maxReportedErrors``).
    public var errors: [InputError] = []

    public init() {}
}

/// Reads orders from CSV, one at a time, with a ``ColumnMapping``.
///
/// ```swift
/// var reader = try CSVOrderReader(path: "orders_export.csv", options: .init(mapping: .shopify))
/// while let order = try reader.next() { ... }
/// reader.report.rowsRead
///
/// let (ledger, report) = try CSVOrderReader.loadLedger(path: "orders.csv")
/// ```
///
/// Per row: the order id and customer id are taken verbatim (not trimmed, not case-folded) and must be non-empty
/// UTF-8; timestamp, amount and currency are trimmed of spaces and tabs, then parsed with ``TimestampParser``
/// (in ``OrderInputOptions/calendar``), the currency's code (three ASCII letters, upper-cased; empty means
/// ``OrderInputOptions/defaultCurrency``) and ``AmountParser`` with that currency's minor digits. A negative
/// amount is a refund and is accepted. The streaming reader does not detect duplicate order ids;
/// ``loadLedger(path:options:)`` does.
///
/// - Complexity: O(*n*) in the input size; memory bounded by the chunk size and one record.
public struct CSVOrderReader {
    public let options: OrderInputOptions
    /// What has been read so far.
    public private(set) var report = LoadReport()
    /// The header names of the columns used, for messages: order id, customer id, timestamp, amount, currency.
    public let columnNames: (orderID: String, customerID: String, timestamp: String, amount: String, currency: String?)

    private var csv: CSVReader
    let columns: (orderID: Int, customerID: Int, timestamp: Int, amount: Int, currency: Int?)
    /// Number of header columns.
    var headerCount: Int { csv.header.count }
    private var previousOrderID: String?
    private var lastCurrency: Currency?
    /// The line of the record returned last.
    public private(set) var line = 0

    /// Opens a CSV file of orders and resolves the mapping against its header.
    ///
    /// ```swift
    /// var reader = try CSVOrderReader(path: "orders.csv", options: .init(calendar: berlin))
    /// ```
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - options: Mapping, zone, default currency, bad-row policy, limits.
    /// - Throws: ``InputError``: file-level problems (`unreadableFile`, `emptyFile`, `invalidUTF8` header,
    ///   `missingColumn`, `duplicateColumn`) regardless of the policy.
    /// - Complexity: O(header length).
    public init(path: String, options: OrderInputOptions = OrderInputOptions()) throws(InputError) {
        let csv = try CSVReader(path: path, options: CSVOrderReader.csvOptions(options))
        try self.init(csv: csv, options: options)
    }

    /// Reads CSV orders held in memory; see ``init(path:options:)``.
    ///
    /// ```swift
    /// var reader = try CSVOrderReader(bytes: Array(text.utf8))
    /// ```
    ///
    /// - Parameters:
    ///   - bytes: The CSV.
    ///   - options: As for files.
    /// - Throws: ``InputError``.
    /// - Complexity: O(header length).
    public init(bytes: [UInt8], options: OrderInputOptions = OrderInputOptions()) throws(InputError) {
        let csv = try CSVReader(bytes: bytes, options: CSVOrderReader.csvOptions(options))
        try self.init(csv: csv, options: options)
    }

    private static func csvOptions(_ options: OrderInputOptions) -> CSVReader.Options {
        CSVReader.Options(
            delimiter: options.delimiter, maxFieldBytes: options.maxFieldBytes, chunkSize: options.chunkSize,
            skipsCommentLines: options.skipsCommitMarkers)
    }

    private init(csv: CSVReader, options: OrderInputOptions) throws(InputError) {
        self.csv = csv
        self.options = options
        let normalized = csv.header.map { CSVOrderReader.normalize($0) }
        func resolve(_ candidates: [String], required: Bool) throws(InputError) -> Int? {
            for candidate in candidates {
                let key = CSVOrderReader.normalize(candidate)
                let hits = normalized.indices.filter { normalized[$0] == key }
                if hits.count > 1 {
                    throw InputError(
                        .duplicateColumn, line: 1, column: csv.header[hits[0]],
                        "appears \(hits.count) times in the header (columns "
                            + hits.map { String($0 + 1) }.joined(separator: ", ") + ")")
                }
                if let hit = hits.first { return hit }
            }
            guard required else { return nil }
            var message = "no column named " + candidates.map { "'\($0)'" }.joined(separator: " or ")
            message += " in the header"
            if csv.header.count == 1, let only = csv.header.first,
                let other = [";", "\t", "|"].first(where: { only.contains($0) })
            {
                message += " (its only column is '\(only.prefix(60))': is the delimiter "
                    + (other == "\t" ? "a tab" : "'\(other)'") + " rather than '\(options.delimiter)'?)"
            } else {
                message += " (found: " + csv.header.prefix(12).joined(separator: ", ") + ")"
            }
            throw InputError(.missingColumn, line: 1, column: candidates.first, message)
        }
        let mapping = options.mapping
        let orderID = try resolve(mapping.orderID, required: true)!
        let customerID = try resolve(mapping.customerID, required: true)!
        let timestamp = try resolve(mapping.timestamp, required: true)!
        let amount = try resolve(mapping.amount, required: true)!
        let currency = try resolve(mapping.currency, required: false)
        self.columns = (orderID, customerID, timestamp, amount, currency)
        self.columnNames = (
            csv.header[orderID], csv.header[customerID], csv.header[timestamp], csv.header[amount],
            currency.map { csv.header[$0] }
        )
    }

    private static func normalize(_ name: String) -> String {
        name.trimmingSpaces().lowercased()
    }

    /// The next order, or `nil` at the end of the file.
    ///
    /// Under ``BadRowPolicy/skip`` bad rows are counted in ``report`` and passed over; under
    /// ``BadRowPolicy/fail`` the first one is thrown.
    ///
    /// ```swift
    /// while let order = try reader.next() { store.append(order) }
    /// ```
    ///
    /// - Returns: The next valid order.
    /// - Throws: ``InputError``: the first bad row (policy `.fail`), or an I/O error (any policy).
    /// - Complexity: O(row length).
    public mutating func next() throws(InputError) -> Order? {
        while true {
            let order: Order?
            var counted = false
            do throws(InputError) {
                guard try csv.nextRecordInPlace() else { return nil }
                report.rowsRead += 1
                counted = true
                line = csv.recordLine
                order = try mapRecord()
            } catch {
                if error.code == .unreadableFile || options.badRows == .fail { throw error }
                // A record the tokenizer rejected has not been counted yet.
                if !counted { report.rowsRead += 1 }
                line = error.line ?? line
                recordSkipped(error)
                continue
            }
            if let order {
                report.ordersLoaded += 1
                return order
            }
            report.lineItemRowsCollapsed += 1
        }
    }

    /// Counts a row the caller (the ledger loader) rejected after ``next()`` returned it.
    mutating func recordSkipped(_ error: InputError) {
        report.skippedRows += 1
        if report.errors.count < options.maxReportedErrors { report.errors.append(error) }
    }

    /// Moves an order returned by ``next()`` from "loaded" to "duplicate" or "skipped".
    mutating func unloadLast(asDuplicate: Bool, error: InputError? = nil) {
        report.ordersLoaded -= 1
        if asDuplicate { report.duplicatesIgnored += 1 } else if let error { recordSkipped(error) }
    }

    /// Maps the current record to an order; `nil` for a collapsed line-item row.
    private mutating func mapRecord() throws(InputError) -> Order? {
        let line = csv.recordLine
        let orderID = try requiredString(columns.orderID, name: columnNames.orderID, line: line)
        if options.mapping.collapsesLineItems, orderID == previousOrderID,
            csv.withField(columns.amount, { trimmed($0).isEmpty })
        {
            return nil
        }
        previousOrderID = orderID
        let customerID = try requiredString(columns.customerID, name: columnNames.customerID, line: line)
        let calendar = options.calendar
        let timestamp: Result<Int64, TimestampParseError>? = csv.withField(columns.timestamp) { raw in
            let bytes = trimmed(raw)
            if bytes.isEmpty { return nil }
            do throws(TimestampParseError) { return .success(try TimestampParser.parse(bytes, in: calendar)) } catch {
                return .failure(error)
            }
        }
        guard let timestamp else {
            throw InputError(.emptyField, line: line, column: columnNames.timestamp, "the timestamp is empty")
        }
        let seconds: Int64
        switch timestamp {
        case .success(let value): seconds = value
        case .failure(let failure):
            let what = failure.isDateReason ? "date" : failure.isTimeReason ? "time" : "timestamp"
            throw InputError(
                .invalidTimestamp, line: line, column: columnNames.timestamp,
                value: csv.fieldString(columns.timestamp), "is not a valid \(what) (\(failure.message))")
        }
        let currency = try currencyOfRecord(line: line)
        let digits = currency.minorUnitDigits
        let amount: Result<Int64, AmountParseError>? = csv.withField(columns.amount) { raw in
            let bytes = trimmed(raw)
            if bytes.isEmpty { return nil }
            do throws(AmountParseError) {
                return .success(try AmountParser.minorUnits(bytes, minorUnitDigits: digits))
            } catch { return .failure(error) }
        }
        guard let amount else {
            throw InputError(.emptyField, line: line, column: columnNames.amount, "the amount is empty")
        }
        switch amount {
        case .success(let minorUnits):
            return Order(
                id: orderID, customerID: customerID, timestamp: Timestamp(secondsSince1970: seconds),
                amount: minorUnits, currency: currency)
        case .failure(let failure):
            throw InputError(
                failure.reason == .overflow ? .amountOverflow : .invalidAmount, line: line,
                column: columnNames.amount, value: csv.fieldString(columns.amount),
                "is not a valid \(currency.code) amount (\(failure.message))")
        }
    }

    private func requiredString(_ index: Int, name: String, line: Int) throws(InputError) -> String {
        guard let text = csv.fieldString(index) else {
            throw InputError(.invalidUTF8, line: line, column: name, "is not valid UTF-8")
        }
        guard !text.isEmpty else { throw InputError(.emptyField, line: line, column: name, "is empty") }
        return text
    }

    private mutating func currencyOfRecord(line: Int) throws(InputError) -> Currency {
        guard let index = columns.currency else { return options.defaultCurrency }
        let last = lastCurrency
        let fallback = options.defaultCurrency
        let column = columnNames.currency
        let options = self.options
        let parsed: Result<Currency, InputError> = csv.withField(index) { raw in
            let bytes = trimmed(raw)
            if bytes.isEmpty { return .success(fallback) }
            if let last, last.code.utf8.elementsEqual(bytes.lazy.map { $0 & 0xDF }) { return .success(last) }
            guard bytes.count == 3, bytes.allSatisfy({ ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }) else {
                return .failure(
                    InputError(
                        .invalidCurrency, line: line, column: column,
                        value: String(decoding: bytes, as: UTF8.self), "is not a three-letter currency code"))
            }
            return .success(options.currency(code: String(decoding: bytes, as: UTF8.self)))
        }
        let currency = try parsed.get()
        lastCurrency = currency
        return currency
    }

    /// Loads a CSV file into an ``OrderLedger``, detecting duplicate order ids.
    ///
    ///     rowsRead = ordersLoaded + duplicatesIgnored + lineItemRowsCollapsed + skippedRows
    ///
    /// ```swift
    /// let (ledger, report) = try CSVOrderReader.loadLedger(path: "orders.csv", options: .init(badRows: .skip))
    /// report.skippedRows        // 2
    /// report.errors.first       // line 7, column amount: '1,234.00' is not a valid USD amount (...)
    /// ```
    ///
    /// An order id seen before with identical content is ignored and counted in ``LoadReport/duplicatesIgnored``;
    /// with different content it is ``InputError/Code/conflictingDuplicate`` naming both lines (under `.skip`,
    /// the first row wins and the later one is skipped). A currency different from the first order's is
    /// ``InputError/Code/mixedCurrency``.
    ///
    /// - Parameters:
    ///   - path: The CSV file.
    ///   - options: Mapping, zone, default currency, bad-row policy, limits.
    /// - Returns: The ledger and the report.
    /// - Throws: ``InputError``: file-level problems always; the first bad row under `.fail`.
    /// - Complexity: O(*n*) time; memory O(orders) for the ledger plus one chunk.
    public static func loadLedger(
        path: String, options: OrderInputOptions = OrderInputOptions()
    ) throws(InputError) -> (ledger: OrderLedger, report: LoadReport) {
        if let (ledger, report) = try FastCSVLoader.load(path: path, options: options) { return (ledger, report) }
        return try loadLedgerRecordByRecord(path: path, options: options)
    }

    /// The reference loader: every row through ``next()`` and ``OrderLedger/append(_:)``. The fast path must
    /// agree with it exactly (ledger and report), and hands over to it for input it does not handle.
    static func loadLedgerRecordByRecord(
        path: String, options: OrderInputOptions
    ) throws(InputError) -> (ledger: OrderLedger, report: LoadReport) {
        var reader = try CSVOrderReader(path: path, options: options)
        return try reader.loadLedger()
    }

    /// Loads in-memory CSV into an ``OrderLedger``; see ``loadLedger(path:options:)``.
    ///
    /// ```swift
    /// let (ledger, _) = try CSVOrderReader.loadLedger(bytes: Array(csvText.utf8))
    /// ```
    ///
    /// - Parameters:
    ///   - bytes: The CSV.
    ///   - options: As for files.
    /// - Returns: The ledger and the report.
    /// - Throws: ``InputError``.
    /// - Complexity: O(*n*).
    public static func loadLedger(
        bytes: [UInt8], options: OrderInputOptions = OrderInputOptions()
    ) throws(InputError) -> (ledger: OrderLedger, report: LoadReport) {
        if let (ledger, report) = try FastCSVLoader.load(bytes: bytes, options: options) { return (ledger, report) }
        return try loadLedgerRecordByRecord(bytes: bytes, options: options)
    }

    /// The reference loader for in-memory CSV; see ``loadLedgerRecordByRecord(path:options:)``.
    static func loadLedgerRecordByRecord(
        bytes: [UInt8], options: OrderInputOptions
    ) throws(InputError) -> (ledger: OrderLedger, report: LoadReport) {
        var reader = try CSVOrderReader(bytes: bytes, options: options)
        return try reader.loadLedger()
    }

    private mutating func loadLedger() throws(InputError) -> (ledger: OrderLedger, report: LoadReport) {
        var builder = LedgerBuilder(orderIDColumn: columnNames.orderID, currencyColumn: columnNames.currency)
        while let order = try next() {
            do throws(InputError) {
                if try builder.add(order, line: line) == .duplicateIgnored { unloadLast(asDuplicate: true) }
            } catch {
                if options.badRows == .fail { throw error }
                unloadLast(asDuplicate: false, error: error)
            }
        }
        return (builder.ledger, report)
    }
}

/// An ``OrderLedger`` being filled from a file, remembering each order id's line to name both lines of a
/// conflicting duplicate.
struct LedgerBuilder {
    var ledger = OrderLedger()
    let orderIDColumn: String
    let currencyColumn: String?
    private var lineOfOrder: [String: Int32] = [:]
    private var currencyLine = 0

    init(orderIDColumn: String, currencyColumn: String?) {
        self.orderIDColumn = orderIDColumn
        self.currencyColumn = currencyColumn
    }

    mutating func add(_ order: Order, line: Int) throws(InputError) -> OrderLedger.AppendOutcome {
        do {
            let outcome = try ledger.append(order)
            if outcome == .appended {
                lineOfOrder[order.id] = Int32(clamping: line)
                if currencyLine == 0 { currencyLine = line }
            }
            return outcome
        } catch let error as LedgerError {
            switch error.code {
            case .conflictingDuplicate:
                let first = lineOfOrder[order.id].map { "line \($0)" } ?? "an earlier line"
                throw InputError(
                    .conflictingDuplicate, line: line, column: orderIDColumn, value: order.id,
                    "was already loaded from \(first) with different content")
            case .mixedCurrency:
                throw InputError(
                    .mixedCurrency, line: line, column: currencyColumn ?? "currency", value: order.currency.code,
                    "differs from the ledger's currency \(ledger.currency?.code ?? "?") (first order on line "
                        + "\(currencyLine)); load one currency per ledger")
            default:
                throw InputError(
                    .amountOverflow, line: line, column: nil, value: order.id,
                    "would make the ledger's total amount overflow Int64 minor units")
            }
        } catch {
            throw InputError(.malformedRow, line: line, "\(error)")
        }
    }
}

/// Trims ASCII spaces and tabs from both ends.
@inline(__always)
func trimmed(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
    var start = 0
    var end = bytes.count
    while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
    while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
    return UnsafeBufferPointer(rebasing: bytes[start..<end])
}

extension String {
    func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}

/// The orders of a CSV source as an `AsyncSequence` of batches, for streaming callers.
///
/// ```swift
/// for try await batch in CSVOrderReader.batches(path: "orders.csv", size: 10_000) {
///     try await store.append(batch)
/// }
/// ```
///
/// The file is opened when iteration starts and read synchronously in chunks on the iterating task. Duplicate
/// order ids are not detected here (the consumer, a ledger or a store, decides); bad rows follow
/// ``OrderInputOptions/badRows``.
public struct CSVOrderBatches: AsyncSequence, Sendable {
    public typealias Element = [Order]

    fileprivate enum Input: Sendable {
        case path(String)
        case bytes([UInt8])
    }

    private let input: Input
    private let size: Int
    private let options: OrderInputOptions

    init(path: String, size: Int, options: OrderInputOptions) {
        precondition(size >= 1, "batch size must be at least 1")
        self.input = .path(path)
        self.size = size
        self.options = options
    }

    init(bytes: [UInt8], size: Int, options: OrderInputOptions) {
        precondition(size >= 1, "batch size must be at least 1")
        self.input = .bytes(bytes)
        self.size = size
        self.options = options
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(input: input, size: size, options: options)
    }

    /// Yields arrays of up to `size` orders; the last may be shorter; never an empty array.
    public struct AsyncIterator: AsyncIteratorProtocol {
        private let input: Input
        private let size: Int
        private let options: OrderInputOptions
        private var reader: CSVOrderReader?
        private var finished = false

        fileprivate init(input: Input, size: Int, options: OrderInputOptions) {
            self.input = input
            self.size = size
            self.options = options
        }

        /// The report of what has been read so far (`nil` before the first batch).
        public var report: LoadReport? { reader?.report }

        public mutating func next() async throws -> [Order]? {
            guard !finished else { return nil }
            if reader == nil {
                switch input {
                case .path(let path): reader = try CSVOrderReader(path: path, options: options)
                case .bytes(let bytes): reader = try CSVOrderReader(bytes: bytes, options: options)
                }
            }
            var batch: [Order] = []
            batch.reserveCapacity(size)
            while batch.count < size, let order = try reader!.next() { batch.append(order) }
            if batch.count < size { finished = true }
            return batch.isEmpty ? nil : batch
        }
    }
}

extension CSVOrderReader {
    /// The orders of a CSV file in batches of `size`; see ``CSVOrderBatches``.
    ///
    /// ```swift
    /// for try await batch in CSVOrderReader.batches(path: "orders.csv") { total += batch.count }
    /// ```
    ///
    /// - Parameters:
    ///   - path: The CSV file.
    ///   - size: Orders per batch (at least 1). Default 8192.
    ///   - options: Mapping, zone, default currency, bad-row policy, limits.
    /// - Returns: An async sequence of order arrays.
    /// - Complexity: O(*n*) over the iteration; memory one chunk plus one batch.
    public static func batches(
        path: String, size: Int = 8192, options: OrderInputOptions = OrderInputOptions()
    ) -> CSVOrderBatches {
        CSVOrderBatches(path: path, size: size, options: options)
    }

    /// The orders of in-memory CSV in batches of `size`; see ``batches(path:size:options:)``.
    ///
    /// ```swift
    /// for try await batch in CSVOrderReader.batches(bytes: data, size: 2) { print(batch.count) }
    /// ```
    ///
    /// - Parameters:
    ///   - bytes: The CSV.
    ///   - size: Orders per batch (at least 1).
    ///   - options: As for files.
    /// - Returns: An async sequence of order arrays.
    /// - Complexity: O(*n*) over the iteration.
    public static func batches(
        bytes: [UInt8], size: Int = 8192, options: OrderInputOptions = OrderInputOptions()
    ) -> CSVOrderBatches {
        CSVOrderBatches(bytes: bytes, size: size, options: options)
    }
}
