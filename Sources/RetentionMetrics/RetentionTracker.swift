internal import CRetentionPrefetch
import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A live order history that answers a ``RetentionReport`` at any moment: record orders one at a time or in
/// batches as they arrive, ask for the report whenever needed.
///
///     report(options) == RetentionReport(OrderLedger(every order recorded so far), options: options)
///
/// ```swift
/// var tracker = RetentionTracker(live: .init(calendar: PeriodCalendar(identifier: "Europe/Berlin")!))
/// try tracker.record(Order(id: "1001", customerID: "alice", timestamp: t0, amount: 2_500))
/// try tracker.record(contentsOf: todaysOrders)          // all or nothing
/// let report = try tracker.liveReport()                 // O(customers), not O(orders)
/// report.repeatPurchaseRate
/// ```
///
/// The tracker applies the ledger's rules (one currency, exact deduplication by order id, totals that fit in
/// `Int64`) with the ledger's compact structures: order ids in an `OrderIDStore` (sequential integer ids cost
/// no lookup and no storage), customer ids by integer key in a direct table while they follow one pattern
/// (`"48213"`, `"C0001234"`), else in an `IDHashTable`. It keeps the orders in columns, so any report can be
/// computed by the fused kernel; a tracker made with ``init(live:)`` also keeps the report for one calendar,
/// cohort unit and refund policy up to date on every record.
///
/// - Complexity: ``record(_:)`` O(1) amortised; ``report(options:)`` O(*c*) for *c* customers when a live tracker
///   answers `options` (see ``init(live:)``), O(*n* + *c*) for *n* orders otherwise.
public struct RetentionTracker: Sendable {
    /// The currency of the recorded orders; `nil` while none is recorded.
    public private(set) var currency: Currency?
    /// Identical orders recorded again and ignored.
    public private(set) var duplicatesIgnored = 0
    /// The report options the tracker keeps a live report for (see ``init(live:)``); `nil` for a plain tracker.
    public let liveOptions: RetentionReport.Options?

    private var customerIDs: [String] = []
    /// While every customer id follows one `DigitPattern` (`"48213"`, `"C0001234"`) with keys below 2^24:
    /// customer numbers by integer key in a direct table (one load, no string comparison).
    private var numericCustomers: NumericIDIndex?
    /// Otherwise customer numbers by customer id: `number + 1` keyed by `IDHash` of the id's UTF-8 bytes.
    private var customerIndex = IDHashTable()
    private var hashingCustomers = false
    private var customerColumn: [Int32] = []
    private var timestampColumn: [Int64] = []
    private var amountColumn: [Int64] = []
    /// Order ids by row: integers without a table while they arrive in order, otherwise hashed.
    private var orderIDs = OrderIDStore()
    private var absoluteTotal: Int64 = 0
    private var live: LiveState?
    /// The rows of the current column buffers to fault in next (see ``faultInAhead()``).
    private var faultAhead = FaultAhead(window: 1 << 20)
    /// The last new customer's numeric key minus its number (see ``customerNumber(interning:)``).
    private var keyToNumber: Int64 = 0

    /// A tracker whose report reads its order columns: O(*n* + *c*) per report, any options.
    public init() {
        liveOptions = nil
    }

    /// A tracker that keeps the report for `options` up to date on every record, so that
    /// ``report(options:)`` with these options (or ``liveReport(asOf:)``) costs O(*c*), not O(*n*).
    ///
    ///     live state = per customer: first purchase (instant, amount, period), last purchase, purchases, RFM money,
    ///                  periods with purchases (bits); per period: cohort sizes and actives, new/returning revenue
    ///
    /// ```swift
    /// var tracker = RetentionTracker(live: .init(calendar: PeriodCalendar(identifier: "Europe/Berlin")!))
    /// try tracker.record(contentsOf: batch)
    /// let report = try tracker.liveReport()      // == RetentionReport(tracker.ledger, options: tracker.liveOptions!)
    /// ```
    ///
    /// The calendar, ``RetentionReport/Options/cohortUnit`` and ``RetentionReport/Options/refunds`` are fixed here;
    /// bins, segmentation, margin, discount rate and lifespan may vary per report. Reports with a `window`, an
    /// `activeWithin`, an `asOf` day before the last order's day, `.split` binning or another calendar, unit or
    /// refund policy are computed from the columns, exactly as by ``init()``.
    ///
    /// - Parameter options: The report to keep live; its `window`, `activeWithin` and `asOf` must be `nil`.
    /// - Complexity: O(1).
    public init(live options: RetentionReport.Options) {
        precondition(
            options.window == nil && options.activeWithin == nil && options.asOf == nil,
            "a live report covers all the data: window, activeWithin and asOf must be nil")
        liveOptions = options
        live = LiveState(calendar: options.calendar, unit: options.cohortUnit, refunds: options.refunds)
    }

