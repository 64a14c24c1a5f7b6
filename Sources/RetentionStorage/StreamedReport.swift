import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension RetentionReport {
    /// The report of a CSV export, read once in blocks that are folded into per-customer states and dropped:
    /// memory grows with customers, not orders, and no ledger is built. Equal to
    /// `RetentionReport(CSVOrderReader.loadLedger(path:options:).ledger, options:)` with the same load report,
    /// which it falls back to (reading the file again) for input or options the fold does not take.
    ///
    /// ```swift
    /// let (report, load) = try RetentionReport.streamed(fromCSV: "orders.csv")
    /// print(report.repeatPurchaseRate ?? 0, load.skippedRows)
    /// ```
    ///
    /// The one-pass path needs what the bulk reader's fast path needs (unquoted fields, one currency, see
    /// ``CSVOrderReader/loadLedger(path:options:)``), customer ids that follow one digit pattern (`C0001234`,
    /// `4711`), no repeated order id, `.share` binning, a window whenever there is an as-of day, and cohort
    /// periods such that no customer's purchases span 64 of them (monthly and quarterly cohorts in practice).
    ///
    /// - Parameters:
    ///   - path: The CSV file.
    ///   - input: Mapping, zone, default currency, bad-row policy, limits.
    ///   - options: The report's options.
    /// - Returns: The report and the load report (rows read, orders loaded, skipped rows and their errors).
    /// - Throws: ``InputError`` as ``CSVOrderReader/loadLedger(path:options:)`` does; ``MetricError`` as
    ///   ``RetentionReport/init(_:options:)-(OrderLedger,_)`` does.
    /// - Complexity: O(*n*) time for *n* orders; memory O(*c*) for *c* customers on the one-pass path (64 bytes
    ///   each, plus two 8 MiB blocks), O(*n*) on the fallback.
    public static func streamed(
        fromCSV path: String, input: OrderInputOptions = OrderInputOptions(), options: Options = Options()
    ) throws -> (report: RetentionReport, load: LoadReport) {
        if let streamed = try FastCSVLoader.streamReport(path: path, options: input, reportOptions: options) {
            return streamed
        }
        let (ledger, load) = try CSVOrderReader.loadLedger(path: path, options: input)
        return (try RetentionReport(ledger, options: options), load)
    }
}

/// The parts' states, readers and results while the threads of one round use them (each thread touches only
/// its own index; `concurrentPerform` returns after both, which orders their writes before later reads).
private struct RoundBox: @unchecked Sendable {
    let states: UnsafeMutablePointer<FastCSVLoader.State>
    let readers: UnsafeMutablePointer<FastCSVLoader.RangeReader>
    let results: UnsafeMutablePointer<Result<Bool, InputError>>
}

/// The states, read by both fold workers (never written while they run).
private struct StatesBox: @unchecked Sendable {
    let states: UnsafePointer<FastCSVLoader.State>
    let count: Int
}

extension FastCSVLoader {
    /// The one-pass path of ``RetentionReport/streamed(fromCSV:input:options:)``, or `nil` for the fallback.
    static func streamReport(
        path: String, options: OrderInputOptions, reportOptions: RetentionReport.Options,
        blockSize: Int = FastCSVLoader.blockSize, split: Split = Split()
    ) throws -> (RetentionReport, LoadReport)? {
        guard reportOptions.binning == .share, reportOptions.window != nil || reportOptions.asOf == nil else {
            return nil
        }
        guard
            let (fold, load, _) = try streamRows(
                path: path, options: options, blockSize: blockSize, split: split,
                make: { first, keyLimit in try ReportFold(options: reportOptions, keyLimit: keyLimit, around: first) })
        else { return nil }
        guard let report = try fold.report(currency: load.ordersLoaded > 0 ? options.defaultCurrency : nil) else {
            return nil
        }
        return (report, load)
    }

