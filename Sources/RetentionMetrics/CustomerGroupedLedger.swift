import Dispatch

/// An ``OrderLedger`` with its timestamps and amounts also laid out customer by customer: an index, built once in
/// O(*n* + *c*), that every later report reads sequentially.
///
/// A ledger keeps its rows in append order, so a report over it visits each customer's state in random order: on
/// millions of customers that is a cache miss per row. Grouped, the rows of one customer are adjacent, and the
/// report keeps one customer's state at a time (on the stack) instead of an array of states.
/// Build it when the same orders are reported on more than once (a server answering reports with different
/// windows, zones or cohort units); for a single report, the report over the ledger itself costs about as much as
/// building the index.
///
/// ```swift
/// let grouped = ledger.groupedByCustomer()
/// let utc = try RetentionReport(grouped, options: .init(calendar: .utc))
/// let berlin = try RetentionReport(grouped, options: .init(calendar: PeriodCalendar(identifier: "Europe/Berlin")!))
/// grouped.rows(ofCustomer: 0)   // the rows of customer number 0 in `timestampColumn` and `amountColumn`
/// ```
///
/// The index is a snapshot: appending to the ledger afterwards does not change it (build it again).
///
/// - Complexity: Building is O(*n* + *c*) for *n* orders and *c* customers (a counting sort, stable: a customer's
///   rows keep their ledger order). Memory: 16 bytes per order and 8 per customer besides the ledger, whose
///   columns are shared, not copied.
public struct CustomerGroupedLedger: Sendable {
    /// The ledger the index was built from.
    public let ledger: OrderLedger
    /// `rowStarts[c] ..< rowStarts[c + 1]` are customer `c`'s rows in ``timestampColumn`` and ``amountColumn``;
    /// `customerCount + 1` entries.
    public let rowStarts: [Int]
    /// Per grouped row: seconds since 1970.
    public let timestampColumn: [Int64]
    /// Per grouped row: amount in minor units (negative for refunds).
    public let amountColumn: [Int64]
    /// Earliest and latest order instants; `nil` when empty.
    public let timestampRange: ClosedRange<Int64>?

    /// Groups `ledger`'s rows by customer.
    public init(_ ledger: OrderLedger) {
        let customerCount = ledger.customerCount
        let rowCount = ledger.count
        var starts = [Int](repeating: 0, count: customerCount + 1)
        var low = Int64.max
        var high = Int64.min
        var timestamps: [Int64] = []
        var amounts: [Int64] = []
        ledger.customerColumn.withUnsafeBufferPointer { customers in
            ledger.timestampColumn.withUnsafeBufferPointer { sourceTimestamps in
                ledger.amountColumn.withUnsafeBufferPointer { sourceAmounts in
                    starts.withUnsafeMutableBufferPointer { starts in
                        for customer in customers { starts[Int(customer) + 1] += 1 }
                        for customer in 0..<customerCount { starts[customer + 1] += starts[customer] }
                        // Each customer's next free row; after the scatter it is the next customer's start.
                        var next = Array(starts.dropLast())
                        timestamps = [Int64](unsafeUninitializedCapacity: rowCount) { timestampOut, timestampsDone in
                            amounts = [Int64](unsafeUninitializedCapacity: rowCount) { amountOut, amountsDone in
                                next.withUnsafeMutableBufferPointer { next in
                                    for row in 0..<rowCount {
                                        let customer = Int(customers[row])
                                        let instant = sourceTimestamps[row]
                                        low = Swift.min(low, instant)
                                        high = Swift.max(high, instant)
                                        let target = next[customer]
                                        next[customer] = target + 1
                                        timestampOut[target] = instant
                                        amountOut[target] = sourceAmounts[row]
                                    }
                                }
                                amountsDone = rowCount
                            }
                            timestampsDone = rowCount
                        }
                    }
                }
            }
        }
        self.ledger = ledger
        rowStarts = starts
        timestampColumn = timestamps
        amountColumn = amounts
        timestampRange = rowCount == 0 ? nil : low...high
    }

