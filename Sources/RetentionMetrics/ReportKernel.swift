internal import CRetentionPrefetch
import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

// The fused kernel behind ``RetentionReport``: one pass over the order columns fills a 64-byte state per
// customer and a few per-period totals, one pass over the customers turns them into every figure of the report.
// It replaces ten passes (summaries, activity masks, cohort and revenue periods, hash-set deduplication of
// (customer, period) pairs, RFM summaries and sorts). ``RetentionReport/init(reference:options:)`` keeps the
// simple composition of the public metrics; the tests prove the two equal.

/// The order columns the kernel reads: one entry per row, customers as dense numbers `0..<customerCount`.
struct OrderColumns {
    var customers: [Int32]
    var timestamps: [Int64]
    var amounts: [Int64]
    var customerCount: Int
    var currency: Currency?

    init(_ ledger: OrderLedger) {
        customers = ledger.customerColumn
        timestamps = ledger.timestampColumn
        amounts = ledger.amountColumn
        customerCount = ledger.customerCount
        currency = ledger.currency
    }

    init(customers: [Int32], timestamps: [Int64], amounts: [Int64], customerCount: Int, currency: Currency?) {
        self.customers = customers
        self.timestamps = timestamps
        self.amounts = amounts
        self.customerCount = customerCount
        self.currency = currency
    }

    var count: Int { timestamps.count }
}

/// Maps instants in a bounded range to local period indices relative to a base. Per UTC day of its tables it
/// keeps the day's offsets (``DayOffsets``) and two ``DayWord``s: the local day and the period of the day's
/// instants, each as "the value before the day's one change, the change's second and the step", so that a row's
/// period is one division and one look-up in a table of 8 bytes a day. When one offset holds over the whole range
/// (``uniformOffset``) the local day needs no look-up at all.
struct PeriodMapper {
    let utcBase: Int64
    /// Per UTC day from `utcBase`: its offsets before and after its transition.
    let days: [DayOffsets]
    /// Per UTC day from `utcBase`: the local day (relative to `localBase`) of its instants, as a ``DayWord``
    /// (without a uniform offset).
    let localDayWords: [UInt64]
    /// Per UTC day from `utcBase`: the period (relative to `periodBase`) of its instants, as a ``DayWord``
    /// (without a uniform offset).
    let periodWords: [UInt64]
    let localBase: Int64
    /// Period index (relative to `periodBase`) of local day `localBase + i`.
    let periodOfLocal: [Int32]
    let periodBase: Int64
    /// The offset of every instant in the tables when there is one (UTC, fixed-offset zones, ranges without a
    /// transition): local days then need no table look-up (see ``localDayIndex(_:_:)``).
    let uniformOffset: Int32?

    /// A mapper for instants in `range`, or `nil` when the range is too wide for tables (over ~1,000 years) or a
    /// UTC day holds more than one offset change.
    init?(range: ClosedRange<Int64>, unit: PeriodUnit, calendar: PeriodCalendar) {
        let firstDay = floorDiv(range.lowerBound, 86_400) - 1
        let lastDay = floorDiv(range.upperBound, 86_400) + 1
        guard lastDay - firstDay < 400_000 else { return nil }
        var days: [DayOffsets] = []
        days.reserveCapacity(Int(lastDay - firstDay + 1))
        for day in firstDay...lastDay {
            let start = day * 86_400
            let low = calendar.utcOffset(at: start)
            let high = calendar.utcOffset(at: start + 86_399)
            let middle = calendar.utcOffset(at: start + 43_200)
            guard middle == low || middle == high else { return nil }
            if low == high {
                days.append(DayOffsets(transition: .max, before: Int32(low), after: Int32(high)))
                continue
            }
            // The first instant of the day at which the later offset is in force.
            var lower = start
            var upper = start + 86_399
            while lower < upper {
                let mid = lower + (upper - lower) / 2
                if calendar.utcOffset(at: mid) == high { upper = mid } else { lower = mid + 1 }
            }
            // One change per day: everything before it has the earlier offset.
            guard calendar.utcOffset(at: lower - 1) == low else { return nil }
            days.append(DayOffsets(transition: lower, before: Int32(low), after: Int32(high)))
        }
        utcBase = firstDay
        self.days = days
        let first = days[0].before
        uniformOffset = days.allSatisfy { $0.before == first && $0.after == first } ? first : nil
        // Offsets lie within +-26 hours: local days within two days of the UTC day.
        localBase = firstDay - 2
        periodBase = Period.index(unit: unit, daysSince1970: localBase)
        var periods: [Int32] = []
        periods.reserveCapacity(days.count + 4)
        for local in localBase...(lastDay + 2) {
            periods.append(Int32(Period.index(unit: unit, daysSince1970: local) - periodBase))
        }
        periodOfLocal = periods
        // With a uniform offset the kernels read neither word table (one placeholder word each).
        if uniformOffset != nil {
            (localDayWords, periodWords) = ([DayWord.twoChanges], [DayWord.twoChanges])
        } else {
            localDayWords = Self.dayWords(utcBase: firstDay, localBase: localBase, days: days) { Int32($0) }
            periodWords = Self.dayWords(utcBase: firstDay, localBase: localBase, days: days) { periods[$0] }
        }
    }

    var periodCount: Int { Int(periodOfLocal.last!) + 1 }

    /// Per UTC day of the tables: `value` of the local day (its index from `localBase`) of the day's instants, as
    /// a ``DayWord``. Within a UTC day the local day, and so any value of it, can only change at the offset's
    /// transition or at a local midnight under either offset, so it is evaluated (exactly as the offsets give it)
    /// at the day's start and at each of those points; a day whose value changes more than once, or by a step
    /// beyond ``DayWord``'s range, gets ``DayWord/twoChanges``.
    static func dayWords(utcBase: Int64, localBase: Int64, days: [DayOffsets], value: (Int) -> Int32) -> [UInt64] {
        days.indices.map { index in
            let day = days[index]
            let start = (utcBase + Int64(index)) * 86_400
            func valueAt(_ instant: Int64) -> Int32 {
                let offset = Int64(instant < day.transition ? day.before : day.after)
                return value(Int(floorDiv(instant + offset, 86_400) - localBase))
            }
            // The candidate points, ascending (`.max` for none): the transition and the first local midnight
            // under each offset after the day's start, when inside the day.
            let end = start + 86_400
            func inside(_ instant: Int64) -> Int64 { instant > start && instant < end ? instant : .max }
            func midnight(_ offset: Int32) -> Int64 {
                inside((floorDiv(start + Int64(offset), 86_400) + 1) * 86_400 - Int64(offset))
            }
            var (p0, p1, p2) = (inside(day.transition), midnight(day.before), midnight(day.after))
            if p0 > p1 { (p0, p1) = (p1, p0) }
            if p1 > p2 { (p1, p2) = (p2, p1) }
            if p0 > p1 { (p0, p1) = (p1, p0) }
            let first = valueAt(start)
            var (current, changes, change) = (first, 0, end)
            func visit(_ point: Int64) {
                guard point != .max, valueAt(point) != current else { return }
                current = valueAt(point)
                changes += 1
                change = point
            }
            visit(p0)
            visit(p1)
            visit(p2)
            guard changes <= 1, let step = Int8(exactly: Int(current) - Int(first)) else { return DayWord.twoChanges }
            return DayWord.pack(first, step: step, second: Int(change - start))
        }
    }
}

/// A UTC day's offsets: `before` for its instants before `transition`, `after` from it on (`transition == .max`
/// on a day without a change).
struct DayOffsets {
    var transition: Int64
    var before: Int32
    var after: Int32
}

/// A value of a UTC day's instants (their local day, their period) in 8 bytes: bits 0-31 hold the value before
/// the day's one change, bits 32-49 the change's second of the day (86,400 on a day without one), bits 56-63 the
/// signed step to the value from the change on. One load and a select, with no second load that depends on the
/// first: the mapper's table was 32 bytes a day (offsets, then periods picked by a comparison), outgrew the
/// first-level cache, and chained two loads per row. Europe/Berlin, grouped report of the 10^7-order fixture:
/// 94-99 ms with that table, 83-86 ms with these words (`Documentation/Performance.md`, eleventh session).
enum DayWord {
    /// A day whose value changes twice (a fall-back across local midnight) or by more than an `Int8`: its
    /// instants take the offsets.
    static let twoChanges = UInt64.max

    static func pack(_ before: Int32, step: Int8, second: Int) -> UInt64 {
        precondition((1...86_400).contains(second), "a change inside the day, or none")
        return UInt64(UInt32(bitPattern: before)) | UInt64(second) << 32 | UInt64(UInt8(bitPattern: step)) << 56
    }