    /// Orders recorded (refund rows included, duplicates not).
    public var count: Int { timestampColumn.count }
    /// Distinct customers recorded.
    public var customerCount: Int { customerIDs.count }
    /// Whether the live report is maintained (a tracker made with ``init(live:)`` gives it up only for instants
    /// over a million days apart).
    public var isLive: Bool { live != nil }

    /// Records one order.
    ///
    ///     state' = state + order     (an identical order id recorded again is ignored)
    ///
    /// ```swift
    /// try tracker.record(order)            // .appended
    /// try tracker.record(order)            // .duplicateIgnored
    /// ```
    ///
    /// - Parameter order: The order or refund.
    /// - Returns: `.duplicateIgnored` when an identical order with the same id was already recorded.
    /// - Throws: ``LedgerError`` (`mixedCurrency`, `conflictingDuplicate`, `amountOverflow`), exactly as
    ///   ``OrderLedger/append(_:)``; the tracker is then unchanged.
    /// - Complexity: O(1) amortised: an order-id look-up (none for sequential integer ids), a customer-id hash
    ///   look-up and, for a live tracker, O(1) updates of the customer's state and the aggregates, whatever the
    ///   arrival order (an order older than its customer's first purchase moves the customer's first instant or
    ///   cohort by the difference; a refund before the first purchase period is kept aside until it moves).
    @discardableResult
    public mutating func record(_ order: Order) throws -> OrderLedger.AppendOutcome {
        if let currency, currency != order.currency { throw mixedCurrency(order, currency) }
        prefetchLiveCustomer(order.customerID)
        // An integer id's key is found once, for the look-up and the append.
        let (key, existing) = withUTF8Bytes(of: order.id) { orderIDs.lookUp(bytes: $0) }
        if let row = existing {
            if matches(row, order) {
                duplicatesIgnored += 1
                return .duplicateIgnored
            }
            throw conflict(order)
        }
        let (total, overflow) = absoluteTotal.addingReportingOverflow(Int64(clamping: order.amount.magnitude))
        if overflow || order.amount == .min { throw amountOverflow(order) }
        absoluteTotal = total
        reserve(1)
        faultInAhead()
        let number = customerNumber(interning: order.customerID)
        if currency == nil { currency = order.currency }
        withUTF8Bytes(of: order.id) { bytes in
            // The key is what `append(bytes:)` would find: the store's pattern is unchanged since the look-up (an
            // empty store's plain pattern gives an all-digit first id the key its inferred pattern gives).
            if let key {
                orderIDs.append(integer: key, spelledBy: bytes)
            } else {
                orderIDs.append(bytes: bytes)
            }
        }
        append(customer: number, instant: order.timestamp.secondsSince1970, amount: order.amount)
        return .appended
    }