    /// Number of orders (including refund rows).
    public var count: Int { timestampColumn.count }
    /// Number of distinct customers.
    public var customerCount: Int { rowStarts.count - 1 }

    /// The rows of customer `number` in ``timestampColumn`` and ``amountColumn``, in ledger order.
    public func rows(ofCustomer number: Int32) -> Range<Int> {
        rowStarts[Int(number)]..<rowStarts[Int(number) + 1]
    }
}

extension OrderLedger {
    /// This ledger's rows grouped by customer (see ``CustomerGroupedLedger``).
    /// - Complexity: O(*n* + *c*).
    public func groupedByCustomer() -> CustomerGroupedLedger { CustomerGroupedLedger(self) }
}

extension RetentionReport {
    /// The report of `grouped`'s ledger: equal to `RetentionReport(grouped.ledger, options:)`, computed customer
    /// by customer from the grouped rows: one customer's state at a time, read in order (no array of states
    /// visited at random as over the ledger).
    /// - Complexity: O(*n* + *c*), sequential in memory; two workers above 131,072 customers.
    /// - Throws: ``MetricError`` as the report over the ledger does.
    public init(_ grouped: CustomerGroupedLedger, options: Options = Options()) throws {
        if let report = try RetentionReport.fused(grouped, options: options) {
            self = report
            return
        }
        try self.init(grouped.ledger, options: options)
    }

    /// The kernel over grouped rows; `nil` when the input needs another path (as ``fused(_:options:)``).
    static func fused(_ grouped: CustomerGroupedLedger, options: Options) throws -> RetentionReport? {
        guard let range = grouped.timestampRange, let plan = try KernelPlan(range: range, options: options) else {
            return nil
        }
        let customerCount = grouped.customerCount
        let workers = customerCount >= 131_072 ? 2 : 1
        // Customers in 64 ranges dealt alternately to the workers: early customers (low numbers) have had longer to
        // buy again and hold more rows and periods, so halves by number would leave one worker with most of the
        // work (measured: 85 ms against 54 ms on the 10^7-order fixture).
        let rangeCount = workers == 1 ? 1 : 64
        let ranges = (0..<rangeCount).map { k in
            (k * customerCount / rangeCount)..<((k + 1) * customerCount / rangeCount)
        }
        let extraMemory = ZeroedBuffer<UInt64>(count: plan.words > 1 ? customerCount * (plan.words - 1) : 0)
        let extraBits = SharedPointer(base: extraMemory.base)
        // Each range's purchasers go to the range's own part of the columns (at its first customer number).
        let purchasers = PurchaserColumns.allocate(capacity: customerCount)
        defer { purchasers.deallocate() }
        var results = [GroupedPassResult?](repeating: nil, count: workers)
        results.withUnsafeMutableBufferPointer { resultBuffer in
            let out = SharedPointer(base: resultBuffer.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                out.base[worker] = groupedPass(
                    grouped, ranges: stride(from: worker, to: rangeCount, by: workers).map { ranges[$0] }, plan: plan,
                    extraBits: extraBits.base, purchasers: purchasers)
            }
        }
        var totals = results[0]!.totals
        var pass = results[0]!.pass
        for other in results.dropFirst() {
            totals.merge(other!.totals)
            pass.merge(other!.pass)
        }
        // Each range's purchasers from the range's first customer number on.
        let parts = (0..<rangeCount).map { k in
            ranges[k].lowerBound..<(ranges[k].lowerBound + results[k % workers]!.purchasersByRange[k / workers])
        }
        precondition(parts.reduce(0) { $0 + $1.count } == pass.purchasers, "every range's purchasers are counted")
        results = []
        return try completeKernel(
            plan, totals: totals, pass: pass, purchasers: purchasers, parts: parts, workers: workers,
            currency: grouped.ledger.currency, options: options)
    }
}

/// What one worker of the grouped pass gathered over its ranges of customers.
private struct GroupedPassResult {
    var totals: KernelTotals
    var pass: CustomerPass
    /// Purchasers written for each of the worker's ranges, in the order given.
    var purchasersByRange: [Int]
}