    /// The word of `instant`'s UTC day in `words` (whose first day starts at the instant `origin`, at or before
    /// `instant`), and `instant`'s second of that day.
    @inline(__always)
    static func look(up instant: Int64, in words: UnsafePointer<UInt64>, origin: Int64) -> (
        word: UInt64, second: UInt64
    ) {
        let offset = UInt64(bitPattern: instant &- origin)
        let day = offset / 86_400
        return (words[Int(day)], offset &- day &* 86_400)
    }

    /// The value at `second` of the day (`0..<86_400`) of a word other than ``twoChanges``.
    @inline(__always)
    static func value(_ word: UInt64, second: UInt64) -> Int {
        let step = Int(Int64(bitPattern: word) >> 56)
        return Int(Int32(truncatingIfNeeded: word)) &+ (second >= (word >> 32) & 0x3_FFFF ? step : 0)
    }
}

/// One customer's running state in the kernel: 64 bytes, one cache line. Every field starts at zero, so the
/// states come from zero-filled memory (fresh pages from `calloc`, no pass that writes initial values): instants
/// and periods are stored as keys that are 0 for "none" and grow in the direction that wins.
struct KernelCustomer {
    /// `KernelBounds.firstBias - instant` of the earliest purchase (all rows): larger is earlier, 0 without
    /// purchases.
    var firstKey: Int64 = 0
    /// Sum of the purchases at the earliest instant.
    var firstAmount: Int64 = 0
    /// `instant - KernelBounds.lastBias` of the last purchase before the cutoff, 0 without one.
    var lastKey: Int64 = 0
    /// Purchases (plus refunds under `.net`) before the cutoff.
    var rfmAmount: Int64 = 0
    /// Eligible amounts (before the cutoff, under the refund policy) in the period of the earliest purchase.
    var firstPeriodAmount: Int64 = 0
    /// Bit p: a purchase before the cutoff in relative period p (p < 64; higher words live apart).
    var periodBits: UInt64 = 0
    var firstCount: Int32 = 0
    var rfmPurchases: Int32 = 0
    /// `periodCount - relative period` of the earliest purchase (larger is earlier), 0 without purchases.
    var firstPeriodKey: Int32 = 0
    /// Bits: 1 active at start, 2 active at end, 4 purchase in window, 8 purchase before window,
    /// 16 two or more purchases in window, 32 purchase in the limit period at or after the cutoff,
    /// 64 irregular (an eligible refund before the first purchase period was known; only the grouped pass sets it,
    /// the row pass keeps such refunds aside, see ``KernelEarlyRefund``).
    var flags: UInt8 = 0
}

struct KernelFlags {
    static let atStart: UInt8 = 1
    static let atEnd: UInt8 = 2
    static let inWindow: UInt8 = 4
    static let before: UInt8 = 8
    static let repeatInWindow: UInt8 = 16
    static let limitExtra: UInt8 = 32
    static let irregular: UInt8 = 64
}

/// A pointer shared by the two halves of a parallel loop that touch disjoint parts of it.
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}

/// Runs `body` with `width` zeroed counters on the calling thread's stack, then stores them at `result`.
///
/// A parallel loop's workers should not count into neighbouring parts of one array: a few dozen counters of two
/// workers share cache lines, and an increment then may have to take the line from the other core. The segment
/// passes did that (`perf annotate` put half of their samples on the increment; private counters alone measured
/// no faster, the loop itself was the cost, but they remove the contention).
@inline(__always)
func countingPrivately(width: Int, into result: UnsafeMutablePointer<Int>, _ body: (UnsafeMutablePointer<Int>) -> Void)
{
    withUnsafeTemporaryAllocation(of: Int.self, capacity: Swift.max(width, 1)) { counts in
        counts.initialize(repeating: 0)
        body(counts.baseAddress!)
        result.update(from: counts.baseAddress!, count: width)
    }
}

