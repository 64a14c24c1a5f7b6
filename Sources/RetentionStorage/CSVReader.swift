/// A streaming RFC 4180 CSV reader over a file or in-memory bytes, with bounded memory.
///
/// ```swift
/// var reader = try CSVReader(path: "orders.csv")
/// reader.header                          // ["order_id", "customer_id", "timestamp", "amount"]
/// while let record = try reader.next() {
///     print(record.line, record.string(at: 0) ?? "?")
/// }
/// ```
///
/// What it accepts: a header row (required), quoted fields with `""` as an escaped quote, delimiters and line
/// breaks inside quoted fields, LF, CRLF or CR line ends (mixed is fine), a UTF-8 byte-order mark, a final line
/// with or without a line end. Blank lines (a record of one empty field) are skipped. What it rejects, as an
/// ``InputError``: no header (``InputError/Code/emptyFile``), a quote inside an unquoted field or characters after a
/// closing quote (``InputError/Code/malformedRow``), a quoted field open at the end of input
/// (``InputError/Code/unbalancedQuote``), a field longer than ``Options/maxFieldBytes``
/// (``InputError/Code/fieldTooLong``), a row with a different number of fields than the header
/// (``InputError/Code/malformedRow``), a header that is not UTF-8 (``InputError/Code/invalidUTF8``). After a row
/// error the reader is positioned at the next record, so a caller may skip the row and go on.
///
/// Memory: one chunk (``Options/chunkSize``) plus the current record, which is bounded by the header's column
/// count times ``Options/maxFieldBytes``. The reader owns an open file; do not use two copies of one reader.
///
/// - Complexity: O(*n*) in the input size.
public struct CSVReader {
    /// Reader settings.
    public struct Options: Sendable, Hashable {
        /// The field delimiter byte (ASCII). Default `,`.
        public var delimiter: UInt8
        /// The longest field accepted, in bytes. Default 1 MiB.
        public var maxFieldBytes: Int
        /// Bytes read from the file at a time. Default 1 MiB. Tiny values are for tests.
        public var chunkSize: Int
        /// Whether a line starting with an unquoted `#` is a comment, skipped up to its line end (before or
        /// after the header). Default `false`: `#1001` is then an ordinary field. A field that starts with `#`
        /// must be quoted (`"#1001"`) in a file read with comments on; ``CSVOrderWriter`` always quotes it.
        public var skipsCommentLines: Bool

        /// - Parameters:
        ///   - delimiter: An ASCII delimiter other than `"`, CR or LF.
        ///   - maxFieldBytes: The field-size limit (at least 1).
        ///   - chunkSize: The read size (at least 1).
        ///   - skipsCommentLines: Skip lines starting with an unquoted `#`.
        public init(
            delimiter: Unicode.Scalar = ",", maxFieldBytes: Int = 1 << 20, chunkSize: Int = 1 << 20,
            skipsCommentLines: Bool = false
        ) {
            precondition(delimiter.isASCII && delimiter != "\"" && delimiter != "\n" && delimiter != "\r",
                "the delimiter must be an ASCII character other than a quote or a line break")
            precondition(maxFieldBytes >= 1 && chunkSize >= 1, "maxFieldBytes and chunkSize must be positive")
            self.delimiter = UInt8(delimiter.value)
            self.maxFieldBytes = maxFieldBytes
            self.chunkSize = chunkSize
            self.skipsCommentLines = skipsCommentLines
        }
    }

    /// The most columns a header may have.
    public static let maxColumns = 10_000

    /// The header row's fields.
    public private(set) var header: [String] = []
    public let options: Options

    private let source: ByteSource
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEOF = false
    /// The physical line (1-based) at `position`.
    private var line = 1
    /// A CR ended the previous record; a following LF belongs to it.
    private var skipLF = false

    // The current record: unescaped field bytes back to back, and each field's end offset.
    var fieldBytes: [UInt8] = []
    var fieldEnds: [Int] = []
    /// The line on which the current record starts.
    private(set) var recordLine = 1
    private var fieldStart = 0
    private var pending: InputError?

    /// Opens `path` and reads its header.
    ///
    /// ```swift
    /// var reader = try CSVReader(path: "orders.csv", options: .init(delimiter: ";"))
    /// ```
    ///
    /// - Parameters:
    ///   - path: A file path.
    ///   - options: Delimiter, field-size limit and chunk size.
    /// - Throws: ``InputError`` (`unreadableFile`, `emptyFile`, `invalidUTF8`, `malformedRow`, ...).
    /// - Complexity: O(header length).
    public init(path: String, options: Options = Options()) throws(InputError) {
        self.options = options
        self.source = try ByteSource(path: path, chunkSize: options.chunkSize)
        try readHeader()
    }