/// One worker's customers of a grouped ledger: each customer's rows into one state, the state into the customer
/// pass, and, for an irregular customer (a refund before its first purchase period was known), its rows again for
/// the exact revenue split. Each range's purchasers are written from `purchasers[range.lowerBound]` on.
private func groupedPass(
    _ grouped: CustomerGroupedLedger, ranges: [Range<Int>], plan: KernelPlan,
    extraBits: UnsafeMutablePointer<UInt64>, purchasers: PurchaserColumns
) -> GroupedPassResult {
    let bounds = plan.bounds
    let periodCount = bounds.periodCount
    var totals = KernelTotals(periodCount: periodCount)
    var sums = KernelRowSums()
    // Per relative period: eligible amounts, then irregular customers' first-period and earlier amounts.
    let periodSums = UnsafeMutableBufferPointer<Int64>.allocate(capacity: 3 * periodCount)
    periodSums.initialize(repeating: 0)
    defer { periodSums.deallocate() }
    let eligible = periodSums.baseAddress!
    let irregularNew = eligible + periodCount
    let irregularExcluded = irregularNew + periodCount
    var purchasersByRange: [Int] = []
    let pass = plan.mapper.withUnsafeMapper { map in
        var fold = CustomerFold(
            bounds: bounds, map: map, localDays: plan.mapper.periodOfLocal.count, output: purchasers)
        grouped.rowStarts.withUnsafeBufferPointer { starts in
            grouped.timestampColumn.withUnsafeBufferPointer { timestamps in
                grouped.amountColumn.withUnsafeBufferPointer { amounts in
                    for range in ranges {
                        fold.redirect(to: purchasers.advanced(by: range.lowerBound))
                        let before = fold.purchasers
                        // The loop compiled once per kind of zone: with one offset a row's period is one
                        // division and one look-up, with no branch for the other kind in the loop.
                        if map.uniform {
                            foldCustomers(
                                range, starts: starts.baseAddress!, timestamps: timestamps.baseAddress!,
                                amounts: amounts.baseAddress!, bounds: bounds, map: map,
                                periods: UniformPeriods(map), extraBits: extraBits, periodSums: eligible,
                                fold: &fold, sums: &sums)
                        } else {
                            foldCustomers(
                                range, starts: starts.baseAddress!, timestamps: timestamps.baseAddress!,
                                amounts: amounts.baseAddress!, bounds: bounds, map: map, periods: ZonedPeriods(map),
                                extraBits: extraBits, periodSums: eligible, fold: &fold, sums: &sums)
                        }
                        purchasersByRange.append(fold.purchasers - before)
                    }
                }
            }
        }
        return fold.finish()
    }
    sums.store(into: &totals)
    totals.eligible = Array(UnsafeBufferPointer(start: eligible, count: periodCount))
    totals.irregularNew = Array(UnsafeBufferPointer(start: irregularNew, count: periodCount))
    totals.irregularExcluded = Array(UnsafeBufferPointer(start: irregularExcluded, count: periodCount))
    return GroupedPassResult(totals: totals, pass: pass, purchasersByRange: purchasersByRange)
}

