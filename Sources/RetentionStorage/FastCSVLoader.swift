#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import RetentionMetrics

/// The fast path of ``CSVOrderReader/loadLedger(path:options:)``: a byte-level loop over large blocks of the file
/// that builds the ledger's columns directly, with no `String` per row.
///
/// It handles the common shape (unquoted fields, LF or CRLF line ends, optional byte-order mark, no currency
/// column, no line-item collapsing) and gives up (returns `nil`, so the caller runs the record-by-record reader)
/// on anything else: a `"` anywhere, a lone CR, a quoted header. A row it cannot parse on the fast path is
/// re-read by the record-by-record reader on its own, so every error is exactly the one that reader reports.
enum FastCSVLoader {
    /// Rows parsed before their customers are looked up together.
    static let batchSize = 32

    /// A parsed row waiting for its customer lookup: byte ranges in the current block and parsed values.
    struct PendingRow {
        var id: Range<Int>
        var customer: Range<Int>
        var customerHash: UInt64
        var seconds: Int64
        var amount: Int64
        var line: Int
    }

    /// Bytes read at a time from a file (whole lines are processed; a longer line grows the buffer).
    static let blockSize = 8 << 20

    static func load(
        path: String, options: OrderInputOptions, blockSize: Int = FastCSVLoader.blockSize
    ) throws(InputError) -> (OrderLedger, LoadReport)? {
        let header = try CSVOrderReader(path: path, options: options)
        guard var state = State(header: header, options: options) else { return nil }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw InputError(.unreadableFile, line: nil, value: path, "cannot be opened: \(ByteSource.errnoText())")
        }
        defer { _ = close(descriptor) }
        var size = stat()
        if fstat(descriptor, &size) == 0 { state.reserve(forFileBytes: Int(size.st_size)) }
        var buffer = [UInt8](repeating: 0, count: Swift.max(1, blockSize))
        var filled = 0
        var atEOF = false
        var first = true
        while !atEOF {
            if filled == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
            let count = buffer.withUnsafeMutableBytes { raw in
                read(descriptor, raw.baseAddress! + filled, raw.count - filled)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw InputError(.unreadableFile, line: nil, value: path, "cannot be read: \(ByteSource.errnoText())")
            }
            if count == 0 { atEOF = true }
            filled += count
            let consumed: Int? = try buffer.withUnsafeBufferPointer { all throws(InputError) -> Int? in
                let bytes = UnsafeBufferPointer(rebasing: all[0..<filled])
                var start = 0
                if first {
                    guard let headerEnd = state.skipHeader(bytes, final: atEOF) else {
                        return atEOF ? nil : 0
                    }
                    start = headerEnd
                }
                return try state.parse(bytes, from: start, final: atEOF)
            }
            guard let consumed else { return nil }
            if first && consumed > 0 { first = false }
            if state.gaveUp { return nil }
            if consumed > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    _ = memmove(raw.baseAddress!, raw.baseAddress! + consumed, filled - consumed)
                }
                filled -= consumed
            }
        }
        return state.finish()
    }

    static func load(bytes: [UInt8], options: OrderInputOptions) throws(InputError) -> (OrderLedger, LoadReport)? {
        let header = try CSVOrderReader(bytes: bytes, options: options)
        guard var state = State(header: header, options: options) else { return nil }
        state.reserve(forFileBytes: bytes.count)
        let done: Bool = try bytes.withUnsafeBufferPointer { all throws(InputError) -> Bool in
            guard let start = state.skipHeader(all, final: true) else { return false }
            return try state.parse(all, from: start, final: true) != nil
        }
        guard done, !state.gaveUp else { return nil }
        return state.finish()
    }

    /// The loader's state: options, column positions, the ledger being built and the report.
    struct State {
        let options: OrderInputOptions
        let columnCount: Int
        let orderIDColumn: Int
        let customerColumn: Int
        let timestampColumn: Int
        let amountColumn: Int
        let orderIDName: String
        let delimiter: UInt8
        let minorDigits: Int
        let maxField: Int
        /// Set when the input needs the record-by-record reader.
        private(set) var gaveUp = false
        private var headerBytes: [UInt8] = []
        /// The physical line of the next line to parse.
        private var line = 1

        private var report = LoadReport()
        private var customers = CustomerInterner()
        private var customerNumbers: [Int32] = []
        private var timestamps: [Int64] = []
        private var amounts: [Int64] = []
        private var orderIDs = OrderIDStore()
        private var absoluteTotal: Int64 = 0
        private var duplicates = 0
        /// What the cache-warming loads read (stored so that they are not optimised away).
        private var warmChecksum: UInt32 = 0
        /// line(row) = row + delta of the last break at or before row.
        private var lineBreaks: [(row: Int, delta: Int)] = []

        init?(header: CSVOrderReader, options: OrderInputOptions) {
            guard !options.mapping.collapsesLineItems, header.columns.currency == nil else { return nil }
            self.options = options
            columnCount = header.headerCount
            orderIDColumn = header.columns.orderID
            customerColumn = header.columns.customerID
            timestampColumn = header.columns.timestamp
            amountColumn = header.columns.amount
            orderIDName = header.columnNames.orderID
            delimiter = UInt8(options.delimiter.value)
            minorDigits = options.defaultCurrency.minorUnitDigits
            maxField = options.maxFieldBytes
        }

        mutating func reserve(forFileBytes bytes: Int) {
            // A typical order line is 30-60 bytes; reserving for 40 avoids most regrowth copies.
            let rows = bytes / 40 + 16
            customerNumbers.reserveCapacity(rows)
            timestamps.reserveCapacity(rows)
            amounts.reserveCapacity(rows)
        }

        /// Finds the end of the header (after a byte-order mark and blank lines); `nil` when more bytes are
        /// needed. Gives up on quotes or lone CRs in that part.
        mutating func skipHeader(_ bytes: UnsafeBufferPointer<UInt8>, final: Bool) -> Int? {
            var position = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
            while true {
                guard let newline = findByte(0x0A, bytes, from: position) else {
                    if !final { return nil }
                    gaveUp = true  // a header-only file without a final newline: rare, let the reader do it
                    return nil
                }
                var end = newline
                if end > position && bytes[end - 1] == 0x0D { end -= 1 }
                for k in position..<end where bytes[k] == 0x22 || bytes[k] == 0x0D {
                    gaveUp = true
                    return nil
                }
                line += 1
                if end == position {
                    position = newline + 1
                    continue
                }
                headerBytes = Array(bytes[position..<end])
                return newline + 1
            }
        }

        /// Parses the complete lines of `bytes[start...]` (and the final unterminated one when `final`);
        /// returns how many bytes were consumed.
        mutating func parse(
            _ bytes: UnsafeBufferPointer<UInt8>, from start: Int, final: Bool
        ) throws(InputError) -> Int? {
            var position = start
            let n = bytes.count
            var fieldStarts = [Int](repeating: 0, count: columnCount + 1)
            // Rows wait in a small batch so that the customer-table lookups of the batch overlap their cache
            // misses (see `CustomerInterner.warm`); a rejected row first flushes the batch to keep file order.
            var batch: [PendingRow] = []
            batch.reserveCapacity(FastCSVLoader.batchSize)
            while position < n {
                let lineEnd: Int
                if let newline = findByte(0x0A, bytes, from: position) {
                    lineEnd = newline
                } else {
                    guard final else { break }
                    lineEnd = n
                }
                var end = lineEnd
                if end > position && bytes[end - 1] == 0x0D { end -= 1 }
                let next = lineEnd == n ? n : lineEnd + 1
                if end == position {  // blank line
                    line += 1
                    position = next
                    continue
                }
                // Split into fields.
                var fields = 0
                fieldStarts[0] = position
                var k = position
                var tooMany = false
                while k < end {
                    let byte = bytes[k]
                    if byte == delimiter {
                        fields += 1
                        if fields >= columnCount {
                            tooMany = true
                        } else {
                            fieldStarts[fields] = k + 1
                        }
                    } else if byte == 0x22 || byte == 0x0D {
                        gaveUp = true
                        return position
                    }
                    k += 1
                }
                fields += 1
                if !tooMany { fieldStarts[fields] = end + 1 }
                let line = self.line
                self.line += 1
                report.rowsRead += 1
                if tooMany || fields != columnCount {
                    try flush(&batch, bytes)
                    try reject(bytes, position, end, line: line)
                    position = next
                    continue
                }
                var longField = false
                for f in 0..<columnCount where fieldStarts[f + 1] - 1 - fieldStarts[f] > maxField { longField = true }
                if longField {
                    try flush(&batch, bytes)
                    try reject(bytes, position, end, line: line)
                    position = next
                    continue
                }
                let id = UnsafeBufferPointer(
                    rebasing: bytes[fieldStarts[orderIDColumn]..<(fieldStarts[orderIDColumn + 1] - 1)])
                let customer = UnsafeBufferPointer(
                    rebasing: bytes[fieldStarts[customerColumn]..<(fieldStarts[customerColumn + 1] - 1)])
                let timestampField = UnsafeBufferPointer(
                    rebasing: bytes[fieldStarts[timestampColumn]..<(fieldStarts[timestampColumn + 1] - 1)])
                let amountField = UnsafeBufferPointer(
                    rebasing: bytes[fieldStarts[amountColumn]..<(fieldStarts[amountColumn + 1] - 1)])
                guard !id.isEmpty, !customer.isEmpty, isValidText(id), isValidText(customer),
                    let seconds = parseTimestamp(timestampField),
                    let amount = parseAmount(amountField)
                else {
                    try flush(&batch, bytes)
                    try reject(bytes, position, end, line: line)
                    position = next
                    continue
                }
                batch.append(
                    PendingRow(
                        id: fieldStarts[orderIDColumn]..<(fieldStarts[orderIDColumn + 1] - 1),
                        customer: fieldStarts[customerColumn]..<(fieldStarts[customerColumn + 1] - 1),
                        customerHash: IDHash.hash(UnsafeRawBufferPointer(customer)), seconds: seconds, amount: amount,
                        line: line))
                if batch.count == FastCSVLoader.batchSize { try flush(&batch, bytes) }
                position = next
            }
            try flush(&batch, bytes)
            return position
        }

        private mutating func flush(
            _ batch: inout [PendingRow], _ bytes: UnsafeBufferPointer<UInt8>
        ) throws(InputError) {
            guard !batch.isEmpty else { return }
            warmChecksum &+= customers.warm(batch)
            for row in batch {
                try add(
                    id: UnsafeBufferPointer(rebasing: bytes[row.id]),
                    customer: UnsafeBufferPointer(rebasing: bytes[row.customer]), customerHash: row.customerHash,
                    seconds: row.seconds, amount: row.amount, line: row.line)
            }
            batch.removeAll(keepingCapacity: true)
        }

        /// Re-reads one line with the record-by-record reader to report exactly its error.
        private mutating func reject(
            _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, line: Int
        ) throws(InputError) {
            var text = headerBytes
            text.append(0x0A)
            text.append(contentsOf: bytes[start..<end])
            text.append(0x0A)
            var single = options
            single.badRows = .fail
            var error: InputError
            do throws(InputError) {
                var reader = try CSVOrderReader(bytes: text, options: single)
                _ = try reader.next()
                gaveUp = true  // the fast path and the reader disagree: let the reader load the file
                return
            } catch let caught {
                error = caught
            }
            error.line = line
            try skip(error)
        }

        private mutating func skip(_ error: InputError) throws(InputError) {
            if options.badRows == .fail { throw error }
            report.skippedRows += 1
            if report.errors.count < options.maxReportedErrors { report.errors.append(error) }
        }

        private mutating func add(
            id: UnsafeBufferPointer<UInt8>, customer: UnsafeBufferPointer<UInt8>, customerHash: UInt64,
            seconds: Int64, amount: Int64, line: Int
        ) throws(InputError) {
            let integer = OrderIDStore.canonicalInteger(id)
            let existing = integer.map { orderIDs.row(ofInteger: $0) } ?? orderIDs.row(ofBytes: id)
            if let row = existing {
                if timestamps[row] == seconds && amounts[row] == amount
                    && customers.matches(customerNumbers[row], customer)
                {
                    duplicates += 1
                    report.duplicatesIgnored += 1
                    return
                }
                try skip(
                    InputError(
                        .conflictingDuplicate, line: line, column: orderIDName,
                        value: String(decoding: id, as: UTF8.self),
                        "was already loaded from line \(lineOf(row)) with different content"))
                return
            }
            let (total, overflow) = absoluteTotal.addingReportingOverflow(Int64(clamping: amount.magnitude))
            if overflow || amount == .min {
                try skip(
                    InputError(
                        .amountOverflow, line: line, column: nil, value: String(decoding: id, as: UTF8.self),
                        "would make the ledger's total amount overflow Int64 minor units"))
                return
            }
            absoluteTotal = total
            let row = timestamps.count
            if line - row != (lineBreaks.last?.delta ?? -1) { lineBreaks.append((row, line - row)) }
            customerNumbers.append(customers.intern(customer, hash: customerHash))
            timestamps.append(seconds)
            amounts.append(amount)
            if let integer { orderIDs.append(integer: integer) } else { orderIDs.append(bytes: id) }
            report.ordersLoaded += 1
        }

        private func lineOf(_ row: Int) -> Int {
            var low = 0
            var high = lineBreaks.count
            while low < high {
                let middle = (low + high) / 2
                if lineBreaks[middle].row <= row { low = middle + 1 } else { high = middle }
            }
            return row + lineBreaks[low - 1].delta
        }

        @inline(__always)
        private func parseTimestamp(_ field: UnsafeBufferPointer<UInt8>) -> Int64? {
            if let fast = FastCSVLoader.utcTimestamp(field) { return fast }
            let bytes = trimmed(field)
            if bytes.isEmpty { return nil }
            do throws(TimestampParseError) { return try TimestampParser.parse(bytes, in: options.calendar) } catch {
                return nil
            }
        }

        @inline(__always)
        private func parseAmount(_ field: UnsafeBufferPointer<UInt8>) -> Int64? {
            if let fast = FastCSVLoader.plainAmount(field, minorDigits: minorDigits) { return fast }
            let bytes = trimmed(field)
            if bytes.isEmpty { return nil }
            do throws(AmountParseError) {
                return try AmountParser.minorUnits(bytes, minorUnitDigits: minorDigits)
            } catch { return nil }
        }

        func finish() -> (OrderLedger, LoadReport) {
            let ledger = OrderLedger(
                currency: timestamps.isEmpty ? nil : options.defaultCurrency, customerIDs: customers.strings(),
                customerColumn: customerNumbers, timestampColumn: timestamps, amountColumn: amounts,
                orderIDs: orderIDs, customerIndex: customers.table, duplicatesIgnored: duplicates,
                absoluteTotal: absoluteTotal)
            return (ledger, report)
        }
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` exactly (what most exports write), or `nil` for anything else, valid or not.
    @inline(__always)
    static func utcTimestamp(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count == 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A, b[19] == 0x5A
        else { return nil }
        @inline(__always) func digit(_ i: Int) -> Int { Int(b[i] &- 0x30) }
        for i in [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18] where b[i] &- 0x30 > 9 { return nil }
        let year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3)
        let month = digit(5) * 10 + digit(6)
        let day = digit(8) * 10 + digit(9)
        let hour = digit(11) * 10 + digit(12)
        let minute = digit(14) * 10 + digit(15)
        let second = digit(17) * 10 + digit(18)
        guard month >= 1, month <= 12, day >= 1, hour < 24, minute < 60, second < 60,
            day <= CivilDate.daysInMonth(year: year, month: month)
        else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Int64(days * 86_400 + hour * 3600 + minute * 60 + second)
    }

    /// `[-]digits[.decimals]` with at most `minorDigits` decimals and at most 15 integer digits, or `nil`.
    @inline(__always)
    static func plainAmount(_ b: UnsafeBufferPointer<UInt8>, minorDigits: Int) -> Int64? {
        var i = 0
        let n = b.count
        let negative = n > 0 && b[0] == 0x2D
        if negative { i = 1 }
        var value: Int64 = 0
        let integerStart = i
        while i < n, b[i] &- 0x30 < 10 {
            value = value * 10 + Int64(b[i] &- 0x30)
            i += 1
        }
        let integerDigits = i - integerStart
        guard integerDigits >= 1, integerDigits <= 15 else { return nil }
        var decimals = 0
        if i < n {
            guard b[i] == 0x2E else { return nil }
            i += 1
            while i < n, b[i] &- 0x30 < 10 {
                guard decimals < minorDigits else { return nil }
                value = value * 10 + Int64(b[i] &- 0x30)
                decimals += 1
                i += 1
            }
            guard i == n, decimals >= 1 else { return nil }
        }
        while decimals < minorDigits {
            value *= 10
            decimals += 1
        }
        return negative ? -value : value
    }
}

/// Customer ids interned from bytes, keyed by ``IDHash`` in an ``IDHashTable`` (so the table can become the
/// ledger's customer index as is).
///
/// Each customer has a 16-byte entry holding its first 8 bytes, its length and where the rest of its bytes are
/// in a shared arena: checking a hash match for an id of up to 8 bytes (`C0001234`, `123456`) reads one entry
/// and never the arena, one cache miss fewer per row.
struct CustomerInterner {
    struct Entry {
        var prefix: UInt64
        var tailStart: UInt32
        var length: UInt32
    }

    private var entries: [Entry] = []
    private var arena: [UInt8] = []
    private(set) var table = IDHashTable(minimumCapacity: 1 << 16)

    var count: Int { entries.count }

    @inline(__always)
    static func prefix(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        if bytes.count >= 8 { return UnsafeRawBufferPointer(bytes).loadUnaligned(as: UInt64.self) }
        var value: UInt64 = 0
        for k in 0..<bytes.count { value |= UInt64(bytes[k]) << (8 * UInt64(k)) }
        return value
    }

    @inline(__always)
    private static func matches(
        _ entry: Entry, _ bytes: UnsafeBufferPointer<UInt8>, _ prefix: UInt64, _ arena: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        guard entry.length == UInt32(bytes.count), entry.prefix == prefix else { return false }
        return bytes.count <= 8
            || bytesEqual(arena.baseAddress! + Int(entry.tailStart), bytes.baseAddress! + 8, bytes.count - 8)
    }

    func matches(_ number: Int32, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        arena.withUnsafeBufferPointer {
            CustomerInterner.matches(entries[Int(number)], bytes, CustomerInterner.prefix(bytes), $0)
        }
    }

    /// Touches the table slot and the entry of each pending row's customer, with no dependency between rows,
    /// so the CPU overlaps the cache misses that `intern` would otherwise take one after the other. Returns a
    /// meaningless sum of what it read.
    func warm(_ rows: [FastCSVLoader.PendingRow]) -> UInt32 {
        var sink: UInt32 = 0
        let mask = table.mask
        table.slots.withUnsafeBufferPointer { slots in
            entries.withUnsafeBufferPointer { entries in
                for row in rows {
                    let slot = slots[Int(truncatingIfNeeded: row.customerHash) & mask]
                    if slot > 0 { sink &+= entries[Int(slot) - 1].length }
                }
            }
        }
        return sink
    }

    @inline(__always)
    mutating func intern(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int32 {
        let prefix = CustomerInterner.prefix(bytes)
        let found = arena.withUnsafeBufferPointer { arena in
            entries.withUnsafeBufferPointer { entries in
                table.find(hash: hash) { CustomerInterner.matches(entries[Int($0)], bytes, prefix, arena) }
            }
        }
        if let found { return found }
        precondition(arena.count + bytes.count <= Int(UInt32.max), "customer ids exceed 4 GiB in total")
        let number = Int32(entries.count)
        entries.append(Entry(prefix: prefix, tailStart: UInt32(arena.count), length: UInt32(bytes.count)))
        if bytes.count > 8 { arena.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[8...])) }
        if table.count >= table.capacity {
            let this = self
            table.insert(hash: hash, value: number) { this.hash(of: $0) }
        } else {
            table.insert(hash: hash, value: number)
        }
        return number
    }

    /// Calls `body` with customer `number`'s bytes.
    private func withBytes<R>(of number: Int32, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let entry = entries[Int(number)]
        let length = Int(entry.length)
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(8, length)) { buffer in
            var prefix = entry.prefix
            for k in 0..<min(8, length) {
                buffer[k] = UInt8(truncatingIfNeeded: prefix)
                prefix >>= 8
            }
            if length > 8 {
                arena.withUnsafeBufferPointer { arena in
                    for k in 8..<length { buffer[k] = arena[Int(entry.tailStart) + k - 8] }
                }
            }
            return body(UnsafeBufferPointer(rebasing: buffer[0..<length]))
        }
    }

    private func hash(of number: Int32) -> UInt64 {
        withBytes(of: number) { IDHash.hash(UnsafeRawBufferPointer($0)) }
    }

    /// The customer ids as strings, in number order.
    func strings() -> [String] {
        (0..<entries.count).map { number in withBytes(of: Int32(number)) { String(decoding: $0, as: UTF8.self) } }
    }
}

/// The index of the first `byte` in `bytes[from...]`.
@inline(__always)
func findByte(_ byte: UInt8, _ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
    guard start < bytes.count, let base = bytes.baseAddress else { return nil }
    guard let hit = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
    return UnsafeRawPointer(hit) - UnsafeRawPointer(base)
}

/// Whether `count` bytes at `a` and `b` are equal (8 bytes at a time: ids are short, a libc call is not).
@inline(__always)
func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    let x = UnsafeRawPointer(a)
    let y = UnsafeRawPointer(b)
    var i = 0
    while i + 8 <= count {
        if x.loadUnaligned(fromByteOffset: i, as: UInt64.self) != y.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
            return false
        }
        i += 8
    }
    while i < count {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}

/// ASCII, or else valid UTF-8.
@inline(__always)
func isValidText(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    for byte in bytes where byte >= 0x80 { return String(validating: bytes, as: UTF8.self) != nil }
    return true
}