    /// Records a batch of orders, all or nothing: every order is checked first (against the tracker and against
    /// the batch's earlier orders), then all are recorded.
    ///
    ///     state' = state + orders        (or state, unchanged, when any order is rejected)
    ///
    /// ```swift
    /// let appended = try tracker.record(contentsOf: batch)   // identical repeats are ignored, not counted
    /// ```
    ///
    /// - Parameter orders: The orders, in arrival order.
    /// - Returns: The number of orders recorded (the others were identical repeats, counted in
    ///   ``duplicatesIgnored``).
    /// - Throws: The first ``LedgerError`` that ``record(_:)`` would throw for the batch recorded in order; the
    ///   tracker is then unchanged.
    /// - Complexity: O(*m*) amortised for *m* orders. A batch looks its orders' ids and customers up together, so
    ///   that their cache misses overlap: with millions of customers, batches of 16 or more orders record about
    ///   1.4 times as many orders per second as ``record(_:)`` one at a time (`Documentation/Performance.md`).
    @discardableResult
    public mutating func record(contentsOf orders: some Sequence<Order>) throws -> Int {
        if let appended = try orders.withContiguousStorageIfAvailable({ try record(batch: $0) }) { return appended }
        let batch = Array(orders)
        return try batch.withUnsafeBufferPointer { try record(batch: $0) }
    }

    private mutating func record(batch: UnsafeBufferPointer<Order>) throws -> Int {
        let count = batch.count
        guard count > 0 else { return 0 }
        precondition(count < Int(Int32.max), "a batch of over 2^31 orders")
        // Per order: its id's hash, its id's integer key (-1 for none), and -1 (not recorded) or its customer
        // number; the batch's recorded orders by hash: an open-addressing table of their positions, a power of two
        // at least twice the batch; the rows to append (instants and amounts; the numbers are compacted in place).
        let bits = max(4, Int.bitWidth - (2 * count - 1).leadingZeroBitCount)
        return try withUnsafeTemporaryAllocation(of: UInt64.self, capacity: count) { hashes in
            try withUnsafeTemporaryAllocation(of: Int32.self, capacity: count) { numbers in
                try withUnsafeTemporaryAllocation(of: Int32.self, capacity: 1 << bits) { table in
                    try withUnsafeTemporaryAllocation(of: Int64.self, capacity: 3 * count) { words in
                        table.initialize(repeating: -1)
                        let base = words.baseAddress!
                        let scratch = BatchScratch(
                            hashes: hashes, numbers: numbers, table: table, bits: bits,
                            keys: UnsafeMutableBufferPointer(start: base, count: count),
                            instants: UnsafeMutableBufferPointer(start: base + count, count: count),
                            amounts: UnsafeMutableBufferPointer(start: base + 2 * count, count: count))
                        return try record(batch: batch, scratch)
                    }
                }
            }
        }
    }

    /// Per-order working memory of ``record(batch:_:)``, on the stack.
    private struct BatchScratch {
        let hashes: UnsafeMutableBufferPointer<UInt64>
        let numbers: UnsafeMutableBufferPointer<Int32>
        let table: UnsafeMutableBufferPointer<Int32>
        let bits: Int
        let keys: UnsafeMutableBufferPointer<Int64>
        let instants: UnsafeMutableBufferPointer<Int64>
        let amounts: UnsafeMutableBufferPointer<Int64>
    }