    /// Reads a CSV file once and folds every row into a ``RowFold`` made (by `make`, from the first row's instant
    /// and the customer-key limit) when the first rows arrive; `nil` when the one pass does not apply (see
    /// ``State/startStreaming(keyLimit:)``) or the fold gives up.
    ///
    /// Rounds: each part of the file (two halves of a file of at least `split.threshold` bytes, else one) parses
    /// one block into its state, on its own thread; then the fold's workers fold every part's rows (each takes
    /// the customers of its key parity); then the blocks are dropped. At the end the parts must join as
    /// ``State/append(_:)`` would join them (the second part skipped no row, the order ids are disjoint, the
    /// customer patterns agree, the totals add up), else the caller reads the file the ledger's way.
    ///
    /// - Returns: The fold, the load report, and the customer-id pattern every row followed.
    static func streamRows<Fold: RowFold>(
        path: String, options: OrderInputOptions, blockSize: Int = FastCSVLoader.blockSize, split: Split = Split(),
        make: (_ firstInstant: Int64, _ keyLimit: Int) throws -> Fold?
    ) throws -> (Fold, LoadReport, DigitPattern)? {
        let header = try CSVOrderReader(path: path, options: options)
        guard var state = State(header: header, options: options) else { return nil }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw InputError(.unreadableFile, line: nil, value: path, "cannot be opened: \(ByteSource.errnoText())")
        }
        defer { _ = close(descriptor) }
        var info = stat()
        let size = fstat(descriptor, &info) == 0 ? Int(info.st_size) : 0
        guard size > 0 else { return nil }
        state.numericLimit(forFileBytes: size)
        let keyLimit = state.numericKeyLimit
        var states: [State]
        var ranges: [Range<Int>]
        if size >= split.threshold,
            let (first, second, middle) = try splitStates(
                descriptor, size: size, state: state, split: split, path: path)
        {
            states = [first, second]
            ranges = [0..<middle, middle..<size]
        } else {
            guard let (_, patterns, _) = probeFirstRow(descriptor, size: size, state: state),
                let orderIDPattern = patterns.0, let customerPattern = patterns.1
            else { return nil }
            state.seed(orderIDPattern: orderIDPattern, customerPattern: customerPattern)
            states = [state]
            ranges = [0..<Int.max]
        }
        for index in states.indices { states[index].startStreaming(keyLimit: keyLimit) }
        var readers = ranges.indices.map {
            RangeReader(descriptor, ranges[$0], header: $0 == 0, blockSize: blockSize, path: path)
        }
        var results = [Result<Bool, InputError>](repeating: .success(true), count: states.count)
        var fold: Fold?
        while readers.contains(where: { !$0.finished }) {
            states.withUnsafeMutableBufferPointer { states in
                readers.withUnsafeMutableBufferPointer { readers in
                    results.withUnsafeMutableBufferPointer { results in
                        let box = RoundBox(
                            states: states.baseAddress!, readers: readers.baseAddress!, results: results.baseAddress!)
                        DispatchQueue.concurrentPerform(iterations: states.count) { part in
                            box.results[part] = Result { () throws(InputError) -> Bool in
                                try box.readers[part].step(into: &box.states[part])
                            }
                        }
                    }
                }
            }
            // The first part's error is the first in file order; the second part's line numbers count from its
            // start, so its errors are the ledger path's to report.
            guard try results[0].get() else { return nil }
            if results.count > 1, case .failure = results[1] { return nil }
            if results.count > 1, case .success(false) = results[1] { return nil }
            if fold == nil {
                let first = states.lazy.compactMap { state in state.withColumns { _, instants, _ in instants.first } }
                    .first
                guard let first else { continue }
                guard let made = try make(first, keyLimit) else { return nil }
                fold = made
            }
            let folding = fold!
            states.withUnsafeBufferPointer { states in
                let box = StatesBox(states: states.baseAddress!, count: states.count)
                DispatchQueue.concurrentPerform(iterations: folding.workers) { worker in
                    for part in 0..<box.count {
                        box.states[part].withColumns { keys, timestamps, amounts in
                            folding.fold(worker: worker, keys: keys, timestamps: timestamps, amounts: amounts)
                        }
                    }
                }
            }
            guard !folding.gaveUp else { return nil }
            for index in states.indices { states[index].clearColumns() }
        }
        guard let fold else { return nil }  // no rows: the ledger path says what that means
        var load = states[0].loadReport
        var pattern = states[0].streamPattern
        if states.count > 1 {
            let (first, second) = (states[0], states[1])
            guard second.loadReport.skippedRows == 0, second.loadReport.errors.isEmpty,
                let common = DigitPattern.common(first.streamPattern, second.streamPattern),
                !first.totalMagnitude.addingReportingOverflow(second.totalMagnitude).overflow,
                State.orderIDsDisjoint(first, second)
            else { return nil }
            pattern = common
            load.rowsRead += second.loadReport.rowsRead
            load.ordersLoaded += second.loadReport.ordersLoaded
        }
        return (fold, load, pattern)
    }

    /// Whether no order id of `b` is in `a`: at once for increasing integer ids, else by looking each one up.
    static func disjoint(_ a: OrderIDStore, _ b: OrderIDStore) -> Bool {
        if OrderIDStore.concatenated(a, b) != nil { return true }
        if a.kind != .strings, b.kind != .strings, DigitPattern.common(a.pattern, b.pattern) != nil {
            // One spelling per integer under the common pattern: equal ids are equal integers.
            for row in 0..<b.count where a.row(ofInteger: b.integer(at: row)!) != nil { return false }
            return true
        }
        for row in 0..<b.count where a.row(of: b.string(at: row)) != nil { return false }
        return true
    }
}