extension RetentionReport {
    /// The fused computation; `nil` when the input needs the reference path (empty, `.split` binning, very wide
    /// ranges, cohort tables wider than 1,024 periods).
    static func fused(_ columns: OrderColumns, options: Options) throws -> RetentionReport? {
        guard columns.count > 0 else { return nil }
        // Pass 0: the instant range.
        let range = columns.timestamps.withUnsafeBufferPointer { instantRange($0) }
        guard let plan = try KernelPlan(range: range, options: options) else { return nil }
        let customerCount = columns.customerCount
        let periodCount = plan.mapper.periodCount
        // Zero-filled, page by page as the row pass first touches them (see `KernelCustomer`).
        let stateMemory = ZeroedBuffer<KernelCustomer>(count: customerCount)
        let extraMemory = ZeroedBuffer<UInt64>(count: plan.words > 1 ? customerCount * (plan.words - 1) : 0)

        // Pass 1: rows, split by customer number between two workers.
        let workers = customerCount >= 65_536 && columns.count >= 262_144 ? 2 : 1
        var partials = [(totals: KernelTotals, earlyRefunds: [KernelEarlyRefund])?](repeating: nil, count: workers)
        let states = SharedPointer(base: stateMemory.base)
        let extraBits = SharedPointer(base: extraMemory.base)
        partials.withUnsafeMutableBufferPointer { partialBuffer in
            let partialsOut = SharedPointer(base: partialBuffer.baseAddress!)
            let split = Int32(customerCount / workers)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let low: Int32 = worker == 0 ? 0 : split
                let high: Int32 = worker == workers - 1 ? Int32(customerCount) : split
                partialsOut.base[worker] = scanRows(
                    columns, mapper: plan.mapper, bounds: plan.bounds, customers: low..<high, states: states.base,
                    extraBits: extraBits.base, periodCount: periodCount)
            }
        }
        var totals = partials[0]!.totals
        for partial in partials.dropFirst() { totals.merge(partial!.totals) }
        for partial in partials {
            applyEarlyRefunds(
                partial!.earlyRefunds, states: states.base, periodCount: periodCount,
                excluded: &totals.irregularExcluded)
        }
        partials = []
        return try finishKernel(
            plan, states: states.base, count: customerCount, extraBits: extraBits.base, totals: totals,
            currency: columns.currency, options: options)
    }

    /// Passes 2 and 3 of the kernel over filled states (from the row pass or from a ``ReportFold``): the customer
    /// pass, the segments, and the report. No state is irregular: both fill their states with the refunds before
    /// a customer's first purchase period applied afterwards (``applyEarlyRefunds(_:states:periodCount:excluded:)``).
    static func finishKernel(
        _ plan: KernelPlan, states: UnsafeMutablePointer<KernelCustomer>, count customerCount: Int,
        extraBits: UnsafeMutablePointer<UInt64>, totals: KernelTotals, currency: Currency?, options: Options
    ) throws -> RetentionReport {
        let (mapper, bounds) = (plan.mapper, plan.bounds)
        let states = SharedPointer(base: states)
        let extraBits = SharedPointer(base: extraBits)
        // Pass 2: customers, split in halves between two workers; each writes its purchasers into its own part
        // of the purchasers' columns.
        let customerWorkers = customerCount >= 131_072 ? 2 : 1
        let customerSplit = customerCount / customerWorkers
        let purchasers = PurchaserColumns.allocate(capacity: customerCount)
        defer { purchasers.deallocate() }
        var customerPasses = [CustomerPass?](repeating: nil, count: customerWorkers)
        customerPasses.withUnsafeMutableBufferPointer { passBuffer in
            let passesOut = SharedPointer(base: passBuffer.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: customerWorkers) { worker in
                let low = worker == 0 ? 0 : customerSplit
                let high = worker == customerWorkers - 1 ? customerCount : customerSplit
                passesOut.base[worker] = mapper.withUnsafeMapper { map in
                    scanCustomers(
                        states.base, customers: low..<high, extraBits: extraBits.base, bounds: bounds, map: map,
                        localDays: mapper.periodOfLocal.count, output: purchasers.advanced(by: low))
                }
            }
        }
        var customerPass = customerPasses[0]!
        // Each half's purchasers from the half's first customer number on.
        var parts = [0..<customerPass.purchasers]
        if customerWorkers > 1 {
            let second = customerPasses[1]!
            parts.append(customerSplit..<(customerSplit + second.purchasers))
            customerPass.merge(second)
        }
        customerPasses = []
        precondition(customerPass.irregularCustomers == 0, "refunds before a first purchase period are applied")
        return try completeKernel(
            plan, totals: totals, pass: customerPass, purchasers: purchasers, parts: parts, workers: customerWorkers,
            currency: currency, options: options)
    }

    /// The last step of every kernel path: the RFM segments from the purchasers' columns (their `parts` hold the
    /// purchasers), then the report.
    static func completeKernel(
        _ plan: KernelPlan, totals: KernelTotals, pass: CustomerPass, purchasers: PurchaserColumns,
        parts: [Range<Int>], workers: Int, currency: Currency?, options: Options
    ) throws -> RetentionReport {
        let segments = kernelSegments(
            purchasers, parts: parts, pass: pass, mapper: plan.mapper, asOfDay: plan.asOfDay.daysSince1970,
            bins: options.bins, segmentation: options.segmentation, workers: workers)
        return try RetentionReport(
            fused: totals, customers: pass, segments: segments, currency: currency, options: options,
            window: plan.window, activeWithin: plan.activeWithin, asOfDay: plan.asOfDay, mapper: plan.mapper,
            limit: plan.limit)
    }

    private init(
        fused totals: KernelTotals, customers pass: CustomerPass, segments: [RFMSegmentSize], currency: Currency?,
        options: Options,
        window: Range<Timestamp>, activeWithin: Int64, asOfDay: CivilDate, mapper: PeriodMapper, limit: Int64
    ) throws {
        let calendar = options.calendar
        let reportCurrency = currency
        let currency = currency ?? .usd
        let histogram = pass.flagCounts
        func count(all: UInt8, none: UInt8 = 0) -> Int {
            var total = 0
            for flags in 0..<64 where UInt8(flags) & (all | none) == all { total += histogram[flags] }
            return total
        }
        let (atStart, atEnd, inWindow, before) = (
            KernelFlags.atStart, KernelFlags.atEnd, KernelFlags.inWindow, KernelFlags.before
        )
        let windowCustomers = count(all: inWindow)
        let aov = try AverageOrderValue(orders: totals.windowOrders, revenue: totals.windowRevenue, currency: currency)
        let frequency = try PurchaseFrequency(orders: totals.windowOrders, customers: windowCustomers, window: window)

        // PeriodRetention's masks: acquired = a purchase in the window and none before it.
        let start = count(all: atStart)
        let end = count(all: atEnd)
        let new = count(all: atEnd | inWindow, none: atStart | before)
        let retained = count(all: atStart | atEnd)
        let lost = count(all: atStart, none: atEnd)
        let reactivated = count(all: atEnd, none: atStart) - new
        let rate = ratio(end - new, start)
        let lostRate = ratio(lost, start)

        timeZone = calendar.identifier
        from = window.lowerBound.description
        to = window.upperBound.description
        self.currency = reportCurrency?.code
        customers = windowCustomers
        orders = aov.orders
        revenueMinorUnits = aov.revenue
        revenue = Money.decimalString(aov.revenue, digits: currency.minorUnitDigits)
        averageOrderValue = aov.value
        purchaseFrequency = frequency.value
        repeatPurchaseRate = ratio(count(all: KernelFlags.repeatInWindow), windowCustomers)
        returningCustomerRate = ratio(count(all: inWindow | before), windowCustomers)
        spendUplift = SpendUplift.value(
            firstPurchases: pass.firstPurchases, firstAmount: pass.firstAmount,
            repeatPurchases: totals.purchases - pass.firstPurchases,
            repeatAmount: totals.purchaseAmount - pass.firstAmount)
        retention = Retention(
            start: start, new: new, end: end, retained: retained, reactivated: reactivated, rate: rate,
            cohortRate: ratio(retained, start), churnRate: ratio(start - (end - new), start), lostRate: lostRate,
            activeWithinDays: Double(activeWithin) / 86_400)
        let existing = count(all: before)
        let returned = count(all: before | inWindow)
        returning = Returning(existing: existing, returned: returned, rate: ratio(returned, existing))
        customerLifetimeValue = try RetentionReport.lifetimeValue(
            aov: aov, frequency: frequency, lostRate: lostRate, window: window, options: options)

        asOf = asOfDay.description
        cohortPeriod = options.cohortUnit
        let unit = options.cohortUnit
        let base = mapper.periodBase
        var cells: [CohortCell] = []
        if let firstCohort = pass.cohortSizes.firstIndex(where: { $0 > 0 }) {
            let width = Int(limit) + 1
            for cohort in firstCohort..<pass.cohortSizes.count where pass.cohortSizes[cohort] > 0 {
                let size = pass.cohortSizes[cohort]
                let label = Period(unit: unit, index: base + Int64(cohort)).description
                for offset in 0...(Int(limit) - cohort) {
                    let active = pass.cohortActive[cohort * width + cohort + offset]
                    cells.append(
                        CohortCell(
                            cohort: label, offset: offset, active: active, size: size,
                            retention: Double(active) / Double(size)))
                }
            }
        }
        cohorts = cells
        self.segments = segments
        var series: [PeriodRevenue] = []
        // As in the reference: the series ends at the as-of day's period (`limit`, relative to `base`).
        if let first = pass.firstPurchasePeriod, let last = totals.lastPurchasePeriod,
            first <= min(last, Int(limit))
        {
            let digits = currency.minorUnitDigits
            for period in first...min(last, Int(limit)) {
                let newAmount = pass.newRevenue[period] + totals.irregularNew[period]
                let returningAmount = totals.eligible[period] - newAmount - totals.irregularExcluded[period]
                series.append(
                    PeriodRevenue(
                        period: Period(unit: unit, index: base + Int64(period)).description,
                        newCustomers: pass.newCounts[period], returningCustomers: pass.returningCounts[period],
                        newCustomerRevenue: Money.decimalString(newAmount, digits: digits),
                        returningCustomerRevenue: Money.decimalString(returningAmount, digits: digits)))
            }
        }
        revenueByPeriod = series
    }

    /// The CLV block, shared by the fused and the reference paths.
    static func lifetimeValue(
        aov: AverageOrderValue, frequency: PurchaseFrequency, lostRate: Double?, window: Range<Timestamp>,
        options: Options
    ) throws -> LifetimeValue {
        let customerValue = CustomerValue(averageOrderValue: aov, frequency: frequency)
        var lifespan = options.lifespanYears
        var lifespanSource: String? = lifespan == nil ? nil : "given"
        if lifespan == nil {
            lifespan = CustomerLifetimeValue.estimatedLifespanYears(churnPerPeriod: lostRate, period: window)
            lifespanSource = lifespan == nil ? nil : "estimatedFromChurn"
        }
        var value: Double?
        if let lifespan, let annual = customerValue.annualValue {
            value = try CustomerLifetimeValue(
                annualCustomerValue: annual, lifespanYears: lifespan, grossMargin: options.grossMargin,
                annualDiscountRate: options.annualDiscountRate
            ).value
        }
        return LifetimeValue(
            averageOrderValue: aov.value, annualPurchaseFrequency: frequency.annualized, lifespanYears: lifespan,
            lifespanSource: lifespanSource, grossMargin: options.grossMargin,
            annualDiscountRate: options.annualDiscountRate, value: value)
    }
}

extension SpendUplift {
    /// The uplift from its four sums, with the same arithmetic as ``init(_:)``.
    static func value(firstPurchases: Int, firstAmount: Int64, repeatPurchases: Int, repeatAmount: Int64) -> Double? {
        guard firstPurchases > 0, repeatPurchases > 0, firstAmount != 0 else { return nil }
        let numerator = Double(repeatAmount) * Double(firstPurchases)
        return numerator / (Double(firstAmount) * Double(repeatPurchases)) - 1
    }
}

/// What the kernel needs to know before reading rows, derived from the data's instant range and the options:
/// the window, activity windows, as-of day and cutoff, the period mapper, and the bounds of the row pass.
struct KernelPlan {
    let window: Range<Timestamp>
    let activeWithin: Int64
    let atStart: Range<Timestamp>
    let atEnd: Range<Timestamp>
    let asOfDay: CivilDate
    let mapper: PeriodMapper
    /// The as-of day's period, relative to the mapper's base.
    let limit: Int64
    /// 64-bit words of period bits per customer (the first is `KernelCustomer.periodBits`).
    let words: Int
    let bounds: KernelBounds

