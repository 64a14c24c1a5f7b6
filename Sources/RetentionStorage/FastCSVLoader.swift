import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

// Pointers handed to the two threads of `DispatchQueue.concurrentPerform`. `@unchecked Sendable` is safe because
// (1) each iteration reads or writes only its own elements (its half of the range, or its own slot), never one the
// other iteration touches, (2) the memory outlives the call (it belongs to a buffer borrowed around it), and
// (3) `concurrentPerform` returns only after both iterations end, which orders their writes before later reads.

/// The two halves' results while two threads fill them (each thread writes only its own element).
private struct HalvesBox: @unchecked Sendable {
    let base: UnsafeMutablePointer<Result<FastCSVLoader.State?, InputError>>
}

/// Customer ids being written, one half per thread.
private struct StringsBox: @unchecked Sendable {
    let base: UnsafeMutablePointer<String>
}

/// What the two threads of `State.join` own: thread 0 the customers of both states and `map`, thread 1 the
/// order ids and columns of both.
private struct JoinWork {
    var customers = CustomerInterner()
    var otherCustomers = CustomerInterner()
    var orderIDs = OrderIDStore()
    var otherOrderIDs = OrderIDStore()
    var table = IDHashTable()
    var timestamps: [Int64] = []
    var otherTimestamps: [Int64] = []
    var amounts: [Int64] = []
    var otherAmounts: [Int64] = []
    var map: [Int32] = []

    /// Thread `part`'s share; each releases what it has taken from the other state.
    mutating func run(part: Int) {
        if part == 0 {
            guard let absorbed = customers.absorb(otherCustomers) else {
                preconditionFailure("the caller checked canAbsorb")
            }
            map = absorbed
            otherCustomers = CustomerInterner()
        } else {
            timestamps.append(contentsOf: otherTimestamps)
            amounts.append(contentsOf: otherAmounts)
            (otherTimestamps, otherAmounts) = ([], [])
            orderIDs.append(deferred: &otherOrderIDs, table: table)
            table = IDHashTable()
        }
    }
}

/// The join's work while its two threads run (each touches only its own fields, see `JoinWork`).
private struct JoinBox: @unchecked Sendable {
    let work: UnsafeMutablePointer<JoinWork>
}

/// Customer keys by number, read by both threads (never written while they run).
private struct KeysBox: @unchecked Sendable {
    let base: UnsafePointer<Int64>
}

/// The fast path of ``CSVOrderReader/loadLedger(path:options:)``: a byte-level loop over large blocks of the file
/// that builds the ledger's columns directly, with no `String` per row.
///
/// It handles the common shape (unquoted fields, LF or CRLF line ends, optional byte-order mark, a currency
/// column only when every row is empty or the default currency, no line-item collapsing) and gives up (returns
/// `nil`, so the caller runs the record-by-record reader) on anything else: a `"` anywhere, a lone CR, a quoted
/// header, another currency. A row it cannot parse on the fast path is re-read by the record-by-record reader on
/// its own, so every error is exactly the one that reader reports.
///
/// Files of at least ``splitThreshold`` bytes are read by two threads, one per half (see ``loadHalves``). Halves
/// of increasing integer order ids are appended; string order ids, and integer ids once they come out of
/// increasing order, are kept unchecked by each half and checked for repeats once, in one table built by both
/// threads. A repeat or an error in the second half makes the first half's state read the second half again;
/// one within the first half restarts the file in one pass.
enum FastCSVLoader {
    /// Rows parsed before their customers are looked up together.
    static let batchSize = 32

    /// A parsed row waiting for its customer lookup: byte ranges in the current block and parsed values.
    struct PendingRow {
        var id: Range<Int>
        var customer: Range<Int>
        /// The customer's integer key or hash (see ``CustomerInterner/lookupKey(_:)``).
        var customerKey: UInt64
        var numericKey: Bool
        var seconds: Int64
        var amount: Int64
        var line: Int
    }

    /// Bytes read at a time from a file (whole lines are processed; a longer line grows the buffer).
    static let blockSize = 8 << 20

    /// Files at least this large are parsed by two threads (one per half), when ``splittable`` allows.
    static let splitThreshold = 32 << 20

    /// Where to split a file: by default at the first line start at or after the middle; tests force a position.
    struct Split {
        var threshold = FastCSVLoader.splitThreshold
        var position: Int? = nil
    }

    /// How a file was read: one pass; two halves appended (increasing integer order ids); two halves where the
    /// first half's state re-read the second; two halves joined through one order-id table built for both
    /// (string ids, integer ids out of order, see ``OrderIDStore/joinedTable(_:_:)``); or two halves dropped for
    /// one pass from the start (an error in the first half, or a repeated order id within it).
    enum Passes: Equatable { case single, appended, reread, joined, restarted }

    /// What reading a file in two halves gave: the ledger, a hand-over to the record-by-record reader, or a
    /// restart in one pass.
    private enum HalvesOutcome {
        case loaded(OrderLedger, LoadReport)
        case reader
        case restart
    }

    static func load(
        path: String, options: OrderInputOptions, blockSize: Int = FastCSVLoader.blockSize, split: Split = Split()
    ) throws(InputError) -> (OrderLedger, LoadReport)? {
        var passes = Passes.single
        return try load(path: path, options: options, blockSize: blockSize, split: split, passes: &passes)
    }