    /// Reads CSV held in memory.
    ///
    /// ```swift
    /// var reader = try CSVReader(bytes: Array("a,b\n1,2\n".utf8))
    /// ```
    ///
    /// - Parameters:
    ///   - bytes: The CSV bytes.
    ///   - options: Delimiter, field-size limit and chunk size (the chunk size still applies).
    /// - Throws: ``InputError``.
    /// - Complexity: O(header length).
    public init(bytes: [UInt8], options: Options = Options()) throws(InputError) {
        self.options = options
        self.source = ByteSource(bytes: bytes, chunkSize: options.chunkSize)
        try readHeader()
    }

    /// The next data record, or `nil` at the end of the input.
    ///
    /// ```swift
    /// while let record = try reader.next() { total += record.count }
    /// ```
    ///
    /// - Returns: The record, with the line it starts on.
    /// - Throws: ``InputError`` for a malformed record; the reader then stands at the following record.
    /// - Complexity: O(record length).
    public mutating func next() throws(InputError) -> CSVRecord? {
        guard try nextRecordInPlace() else { return nil }
        return CSVRecord(line: recordLine, bytes: fieldBytes, ends: fieldEnds)
    }

    /// The name of column `index` for messages.
    func columnName(_ index: Int) -> String? {
        guard !header.isEmpty else { return nil }
        return index < header.count ? header[index] : "#\(index + 1)"
    }

    /// Reads the next non-blank record into `fieldBytes` / `fieldEnds`, checking its field count.
    mutating func nextRecordInPlace() throws(InputError) -> Bool {
        while true {
            guard try nextRawRecord(maxFields: header.count) else { return false }
            if fieldEnds.count == 1 && fieldEnds[0] == 0 { continue }  // blank line
            if fieldEnds.count != header.count {
                throw InputError(
                    .malformedRow, line: recordLine,
                    "has \(fieldEnds.count) field\(fieldEnds.count == 1 ? "" : "s") but the header has \(header.count)")
            }
            return true
        }
    }

    private mutating func readHeader() throws(InputError) {
        // Gather at least three bytes to look for a byte-order mark, whatever the chunk size.
        var first: [UInt8] = []
        var chunk: [UInt8] = []
        while first.count < 3, try source.read(into: &chunk) { first.append(contentsOf: chunk) }
        buffer = first
        if buffer.count >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { position = 3 }
        while true {
            guard try nextRawRecord(maxFields: CSVReader.maxColumns) else {
                throw InputError(.emptyFile, line: nil, "the file has no header row")
            }
            if fieldEnds.count == 1 && fieldEnds[0] == 0 { continue }
            break
        }
        var names: [String] = []
        names.reserveCapacity(fieldEnds.count)
        for index in 0..<fieldEnds.count {
            guard let name = fieldString(index) else {
                throw InputError(
                    .invalidUTF8, line: recordLine, "the header is not valid UTF-8 text (is this a CSV file?)")
            }
            names.append(name)
        }
        header = names
    }

    /// The current record's field `index` as a `String`, or `nil` when it is not valid UTF-8.
    func fieldString(_ index: Int) -> String? {
        let start = index == 0 ? 0 : fieldEnds[index - 1]
        return fieldBytes.withUnsafeBufferPointer { all in
            String(validating: UnsafeBufferPointer(rebasing: all[start..<fieldEnds[index]]), as: UTF8.self)
        }
    }