    /// The plan for rows whose instants span `range`; `nil` when the kernel does not apply (`.split` binning,
    /// ranges too wide for the mapper, cohort tables wider than 1,024 periods).
    /// - Throws: ``MetricError`` for an empty window or a non-positive activity window.
    init?(range: ClosedRange<Int64>, options: RetentionReport.Options) throws {
        guard options.binning == .share else { return nil }
        let calendar = options.calendar
        let unit = options.cohortUnit
        let window =
            options.window
            ?? {
                let first = calendar.localDay(of: Timestamp(secondsSince1970: range.lowerBound))
                let last = calendar.localDay(of: Timestamp(secondsSince1970: range.upperBound))
                return calendar.startOfDay(first)..<calendar.startOfDay(last.adding(days: 1))
            }()
        guard !window.isEmpty else {
            throw MetricError(.emptyWindow, "the report window [\(window.lowerBound), \(window.upperBound)) is empty")
        }
        let windowSeconds = window.upperBound.secondsSince1970 - window.lowerBound.secondsSince1970
        let activeWithin = options.activeWithin ?? windowSeconds
        let (atStart, atEnd) = try PeriodRetention.summaryWindows(period: window, activeWithin: activeWithin)
        let asOfDay = options.asOf ?? calendar.localDay(of: Timestamp(secondsSince1970: range.upperBound))
        let cutoff = calendar.startOfDay(asOfDay.adding(days: 1)).secondsSince1970
        guard let mapper = PeriodMapper(range: range, unit: unit, calendar: calendar) else { return nil }
        let limitAbsolute = calendar.period(unit, of: Timestamp(secondsSince1970: cutoff - 1)).index
        let limit = limitAbsolute - mapper.periodBase
        let words = limit < 0 ? 0 : Int((limit + 64) / 64)
        guard words <= 16 else { return nil }
        self.window = window
        self.activeWithin = activeWithin
        self.atStart = atStart
        self.atEnd = atEnd
        self.asOfDay = asOfDay
        self.mapper = mapper
        self.limit = limit
        self.words = words
        bounds = KernelBounds(
            windowLow: window.lowerBound.secondsSince1970, windowHigh: window.upperBound.secondsSince1970,
            startLow: atStart.lowerBound.secondsSince1970, startHigh: atStart.upperBound.secondsSince1970,
            endLow: atEnd.lowerBound.secondsSince1970, endHigh: atEnd.upperBound.secondsSince1970,
            cutoff: cutoff, limit: limit, words: words, net: options.refunds == .net,
            firstBias: range.upperBound + 1, lastBias: range.lowerBound - 1, periodCount: mapper.periodCount)
    }
}

struct KernelBounds {
    var windowLow: Int64
    var windowHigh: Int64
    var startLow: Int64
    var startHigh: Int64
    var endLow: Int64
    var endHigh: Int64
    var cutoff: Int64
    var limit: Int64
    var words: Int
    var net: Bool
    /// `firstKey = firstBias - instant` (>= 1 for instants up to the latest), `lastKey = instant - lastBias`
    /// (>= 1 from the earliest on), `firstPeriodKey = periodCount - period` (>= 1).
    var firstBias: Int64
    var lastBias: Int64
    var periodCount: Int
}

/// Per-worker totals of the row pass.
struct KernelTotals {
    var windowOrders = 0
    var windowRevenue: Int64 = 0
    var purchases = 0
    var purchaseAmount: Int64 = 0
    var lastPurchasePeriod: Int?
    /// Per relative period: eligible amounts (before the cutoff, under the refund policy).
    var eligible: [Int64]
    /// Per relative period, filled for irregular customers only: amounts in their first purchase period, and
    /// amounts before it (or of customers without purchases), which the revenue series leaves out.
    var irregularNew: [Int64]
    var irregularExcluded: [Int64]

    init(periodCount: Int) {
        eligible = [Int64](repeating: 0, count: periodCount)
        irregularNew = eligible
        irregularExcluded = eligible
    }

    mutating func merge(_ other: KernelTotals) {
        windowOrders += other.windowOrders
        windowRevenue += other.windowRevenue
        purchases += other.purchases
        purchaseAmount += other.purchaseAmount
        if let theirs = other.lastPurchasePeriod { lastPurchasePeriod = max(lastPurchasePeriod ?? theirs, theirs) }
        for index in eligible.indices {
            eligible[index] += other.eligible[index]
            irregularNew[index] += other.irregularNew[index]
            irregularExcluded[index] += other.irregularExcluded[index]
        }
    }
}

/// Earliest and latest of a non-empty column; two workers from 2^20 values on (the pass is bound by reading
/// memory, and two cores read faster than one: 10^7 instants, 80 MB, about 4 ms alone).
func instantRange(_ values: UnsafeBufferPointer<Int64>) -> ClosedRange<Int64> {
    guard values.count >= 1 << 20 else { return sequentialRange(values) }
    let (count, half) = (values.count, values.count / 2)
    let input = SharedPointer(base: UnsafeMutablePointer(mutating: values.baseAddress!))
    var halves = [ClosedRange<Int64>](repeating: 0...0, count: 2)
    halves.withUnsafeMutableBufferPointer { buffer in
        let out = SharedPointer(base: buffer.baseAddress!)
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            let start = worker == 0 ? 0 : half
            out.base[worker] = sequentialRange(
                UnsafeBufferPointer(start: input.base + start, count: (worker == 0 ? half : count) - start))
        }
    }
    return Swift.min(halves[0].lowerBound, halves[1].lowerBound)...Swift.max(halves[0].upperBound, halves[1].upperBound)
}

private func sequentialRange(_ values: UnsafeBufferPointer<Int64>) -> ClosedRange<Int64> {
    var low = Int64.max
    var high = Int64.min
    for value in values {
        low = min(low, value)
        high = max(high, value)
    }
    return low...high
}

/// The period of `instant` relative to the mapper's base. With a uniform offset, the period of its local day;
/// otherwise the UTC day's period ``DayWord`` (one multiplication and one load, as with a uniform offset), or, on
/// the rare day whose period changes twice, the period of its local day.
@inline(__always)
func relativePeriod(_ instant: Int64, _ mapper: UnsafeMapper) -> Int {
    mapper.uniform ? Int(mapper.periodOfLocal[localDayIndex(instant, mapper)]) : zonedPeriod(instant, mapper)
}

/// ``relativePeriod(_:_:)`` for a mapper without a uniform offset.
@inline(__always)
func zonedPeriod(_ instant: Int64, _ mapper: UnsafeMapper) -> Int {
    let (word, second) = DayWord.look(up: instant, in: mapper.periodWords, origin: mapper.utcOrigin)
    // (The rare day with two changes goes through `localDayIndex`: `zonedLocalDay` here, though the mapper is known
    // not to be uniform, made the grouped loop 3 ms slower in Europe/Berlin, 87 against 84 ms.)
    guard word != DayWord.twoChanges else { return Int(mapper.periodOfLocal[localDayIndex(instant, mapper)]) }
    return DayWord.value(word, second: second)
}

/// The local day of `instant` (``PeriodCalendar/localDayNumber(of:)``) minus the mapper's `localBase`.
@inline(__always)
func localDayIndex(_ instant: Int64, _ mapper: UnsafeMapper) -> Int {
    // Both numerators are non-negative for instants in the mapper's range (its tables start a day before the
    // earliest UTC day and two more before the earliest local day), so floor division is unsigned division.
    // One offset over the whole table (UTC, fixed-offset zones, a range without transitions): no table look-up.
    if mapper.uniform { return Int(UInt64(bitPattern: instant &- mapper.uniformOrigin) / 86_400) }
    return zonedLocalDay(instant, mapper)
}

/// ``localDayIndex(_:_:)`` for a mapper without a uniform offset: the UTC day's local-day ``DayWord``, or its
/// offsets on a day whose local day changes twice.
@inline(__always)
func zonedLocalDay(_ instant: Int64, _ mapper: UnsafeMapper) -> Int {
    let (word, second) = DayWord.look(up: instant, in: mapper.localDayWords, origin: mapper.utcOrigin)
    guard word != DayWord.twoChanges else { return offsetLocalDayIndex(instant, mapper) }
    return DayWord.value(word, second: second)
}

/// ``localDayIndex(_:_:)`` through the UTC day's offsets, for a day whose local day changes twice.
@inline(never)
func offsetLocalDayIndex(_ instant: Int64, _ mapper: UnsafeMapper) -> Int {
    let day = mapper.days[Int(UInt64(bitPattern: instant &- mapper.utcOrigin) / 86_400)]
    let offset = Int64(instant < day.transition ? day.before : day.after)
    return Int(UInt64(bitPattern: instant &+ offset &- mapper.localOrigin) / 86_400)
}

/// The mapper's tables as raw pointers, for the hot loops.
struct UnsafeMapper {
    let utcBase: Int64
    let localBase: Int64
    /// `utcBase * 86_400` and `localBase * 86_400`: the first instants of the tables' first days.
    let utcOrigin: Int64
    let localOrigin: Int64
    /// Whether every day of the tables has the same offset before and after its transition.
    let uniform: Bool
    /// `localOrigin - offset` when ``uniform``: the local day index is `(instant - uniformOrigin) / 86_400`.
    let uniformOrigin: Int64
    let days: UnsafePointer<DayOffsets>
    let localDayWords: UnsafePointer<UInt64>
    let periodWords: UnsafePointer<UInt64>
    let periodOfLocal: UnsafePointer<Int32>
}