    private mutating func record(batch: UnsafeBufferPointer<Order>, _ scratch: BatchScratch) throws -> Int {
        let (hashes, numbers, table, bits, keys) = (
            scratch.hashes, scratch.numbers, scratch.table, scratch.bits, scratch.keys
        )
        // Integer order ids' keys are found under the store's pattern as the batch starts; appending them keeps
        // its prefix when the store already holds ids (only an empty store infers a pattern from its first id).
        let keysStand = orderIDs.count > 0
        var pendingCurrency = currency
        var total = absoluteTotal
        var appended = 0
        let mask = (1 << bits) - 1
        // The orders are read in place through pointers (their strings' bytes too): a copy of an `Order` costs a
        // retain and a release per string.
        let orders = batch.baseAddress!
        // Hashed ids' table slots are requested before the look-ups, so that their cache misses overlap.
        if orderIDs.kind == .integers || orderIDs.kind == .strings {
            for index in batch.indices { withUTF8Bytes(at: (orders + index).id) { orderIDs.prefetch(bytes: $0) } }
        }
        for index in batch.indices {
            let order = orders + index
            numbers[index] = -1
            if let pendingCurrency {
                if pendingCurrency != order.pointee.currency { throw mixedCurrency(order.pointee, pendingCurrency) }
            } else {
                pendingCurrency = order.pointee.currency
            }
            let (key, existing) = withUTF8Bytes(at: order.id) { orderIDs.lookUp(bytes: $0) }
            keys[index] = key ?? -1
            if let row = existing {
                guard matches(row, order.pointee) else { throw conflict(order.pointee) }
                continue
            }
            // An earlier order of the batch with the same id. An integer id's key stands in for its hash (equal ids
            // have equal keys; the ids are compared).
            let hash =
                key.map { UInt64(bitPattern: $0) &* 0x9E37_79B9_7F4A_7C15 }
                ?? withUTF8Bytes(at: order.id) { IDHash.hash(UnsafeRawBufferPointer($0)) }
            hashes[index] = hash
            var slot = Int(truncatingIfNeeded: hash >> UInt64(64 - bits))
            var earlier: Int?
            while table[slot] >= 0 {
                let previous = Int(table[slot])
                if hashes[previous] == hash && orders[previous].id == order.pointee.id {
                    earlier = previous
                    break
                }
                slot = (slot + 1) & mask
            }
            if let earlier {
                guard orders[earlier] == order.pointee else { throw conflict(order.pointee) }
                continue
            }
            let amount = order.pointee.amount
            let (sum, overflow) = total.addingReportingOverflow(Int64(clamping: amount.magnitude))
            if overflow || amount == .min { throw amountOverflow(order.pointee) }
            total = sum
            numbers[index] = 0
            appended += 1
            table[slot] = Int32(index)
        }
        reserve(appended)
        faultInAhead()
        absoluteTotal = total
        duplicatesIgnored += batch.count - appended
        // Customer numbers first, then the customers' live states touched together: independent loads whose
        // cache misses overlap, instead of one miss after another. The numeric index's slots are requested
        // before the look-ups for the same reason.
        if !hashingCustomers, let index = numericCustomers {
            // The closures capture the pattern (plain values), not the index (a retain and release per order).
            let pattern = index.pattern
            index.slots.withUnsafeBufferPointer { slots in
                guard let base = slots.baseAddress else { return }
                for position in batch.indices where numbers[position] >= 0 {
                    withUTF8Bytes(at: (orders + position).customerID) { bytes in
                        if let key = pattern.key(bytes), key < Int64(slots.count) {
                            retention_prefetch_for_write(base + Int(key))
                        }
                    }
                }
            }
        }
        if hashingCustomers {
            // Hashed customer ids: their slots first, then the id each slot's tag points to (the look-up compares
            // it), both for the whole batch before any look-up. The hashes wait in `hashes` (no longer needed).
            for position in batch.indices where numbers[position] >= 0 {
                hashes[position] = withUTF8Bytes(at: (orders + position).customerID) {
                    IDHash.hash(UnsafeRawBufferPointer($0))
                }
                customerIndex.prefetch(hash: hashes[position])
            }
            customerIDs.withUnsafeBufferPointer { ids in
                for position in batch.indices where numbers[position] >= 0 {
                    // The first value whose tag agrees: the one the look-up compares first.
                    if let number = customerIndex.find(hash: hashes[position], where: { _ in true }) {
                        retention_prefetch_for_write(ids.baseAddress! + Int(number))
                    }
                }
            }
        }
        // Each live state is requested as soon as its customer's number is known.
        for index in batch.indices where numbers[index] >= 0 {
            let number = customerNumber(interningAt: (orders + index).customerID)
            numbers[index] = number
            live?.prefetch(number)
        }
        if currency == nil && appended > 0 { currency = orders.pointee.currency }
        // The rows go into the columns together at the end: one uniqueness check per column and batch.
        let (instants, amounts) = (scratch.instants, scratch.amounts)
        var rows = 0
        for index in batch.indices where numbers[index] >= 0 {
            let order = orders + index
            // The key found above stands (a store turned to strings by an earlier id of the batch spells it
            // back), unless the store had no pattern yet or an earlier id narrowed the pattern's widths past this
            // one: `append(bytes:)` then decides again.
            let key = keys[index]
            withUTF8Bytes(at: order.id) { bytes in
                if key >= 0 && keysStand && orderIDs.pattern.fits(bytes) {
                    orderIDs.append(integer: key, spelledBy: bytes)
                } else {
                    orderIDs.append(bytes: bytes)
                }
            }
            let (number, instant, amount) = (
                numbers[index], order.pointee.timestamp.secondsSince1970, order.pointee.amount
            )
            numbers[rows] = number
            instants[rows] = instant
            amounts[rows] = amount
            rows += 1
            if live?.record(customer: number, instant: instant, amount: amount) == false { live = nil }
        }
        customerColumn.append(contentsOf: UnsafeBufferPointer(rebasing: numbers[..<rows]))
        timestampColumn.append(contentsOf: UnsafeBufferPointer(rebasing: instants[..<rows]))
        amountColumn.append(contentsOf: UnsafeBufferPointer(rebasing: amounts[..<rows]))
        return appended
    }