    static func load(
        path: String, options: OrderInputOptions, blockSize: Int, split: Split, passes: inout Passes
    ) throws(InputError) -> (OrderLedger, LoadReport)? {
        passes = .single
        let header = try CSVOrderReader(path: path, options: options)
        guard var state = State(header: header, options: options) else { return nil }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw InputError(.unreadableFile, line: nil, value: path, "cannot be opened: \(ByteSource.errnoText())")
        }
        defer { _ = close(descriptor) }
        var info = stat()
        let size = fstat(descriptor, &info) == 0 ? Int(info.st_size) : 0
        state.numericLimit(forFileBytes: size)
        if size >= split.threshold, size > 0,
            let (first, second, middle) = try splitStates(
                descriptor, size: size, state: state, split: split, path: path, deferOrderIDs: true)
        {
            switch try loadHalves(
                descriptor, size: size, first: first, second: second, middle: middle, blockSize: blockSize,
                path: path, passes: &passes)
            {
            case .loaded(let ledger, let report): return (ledger, report)
            case .reader: return nil
            case .restart: passes = .restarted  // and on to one pass
            }
        }
        state.reserve(forFileBytes: size)
        guard try parseRange(descriptor, 0..<Int.max, into: &state, header: true, blockSize: blockSize, path: path)
        else { return nil }
        return state.finish()
    }

    /// Reads `range` of the file in blocks and parses its lines into `state` (skipping the header first when
    /// `header`); `false` when the state gave up.
    static func parseRange(
        _ descriptor: Int32, _ range: Range<Int>, into state: inout State, header: Bool, blockSize: Int, path: String
    ) throws(InputError) -> Bool {
        var reader = RangeReader(descriptor, range, header: header, blockSize: blockSize, path: path)
        while !reader.finished {
            guard try reader.step(into: &state) else { return false }
        }
        return true
    }

    /// Reads a range of a file block by block into a ``State``: one ``step(into:)`` reads the next block and
    /// parses its complete lines (the rest waits for the next block; a line longer than the buffer grows it).
    struct RangeReader {
        let descriptor: Int32
        let range: Range<Int>
        let path: String
        private var buffer: [UInt8]
        private var filled = 0
        private var offset: Int
        private var atEOF = false
        private var header: Bool

        init(_ descriptor: Int32, _ range: Range<Int>, header: Bool, blockSize: Int, path: String) {
            self.descriptor = descriptor
            self.range = range
            self.path = path
            buffer = [UInt8](repeating: 0, count: Swift.max(1, blockSize))
            offset = range.lowerBound
            self.header = header
        }

        /// Whether the range has been read to its end.
        var finished: Bool { atEOF }

        /// Reads and parses the next block; `false` when the state gave up.
        mutating func step(into state: inout State) throws(InputError) -> Bool {
            guard !atEOF else { return true }
            if filled == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
            let wanted = Swift.min(buffer.count - filled, range.upperBound - offset)
            let (descriptor, filled) = (self.descriptor, self.filled)
            var count = 0
            if wanted > 0 {
                count = buffer.withUnsafeMutableBytes { raw in
                    pread(descriptor, raw.baseAddress! + filled, wanted, off_t(offset))
                }
            }
            if count < 0 {
                if errno == EINTR { return true }
                throw InputError(.unreadableFile, line: nil, value: path, "cannot be read: \(ByteSource.errnoText())")
            }
            if count == 0 { atEOF = true }
            self.filled += count
            offset += count
            let (all, final, header) = (self.filled, atEOF, self.header)
            let consumed: Int? = try buffer.withUnsafeBufferPointer { whole throws(InputError) -> Int? in
                let bytes = UnsafeBufferPointer(rebasing: whole[0..<all])
                var start = 0
                if header {
                    guard let headerEnd = state.skipHeader(bytes, final: final) else {
                        return final ? nil : 0
                    }
                    start = headerEnd
                }
                return try state.parse(bytes, from: start, final: final)
            }
            guard let consumed else { return false }
            if header && consumed > 0 { self.header = false }
            if state.gaveUp { return false }
            if consumed > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    _ = memmove(raw.baseAddress!, raw.baseAddress! + consumed, all - consumed)
                }
                self.filled -= consumed
            }
            return true
        }
    }

    /// The end of the header, the first data row's order id and customer id patterns (`nil` for an id that
    /// follows no ``DigitPattern``), and a copy of `state` that has read the header; `nil` when they are not in
    /// the first MiB.
    static func probeFirstRow(
        _ descriptor: Int32, size: Int, state: State
    ) -> (headerEnd: Int, patterns: (DigitPattern?, DigitPattern?), probe: State)? {
        var head = [UInt8](repeating: 0, count: Swift.min(size, 1 << 20))
        let count = head.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, $0.count, 0) }
        guard count > 0 else { return nil }
        var probe = state
        let found = head.withUnsafeBufferPointer { all -> (Int, (DigitPattern?, DigitPattern?))? in
            let bytes = UnsafeBufferPointer(rebasing: all[0..<count])
            guard let headerEnd = probe.skipHeader(bytes, final: count == size),
                let patterns = probe.firstRowPatterns(bytes, from: headerEnd)
            else { return nil }
            return (headerEnd, patterns)
        }
        guard let (headerEnd, patterns) = found else { return nil }
        return (headerEnd, patterns, probe)
    }

    /// The two halves' states and the split offset, or `nil` when the file should be read by one thread: its
    /// first row's order id follows no ``DigitPattern`` and `deferOrderIDs` is false, the header or first row is
    /// not in the first MiB, or no line starts after the split position. `deferOrderIDs` (the ledger's loads) also
    /// makes both states keep integer order ids without a table once they come out of increasing order
    /// (``OrderIDStore/deferIntegerIndex()``), for the one table of the join.
    ///
    /// Both states get the first row's patterns, so the second half's ids are read exactly as one pass would. A
    /// customer id without a pattern makes both states hash customer ids; an order id without one (with
    /// `deferOrderIDs`) makes both keep their order ids for one table built at the end
    /// (``OrderIDStore/startDeferredStrings(reservingCapacity:)``).
    static func splitStates(
        _ descriptor: Int32, size: Int, state: State, split: Split, path: String, deferOrderIDs: Bool = false
    ) throws(InputError) -> (State, State, Int)? {
        guard let (headerEnd, patterns, probe) = probeFirstRow(descriptor, size: size, state: state),
            deferOrderIDs || (patterns.0 != nil && patterns.1 != nil)
        else { return nil }
        // The split: the first line start at or after the position, past the header.
        var position = Swift.max(split.position ?? size / 2, headerEnd)
        if position < size && position > headerEnd {
            var byte: UInt8 = 0
            var probeOffset = position - 1
            while probeOffset < size {
                guard pread(descriptor, &byte, 1, off_t(probeOffset)) == 1 else { return nil }
                if byte == 0x0A { break }
                probeOffset += 1
            }
            position = probeOffset + 1
        }
        guard position < size else { return nil }
        var first = state
        var second = state
        first.seed(orderIDPattern: patterns.0, customerPattern: patterns.1, deferOrderIDIndex: deferOrderIDs)
        second.seed(orderIDPattern: patterns.0, customerPattern: patterns.1, deferOrderIDIndex: deferOrderIDs)
        // Reserved after the copies, so that each state owns its buffers: the first half's columns take the
        // second's at the end, the second's are freed then.
        first.reserve(forFileBytes: size)
        second.reserve(forFileBytes: size - position)
        second.startAfterHeader(probe)
        return (first, second, position)
    }

    /// Parses the two halves on two threads and joins them (see ``State/append(_:)``); when the second half
    /// cannot be joined (an error in it, a repeated order id, ...) the first half's state reads the second half
    /// itself, exactly as a single pass would. Halves check string order ids, and integer ids once they come out
    /// of increasing order, for repeats only when joined: the first half's state indexes its own ids before it
    /// reads the second half again, and a repeat or an error within the first half restarts the file in one
    /// pass.
    private static func loadHalves(
        _ descriptor: Int32, size: Int, first: State, second: State, middle: Int, blockSize: Int, path: String,
        passes: inout Passes
    ) throws(InputError) -> HalvesOutcome {
        // Each iteration owns one of `halves` and writes nothing else; `concurrentPerform` returns after both
        // iterations end, so reading `halves` afterwards is ordered after the writes.
        var halves: [Result<State?, InputError>] = [.success(first), .success(second)]
        halves.withUnsafeMutableBufferPointer { halves in
            let halves = HalvesBox(base: halves.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                let range = index == 0 ? 0..<middle : middle..<size
                halves.base[index] = Result { () throws(InputError) -> State? in
                    guard var state = try halves.base[index].get() else { return nil }
                    let done = try parseRange(
                        descriptor, range, into: &state, header: index == 0, blockSize: blockSize, path: path)
                    return done ? state : nil
                }
            }
        }
        // Halves may leave order ids unchecked for repeats until they are joined (string ids; integer ids out of
        // increasing order): an error in the first half may follow a repeat that one pass reports first, so it
        // restarts the file in one pass. When the halves cannot be joined (an error or skipped row in the second
        // half, a repeated id, ids that need a look-up the join does not make), the first half's state checks
        // its own ids and reads the second half itself, exactly as one pass would.
        guard case .success(let firstState) = halves[0] else { return .restart }
        let secondResult = halves[1]
        halves = []
        // Consumed, so that `state` is the only owner of the first half's columns (no copy on write).
        guard var state = consume firstState else { return .reader }
        switch consume secondResult {
        case .success(let secondState?):
            if let joined = state.append(consume secondState) {
                passes = joined
                let (ledger, report) = state.finish()
                return .loaded(ledger, report)
            }
        case .success(nil): return .reader  // the second half needs the record-by-record reader
        case .failure: break  // its error is read again below, after any repeat before it
        }
        guard state.indexDeferredOrderIDs() else { return .restart }
        passes = .reread
        guard
            try parseRange(
                descriptor, middle..<size, into: &state, header: false, blockSize: blockSize, path: path)
        else { return .reader }
        let (ledger, report) = state.finish()
        return .loaded(ledger, report)
    }

    static func load(bytes: [UInt8], options: OrderInputOptions) throws(InputError) -> (OrderLedger, LoadReport)? {
        let header = try CSVOrderReader(bytes: bytes, options: options)
        guard var state = State(header: header, options: options) else { return nil }
        state.numericLimit(forFileBytes: bytes.count)
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
        /// The currency column, if any: the fast path takes a row whose field is empty or exactly the default
        /// currency's code (`defaultCode`, `nil` when that code would mean other minor digits); any other row is
        /// re-read by the reader, which hands the whole file over if the row is valid (another currency).
        let currencyColumn: Int?
        let defaultCode: [UInt8]?
        /// `defaultCode` as ``word(_:)`` gives it (codes up to 8 bytes), and its length (-1 without one).
        let defaultCodeWord: UInt64
        let defaultCodeLength: Int
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
        /// Streaming (see ``startStreaming(keyLimit:)``): the columns hold one block's rows, customers as their
        /// integer keys under `streamPattern` (narrowed by every id, as a numeric index would be).
        private(set) var streaming = false
        private(set) var streamPattern = DigitPattern.plain
        private var keyLimit = 0
        /// Streaming, once an integer order id came out of increasing order: every order id's key as a bit (the
        /// store would otherwise keep an `Int64` and a hash-table slot per order), under `seenPattern`.
        private var seenKeys: SeenKeys? = nil
        private var seenPattern = DigitPattern.plain
        /// The keys a ``SeenKeys`` of this state may hold (a few times the rows a file may have).
        private var orderKeyLimit = 1 << 26

        init?(header: CSVOrderReader, options: OrderInputOptions) {
            guard !options.mapping.collapsesLineItems else { return nil }
            currencyColumn = header.columns.currency
            let code = options.defaultCurrency.code
            let defaultCode = options.currency(code: code) == options.defaultCurrency ? Array(code.utf8) : nil
            self.defaultCode = defaultCode
            defaultCodeLength = defaultCode?.count ?? -1
            defaultCodeWord = defaultCode?.withUnsafeBufferPointer { Self.word($0) } ?? 0
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

        /// The bytes of a field of at most 8 bytes as a little-endian word (0 for a longer one).
        @inline(__always)
        static func word(_ field: UnsafeBufferPointer<UInt8>) -> UInt64 {
            guard field.count <= 8 else { return 0 }
            var word: UInt64 = 0
            for k in 0..<field.count { word |= UInt64(field[k]) << (8 * UInt64(k)) }
            return word
        }

        mutating func reserve(forFileBytes bytes: Int) {
            // A typical order line is 30-60 bytes; reserving for 40 avoids most regrowth copies.
            let rows = bytes / 40 + 16
            customerNumbers.reserveCapacity(rows)
            timestamps.reserveCapacity(rows)
            amounts.reserveCapacity(rows)
            adviseHugePages(&customerNumbers)
            adviseHugePages(&timestamps)
            adviseHugePages(&amounts)
            // String order ids: about a quarter of a line each.
            orderIDs.reserveDeferred(rows: rows, bytes: bytes / 4)
        }

        /// Bounds the keys of a numeric customer index by twice the rows a file of `bytes` may hold (at 40 bytes a
        /// row), so that its direct table costs at most 8 bytes a row.
        mutating func numericLimit(forFileBytes bytes: Int) {
            customers.numericLimit = Swift.max(1 << 20, 2 * (bytes / 40 + 16))
            orderKeyLimit = Swift.max(1 << 26, 8 * (bytes / 40 + 16))
        }

        /// Reads ids with these patterns from the first row on (see ``OrderIDStore/adopt(pattern:)``): customers
        /// hashed without a pattern, order ids kept for one table at the end without one
        /// (``OrderIDStore/startDeferredStrings(reservingCapacity:)``: no repeat is detected until then), and
        /// with `deferOrderIDIndex` integer ids too once they come out of increasing order.
        mutating func seed(
            orderIDPattern: DigitPattern?, customerPattern: DigitPattern?, deferOrderIDIndex: Bool = false
        ) {
            if let orderIDPattern {
                orderIDs.adopt(pattern: orderIDPattern)
                if deferOrderIDIndex { orderIDs.deferIntegerIndex() }
            } else {
                orderIDs.startDeferredStrings()
            }
            customers.seed(pattern: customerPattern)
            if let customerPattern { streamPattern = customerPattern }
        }

        /// Makes the state keep only the current block's rows (``clearColumns()`` after each), customers as their
        /// integer keys (at most `keyLimit`) instead of interned numbers, for a ``ReportFold``. It gives up on what
        /// a fold cannot take or a caller could not undo: a customer id off the seeded pattern or above the limit,
        /// an order id seen before (a duplicate is compared with the earlier row, which is gone).
        mutating func startStreaming(keyLimit: Int) {
            precondition(timestamps.isEmpty, "startStreaming before the first row")
            streaming = true
            self.keyLimit = keyLimit
            // Order ids out of increasing order become bits (see `startSeenKeys`), not an indexed store.
            orderIDs.deferIntegerIndex()
            let rows = 1 << 16
            customerNumbers.reserveCapacity(rows)
            timestamps.reserveCapacity(rows)
            amounts.reserveCapacity(rows)
        }

        /// The customer-key limit of a state whose numeric index covers a file of `bytes` (see
        /// ``numericLimit(forFileBytes:)``).
        var numericKeyLimit: Int { customers.numericLimit }

        /// The current block's rows (streaming).
        func withColumns<R>(
            _ body: (UnsafeBufferPointer<Int32>, UnsafeBufferPointer<Int64>, UnsafeBufferPointer<Int64>) -> R
        ) -> R {
            customerNumbers.withUnsafeBufferPointer { keys in
                timestamps.withUnsafeBufferPointer { instants in
                    amounts.withUnsafeBufferPointer { body(keys, instants, $0) }
                }
            }
        }

        /// Drops the current block's rows (streaming).
        mutating func clearColumns() {
            customerNumbers.removeAll(keepingCapacity: true)
            timestamps.removeAll(keepingCapacity: true)
            amounts.removeAll(keepingCapacity: true)
        }

        var loadReport: LoadReport { report }
        var orderIDStore: OrderIDStore { orderIDs }
        var totalMagnitude: Int64 { absoluteTotal }

        /// Makes this state parse from a line start after the header `probe` has read (line numbers count from
        /// 1 at that line; they are only used when the state is not appended to the first half's).
        mutating func startAfterHeader(_ probe: State) {
            headerBytes = probe.headerBytes
            line = 1
        }

        /// The patterns of the first data row's order id and customer id (`nil` for an id that follows no
        /// pattern), or `nil` (no such row in `bytes`, a quote or a wrong field count).
        func firstRowPatterns(
            _ bytes: UnsafeBufferPointer<UInt8>, from start: Int
        ) -> (DigitPattern?, DigitPattern?)? {
            var position = start
            while let newline = findByte(0x0A, bytes, from: position) {
                var end = newline
                if end > position && bytes[end - 1] == 0x0D { end -= 1 }
                if end == position {
                    position = newline + 1
                    continue
                }
                var fields: [Range<Int>] = []
                var fieldStart = position
                for k in position...end {
                    if k == end || bytes[k] == delimiter {
                        fields.append(fieldStart..<k)
                        fieldStart = k + 1
                    } else if bytes[k] == 0x22 || bytes[k] == 0x0D {
                        return nil
                    }
                }
                guard fields.count == columnCount else { return nil }
                return (
                    DigitPattern.infer(UnsafeBufferPointer(rebasing: bytes[fields[orderIDColumn]])),
                    DigitPattern.infer(UnsafeBufferPointer(rebasing: bytes[fields[customerColumn]]))
                )
            }
            return nil
        }

        /// Appends the state of the file's next part (parsed on its own from a line start), when that needs no
        /// line number: `other` skipped no row; its order ids are increasing integers above this state's last
        /// (`.appended`), or both states' ids, none repeated, go into one table (`.joined`, see
        /// ``OrderIDStore/joinedTable(_:_:)``: string ids, integer ids out of order); both index customers one way
        /// (by key with one pattern, or hashed); and the totals add up without overflow. Returns `nil` (nothing
        /// changed) otherwise.
        mutating func append(_ other: consuming State) -> Passes? {
            guard other.report.skippedRows == 0, other.report.errors.isEmpty else { return nil }
            let (total, overflow) = absoluteTotal.addingReportingOverflow(other.absoluteTotal)
            guard !overflow else { return nil }
            let strings = orderIDs.kind == .strings || other.orderIDs.kind == .strings
            // String stores must both be unchecked (one with a table read its ids as one pass would).
            guard !strings || (orderIDs.deferred && other.orderIDs.deferred) else { return nil }
            let map: [Int32]
            let passes: Passes
            // (A deferred store has unchecked ids: it is never appended as is, even to an empty one.)
            if !strings, !orderIDs.deferred, !other.orderIDs.deferred,
                let ids = OrderIDStore.concatenated(orderIDs, other.orderIDs)
            {
                guard let absorbed = customers.absorb(other.customers) else { return nil }
                orderIDs = ids
                map = absorbed
                timestamps.append(contentsOf: other.timestamps)
                amounts.append(contentsOf: other.amounts)
                passes = .appended
            } else {
                guard customers.canAbsorb(other.customers),
                    let table = OrderIDStore.joinedTable(orderIDs, other.orderIDs)
                else { return nil }
                map = join(&other, table: table)
                passes = .joined
            }
            absoluteTotal = total
            customerNumbers.reserveCapacity(customerNumbers.count + other.customerNumbers.count)
            map.withUnsafeBufferPointer { map in
                for number in other.customerNumbers { customerNumbers.append(map[Int(number)]) }
            }
            duplicates += other.duplicates
            report.rowsRead += other.report.rowsRead
            report.ordersLoaded += other.report.ordersLoaded
            report.duplicatesIgnored += other.report.duplicatesIgnored
            return passes
        }

        /// The `.joined` part of ``append(_:)``, once the joined order-id `table` is built: `other`'s customers
        /// merged into this state's on one thread while the other copies `other`'s order ids and columns. What
        /// it has copied of `other` is released as it goes (peak memory): only its customer numbers stay.
        /// Returns the new number of each of `other`'s customers.
        private mutating func join(_ other: inout State, table: IDHashTable) -> [Int32] {
            // Moved out of both states, so that each thread owns what it changes (and no copy is made on write).
            var work = JoinWork(
                customers: customers, otherCustomers: other.customers, orderIDs: orderIDs,
                otherOrderIDs: other.orderIDs, table: table, timestamps: timestamps,
                otherTimestamps: other.timestamps, amounts: amounts, otherAmounts: other.amounts)
            (customers, other.customers) = (CustomerInterner(), CustomerInterner())
            (orderIDs, other.orderIDs) = (OrderIDStore(), OrderIDStore())
            (timestamps, other.timestamps, amounts, other.amounts) = ([], [], [], [])
            withUnsafeMutablePointer(to: &work) { work in
                let box = JoinBox(work: work)
                DispatchQueue.concurrentPerform(iterations: 2) { part in
                    box.work.pointee.run(part: part)
                }
            }
            customers = work.customers
            orderIDs = work.orderIDs
            timestamps = work.timestamps
            amounts = work.amounts
            let map = work.map
            work = JoinWork()
            return map
        }

        /// Makes a state whose order ids were kept unchecked
        /// (``seed(orderIDPattern:customerPattern:deferOrderIDIndex:)``) an ordinary one, with its ids' table, so
        /// that it can read on as one pass would; `false` (nothing changed) when an id occurs twice in it.
        mutating func indexDeferredOrderIDs() -> Bool {
            orderIDs.indexDeferred()
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
            let calendar = options.calendar
            let minorDigits = self.minorDigits
            var fieldStarts = [Int](repeating: 0, count: columnCount + 1)
            let delimiterWord = UInt64(delimiter) &* 0x0101_0101_0101_0101
            let quoteWord = UInt64(0x22) &* 0x0101_0101_0101_0101
            let crWord = UInt64(0x0D) &* 0x0101_0101_0101_0101
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
                // Split into fields, 8 bytes at a time: a word with a quote or CR gives up, the delimiters of the
                // others are visited at exactly their bytes.
                var fields = 0
                fieldStarts[0] = position
                var k = position
                var tooMany = false
                let base = bytes.baseAddress!
                // The line's bytes ORed together: without a high bit the line is ASCII, valid text throughout.
                var highBits: UInt64 = 0
                while k + 8 <= end {
                    let word = UnsafeRawPointer(base + k).loadUnaligned(as: UInt64.self).littleEndian
                    highBits |= word
                    // A quote or a CR anywhere in the line hands the file over, whatever its position.
                    if zeroBytes(word ^ quoteWord) | zeroBytes(word ^ crWord) != 0 {
                        gaveUp = true
                        return position
                    }
                    var delimiters = zeroBytes(word ^ delimiterWord)
                    while delimiters != 0 {
                        let at = k + delimiters.trailingZeroBitCount / 8
                        delimiters &= delimiters - 1
                        fields += 1
                        if fields >= columnCount {
                            tooMany = true
                        } else {
                            fieldStarts[fields] = at + 1
                        }
                    }
                    k += 8
                }
                while k < end {
                    let byte = bytes[k]
                    highBits |= UInt64(byte)
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
                // No field is longer than its line: only a line over `maxField` bytes needs the per-field check.
                if end - position > maxField {
                    for f in 0..<columnCount where fieldStarts[f + 1] - 1 - fieldStarts[f] > maxField {
                        longField = true
                    }
                }
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
                var currencyOK = true
                if let currencyColumn {
                    let field = UnsafeBufferPointer(
                        rebasing: bytes[fieldStarts[currencyColumn]..<(fieldStarts[currencyColumn + 1] - 1)])
                    if field.isEmpty {
                        currencyOK = true
                    } else if field.count != defaultCodeLength {
                        currencyOK = false
                    } else if field.count <= 8 && field.baseAddress! + 8 <= base + n {
                        // One load of the 8 bytes from the field's start, masked to the field.
                        let loaded = UnsafeRawPointer(field.baseAddress!).loadUnaligned(as: UInt64.self).littleEndian
                        let mask = field.count == 8 ? UInt64.max : (1 << UInt64(8 * field.count)) - 1
                        currencyOK = loaded & mask == defaultCodeWord
                    } else {
                        currencyOK = bytesEqual(defaultCode!, field.baseAddress!, field.count)
                    }
                }
                let ascii = highBits & 0x8080_8080_8080_8080 == 0
                guard currencyOK, !id.isEmpty, !customer.isEmpty, ascii || (isValidText(id) && isValidText(customer)),
                    let seconds = State.parseTimestamp(timestampField, calendar: calendar),
                    let amount = State.parseAmount(amountField, minorDigits: minorDigits)
                else {
                    try flush(&batch, bytes)
                    try reject(bytes, position, end, line: line)
                    position = next
                    continue
                }
                let (customerKey, numericKey) = customers.lookupKey(customer)
                if streaming {
                    // No customer table to warm: rows go straight in.
                    try add(
                        id: id, customer: customer, customerKey: customerKey, numericKey: numericKey, seconds: seconds,
                        amount: amount, line: line)
                    position = next
                    continue
                }
                batch.append(
                    PendingRow(
                        id: fieldStarts[orderIDColumn]..<(fieldStarts[orderIDColumn + 1] - 1),
                        customer: fieldStarts[customerColumn]..<(fieldStarts[customerColumn + 1] - 1),
                        customerKey: customerKey, numericKey: numericKey, seconds: seconds, amount: amount,
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
            if !streaming { warmChecksum &+= customers.warm(batch) }
            // Hashed order ids: the batch's table slots are requested before the duplicate look-ups.
            if orderIDs.kind == .strings || orderIDs.kind == .integers {
                for row in batch { orderIDs.prefetch(bytes: UnsafeBufferPointer(rebasing: bytes[row.id])) }
            }
            for row in batch {
                try add(
                    id: UnsafeBufferPointer(rebasing: bytes[row.id]),
                    customer: UnsafeBufferPointer(rebasing: bytes[row.customer]), customerKey: row.customerKey,
                    numericKey: row.numericKey,
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
            id: UnsafeBufferPointer<UInt8>, customer: UnsafeBufferPointer<UInt8>, customerKey: UInt64, numericKey: Bool,
            seconds: Int64, amount: Int64, line: Int
        ) throws(InputError) {
            var seenKey: Int64 = 0
            if seenKeys != nil {
                // Streaming past the first order id out of increasing order: one bit per key.
                guard let key = seenPattern.key(id), key < seenKeys!.limit, !seenKeys!.contains(key) else {
                    gaveUp = true
                    return
                }
                seenKey = key
            }
            var integer: Int64?
            var existing: Int?
            if seenKeys == nil {
                // An export's increasing ids: the next of the store's sequence is new, no look-up.
                if let key = orderIDs.nextInSequence(id) {
                    integer = key
                } else {
                    (integer, existing) = orderIDs.lookUp(bytes: id)
                }
            }
            if streaming && existing != nil {
                gaveUp = true
                return
            }
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
            if streaming {
                guard numericKey, customerKey <= UInt64(keyLimit), streamPattern.fits(customer) else {
                    gaveUp = true
                    return
                }
                streamPattern.narrow(customer)
                absoluteTotal = total
                customerNumbers.append(Int32(truncatingIfNeeded: customerKey))
                timestamps.append(seconds)
                amounts.append(amount)
                if seenKeys != nil {
                    seenKeys!.insert(seenKey)
                    seenPattern.narrow(id)
                } else if let integer {
                    orderIDs.append(integer: integer, spelledBy: id)
                    // The first id out of increasing order left the store's ids unindexed: a bit per key instead.
                    if orderIDs.deferred { startSeenKeys() }
                } else {
                    orderIDs.append(bytes: id)
                }
                report.ordersLoaded += 1
                return
            }
            absoluteTotal = total
            let row = timestamps.count
            if line - row != (lineBreaks.last?.delta ?? -1) { lineBreaks.append((row, line - row)) }
            customerNumbers.append(customers.intern(customer, key: customerKey, numeric: numericKey))
            timestamps.append(seconds)
            amounts.append(amount)
            if let integer { orderIDs.append(integer: integer, spelledBy: id) } else { orderIDs.append(bytes: id) }
            report.ordersLoaded += 1
        }

        /// Streaming: replaces the order-id store (integer ids, the last one out of increasing order, not yet
        /// indexed) by a bit per key, when every key is under the limit; else the store indexes its ids and goes
        /// on.
        private mutating func startSeenKeys() {
            var seen = SeenKeys(limit: orderKeyLimit)
            for row in 0..<orderIDs.count {
                guard let key = orderIDs.integer(at: row), key < seen.limit else {
                    // Every id before this row was checked when it came: no repeat among them.
                    if !orderIDs.indexDeferred() { gaveUp = true }
                    return
                }
                seen.insert(key)
            }
            seenKeys = seen
            seenPattern = orderIDs.pattern
            orderIDs = OrderIDStore()
        }

        /// Whether no order id of the streaming state `b` (the file's second part) is in `a` (the first), their
        /// ids spelled with one pattern: at once for increasing integer ids, else by looking each one up (in a
        /// store, or as a bit of ``SeenKeys``).
        static func orderIDsDisjoint(_ a: State, _ b: State) -> Bool {
            if a.seenKeys == nil && b.seenKeys == nil { return FastCSVLoader.disjoint(a.orderIDs, b.orderIDs) }
            guard a.seenKeys != nil || a.orderIDs.kind != .strings, b.seenKeys != nil || b.orderIDs.kind != .strings,
                DigitPattern.common(
                    a.seenKeys == nil ? a.orderIDs.pattern : a.seenPattern,
                    b.seenKeys == nil ? b.orderIDs.pattern : b.seenPattern) != nil
            else { return false }
            // One spelling per integer under the common pattern: equal ids are equal keys.
            if let aKeys = a.seenKeys, let bKeys = b.seenKeys { return SeenKeys.disjoint(aKeys, bKeys) }
            let (keys, store) = a.seenKeys != nil ? (a.seenKeys!, b.orderIDs) : (b.seenKeys!, a.orderIDs)
            for row in 0..<store.count {
                let key = store.integer(at: row)!
                if key < keys.limit && keys.contains(key) { return false }
            }
            return true
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
        // Static, with only what they need: as methods of the (700-byte) state they made the row loop copy it
        // twice a row.
        private static func parseTimestamp(_ field: UnsafeBufferPointer<UInt8>, calendar: PeriodCalendar) -> Int64? {
            if let fast = FastCSVLoader.utcTimestamp(field) { return fast }
            let bytes = trimmed(field)
            if bytes.isEmpty { return nil }
            do throws(TimestampParseError) { return try TimestampParser.parse(bytes, in: calendar) } catch {
                return nil
            }
        }

        @inline(__always)
        private static func parseAmount(_ field: UnsafeBufferPointer<UInt8>, minorDigits: Int) -> Int64? {
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
                orderIDs: orderIDs, customerIndex: customers.numeric == nil ? customers.table : nil,
                duplicatesIgnored: duplicates, absoluteTotal: absoluteTotal, numericCustomerIndex: customers.numeric)
            return (ledger, report)
        }
    }

    static let monthTableFirstYear = 1900
    /// Days since 1970-01-01 of the first day of each month of 1900...2199 (14 KB, one lookup per timestamp
    /// instead of the divisions of the general formula).
    static let monthStarts: [Int32] = {
        var starts: [Int32] = []
        starts.reserveCapacity(300 * 12)
        for year in monthTableFirstYear..<(monthTableFirstYear + 300) {
            for month in 1...12 {
                starts.append(Int32(CivilDate(year: year, month: month, day: 1)!.daysSince1970))
            }
        }
        return starts
    }()

    /// `YYYY-MM-DDTHH:MM:SSZ` exactly (what most exports write), or `nil` for anything else, valid or not.
    @inline(__always)
    static func utcTimestamp(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count == 20, let base = b.baseAddress else { return nil }
        // Eight bytes at a time, XORed with the template "0000-00-00T00:00:00Z": a digit becomes its value (0...9),
        // a separator in place becomes 0; anything else leaves a bit set that `bad` catches.
        let raw = UnsafeRawPointer(base)
        // The templates: "0000-00-", "00T00:00" and ":00Z", little-endian.
        let w0 = raw.loadUnaligned(as: UInt64.self).littleEndian ^ 0x2D30_302D_3030_3030
        let w1 = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian ^ 0x3030_3A30_3054_3030
        let w2 = UInt64(raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self).littleEndian) ^ 0x5A30_303A
        // Digit bytes must be below 10: no bit above the low nibble, and no carry out of it when adding 6 (a
        // byte with a high bit set is caught by the first test, so the additions never carry between bytes).
        @inline(__always) func bad(_ word: UInt64, digits: UInt64) -> UInt64 {
            let d = word & digits
            let others = word & ~digits
            return (d & 0xF0F0_F0F0_F0F0_F0F0) | ((d &+ 0x0606_0606_0606_0606 & digits) & 0x1010_1010_1010_1010)
                | others
        }
        guard
            bad(w0, digits: 0x00FF_FF00_FFFF_FFFF) | bad(w1, digits: 0xFFFF_00FF_FF00_FFFF)
                | bad(w2, digits: 0x0000_0000_00FF_FF00) == 0
        else { return nil }
        @inline(__always) func byte(_ word: UInt64, _ index: UInt64) -> Int {
            Int(truncatingIfNeeded: word >> (8 * index)) & 0xFF
        }
        let year = byte(w0, 0) * 1000 + byte(w0, 1) * 100 + byte(w0, 2) * 10 + byte(w0, 3)
        let month = byte(w0, 5) * 10 + byte(w0, 6)
        let day = byte(w1, 0) * 10 + byte(w1, 1)
        let hour = byte(w1, 3) * 10 + byte(w1, 4)
        let minute = byte(w1, 6) * 10 + byte(w1, 7)
        let second = byte(w2, 1) * 10 + byte(w2, 2)
        guard month >= 1, month <= 12, day >= 1, hour < 24, minute < 60, second < 60 else { return nil }
        if day > 28 {
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            let length =
                month == 2 ? (leap ? 29 : 28) : (month == 4 || month == 6 || month == 9 || month == 11 ? 30 : 31)
            guard day <= length else { return nil }
        }
        let slot = (year - FastCSVLoader.monthTableFirstYear) * 12 + month - 1
        if slot >= 0 && slot < FastCSVLoader.monthStarts.count {
            let days = Int(FastCSVLoader.monthStarts[slot]) + day - 1
            return Int64(days * 86_400 + hour * 3600 + minute * 60 + second)
        }
        // Days from civil (Howard Hinnant's algorithm); the year is 0...9999.
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
        // At most 18 digits in all (10^18 < Int64.max), so no step below can overflow; longer amounts go to the
        // exact parser, which reports an overflow as such (fuzzing found the trap this bound prevents).
        let maximumIntegerDigits = min(15, 18 - minorDigits)
        while i < n, b[i] &- 0x30 < 10 {
            guard i - integerStart < maximumIntegerDigits else { return nil }
            value = value * 10 + Int64(b[i] &- 0x30)
            i += 1
        }
        let integerDigits = i - integerStart
        guard integerDigits >= 1 else { return nil }
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
    /// While every id follows one pattern (`C0001234`): customers by integer key, and no entries or table.
    private(set) var numeric: NumericIDIndex?
    /// Whether the first id may still choose the pattern (false once seeded or decided).
    private var undecided = true
    /// The largest key a numeric index may hold (a few times the expected rows).
    var numericLimit = 1 << 20

    var count: Int { numeric?.count ?? entries.count }

    /// Starts in numeric mode with `pattern` (`nil`: hashing) instead of the first id's pattern.
    mutating func seed(pattern: DigitPattern?) {
        precondition(count == 0, "seed before the first customer")
        undecided = false
        numeric = pattern.map { NumericIDIndex(pattern: $0, limit: numericLimit) }
    }

    /// What a pending row carries to its lookup: the integer key in numeric mode (`UInt64.max` when the id
    /// breaks the pattern), else the id's hash.
    @inline(__always)
    mutating func lookupKey(_ bytes: UnsafeBufferPointer<UInt8>) -> (key: UInt64, numeric: Bool) {
        if undecided {
            undecided = false
            if let pattern = DigitPattern.infer(bytes) {
                numeric = NumericIDIndex(pattern: pattern, limit: numericLimit)
            }
        }
        if let numeric {
            return (numeric.pattern.key(bytes).map { UInt64($0) } ?? .max, true)
        }
        return (IDHash.hash(UnsafeRawBufferPointer(bytes)), false)
    }

    /// Leaves numeric mode: every customer so far gets an entry and a table slot, in number order.
    private mutating func convertToHashing() {
        guard let index = numeric else { return }
        numeric = nil
        table = IDHashTable(minimumCapacity: Swift.max(1 << 16, index.count * 2))
        for key in index.keysByNumber() {
            var text = index.pattern.string(key)
            text.withUTF8 { bytes in _ = intern(bytes, hash: IDHash.hash(UnsafeRawBufferPointer(bytes))) }
        }
    }

    /// Interns a pending row's customer (`key` from ``lookupKey(_:)``).
    @inline(__always)
    mutating func intern(_ bytes: UnsafeBufferPointer<UInt8>, key: UInt64, numeric isNumeric: Bool) -> Int32 {
        if numeric != nil {
            // `key` was computed before the rows ahead of this one in the batch narrowed the widths: re-check.
            if isNumeric && key != .max && numeric!.pattern.fits(bytes) {
                if let found = numeric!.find(key: Int64(key)) { return found }
                let number = Int32(numeric!.count)
                if numeric!.insert(key: Int64(key), number: number, spelledBy: bytes) { return number }
            }
            convertToHashing()
        }
        return intern(bytes, hash: isNumeric ? IDHash.hash(UnsafeRawBufferPointer(bytes)) : key)
    }

    /// Whether ``absorb(_:)`` takes `other`.
    func canAbsorb(_ other: CustomerInterner) -> Bool {
        if numeric == nil && other.numeric == nil { return !undecided && !other.undecided }
        guard let index = numeric, let otherIndex = other.numeric else { return false }
        return DigitPattern.common(index.pattern, otherIndex.pattern) != nil && otherIndex.slots.count <= index.limit
    }

    /// Adds `other`'s customers after this interner's, when both are numeric with one pattern or both hash;
    /// returns the new number of each of `other`'s numbers, or `nil` (and changes nothing) otherwise.
    mutating func absorb(_ other: CustomerInterner) -> [Int32]? {
        if numeric == nil && other.numeric == nil && !undecided && !other.undecided { return absorbHashed(other) }
        guard var index = numeric, let otherIndex = other.numeric,
            let pattern = DigitPattern.common(index.pattern, otherIndex.pattern), otherIndex.slots.count <= index.limit
        else { return nil }
        numeric = nil
        index.adopt(pattern: pattern)
        var map = [Int32](repeating: 0, count: otherIndex.count)
        let keys = otherIndex.keysByNumber()
        for number in keys.indices {
            if let found = index.find(key: keys[number]) {
                map[number] = found
            } else {
                let new = Int32(index.count)
                let inserted = index.insert(key: keys[number], number: new)
                precondition(inserted, "keys below the other index's limit fit")
                map[number] = new
            }
        }
        numeric = index
        return map
    }

    /// ``absorb(_:)`` of hashed customers: each of `other`'s customers looked up (and added when new) in number
    /// order, so new ones get numbers in first-seen order. A batch of 32 first asks for its table slots, then
    /// touches the entries they hold, then interns: the cache misses of a batch overlap.
    private mutating func absorbHashed(_ other: CustomerInterner) -> [Int32] {
        let total = other.entries.count
        var map: [Int32] = []
        map.reserveCapacity(total)
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 32) { hashes in
            var start = 0
            while start < total {
                let end = Swift.min(start + 32, total)
                for number in start..<end {
                    hashes[number - start] = other.hash(of: Int32(number))
                    table.prefetch(hash: hashes[number - start])
                }
                let mask = table.mask
                warmChecksum &+= table.slots.withUnsafeBufferPointer { slots in
                    entries.withUnsafeBufferPointer { entries in
                        var sink: UInt32 = 0
                        for k in 0..<(end - start) {
                            let slot = slots[Int(truncatingIfNeeded: hashes[k]) & mask]
                            if slot != 0 { sink &+= entries[Int(IDHashTable.value(slot))].length }
                        }
                        return sink
                    }
                }
                for number in start..<end {
                    map.append(other.withBytes(of: Int32(number)) { intern($0, hash: hashes[number - start]) })
                }
                start = end
            }
        }
        return map
    }

    /// What the cache-warming loads of ``absorbHashed(_:)`` read (kept so that they are not optimised away).
    private var warmChecksum: UInt32 = 0

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
        if let numeric { return numeric.pattern.key(bytes).flatMap { numeric.find(key: $0) } == number }
        return arena.withUnsafeBufferPointer {
            CustomerInterner.matches(entries[Int(number)], bytes, CustomerInterner.prefix(bytes), $0)
        }
    }

    /// Touches the table slot and the entry of each pending row's customer, with no dependency between rows,
    /// so the CPU overlaps the cache misses that `intern` would otherwise take one after the other. Returns a
    /// meaningless sum of what it read.
    func warm(_ rows: [FastCSVLoader.PendingRow]) -> UInt32 {
        var sink: UInt32 = 0
        if let numeric {
            numeric.slots.withUnsafeBufferPointer { slots in
                for row in rows where row.customerKey < UInt64(slots.count) {
                    sink &+= UInt32(bitPattern: slots[Int(row.customerKey)])
                }
            }
            return sink
        }
        let mask = table.mask
        table.slots.withUnsafeBufferPointer { slots in
            entries.withUnsafeBufferPointer { entries in
                for row in rows where !row.numericKey {
                    let slot = slots[Int(truncatingIfNeeded: row.customerKey) & mask]
                    if slot != 0 { sink &+= entries[Int(IDHashTable.value(slot))].length }
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

    /// The ids of a numeric index in number order, written in two halves by two threads (3 M ids take ~0.1 s
    /// of CPU each way; the keys are first gathered in number order so that both threads write sequentially).
    static func strings(_ index: NumericIDIndex) -> [String] {
        let keys = index.keysByNumber()
        let pattern = index.pattern
        let count = keys.count
        return [String](unsafeUninitializedCapacity: count) { ids, initialized in
            let target = StringsBox(base: ids.baseAddress!)
            keys.withUnsafeBufferPointer { keys in
                let source = KeysBox(base: keys.baseAddress!)
                let parts = count >= 1 << 16 ? 2 : 1
                DispatchQueue.concurrentPerform(iterations: parts) { part in
                    let range = part == 0 ? 0..<(count / parts) : (count / parts)..<count
                    for number in range { (target.base + number).initialize(to: pattern.string(source.base[number])) }
                }
            }
            initialized = count
        }
    }

    /// Calls `body` with customer `number`'s bytes.
    private func withBytes<R>(of number: Int32, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        arena.withUnsafeBufferPointer { CustomerInterner.withBytes(of: entries[Int(number)], arena: $0, body) }
    }

    /// Calls `body` with the bytes of the customer `entry` describes: its first 8 bytes from the entry, the rest
    /// from `arena`.
    static func withBytes<R>(
        of entry: Entry, arena: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> R
    ) -> R {
        let length = Int(entry.length)
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(8, length)) { buffer in
            var prefix = entry.prefix
            for k in 0..<min(8, length) {
                buffer[k] = UInt8(truncatingIfNeeded: prefix)
                prefix >>= 8
            }
            for k in min(8, length)..<length { buffer[k] = arena[Int(entry.tailStart) + k - 8] }
            return body(UnsafeBufferPointer(rebasing: buffer[0..<length]))
        }
    }

    private func hash(of number: Int32) -> UInt64 {
        withBytes(of: number) { IDHash.hash(UnsafeRawBufferPointer($0)) }
    }

    /// The customer ids as strings, in number order (from 65,536 customers on, written in two halves by two
    /// threads).
    func strings() -> [String] {
        if let numeric { return CustomerInterner.strings(numeric) }
        let count = entries.count
        return [String](unsafeUninitializedCapacity: count) { ids, initialized in
            let target = StringsBox(base: ids.baseAddress!)
            entries.withUnsafeBufferPointer { entries in
                arena.withUnsafeBufferPointer { arena in
                    let source = EntriesBox(entries: entries, arena: arena)
                    let parts = count >= 1 << 16 ? 2 : 1
                    DispatchQueue.concurrentPerform(iterations: parts) { part in
                        let range = part == 0 ? 0..<(count / parts) : (count / parts)..<count
                        for number in range { (target.base + number).initialize(to: source.string(number)) }
                    }
                }
            }
            initialized = count
        }
    }
}

/// The interner's entries and arena, read by both threads of ``CustomerInterner/strings()`` (never written while
/// they run).
private struct EntriesBox: @unchecked Sendable {
    let entries: UnsafeBufferPointer<CustomerInterner.Entry>
    let arena: UnsafeBufferPointer<UInt8>

    /// Customer `number`'s id.
    func string(_ number: Int) -> String {
        CustomerInterner.withBytes(of: entries[number], arena: arena) { String(decoding: $0, as: UTF8.self) }
    }
}

/// The index of the first `byte` in `bytes[from...]`.
@inline(__always)
func findByte(_ byte: UInt8, _ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
    guard start < bytes.count, let base = bytes.baseAddress else { return nil }
    guard let hit = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
    return UnsafeRawPointer(hit) - UnsafeRawPointer(base)
}

/// The high bit of every zero byte of `word`, exactly (no false positives next to a zero byte, unlike the shorter
/// `(v - 0x01...) & ~v & 0x80...` test).
@inline(__always)
func zeroBytes(_ word: UInt64) -> UInt64 {
    let low = UInt64(0x7F7F_7F7F_7F7F_7F7F)
    return ~(((word & low) &+ low) | word | low)
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

/// A set of integer keys `0..<limit`, one bit each: the order ids a streaming pass has seen once they come out of
/// increasing order (10^7 keys in 1.25 MB, where a store of the ids would take an `Int64` and a hash slot each).
struct SeenKeys {
    let limit: Int
    private var words: [UInt64]

    init(limit: Int) {
        self.limit = limit
        words = [UInt64](repeating: 0, count: limit / 64 + 1)
    }

    @inline(__always)
    func contains(_ key: Int64) -> Bool {
        words[Int(key) >> 6] & (1 << UInt64(key & 63)) != 0
    }

    @inline(__always)
    mutating func insert(_ key: Int64) {
        words[Int(key) >> 6] |= 1 << UInt64(key & 63)
    }

    /// Whether no key is in both.
    static func disjoint(_ a: SeenKeys, _ b: SeenKeys) -> Bool {
        for k in 0..<Swift.min(a.words.count, b.words.count) where a.words[k] & b.words[k] != 0 { return false }
        return true
    }
}