extension PeriodMapper {
    func withUnsafeMapper<R>(_ body: (UnsafeMapper) -> R) -> R {
        days.withUnsafeBufferPointer { days in
            localDayWords.withUnsafeBufferPointer { localDays in
                periodWords.withUnsafeBufferPointer { dayPeriods in
                    periodOfLocal.withUnsafeBufferPointer { periods in
                        body(
                            UnsafeMapper(
                                utcBase: utcBase, localBase: localBase, utcOrigin: utcBase * 86_400,
                                localOrigin: localBase * 86_400, uniform: uniformOffset != nil,
                                uniformOrigin: localBase * 86_400 - Int64(uniformOffset ?? 0), days: days.baseAddress!,
                                localDayWords: localDays.baseAddress!, periodWords: dayPeriods.baseAddress!,
                                periodOfLocal: periods.baseAddress!))
                    }
                }
            }
        }
    }
}

/// How many rows ahead the row pass prefetches customer states (see `scanRows`). Measured on the 10^7-order
/// fixture (`KernelPerfTests`), row pass of two workers: 8 rows 230-265 ms, 16 rows ~205 ms, 32 and 64 rows
/// 145-170 ms, none 580-1,050 ms.
let prefetchDistance = 32

/// The row pass's sums that belong to no customer (its per-period amounts live in `KernelTotals.eligible`).
struct KernelRowSums {
    var windowOrders = 0
    var windowRevenue: Int64 = 0
    var purchases = 0
    var purchaseAmount: Int64 = 0
    var lastPeriod = -1

    func store(into totals: inout KernelTotals) {
        totals.windowOrders = windowOrders
        totals.windowRevenue = windowRevenue
        totals.purchases = purchases
        totals.purchaseAmount = purchaseAmount
        totals.lastPurchasePeriod = lastPeriod >= 0 ? lastPeriod : nil
    }
}

/// One row into its customer's state: the kernel's row logic, shared by the row pass over a ledger's columns
/// (states in random order) and the pass over a ``CustomerGroupedLedger`` (one state at a time).
/// - Parameters:
///   - period: the row's period relative to the mapper's base.
///   - extra: the customer's period words after the first (`bounds.words - 1` of them).
///   - eligibleAmounts: per relative period, the eligible amounts (before the cutoff, under the refund policy).
///   - deferEarlyRefunds: whether an eligible refund in a period before the customer's first purchase period so far
///     (or of a customer without purchases so far) is left to the caller instead of marking the customer
///     irregular (see ``KernelEarlyRefund``).
/// - Returns: Whether the row is such a refund and `deferEarlyRefunds` is true: the caller keeps it aside.
@inline(__always) @discardableResult
func kernelRecord(
    _ state: inout KernelCustomer, instant: Int64, amount: Int64, period: Int, bounds: KernelBounds,
    extra: UnsafeMutablePointer<UInt64>, eligibleAmounts: UnsafeMutablePointer<Int64>, sums: inout KernelRowSums,
    deferEarlyRefunds: Bool = false
) -> Bool {
    let beforeCutoff = instant < bounds.cutoff
    let inWindow = instant >= bounds.windowLow && instant < bounds.windowHigh
    let eligible = beforeCutoff && (amount >= 0 || bounds.net)
    if eligible { eligibleAmounts[period] &+= amount }
    if amount >= 0 {
        sums.purchases &+= 1
        sums.purchaseAmount &+= amount
        if period > sums.lastPeriod { sums.lastPeriod = period }
        let firstKey = bounds.firstBias &- instant
        if firstKey > state.firstKey {
            state.firstKey = firstKey
            state.firstCount = 1
            state.firstAmount = amount
        } else if firstKey == state.firstKey {
            state.firstCount &+= 1
            state.firstAmount &+= amount
        }
        var flags = state.flags
        if beforeCutoff {
            state.rfmPurchases &+= 1
            state.rfmAmount &+= amount
            let lastKey = instant &- bounds.lastBias
            if lastKey > state.lastKey { state.lastKey = lastKey }
            if period < 64 {
                state.periodBits |= 1 << UInt64(period)
            } else {
                extra[period / 64 - 1] |= 1 << UInt64(period % 64)
            }
        } else if period == Int(bounds.limit) {
            flags |= KernelFlags.limitExtra
        }
        if inWindow {
            sums.windowOrders &+= 1
            sums.windowRevenue &+= amount
            flags |= (flags & KernelFlags.inWindow) << 2 | KernelFlags.inWindow
        } else if instant < bounds.windowLow {
            flags |= KernelFlags.before
        }
        if instant >= bounds.startLow && instant < bounds.startHigh { flags |= KernelFlags.atStart }
        if instant >= bounds.endLow && instant < bounds.endHigh { flags |= KernelFlags.atEnd }
        state.flags = flags
        let periodKey = Int32(truncatingIfNeeded: bounds.periodCount &- period)
        if periodKey > state.firstPeriodKey {
            state.firstPeriodKey = periodKey
            state.firstPeriodAmount = eligible ? amount : 0
        } else if periodKey == state.firstPeriodKey && eligible {
            state.firstPeriodAmount &+= amount
        }
    } else if bounds.net {
        if beforeCutoff { state.rfmAmount &+= amount }
        if inWindow { sums.windowRevenue &+= amount }
        if eligible {
            let periodKey = Int32(truncatingIfNeeded: bounds.periodCount &- period)
            if periodKey == state.firstPeriodKey {
                state.firstPeriodAmount &+= amount
            } else if periodKey > state.firstPeriodKey {
                if deferEarlyRefunds { return true }
                state.flags |= KernelFlags.irregular
            }
        }
    }
    return false
}

/// An eligible refund (under `.net`, before the cutoff) that the row pass over a ledger's columns met in a period
/// before its customer's first purchase period so far, kept aside until every first purchase period is final
/// (``applyEarlyRefunds(_:states:periodCount:excluded:)``). The one-pass folds keep every eligible refund aside
/// this way (`customer` is then the customer's key).
///
/// Its place in the revenue series depends on the customer's final first purchase period: in it, it is the
/// customer's new revenue; before it (or when the customer has no purchase), it is left out of the series; after
/// it (an earlier purchase came later in the rows), it is returning revenue, which needs nothing. The row pass
/// used to mark such customers irregular and read every row again for them (24 ms of the 10^7-order report).
/// (The pass over a ``CustomerGroupedLedger`` still marks them: their rows are at hand, see `splitIrregular`.)
struct KernelEarlyRefund {
    var customer: Int32
    var period: Int32
    var amount: Int64
}

/// Applies the refunds the row pass kept aside, now that every first purchase period is final: a refund in its
/// customer's first period joins the state's first-period amount; one before it, or of a customer without
/// purchases, goes to `excluded`.
///
/// Exact: a refund is kept aside when its period is before the customer's first purchase period at that row; first
/// periods only move earlier, so every refund before the final first period was kept aside, and one in the final
/// first period that was not kept aside was added to the first-period amount with no earlier purchase after it
/// (which would have reset that amount). (A fold that keeps every refund aside added none of them.)
///
/// - Parameter periodCount: The period keys' bias (`firstPeriodKey = periodCount - period`): a customer without
///   purchases (key 0) then has its first period past every period.
func applyEarlyRefunds(
    _ refunds: [KernelEarlyRefund], states: UnsafeMutablePointer<KernelCustomer>, periodCount: Int,
    excluded: inout [Int64]
) {
    // The state 16 refunds ahead is requested now: the refunds' customers are in random order, and a ledger whose
    // refunds often come before their customers' purchases in row order keeps many aside (10^7 shuffled orders,
    // 30% refunds: report 256-260 ms with this, 261-266 ms without, 358-424 ms with the former second row pass).
    let ahead = 16
    for (index, refund) in refunds.enumerated() {
        if index + ahead < refunds.count { retention_prefetch_for_write(states + Int(refunds[index + ahead].customer)) }
        let state = states + Int(refund.customer)
        // A customer without purchases has key 0: `first` is past every period.
        let first = periodCount - Int(state.pointee.firstPeriodKey)
        let period = Int(refund.period)
        if period == first {
            state.pointee.firstPeriodAmount &+= refund.amount
        } else if period < first {
            excluded[period] += refund.amount
        }
    }
}