extension RFMColumns {
    /// The RFM columns of a CSV export in one pass that never holds the orders (per customer 24 bytes while
    /// reading), or `nil` when the file needs the ledger path: then compute
    /// `RFMScores(RFMSummary(ledger:asOf:calendar:), bins:)` from ``CSVOrderReader/loadLedger(path:options:)``.
    ///
    /// Equal to that ledger path (frequency = purchases, monetary = total, refunds `.net`, ties `.share`, segments
    /// of `segmentation`) where it answers. It needs what ``RetentionReport/streamed(fromCSV:input:options:)``'s
    /// one pass needs, customer ids of one prefix and one length (`C0000042`, so that key order is id order),
    /// and `bins` in 1...32.
    ///
    /// ```swift
    /// let calendar = PeriodCalendar(identifier: "Europe/Berlin")!
    /// if let (rfm, load) = try RFMColumns.onePass(fromCSV: "orders.csv", input: .init(calendar: calendar)) {
    ///     print(rfm.count, load.skippedRows)
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - path: The CSV file.
    ///   - input: Mapping, zone (the RFM days are local days of `input.calendar`), default currency, bad-row
    ///     policy.
    ///   - asOf: The as-of day; orders after it are ignored. `nil`: the local day of the latest order.
    ///   - bins: Number of scores b.
    ///   - segmentation: The segment table.
    /// - Returns: The columns and the load report, or `nil`.
    /// - Throws: ``InputError`` as the ledger path does for the first bad row under `.fail` in the first half of
    ///   the file (any other bad input makes it return `nil`, and the ledger path reports it).
    /// - Complexity: O(*n* + *c*) for *n* orders and *c* customers; memory O(*c*).
    public static func onePass(
        fromCSV path: String, input: OrderInputOptions = OrderInputOptions(), asOf: CivilDate? = nil,
        bins: Int = 5, segmentation: RFMSegmentation = .standard
    ) throws -> (columns: RFMColumns, load: LoadReport)? {
        try onePass(path: path, input: input, asOf: asOf, bins: bins, segmentation: segmentation)
    }

    /// ``onePass(fromCSV:input:asOf:bins:segmentation:)`` with the reader's block size and split (tests).
    static func onePass(
        path: String, input: OrderInputOptions, asOf: CivilDate?, bins: Int, segmentation: RFMSegmentation,
        blockSize: Int = FastCSVLoader.blockSize, split: FastCSVLoader.Split = FastCSVLoader.Split()
    ) throws -> (columns: RFMColumns, load: LoadReport)? {
        guard (1...32).contains(bins) else { return nil }
        guard
            let (fold, load, pattern) = try FastCSVLoader.streamRows(
                path: path, options: input, blockSize: blockSize, split: split,
                make: { _, keyLimit in
                    RFMFold(keyLimit: keyLimit, asOf: asOf, calendar: input.calendar, refunds: .net)
                })
        else { return nil }
        let (prefix, digits) = pattern.spelling
        guard
            let columns = fold.columns(
                calendar: input.calendar, bins: bins, segmentation: segmentation, idPrefix: prefix, idDigits: digits),
            pattern.spellsAlike(columns.keys.first, columns.keys.last)
        else { return nil }
        return (columns, load)
    }
}