    private func matches(_ row: Int, _ order: Order) -> Bool {
        timestampColumn[row] == order.timestamp.secondsSince1970 && amountColumn[row] == order.amount
            && customerIDs[Int(customerColumn[row])] == order.customerID
    }

    private func mixedCurrency(_ order: Order, _ currency: Currency) -> LedgerError {
        LedgerError(
            .mixedCurrency, orderID: order.id,
            "order \(order.id) is in \(order.currency.code) but the ledger is in \(currency.code)")
    }

    private func conflict(_ order: Order) -> LedgerError {
        LedgerError(
            .conflictingDuplicate, orderID: order.id, "order id \(order.id) appears twice with different content")
    }

    private func amountOverflow(_ order: Order) -> LedgerError {
        LedgerError(
            .amountOverflow, orderID: order.id,
            "order \(order.id): the ledger's total amount would overflow Int64 minor units")
    }

    /// Room for `extra` more rows. Columns of a million rows and more grow fourfold: every growth copies the rows
    /// into fresh memory, whose first touch is the costly part (the kernel zeroes it), so fewer growths touch a
    /// third of the final size again instead of all of it; the capacity not yet written costs no memory (only
    /// the next million rows are faulted in ahead, see ``faultInAhead()``). (Eightfold measured slower.)
    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        guard timestampColumn.capacity < count + extra else { return }
        let capacity = max(count + extra, timestampColumn.capacity * (count >= 1 << 20 ? 4 : 2))
        customerColumn.reserveCapacity(capacity)
        timestampColumn.reserveCapacity(capacity)
        amountColumn.reserveCapacity(capacity)
        adviseHugePages(&customerColumn)
        adviseHugePages(&timestampColumn)
        adviseHugePages(&amountColumn)
        faultAhead.restart(at: count)  // new buffers: the copy touched the rows so far
    }

    /// Keeps the next million rows' memory faulted in ahead of the writer, on the other core: a column's fresh
    /// pages cost their first touch (the kernel zeroes them), which would otherwise stall recording.
    @inline(__always)
    private mutating func faultInAhead() {
        guard let rows = faultAhead.next(count: count, capacity: timestampColumn.capacity) else { return }
        faultIn(customerColumn, rows: rows)
        faultIn(timestampColumn, rows: rows)
        faultIn(amountColumn, rows: rows)
    }

    /// Appends a row (its order id already stored) to the columns and the live state.
    @inline(__always)
    private mutating func append(customer number: Int32, instant: Int64, amount: Int64) {
        customerColumn.append(number)
        timestampColumn.append(instant)
        amountColumn.append(amount)
        if live?.record(customer: number, instant: instant, amount: amount) == false { live = nil }
    }

    /// Appends a new customer's id (fourfold growth past 2^18 customers: fewer copies into fresh memory).
    @inline(__always)
    private mutating func appendCustomerID(_ id: String) {
        if customerIDs.count == customerIDs.capacity && customerIDs.count >= 1 << 18 {
            customerIDs.reserveCapacity(customerIDs.count * 4)
            adviseHugePages(&customerIDs)
        }
        customerIDs.append(id)
    }

    /// Requests the live state of the customer `id` probably is (see ``customerNumber(interning:)``), so that its
    /// cache miss overlaps the order id's checks, and the id's slot in the numeric index, which a wrong guess
    /// reads next.
    /// (The optionals are reached by chaining, and mutating calls: `live != nil`, or a non-mutating call through
    /// `live?`, copied the whole live state's fields first.)
    @inline(__always)
    private mutating func prefetchLiveCustomer(_ id: String) {
        guard !hashingCustomers, let pattern = numericCustomers?.pattern,
            let key = withUTF8Bytes(of: id, { pattern.key($0) })
        else { return }
        live?.prefetch(guess: key &- keyToNumber)
        numericCustomers?.prefetch(key: key)
    }

    /// ``customerNumber(interning:)`` of the id at `id`, read in place.
    @inline(__always)
    private mutating func customerNumber(interningAt id: UnsafePointer<String>) -> Int32 {
        // The index is read in place: a copy of it (`if let index = numericCustomers`) costs a retain and a
        // release of its table per order.
        if !hashingCustomers, numericCustomers != nil,
            let key = withUTF8Bytes(at: id, { numericCustomers.unsafelyUnwrapped.pattern.key($0) }),
            let found = numericCustomers.unsafelyUnwrapped.find(key: key)
        {
            return found
        }
        return customerNumber(interning: id.pointee)
    }

    private mutating func customerNumber(interning id: String) -> Int32 {
        if !hashingCustomers {
            let number: Int32? = withUTF8Bytes(of: id) { bytes in
                if numericCustomers == nil {
                    guard let pattern = DigitPattern.infer(bytes) else { return nil }
                    numericCustomers = NumericIDIndex(pattern: pattern, limit: 1 << 24)
                }
                guard let key = numericCustomers!.pattern.key(bytes) else { return nil }
                // Customer ids handed out in order of first purchase keep a fixed distance to the customer
                // numbers: a live tracker checks that guess against the customer's state (which recording reads
                // next) before it reads the index. A wrong guess costs one needless load.
                if let number = live?.customer(guess: key &- keyToNumber, key: key) { return number }
                if let existing = numericCustomers!.find(key: key) { return existing }
                let number = Int32(customerIDs.count)
                guard numericCustomers!.insert(key: key, number: number, spelledBy: bytes) else { return nil }
                keyToNumber = key &- Int64(number)
                appendCustomerID(id)
                live?.addCustomer(key: key)
                return number
            }
            if let number { return number }
            // The id breaks the pattern (or its key is too large): index every customer by hash from now on.
            hashingCustomers = true
            numericCustomers = nil
            customerIndex = IDHashTable(minimumCapacity: customerIDs.count + 1)
            for number in customerIDs.indices {
                customerIndex.insert(hash: IDHash.hash(customerIDs[number]), value: Int32(number))
            }
        }
        let hash = IDHash.hash(id)
        if let existing = customerIndex.find(hash: hash, where: { customerIDs[Int($0)] == id }) { return existing }
        let number = Int32(customerIDs.count)
        appendCustomerID(id)
        customerIndex.insert(hash: hash, value: number) { IDHash.hash(customerIDs[Int($0)]) }
        live?.addCustomer()
        return number
    }

    /// The report over every order recorded so far.
    ///
    ///     report(options) == RetentionReport(OrderLedger(recorded orders), options: options)
    ///
    /// ```swift
    /// let report = try tracker.report(options: .init(calendar: PeriodCalendar(identifier: "Europe/Berlin")!))
    /// ```
    ///
    /// - Parameter options: What to compute (time zone, window, cohort unit, RFM bins...).
    /// - Returns: The same value ``RetentionReport/init(_:options:)-(OrderLedger,_)`` returns for a ledger of the same orders.
    /// - Throws: ``MetricError`` for invalid options, as ``RetentionReport/init(_:options:)-(OrderLedger,_)``.
    /// - Complexity: O(*c* + *p*²) from the live state when a live tracker answers `options` (same calendar,
    ///   cohort unit and refund policy, no window or activity window, `.share` binning, no as-of day before the last
    ///   order's); otherwise O(*n* + *c*): one pass over the orders, one over the customers.
    public func report(options: RetentionReport.Options = .init()) throws -> RetentionReport {
        if let live, live.answers(options) {
            return try RetentionReport(live: live, currency: currency, options: options)
        }
        let columns = OrderColumns(
            customers: customerColumn, timestamps: timestampColumn, amounts: amountColumn,
            customerCount: customerIDs.count, currency: currency)
        if let report = try RetentionReport.fused(columns, options: options) { return report }
        return try RetentionReport(reference: ledger, options: options)
    }

    /// The live report: ``report(options:)`` with ``liveOptions`` and the given as-of day.
    ///
    ///     liveReport(asOf: d) == RetentionReport(ledger, options: liveOptions with asOf = d)
    ///
    /// ```swift
    /// let now = try tracker.liveReport()
    /// let monthEnd = try tracker.liveReport(asOf: CivilDate(year: 2025, month: 1, day: 31)!)
    /// ```
    ///
    /// - Parameter asOf: The as-of day of the cohort table and RFM; `nil` for the last order's day. A day before
    ///   the last order's day is computed from the columns.
    /// - Returns: The report over every order recorded so far.
    /// - Throws: ``MetricError`` for invalid options (no order recorded yet: an empty window). A tracker made
    ///   with ``init()`` computes the default options' report from its columns.
    /// - Complexity: O(*c* + *p*²) for *c* customers and *p* periods (the cohort table's cells): the aggregates,
    ///   one pass over the customers for RFM, cut points from histograms and bucket selection.
    public func liveReport(asOf: CivilDate? = nil) throws -> RetentionReport {
        var options = liveOptions ?? RetentionReport.Options()
        options.asOf = asOf
        return try report(options: options)
    }

    /// Whether ``report(options:)`` answers `options` from the live state (for tests).
    func reportsLive(_ options: RetentionReport.Options) -> Bool { live?.answers(options) ?? false }

    /// The recorded orders as an ``OrderLedger`` (in recording order).
    ///
    /// ```swift
    /// tracker.ledger.count == tracker.count   // true
    /// ```
    ///
    /// - Complexity: O(*n*).
    public var ledger: OrderLedger {
        var ledger = OrderLedger()
        let currency = currency ?? .usd
        for row in 0..<count {
            try! ledger.append(
                Order(
                    id: orderIDs.string(at: row), customerID: customerIDs[Int(customerColumn[row])],
                    timestamp: Timestamp(secondsSince1970: timestampColumn[row]), amount: amountColumn[row],
                    currency: currency))
        }
        return ledger
    }
}