/// The row pass for the customers in `owned`; its early refunds are kept aside (see ``KernelEarlyRefund``).
private func scanRows(
    _ columns: OrderColumns, mapper: PeriodMapper, bounds: KernelBounds, customers owned: Range<Int32>,
    states: UnsafeMutablePointer<KernelCustomer>, extraBits: UnsafeMutablePointer<UInt64>, periodCount: Int
) -> (totals: KernelTotals, earlyRefunds: [KernelEarlyRefund]) {
    var totals = KernelTotals(periodCount: periodCount)
    var sums = KernelRowSums()
    var earlyRefunds: [KernelEarlyRefund] = []
    let extraWords = Swift.max(bounds.words - 1, 0)
    let everyone = owned.lowerBound == 0 && Int(owned.upperBound) == columns.customerCount
    mapper.withUnsafeMapper { map in
        totals.eligible.withUnsafeMutableBufferPointer { eligibleBuffer in
            let eligibleAmounts = eligibleBuffer.baseAddress!
            columns.customers.withUnsafeBufferPointer { customerColumn in
                columns.timestamps.withUnsafeBufferPointer { timestampColumn in
                    columns.amounts.withUnsafeBufferPointer { amountColumn in
                        let rowCount = customerColumn.count
                        // The state `prefetchDistance` rows ahead is requested now, so that the cache misses of
                        // rows in random customer order overlap (the state-dependent branches below would
                        // otherwise make the CPU wait for each one). Rows of the other worker's customers
                        // prefetch this worker's first state instead (already cached): a select, not a branch.
                        let ahead = Swift.max(rowCount - prefetchDistance, 0)
                        let fallback = Int(owned.lowerBound)
                        for row in 0..<rowCount {
                            if row < ahead {
                                let next = customerColumn[row + prefetchDistance]
                                let target = everyone || owned.contains(next) ? Int(next) : fallback
                                retention_prefetch_for_write(states + target)
                            }
                            let customerNumber = customerColumn[row]
                            if !everyone && !owned.contains(customerNumber) { continue }
                            let customer = Int(customerNumber)
                            let instant = timestampColumn[row]
                            let (amount, period) = (amountColumn[row], relativePeriod(instant, map))
                            let early = kernelRecord(
                                &states[customer], instant: instant, amount: amount, period: period, bounds: bounds,
                                extra: extraBits + customer * extraWords, eligibleAmounts: eligibleAmounts,
                                sums: &sums, deferEarlyRefunds: true)
                            if early {
                                earlyRefunds.append(
                                    KernelEarlyRefund(
                                        customer: customerNumber, period: Int32(truncatingIfNeeded: period),
                                        amount: amount))
                            }
                        }
                    }
                }
            }
        }
    }
    sums.store(into: &totals)
    return (totals, earlyRefunds)
}

/// Purchase counts below this are counted in a table; larger ones (rare) are kept one by one.
let kernelFrequencyCap = 4_096

/// What the customer pass gathers over a range of customers; the two workers' passes merge.
struct CustomerPass {
    var flagCounts = [Int](repeating: 0, count: 64)
    var firstPurchases = 0
    var firstAmount: Int64 = 0
    var irregularCustomers = 0
    var firstPurchasePeriod: Int?
    var newRevenue: [Int64]
    var newCounts: [Int]
    var returningCounts: [Int]
    var cohortSizes: [Int]
    /// `cohortActive[cohort * (limit + 1) + period]`.
    var cohortActive: [Int]
    /// Customers with a purchase before the cutoff: the RFM population.
    var purchasers = 0
    /// Purchasers by the local day of their last purchase before the cutoff (index: day - `localBase`).
    var lastDays: [Int]
    /// Purchasers by number of purchases before the cutoff, below ``kernelFrequencyCap``.
    var frequencies: [Int]
    /// Larger purchase counts, one entry per purchaser.
    var largeFrequencies: [Int64] = []
    /// Purchasers by ``logBucket(_:)`` of their money (65,536 entries).
    var monetaryBuckets: [Int]

    /// Adds the pass over other customers.
    mutating func merge(_ other: CustomerPass) {
        func add<T: AdditiveArithmetic>(_ mine: inout [T], _ theirs: [T]) {
            mine.withUnsafeMutableBufferPointer { mine in
                theirs.withUnsafeBufferPointer { theirs in
                    for index in mine.indices { mine[index] += theirs[index] }
                }
            }
        }
        add(&flagCounts, other.flagCounts)
        firstPurchases += other.firstPurchases
        firstAmount += other.firstAmount
        irregularCustomers += other.irregularCustomers
        if let theirs = other.firstPurchasePeriod { firstPurchasePeriod = min(firstPurchasePeriod ?? theirs, theirs) }
        add(&newRevenue, other.newRevenue)
        add(&newCounts, other.newCounts)
        add(&returningCounts, other.returningCounts)
        add(&cohortSizes, other.cohortSizes)
        add(&cohortActive, other.cohortActive)
        purchasers += other.purchasers
        add(&lastDays, other.lastDays)
        add(&frequencies, other.frequencies)
        largeFrequencies += other.largeFrequencies
        add(&monetaryBuckets, other.monetaryBuckets)
    }
}