extension BTYDSummaryColumns {
    /// The BTYD summary of a CSV export in one pass that never holds the orders (32 bytes per customer while
    /// reading, plus the (customer, period) pairs of customers with more than three purchase periods), or `nil`
    /// when the file needs the ledger path: then use `BTYDSummary(ledger:calendar:observationEnd:unit:)` over
    /// ``CSVOrderReader/loadLedger(path:options:)``. Equal to it (refunds `.net`) where it answers; it needs what
    /// ``RFMColumns/onePass(fromCSV:input:asOf:bins:segmentation:)`` needs, and `unit` `.day` or `.week`.
    ///
    /// ```swift
    /// if let (btyd, _) = try BTYDSummaryColumns.onePass(fromCSV: "orders.csv", unit: .week) {
    ///     print(btyd.count, btyd.frequency.max() ?? 0)
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - path: The CSV file.
    ///   - input: Mapping, zone, default currency, bad-row policy.
    ///   - observationEnd: The last observed day (orders in later periods are ignored); `nil`: the local day of
    ///     the latest order.
    ///   - unit: `.day` or `.week`.
    /// - Returns: The columns and the load report, or `nil`.
    /// - Throws: ``InputError`` as ``RFMColumns/onePass(fromCSV:input:asOf:bins:segmentation:)`` does.
    /// - Complexity: O(*n* + *c*) for *n* orders and *c* customers.
    public static func onePass(
        fromCSV path: String, input: OrderInputOptions = OrderInputOptions(), observationEnd: CivilDate? = nil,
        unit: BTYDSummary.Unit = .day
    ) throws -> (columns: BTYDSummaryColumns, load: LoadReport)? {
        try onePass(path: path, input: input, observationEnd: observationEnd, unit: unit)
    }

    /// ``onePass(fromCSV:input:observationEnd:unit:)`` with the reader's block size and split (tests).
    static func onePass(
        path: String, input: OrderInputOptions, observationEnd: CivilDate?, unit: BTYDSummary.Unit,
        blockSize: Int = FastCSVLoader.blockSize, split: FastCSVLoader.Split = FastCSVLoader.Split()
    ) throws -> (columns: BTYDSummaryColumns, load: LoadReport)? {
        guard unit != .weeksFromDays else { return nil }
        guard
            let (fold, load, pattern) = try FastCSVLoader.streamRows(
                path: path, options: input, blockSize: blockSize, split: split,
                make: { first, keyLimit in
                    BTYDSummaryFold(
                        keyLimit: keyLimit, around: first, calendar: input.calendar, observationEnd: observationEnd,
                        unit: unit, refunds: .net)
                })
        else { return nil }
        let (prefix, digits) = pattern.spelling
        guard
            let columns = fold.columns(
                currency: load.ordersLoaded > 0 ? input.defaultCurrency : nil, idPrefix: prefix, idDigits: digits),
            pattern.spellsAlike(columns.keys.first, columns.keys.last)
        else { return nil }
        return (columns, load)
    }
}

extension DigitPattern {
    /// The prefix as text and the minimum number of digits, as ids of this pattern are spelled.
    var spelling: (prefix: String, digits: Int) {
        var bytes: [UInt8] = []
        var word = prefixWord
        for _ in 0..<prefixLength {
            bytes.append(UInt8(truncatingIfNeeded: word))
            word >>= 8
        }
        return (String(decoding: bytes, as: UTF8.self), minWidth)
    }

    /// Whether the ids of keys `low...high` all have one length (so that key order is id order): their ends do.
    func spellsAlike(_ low: Int64?, _ high: Int64?) -> Bool {
        guard let low, let high else { return true }
        func length(_ key: Int64) -> Int { Swift.max(String(key).count, minWidth) }
        return length(low) == length(high)
    }
}