/// Marks the storage of a large array (8 MiB of capacity and more) for transparent huge pages: on Linux a hint to
/// the kernel (`madvise(MADV_HUGEPAGE)` on the whole pages inside the array's buffer), no effect on its contents.
/// Growing columns touch fresh memory, and here the first touch of a 2 MiB huge page costs a sixth of 512 small
/// pages' (Documentation/Performance.md, "Live tracker"). Elsewhere a no-op.
/// An empty array's reserved capacity counts: the loaders reserve their columns, then advise, then fill them.
@inline(never)
package func adviseHugePages<Element>(_ array: inout [Element]) {
    #if os(Linux)
        let bytes = array.capacity * MemoryLayout<Element>.stride
        guard bytes >= 8 << 20 else { return }
        let base = array.withUnsafeMutableBufferPointer { Int(bitPattern: $0.baseAddress) }
        adviseWholePages(from: base, to: base + bytes, Int32(MADV_HUGEPAGE))
    #endif
}

/// Calls `body` with the UTF-8 bytes of `string`, in place when the string has contiguous UTF-8 (native and small
/// strings: every string made in Swift), else from a copy (`withUTF8` is mutating, so calling it needs a copy of
/// the string: a retain and a release per call on the tracker's hot path).
@inline(__always)
func withUTF8Bytes<Result>(of string: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows
    -> Result
{
    if let result = try string.utf8.withContiguousStorageIfAvailable(body) { return result }
    var copy = string
    return try copy.withUTF8(body)
}

/// Faults in the pages of `rows` of `array`'s capacity (beyond its count) on a background thread (see
/// ``faultInInBackground(from:to:)``).
func faultIn<Element>(_ array: [Element], rows: Range<Int>) {
    let stride = MemoryLayout<Element>.stride
    guard rows.upperBound <= array.capacity, let base = array.withUnsafeBufferPointer({ $0.baseAddress }) else {
        return
    }
    let start = Int(bitPattern: base)
    faultInInBackground(from: start + rows.lowerBound * stride, to: start + rows.upperBound * stride)
}

/// Faults in the whole pages between the addresses `start` and `end` on a background thread:
/// `madvise(MADV_POPULATE_WRITE)` (Linux 5.14 and later) maps fresh zeroed pages where none are yet and leaves
/// pages already there, and their contents, alone, so it never races with the writer (memory freed or reused
/// meanwhile is at worst populated, never changed). On other systems, or when the kernel declines, the writer
/// faults the pages itself.
func faultInInBackground(from start: Int, to end: Int) {
    #if os(Linux)
        DispatchQueue.global(qos: .utility).async {
            adviseWholePages(from: start, to: end, 23)  // MADV_POPULATE_WRITE (the Glibc module lacks it)
        }
    #endif
}

/// Marks the whole pages between the addresses `start` and `end` for transparent huge pages (a hint; Linux
/// only): a large buffer about to be written from the start (a hash table's slots, a loader's columns).
package func adviseHugePages(from start: Int, to end: Int) {
    #if os(Linux)
        adviseWholePages(from: start, to: end, Int32(MADV_HUGEPAGE))
    #endif
}

/// `madvise` of the whole 4 KiB pages between the addresses `start` and `end` (a hint; Linux only).
func adviseWholePages(from start: Int, to end: Int, _ advice: Int32) {
    #if os(Linux)
        let first = (start + 4_095) & ~4_095
        let last = end & ~4_095
        guard last > first, let memory = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(memory, last - first, advice)
    #endif
}

/// Which rows of a growing buffer to fault in next: a window ahead of the writer, asked for once per half window.
struct FaultAhead: Sendable {
    let window: Int
    /// Rows faulted in or asked for.
    private var faulted = 0

    init(window: Int) { self.window = window }

    /// The rows to fault in now that `count` rows of `capacity` are written, or `nil`; cheap enough per row.
    @inline(__always)
    mutating func next(count: Int, capacity: Int) -> Range<Int>? {
        guard count + window / 2 >= faulted, capacity >= window else { return nil }
        return advance(count: count, capacity: capacity)
    }

    @inline(never)
    private mutating func advance(count: Int, capacity: Int) -> Range<Int>? {
        let from = Swift.max(faulted, count)
        let to = Swift.min(capacity, count + window)
        faulted = Swift.max(to, count + window / 2 + 1)
        return to > from ? from..<to : nil
    }

    /// A new buffer whose first `count` rows are already touched.
    mutating func restart(at count: Int) { faulted = count }
}

/// ``withUTF8Bytes(of:_:)`` of the string at `string`, read in place (no copy of the string: no retain).
@inline(__always)
func withUTF8Bytes<Result>(at string: UnsafePointer<String>, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result)
    rethrows -> Result
{
    if let result = try string.pointee.utf8.withContiguousStorageIfAvailable(body) { return result }
    var copy = string.pointee
    return try copy.withUTF8(body)
}

extension UnsafePointer where Pointee == Order {
    /// The order's id, in place.
    @inline(__always)
    var id: UnsafePointer<String> { field(\.id) }
    /// The order's customer id, in place.
    @inline(__always)
    var customerID: UnsafePointer<String> { field(\.customerID) }

    @inline(__always)
    private func field(_ path: KeyPath<Order, String>) -> UnsafePointer<String> {
        (UnsafeRawPointer(self) + MemoryLayout<Order>.offset(of: path)!).assumingMemoryBound(to: String.self)
    }
}