/// Segment sizes of the RFM scores (`.share` binning), as ``RFMSegmentation/sizes(of:)`` counts them: recency and
/// frequency cut points from the pass's histograms, then one pass over the purchasers' columns (their `parts`, dealt
/// to `workers` in turn) that scores each purchaser from tables. Monetary scores come from the pass's
/// `monetaryBuckets` before the pass; the purchasers near a cut point are set aside and scored exactly afterwards
/// (``MonetaryBucketScores``).
private func kernelSegments(
    _ purchasers: PurchaserColumns, parts: [Range<Int>], pass: CustomerPass, mapper: PeriodMapper, asOfDay: Int64,
    bins: Int, segmentation: RFMSegmentation, workers: Int
) -> [RFMSegmentSize] {
    precondition(bins >= 1, "RFMScores needs at least one bin")
    let (names, position) = segmentation.namesInOrder()
    var counts = [Int](repeating: 0, count: names.count)
    guard pass.purchasers > 0 else { return zip(names, counts).map { RFMSegmentSize(name: $0, customers: $1) } }
    let localBase = mapper.localBase
    // Recency ascending = last purchase day descending.
    var recency: [(value: Int64, count: Int64)] = []
    for index in pass.lastDays.indices.reversed() where pass.lastDays[index] > 0 {
        recency.append((asOfDay - (localBase + Int64(index)), Int64(pass.lastDays[index])))
    }
    var frequency: [(value: Int64, count: Int64)] = []
    for value in pass.frequencies.indices where pass.frequencies[value] > 0 {
        frequency.append((Int64(value), Int64(pass.frequencies[value])))
    }
    for value in pass.largeFrequencies.sorted() {
        if let last = frequency.last, last.value == value {
            frequency[frequency.count - 1].count += 1
        } else {
            frequency.append((value, 1))
        }
    }
    let recencyCuts = histogramShareCuts(recency, count: pass.purchasers, bins: bins)
    let frequencyCuts = histogramShareCuts(frequency, count: pass.purchasers, bins: bins)
    let purchaserCount = pass.purchasers
    // Scores by last purchase day and by purchase count; the segment of every score triple when `bins` is small.
    let recencyScore = pass.lastDays.indices.map {
        bins - cutsBelow(Double(asOfDay - (localBase + Int64($0))), recencyCuts)
    }
    let frequencyScore = (0..<kernelFrequencyCap).map { 1 + cutsBelow(Double($0), frequencyCuts) }
    func frequencyScoreOf(_ purchases: Int) -> Int {
        purchases < kernelFrequencyCap ? frequencyScore[purchases] : 1 + cutsBelow(Double(purchases), frequencyCuts)
    }
    let side = bins + 1
    let table = segmentation.positionTable(bins: bins, position: position)
    guard !table.isEmpty else {
        // Over 32 bins: no table of score triples. Every purchaser's money, cut points by bucket selection, and the
        // segment by name, on one worker.
        var money: [Int64] = []
        money.reserveCapacity(purchaserCount)
        for part in parts {
            money.append(
                contentsOf: UnsafeBufferPointer(start: purchasers.monetary + part.lowerBound, count: part.count))
        }
        let thresholds = integerThresholds(
            money.withUnsafeBufferPointer { bucketShareCuts($0, bins: bins, bucketCounts: pass.monetaryBuckets) })
        for part in parts {
            for purchaser in part {
                let r = recencyScore[Int(purchasers.lastDays[purchaser])]
                let f = frequencyScoreOf(Int(purchasers.purchases[purchaser]))
                let value = purchasers.monetary[purchaser]
                let m = 1 + thresholds.count { value > $0 }
                counts[position[segmentation.segment(recency: r, frequency: f, monetary: m)]!] += 1
            }
        }
        return zip(names, counts).map { RFMSegmentSize(name: $0, customers: $1) }
    }
    // Each purchaser is counted in its cell `(r * side + f) * side + m` of the score cube; the cells go to their
    // segments at the end. Cells rather than segments: consecutive purchasers share a segment far more often than a
    // cell, and each repeat of a counter waits for its previous increment.
    let cells = side * side * side
    let recencyCell = recencyScore.map { Int32($0 * side * side) }
    let frequencyCell = frequencyScore.map { Int32($0 * side) }
    let scores = MonetaryBucketScores(count: purchaserCount, bins: bins) { pass.monetaryBuckets[$0] }
    // The purchasers set aside, exactly as many as the histogram has in the buckets that score 0: worker 0 fills
    // the columns from the front, worker 1 from the back.
    precondition(workers == 1 || workers == 2, "one or two workers")
    let asideCount = scores.setAsideCount
    let asideAmounts = UnsafeMutableBufferPointer<Int64>.allocate(capacity: Swift.max(asideCount, 1))
    let asideCells = UnsafeMutableBufferPointer<Int32>.allocate(capacity: Swift.max(asideCount, 1))
    defer {
        asideAmounts.deallocate()
        asideCells.deallocate()
    }
    let (amountsOut, cellsOut) = (
        SharedPointer(base: asideAmounts.baseAddress!), SharedPointer(base: asideCells.baseAddress!)
    )
    var partCounts = [Int](repeating: 0, count: workers * cells)
    partCounts.withUnsafeMutableBufferPointer { partBuffer in
        let out = SharedPointer(base: partBuffer.baseAddress!)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var next = worker == 0 ? 0 : asideCount - 1
            let step = worker == 0 ? 1 : -1
            countingPrivately(width: cells, into: out.base + worker * cells) { cellCounts in
                recencyCell.withUnsafeBufferPointer { recencyCell in
                    frequencyCell.withUnsafeBufferPointer { frequencyCell in
                        scores.scoreOfBucket.withUnsafeBufferPointer { monetaryScore in
                            for part in stride(from: worker, to: parts.count, by: workers).map({ parts[$0] }) {
                                for purchaser in part {
                                    let purchases = Int(purchasers.purchases[purchaser])
                                    let rf =
                                        Int(recencyCell[Int(purchasers.lastDays[purchaser])])
                                        &+ (purchases < kernelFrequencyCap
                                            ? Int(frequencyCell[purchases])
                                            : (1 + cutsBelow(Double(purchases), frequencyCuts)) * side)
                                    let money = purchasers.monetary[purchaser]
                                    let m = Int(monetaryScore[logBucket(money)])
                                    if m == 0 {
                                        // The histogram counted exactly these purchasers: the columns fit them.
                                        precondition(UInt(bitPattern: next) < UInt(asideCount), "set-aside overflow")
                                        amountsOut.base[next] = money
                                        cellsOut.base[next] = Int32(rf)
                                        next &+= step
                                    } else {
                                        cellCounts[rf &+ m] &+= 1
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    var cellCounts = [Int](repeating: 0, count: cells)
    for part in 0..<workers {
        for cell in 0..<cells { cellCounts[cell] += partCounts[part * cells + cell] }
    }
    // The purchasers near a cut point, scored with the exact cut points.
    let monetaryCuts = scores.cuts(setAside: Array(asideAmounts.prefix(asideCount)))
    for index in 0..<asideCount {
        cellCounts[Int(asideCells[index]) + 1 + cutsBelow(Double(asideAmounts[index]), monetaryCuts)] += 1
    }
    for cell in 0..<cells where cellCounts[cell] > 0 { counts[table[cell]] += cellCounts[cell] }
    return zip(names, counts).map { RFMSegmentSize(name: $0, customers: $1) }
}

/// Zero-filled memory for `count` values of a type whose all-zero bit pattern is a valid value: fresh pages the
/// kernel zeroes on first touch, so no pass writes initial values. Blocks of 8 MiB and more are mapped directly
/// and, on Linux, marked for transparent huge pages (one fault per 2 MiB instead of per 4 KiB: on 213 MB of
/// customer state that is the difference between 52,000 page faults and about 100); smaller ones come from
/// `calloc`.
final class ZeroedBuffer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
    /// The mapped length, 0 when the memory came from `calloc`.
    private let mappedBytes: Int

    init(count: Int) {
        // One element at least, so that `base` is never null.
        let count = Swift.max(count, 1)
        let bytes = count * MemoryLayout<T>.stride
        #if os(Linux)
            if bytes >= 8 << 20,
                let memory = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                memory != UnsafeMutableRawPointer(bitPattern: -1)
            {
                _ = madvise(memory, bytes, Int32(MADV_HUGEPAGE))
                base = memory.bindMemory(to: T.self, capacity: count)
                mappedBytes = bytes
                return
            }
        #endif
        base = calloc(count, MemoryLayout<T>.stride)!.bindMemory(to: T.self, capacity: count)
        mappedBytes = 0
    }

    deinit {
        #if os(Linux)
            if mappedBytes > 0 {
                _ = munmap(UnsafeMutableRawPointer(base), mappedBytes)
                return
            }
        #endif
        free(base)
    }
}

/// For each cut point, the largest integer `t` with `Double(t) <= cut`: since `Double(_:)` is non-decreasing, an
/// integer `v` has `Double(v) > cut` exactly when `v > t`, so scoring loops compare integers and agree with
/// ``cutsBelow(_:_:)`` on `Double(v)` for every `Int64`, also where `Double` rounds (beyond 2^53).
func integerThresholds(_ cuts: [Double]) -> [Int64] {
    cuts.map { cut in
        guard cut < 0x1p63 else { return .max }  // no Int64 converts above it
        guard cut >= -0x1p63 else { return .min }  // only reachable for cuts below every Int64 (not from data)
        var threshold = Int64(cut.rounded(.down))
        while threshold < .max && Double(threshold + 1) <= cut { threshold += 1 }
        while threshold > .min && Double(threshold) > cut { threshold -= 1 }
        return threshold
    }
}

/// How many of the ascending cut points lie strictly below `value` (a score is 1 + this, or bins - this).
@inline(__always)
func cutsBelow(_ value: Double, _ cuts: [Double]) -> Int {
    var count = 0
    for cut in cuts where value > cut { count += 1 }
    return count
}

/// The type-7 cut points at k / bins of `values`, by selection instead of a full sort.
func shareCuts(_ values: [Int64], bins: Int) -> [Double] {
    guard !values.isEmpty, bins > 1 else { return [] }
    let n = values.count
    var ranks: [Int] = []
    for k in 1..<bins {
        let h = Double(n - 1) * (Double(k) / Double(bins))
        let j = min(Int(h.rounded(.down)), n - 1)
        ranks.append(j)
        if j + 1 < n { ranks.append(j + 1) }
    }
    let statistics = orderStatistics(values, ranks: ranks)
    return (1..<bins).map { k in
        let p = Double(k) / Double(bins)
        let h = Double(n - 1) * p
        let j = min(Int(h.rounded(.down)), n - 1)
        let g = h - Double(j)
        let a = Double(statistics[j]!)
        guard j + 1 < n else { return a }
        let b = Double(statistics[j + 1]!)
        let difference = b - a
        return g >= 0.5 ? b - difference * (1 - g) : a + difference * g
    }
}

/// The values at the given ranks of `values` sorted ascending: quickselect that only descends into parts holding
/// a wanted rank. Expected O(*n* log *k*) for *k* distinct ranks.
func orderStatistics(_ values: [Int64], ranks: [Int]) -> [Int: Int64] {
    var work = values
    var result: [Int: Int64] = [:]
    let wanted = Array(Set(ranks)).sorted()
    work.withUnsafeMutableBufferPointer { buffer in
        var stack: [(low: Int, high: Int, ranks: ArraySlice<Int>)] = [(0, buffer.count, wanted[...])]
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        while let (low, high, ranks) = stack.popLast() {
            guard !ranks.isEmpty else { continue }
            if high - low <= 32 {
                var part = UnsafeMutableBufferPointer(rebasing: buffer[low..<high])
                part.sort()
                for rank in ranks { result[rank] = buffer[rank] }
                continue
            }
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let pivot = buffer[low + Int((seed >> 33) % UInt64(high - low))]
            // Three-way partition: [low, lt) < pivot, [lt, gt) == pivot, [gt, high) > pivot.
            var lt = low
            var index = low
            var gt = high
            while index < gt {
                let value = buffer[index]
                if value < pivot {
                    buffer.swapAt(lt, index)
                    lt += 1
                    index += 1
                } else if value > pivot {
                    gt -= 1
                    buffer.swapAt(index, gt)
                } else {
                    index += 1
                }
            }
            var lowRanks: [Int] = []
            var highRanks: [Int] = []
            for rank in ranks {
                if rank < lt {
                    lowRanks.append(rank)
                } else if rank >= gt {
                    highRanks.append(rank)
                } else {
                    result[rank] = pivot
                }
            }
            stack.append((low, lt, lowRanks[...]))
            stack.append((gt, high, highRanks[...]))
        }
    }
    return result
}

/// Per purchaser (a customer with a purchase before the cutoff), what the RFM scores need: the local day of the
/// last purchase (index: day - the mapper's `localBase`), the purchase count and the money. The customer pass
/// writes them in customer order, so the segment count reads 16 bytes a purchaser instead of a 64-byte state a
/// customer. Workers share it and write disjoint ranges.
struct PurchaserColumns: @unchecked Sendable {
    let lastDays: UnsafeMutablePointer<Int32>
    let purchases: UnsafeMutablePointer<Int32>
    let monetary: UnsafeMutablePointer<Int64>

    /// Room for `capacity` purchasers; released by ``deallocate()``.
    static func allocate(capacity: Int) -> PurchaserColumns {
        let capacity = Swift.max(capacity, 1)
        return PurchaserColumns(
            lastDays: .allocate(capacity: capacity), purchases: .allocate(capacity: capacity),
            monetary: .allocate(capacity: capacity))
    }

    func deallocate() {
        lastDays.deallocate()
        purchases.deallocate()
        monetary.deallocate()
    }

    /// The columns from purchaser `offset` on.
    func advanced(by offset: Int) -> PurchaserColumns {
        PurchaserColumns(lastDays: lastDays + offset, purchases: purchases + offset, monetary: monetary + offset)
    }
}

/// One worker's customer pass: each customer's finished state in, cohort and revenue totals, the RFM histograms
/// and the purchasers' columns out. Its tables are raw memory (the hot loop stores straight into them); call
/// ``finish()`` once, which releases them.
struct CustomerFold {
    let bounds: KernelBounds
    let map: UnsafeMapper
    let limit: Int
    let width: Int
    let flagCounts: UnsafeMutableBufferPointer<Int>
    let newRevenue: UnsafeMutableBufferPointer<Int64>
    let newCounts: UnsafeMutableBufferPointer<Int>
    let returningCounts: UnsafeMutableBufferPointer<Int>
    let cohortSizes: UnsafeMutableBufferPointer<Int>
    let cohortActive: UnsafeMutableBufferPointer<Int>
    let lastDays: UnsafeMutableBufferPointer<Int>
    let frequencies: UnsafeMutableBufferPointer<Int>
    /// Purchasers by ``logBucket(_:)`` of their money: the first pass of ``bucketShareCuts(_:bins:bucketCounts:)``.
    let monetaryBuckets: UnsafeMutableBufferPointer<Int32>
    /// Where the next purchasers go: `output[outputIndex]` (see ``redirect(to:)``).
    private(set) var output: PurchaserColumns
    private var outputIndex = 0
    var firstPurchases = 0
    var firstAmount: Int64 = 0
    var firstPeriod = Int.max
    var purchasers = 0
    var largeFrequencies: [Int64] = []

    init(bounds: KernelBounds, map: UnsafeMapper, localDays: Int, output: PurchaserColumns) {
        func zeros<T: FixedWidthInteger>(_ count: Int) -> UnsafeMutableBufferPointer<T> {
            let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: Swift.max(count, 1))
            buffer.initialize(repeating: 0)
            return buffer
        }
        self.bounds = bounds
        self.map = map
        limit = Int(bounds.limit)
        width = Swift.max(limit + 1, 0)
        flagCounts = zeros(128)
        newRevenue = zeros(bounds.periodCount)
        newCounts = zeros(bounds.periodCount)
        returningCounts = zeros(bounds.periodCount)
        cohortSizes = zeros(width)
        cohortActive = zeros(width * width)
        lastDays = zeros(localDays)
        frequencies = zeros(kernelFrequencyCap)
        monetaryBuckets = zeros(65_536)
        self.output = output
    }

    // `@_transparent`, not `@inline(__always)`: the grouped pass's customer loop is past the inliner's size limit
    // after `kernelRecord`, and there `@inline(__always)` left a call per customer (measured: 1-2 ms of ~107).

    /// Adds customer `customer`, whose period words after the first are at `extra` and whose last purchase before
    /// the cutoff (if any) fell on local day `lastDay` (index: day - the mapper's `localBase`).
    @_transparent
    mutating func add(_ state: KernelCustomer, customer: Int, extra: UnsafePointer<UInt64>, lastDay: Int) {
        flagCounts[Int(state.flags & 0x7F)] += 1
        guard state.firstKey != 0 else { return }
        firstPurchases += Int(state.firstCount)
        firstAmount += state.firstAmount
        let first = bounds.periodCount - Int(state.firstPeriodKey)
        firstPeriod = Swift.min(firstPeriod, first)
        if state.flags & KernelFlags.irregular == 0 { newRevenue[first] += state.firstPeriodAmount }
        // Periods with a purchase before the cutoff: all >= first, all <= limit.
        var word = 0
        var bits = state.periodBits
        let cohortRow = first * width
        let inCohort = first <= limit
        if inCohort { cohortSizes[first] += 1 }
        while true {
            while bits != 0 {
                let period = word * 64 + bits.trailingZeroBitCount
                bits &= bits - 1
                if period == first {
                    newCounts[period] += 1
                } else {
                    returningCounts[period] += 1
                }
                if inCohort { cohortActive[cohortRow + period] += 1 }
            }
            word += 1
            guard word < bounds.words else { break }
            bits = extra[word - 1]
        }
        if inCohort && state.flags & KernelFlags.limitExtra != 0 {
            let period = limit
            let has =
                period < 64
                ? state.periodBits & (1 << UInt64(period)) != 0
                : extra[period / 64 - 1] & (1 << UInt64(period % 64)) != 0
            if !has { cohortActive[cohortRow + period] += 1 }
        }
        if state.lastKey != 0 {
            let day = lastDay
            lastDays[day] += 1
            let purchases = Int(state.rfmPurchases)
            if purchases < kernelFrequencyCap {
                frequencies[purchases] += 1
            } else {
                largeFrequencies.append(Int64(purchases))
            }
            output.lastDays[outputIndex] = Int32(truncatingIfNeeded: day)
            output.purchases[outputIndex] = state.rfmPurchases
            output.monetary[outputIndex] = state.rfmAmount
            monetaryBuckets[logBucket(state.rfmAmount)] &+= 1
            outputIndex += 1
            purchasers += 1
        }
    }

    /// Sends the next purchasers to `output` from its start (a pass over several ranges of customers gives each
    /// range its own part of the columns).
    mutating func redirect(to output: PurchaserColumns) {
        self.output = output
        outputIndex = 0
    }

    /// The pass's totals; releases the tables.
    func finish() -> CustomerPass {
        // Flags with the irregular bit (64) fold onto the 64 the report counts.
        var flagTotals = [Int](repeating: 0, count: 64)
        var irregularCustomers = 0
        for flags in 0..<128 {
            flagTotals[flags & 0x3F] += flagCounts[flags]
            if flags & Int(KernelFlags.irregular) != 0 { irregularCustomers += flagCounts[flags] }
        }
        let pass = CustomerPass(
            flagCounts: flagTotals, firstPurchases: firstPurchases, firstAmount: firstAmount,
            irregularCustomers: irregularCustomers, firstPurchasePeriod: firstPeriod == .max ? nil : firstPeriod,
            newRevenue: Array(newRevenue.prefix(bounds.periodCount)),
            newCounts: Array(newCounts.prefix(bounds.periodCount)),
            returningCounts: Array(returningCounts.prefix(bounds.periodCount)),
            cohortSizes: Array(cohortSizes.prefix(width)), cohortActive: Array(cohortActive.prefix(width * width)),
            purchasers: purchasers, lastDays: Array(lastDays), frequencies: Array(frequencies),
            largeFrequencies: largeFrequencies, monetaryBuckets: monetaryBuckets.map { Int($0) })
        for buffer in [flagCounts, newCounts, returningCounts, cohortSizes, cohortActive, lastDays, frequencies] {
            buffer.deallocate()
        }
        newRevenue.deallocate()
        monetaryBuckets.deallocate()
        return pass
    }
}

/// The customer pass over `range` of filled states (one worker's part), writing its purchasers to `output`.
private func scanCustomers(
    _ states: UnsafeMutablePointer<KernelCustomer>, customers range: Range<Int>,
    extraBits: UnsafeMutablePointer<UInt64>, bounds: KernelBounds, map: UnsafeMapper, localDays: Int,
    output: PurchaserColumns
) -> CustomerPass {
    let extraWords = Swift.max(bounds.words - 1, 0)
    var fold = CustomerFold(bounds: bounds, map: map, localDays: localDays, output: output)
    for customer in range {
        let state = states[customer]
        let lastDay = state.lastKey != 0 ? localDayIndex(state.lastKey + bounds.lastBias, map) : 0
        fold.add(state, customer: customer, extra: extraBits + customer * extraWords, lastDay: lastDay)
    }
    return fold.finish()
}