/// The customers `range` of a grouped ledger: each customer's rows into one state, the state into `fold`, and,
/// for an irregular customer (a refund before its first purchase period was known), its rows again for the exact
/// revenue split. `periodSums` holds three rows of `bounds.periodCount`: eligible amounts, then irregular
/// customers' first-period and earlier amounts.
private func foldCustomers<Periods: PeriodLookup>(
    _ range: Range<Int>, starts: UnsafePointer<Int>, timestamps: UnsafePointer<Int64>, amounts: UnsafePointer<Int64>,
    bounds: KernelBounds, map: UnsafeMapper, periods: Periods, extraBits: UnsafeMutablePointer<UInt64>,
    periodSums: UnsafeMutablePointer<Int64>, fold: inout CustomerFold, sums: inout KernelRowSums
) {
    let periodCount = bounds.periodCount
    let extraWords = Swift.max(bounds.words - 1, 0)
    let eligible = periodSums
    let irregularNew = eligible + periodCount
    let irregularExcluded = irregularNew + periodCount
    for customer in range {
        var state = KernelCustomer()
        let extra = extraBits + customer * extraWords
        let rows = starts[customer]..<starts[customer + 1]
        // The first row on a code path of its own: its branches (a new earliest purchase, a new first period)
        // nearly always go one way there, and the later rows', in a time-ordered ledger, the other way.
        if !rows.isEmpty {
            let instant = timestamps[rows.lowerBound]
            kernelRecord(
                &state, instant: instant, amount: amounts[rows.lowerBound], period: periods.period(of: instant),
                bounds: bounds, extra: extra, eligibleAmounts: eligible, sums: &sums)
        }
        for row in rows.dropFirst() {
            let instant = timestamps[row]
            kernelRecord(
                &state, instant: instant, amount: amounts[row], period: periods.period(of: instant), bounds: bounds,
                extra: extra, eligibleAmounts: eligible, sums: &sums)
        }
        let lastDay = state.lastKey != 0 ? periods.localDay(of: state.lastKey + bounds.lastBias) : 0
        fold.add(state, customer: customer, extra: extra, lastDay: lastDay)
        if state.flags & KernelFlags.irregular != 0 {
            splitIrregular(
                rows, firstPeriod: periodCount - Int(state.firstPeriodKey), timestamps: timestamps, amounts: amounts,
                bounds: bounds, map: map, new: irregularNew, excluded: irregularExcluded)
        }
    }
}

/// An irregular customer's eligible amounts by period: those in its first purchase period to `new`, earlier ones
/// to `excluded` (a customer without purchases has `firstPeriod` past every period). Rare, so not inlined into
/// the customer loop.
@inline(never)
private func splitIrregular(
    _ rows: Range<Int>, firstPeriod first: Int, timestamps: UnsafePointer<Int64>, amounts: UnsafePointer<Int64>,
    bounds: KernelBounds, map: UnsafeMapper, new: UnsafeMutablePointer<Int64>, excluded: UnsafeMutablePointer<Int64>
) {
    for row in rows {
        let instant = timestamps[row]
        let amount = amounts[row]
        guard instant < bounds.cutoff, amount >= 0 || bounds.net else { continue }
        let period = relativePeriod(instant, map)
        if period < first {
            excluded[period] += amount
        } else if period == first {
            new[period] += amount
        }
    }
}

/// A row's period relative to the mapper's base (``relativePeriod(_:_:)``), as a type, so that a loop can be
/// compiled for one kind of zone.
protocol PeriodLookup {
    func period(of instant: Int64) -> Int
    /// ``localDayIndex(_:_:)``.
    func localDay(of instant: Int64) -> Int
}

/// ``relativePeriod(_:_:)`` for a mapper with a uniform offset: the local day's period.
struct UniformPeriods: PeriodLookup {
    let origin: Int64
    let periodOfLocal: UnsafePointer<Int32>

    init(_ map: UnsafeMapper) {
        precondition(map.uniform, "a mapper with one offset")
        origin = map.uniformOrigin
        periodOfLocal = map.periodOfLocal
    }

    @inline(__always)
    func period(of instant: Int64) -> Int {
        Int(periodOfLocal[localDay(of: instant)])
    }

    @inline(__always)
    func localDay(of instant: Int64) -> Int { Int(UInt64(bitPattern: instant &- origin) / 86_400) }
}

/// ``relativePeriod(_:_:)`` for a mapper without a uniform offset.
struct ZonedPeriods: PeriodLookup {
    let map: UnsafeMapper

    init(_ map: UnsafeMapper) {
        precondition(!map.uniform, "a mapper with a day table")
        self.map = map
    }

    @inline(__always)
    func period(of instant: Int64) -> Int { zonedPeriod(instant, map) }

    @inline(__always)
    func localDay(of instant: Int64) -> Int { zonedLocalDay(instant, map) }
}