    /// Calls `body` with the bytes of the current record's field `index`.
    func withField<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let start = index == 0 ? 0 : fieldEnds[index - 1]
        return try fieldBytes.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[start..<fieldEnds[index]]))
        }
    }

    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted, comment }

    private static let quote: UInt8 = 0x22
    private static let lf: UInt8 = 0x0A
    private static let cr: UInt8 = 0x0D
    private static let hash: UInt8 = 0x23

    /// Parses one record (possibly blank). Returns false at the end of input with nothing read.
    private mutating func nextRawRecord(maxFields: Int) throws(InputError) -> Bool {
        fieldBytes.removeAll(keepingCapacity: true)
        fieldEnds.removeAll(keepingCapacity: true)
        fieldStart = 0
        pending = nil
        recordLine = line
        var state = State.fieldStart
        var started = false
        let delimiter = options.delimiter
        while true {
            if position == buffer.count {
                position = 0
                if !atEOF, try source.read(into: &buffer) {
                    // a fresh chunk
                } else {
                    atEOF = true
                    buffer.removeAll(keepingCapacity: true)
                    skipLF = false
                    switch state {
                    case .fieldStart where !started, .comment: return false
                    case .quoted:
                        throw InputError(
                            .unbalancedQuote, line: recordLine, column: columnName(fieldEnds.count),
                            "a quoted field starting on this line is never closed")
                    default:
                        endField(maxFields: maxFields)
                        if let pending { throw pending }
                        return true
                    }
                }
            }
            let byte = buffer[position]
            if skipLF {
                skipLF = false
                if byte == CSVReader.lf {
                    position += 1
                    continue
                }
            }
            let atRecordStart = !started
            started = true
            switch state {
            case .fieldStart:
                if atRecordStart && byte == CSVReader.hash && options.skipsCommentLines {
                    state = .comment
                    position += 1
                } else if byte == CSVReader.quote {
                    state = .quoted
                    position += 1
                } else if byte == delimiter {
                    endField(maxFields: maxFields)
                    position += 1
                } else if byte == CSVReader.lf || byte == CSVReader.cr {
                    return try endRecord(byte, maxFields: maxFields)
                } else {
                    state = .unquoted
                }
            case .unquoted:
                var end = position
                while end < buffer.count {
                    let b = buffer[end]
                    if b == delimiter || b == CSVReader.lf || b == CSVReader.cr || b == CSVReader.quote { break }
                    end += 1
                }
                appendRun(position, end)
                position = end
                guard end < buffer.count else { continue }
                let b = buffer[end]
                if b == delimiter {
                    endField(maxFields: maxFields)
                    state = .fieldStart
                    position += 1
                } else if b == CSVReader.quote {
                    setPending(
                        InputError(
                            .malformedRow, line: recordLine, column: columnName(fieldEnds.count),
                            "has a quote inside an unquoted field (quote the whole field and double inner quotes)"))
                    position += 1
                } else {
                    return try endRecord(b, maxFields: maxFields)
                }
            case .quoted:
                var end = position
                while end < buffer.count {
                    let b = buffer[end]
                    if b == CSVReader.quote { break }
                    if b == CSVReader.lf { line += 1 }
                    end += 1
                }
                appendRun(position, end)
                position = end
                if end < buffer.count {
                    state = .quoteInQuoted
                    position += 1
                }
            case .comment:
                var end = position
                while end < buffer.count, buffer[end] != CSVReader.lf, buffer[end] != CSVReader.cr { end += 1 }
                position = end
                guard end < buffer.count else { continue }
                position += 1
                line += 1
                if buffer[end] == CSVReader.cr { skipLF = true }
                state = .fieldStart
                started = false
                recordLine = line
            case .quoteInQuoted:
                if byte == CSVReader.quote {
                    appendRun(position, position + 1)
                    state = .quoted
                    position += 1
                } else if byte == delimiter {
                    endField(maxFields: maxFields)
                    state = .fieldStart
                    position += 1
                } else if byte == CSVReader.lf || byte == CSVReader.cr {
                    return try endRecord(byte, maxFields: maxFields)
                } else {
                    setPending(
                        InputError(
                            .malformedRow, line: recordLine, column: columnName(fieldEnds.count),
                            "has characters after a closing quote"))
                    state = .unquoted
                }
            }
        }
    }

    private mutating func endRecord(_ byte: UInt8, maxFields: Int) throws(InputError) -> Bool {
        endField(maxFields: maxFields)
        position += 1
        line += 1
        if byte == CSVReader.cr { skipLF = true }
        if let pending { throw pending }
        return true
    }

    private mutating func setPending(_ error: InputError) {
        if pending == nil { pending = error }
    }

    private mutating func endField(maxFields: Int) {
        guard pending == nil else { return }
        fieldEnds.append(fieldBytes.count)
        fieldStart = fieldBytes.count
        if fieldEnds.count > maxFields {
            pending = InputError(
                .malformedRow, line: recordLine,
                header.isEmpty
                    ? "has more than \(maxFields) columns"
                    : "has more fields than the header's \(header.count)")
        }
    }

    private mutating func appendRun(_ start: Int, _ end: Int) {
        guard pending == nil, start < end else { return }
        if fieldBytes.count - fieldStart + (end - start) > options.maxFieldBytes {
            pending = InputError(
                .fieldTooLong, line: recordLine, column: columnName(fieldEnds.count),
                "has a field longer than \(options.maxFieldBytes) bytes (an unclosed quote?)")
            return
        }
        fieldBytes.append(contentsOf: buffer[start..<end])
    }
}

/// One CSV record: its fields and the line it starts on.
public struct CSVRecord: Sendable, Hashable {
    /// The 1-based physical line on which the record starts.
    public let line: Int
    private let bytes: [UInt8]
    private let ends: [Int]

    init(line: Int, bytes: [UInt8], ends: [Int]) {
        self.line = line
        self.bytes = bytes
        self.ends = ends
    }

    /// Number of fields.
    public var count: Int { ends.count }

    /// Field `index` as a `String`, or `nil` when it is not valid UTF-8.
    public func string(at index: Int) -> String? {
        withFieldBytes(at: index) { String(validating: $0, as: UTF8.self) }
    }

    /// Calls `body` with the raw (unescaped) bytes of field `index`.
    public func withFieldBytes<R>(at index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let start = index == 0 ? 0 : ends[index - 1]
        return try bytes.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[start..<ends[index]]))
        }
    }
}
