internal import CRetentionPrefetch
import Dispatch

// The report kernel without the order columns: rows arrive in batches (a bulk reader's blocks), are folded into
// the kernel's 64-byte customer states at once and dropped, so that memory is proportional to customers, not
// orders. What the row pass needs to know in advance but only the whole data reveals (the instant range: default
// window, as-of day, period base, biases) is replaced by fixed references and converted once at the end, when the
// range is known; then the kernel's customer pass, segments and assembly run unchanged
// (`RetentionReport.finishKernel`). The tests prove the result equal to `RetentionReport(ledger)`.

/// Per-customer state that rows are folded into in batches, by several workers at once, each taking the customers
/// of its key parity (`key % workers == worker`), as a bulk reader's blocks arrive.
package protocol RowFold: AnyObject, Sendable {
    /// How many workers fold each batch (every worker must see every batch).
    var workers: Int { get }
    /// Whether some row could not be folded (the caller then uses the ledger path).
    var gaveUp: Bool { get }
    /// Folds the rows of one batch that belong to `worker`. Keys must lie in the fold's key range.
    func fold(
        worker: Int, keys: UnsafeBufferPointer<Int32>, timestamps: UnsafeBufferPointer<Int64>,
        amounts: UnsafeBufferPointer<Int64>)
}

/// A streaming form of ``RetentionReport/init(_:options:)-(OrderLedger,_)`` for customers given as small integer keys (a bulk CSV
/// reader's numeric customer ids): `fold` the rows in batches from two workers, then ask for the `report`.
///
/// It gives up (``gaveUp``, or `nil` from ``init(options:keyLimit:around:)`` or ``report(currency:)``), and the
/// caller computes the report from a ledger instead, where the fixed references cannot stand in for the data's
/// range:
/// - options the kernel does not take (`.split` binning), or an as-of day without a window (the default window
///   comes from the data, and then every purchase is in it only when no cutoff comes before the last one);
/// - an instant more than ``reach`` seconds from the first row's;
/// - a customer whose purchases before the cutoff span 64 periods or more (weekly cohorts over years), since each
///   state keeps them as 64 bits from its own first period.
///
/// Refunds under `.net` that are eligible (before the cutoff) are kept aside, 16 bytes each, and applied after the
/// last batch: a refund's place in the revenue series depends on its customer's first purchase period, which is
/// only final then (``applyEarlyRefunds(_:states:periodCount:excluded:)``, as the ledger kernel applies the refunds
/// it meets before a first purchase period).
///
/// Thread safety: `fold(worker:...)` may run concurrently for *different* workers (each writes only the states of
/// its own customers, `key % workers == worker`, and its own totals); everything else is called from one thread.
package final class ReportFold: RowFold, @unchecked Sendable {
    /// How far from the first row's instant the provisional period tables reach (about 40 years each way).
    package static let reach: Int64 = 40 * 366 * 86_400
    /// `firstKey = firstBias - instant`, `lastKey = instant - lastBias`, `firstPeriodKey = periodBias - period`:
    /// positive for every instant in reach, and converted to the kernel's data-relative keys at the end.
    static let firstBias: Int64 = 1 << 62
    static let lastBias: Int64 = -(1 << 62)
    static let periodBias: Int32 = 1 << 30

    package let workers = 2
    private let options: RetentionReport.Options
    private let keyLimit: Int
    private let stateMemory: ZeroedBuffer<KernelCustomer>
    /// The provisional period tables, around the first row.
    private let mapper: PeriodMapper
    private let reachable: ClosedRange<Int64>
    /// The row pass's bounds with fixed references (see the type's discussion): the window or everything, the
    /// activity windows when there is a window (else empty, and "active at end" is derived from the last
    /// purchase at the end), the cutoff of the as-of day or none.
    private let bounds: KernelBounds
    /// The as-of day's period relative to the provisional base (no row matches it without an as-of day).
    private let limitPeriod: Int
    private let windowGiven: Bool
    private let workerMemory: UnsafeMutablePointer<FoldWorker>

    /// Per-worker totals, indexed by provisional period.
    struct FoldWorker {
        var eligible: [Int64]
        var windowOrders = 0
        var windowRevenue: Int64 = 0
        var purchases = 0
        var purchaseAmount: Int64 = 0
        var lastPeriod = -1
        var minInstant = Int64.max
        var maxInstant = Int64.min
        var minKey = Int.max
        var maxKey = -1
        /// Eligible `.net` refunds (by customer key), applied after the last batch.
        var refunds: [KernelEarlyRefund] = []
        var gaveUp = false
    }

    /// A fold for customer keys `0...keyLimit` whose first row has instant `around`; `nil` when the options
    /// need the ledger (see the type's discussion).
    /// - Throws: ``MetricError`` for an empty window or a non-positive activity window, as the report would.
    package init?(options: RetentionReport.Options, keyLimit: Int, around instant: Int64) throws {
        guard options.binning == .share, options.window != nil || options.asOf == nil, keyLimit >= 0,
            keyLimit < Int(Int32.max)
        else { return nil }
        let calendar = options.calendar
        let (low, lowOverflow) = instant.subtractingReportingOverflow(ReportFold.reach)
        let (high, highOverflow) = instant.addingReportingOverflow(ReportFold.reach)
        guard !lowOverflow, !highOverflow, low > -(1 << 61), high < 1 << 61,
            let mapper = PeriodMapper(range: low...high, unit: options.cohortUnit, calendar: calendar)
        else { return nil }
        self.options = options
        self.keyLimit = keyLimit
        self.mapper = mapper
        reachable = low...high
        windowGiven = options.window != nil
        var cutoff = Int64.max
        var limitPeriod = Int.min
        if let asOf = options.asOf {
            cutoff = calendar.startOfDay(asOf.adding(days: 1)).secondsSince1970
            let absolute = calendar.period(options.cohortUnit, of: Timestamp(secondsSince1970: cutoff - 1)).index
            limitPeriod = Int(clamping: absolute - mapper.periodBase)
        }
        self.limitPeriod = limitPeriod
        var window: (Int64, Int64) = (.min, .max)
        var atStart: (Int64, Int64) = (0, 0)
        var atEnd: (Int64, Int64) = (0, 0)
        if let given = options.window {
            guard !given.isEmpty else {
                throw MetricError(.emptyWindow, "the report window [\(given.lowerBound), \(given.upperBound)) is empty")
            }
            let activeWithin =
                options.activeWithin ?? (given.upperBound.secondsSince1970 - given.lowerBound.secondsSince1970)
            let (start, end) = try PeriodRetention.summaryWindows(period: given, activeWithin: activeWithin)
            window = (given.lowerBound.secondsSince1970, given.upperBound.secondsSince1970)
            atStart = (start.lowerBound.secondsSince1970, start.upperBound.secondsSince1970)
            atEnd = (end.lowerBound.secondsSince1970, end.upperBound.secondsSince1970)
        }
        bounds = KernelBounds(
            windowLow: window.0, windowHigh: window.1, startLow: atStart.0, startHigh: atStart.1, endLow: atEnd.0,
            endHigh: atEnd.1, cutoff: cutoff, limit: Int64(limitPeriod), words: 1, net: options.refunds == .net,
            firstBias: ReportFold.firstBias, lastBias: ReportFold.lastBias, periodCount: Int(ReportFold.periodBias))
        stateMemory = ZeroedBuffer<KernelCustomer>(count: keyLimit + 1)
        workerMemory = .allocate(capacity: workers)
        let periods = mapper.periodCount
        workerMemory.initialize(repeating: FoldWorker(eligible: [Int64](repeating: 0, count: periods)), count: workers)
    }

    deinit {
        workerMemory.deinitialize(count: workers)
        workerMemory.deallocate()
    }

    /// Whether some row could not be folded (the caller then computes the report from a ledger).
    package var gaveUp: Bool { (0..<workers).contains { workerMemory[$0].gaveUp } }

    /// Folds the rows of one batch whose key belongs to `worker` (`key % workers == worker`); every worker must
    /// see every batch. Keys must lie in `0...keyLimit`.
    package func fold(
        worker: Int, keys: UnsafeBufferPointer<Int32>, timestamps: UnsafeBufferPointer<Int64>,
        amounts: UnsafeBufferPointer<Int64>
    ) {
        precondition(worker >= 0 && worker < workers, "no such worker")
        precondition(keys.count == timestamps.count && keys.count == amounts.count, "columns of unequal length")
        let totals = workerMemory + worker
        guard !totals.pointee.gaveUp else { return }
        let states = stateMemory.base
        let bounds = self.bounds
        let reachable = self.reachable
        let limitPeriod = self.limitPeriod
        let owner = Int32(worker)
        var windowOrders = 0
        var windowRevenue: Int64 = 0
        var purchases = 0
        var purchaseAmount: Int64 = 0
        var lastPeriod = totals.pointee.lastPeriod
        var minInstant = totals.pointee.minInstant
        var maxInstant = totals.pointee.maxInstant
        var minKey = totals.pointee.minKey
        var maxKey = totals.pointee.maxKey
        var gaveUp = false
        var refunds = totals.pointee.refunds
        totals.pointee.refunds = []
        mapper.withUnsafeMapper { map in
            totals.pointee.eligible.withUnsafeMutableBufferPointer { eligibleBuffer in
                let rowCount = keys.count
                let ahead = Swift.max(rowCount - prefetchDistance, 0)
                // As in the kernel's row pass: the state `prefetchDistance` rows ahead is requested now; another
                // worker's row prefetches this worker's last state instead (a select, not a branch).
                var fallback = 0
                for row in 0..<rowCount {
                    if row < ahead {
                        let next = keys[row + prefetchDistance]
                        retention_prefetch_for_write(states + (next % 2 == owner ? Int(next) : fallback))
                    }
                    let keyValue = keys[row]
                    guard keyValue % 2 == owner else { continue }
                    let key = Int(keyValue)
                    fallback = key
                    let instant = timestamps[row]
                    let amount = amounts[row]
                    guard reachable.contains(instant), key <= keyLimit else {
                        gaveUp = true
                        break
                    }
                    minInstant = Swift.min(minInstant, instant)
                    maxInstant = Swift.max(maxInstant, instant)
                    minKey = Swift.min(minKey, key)
                    maxKey = Swift.max(maxKey, key)
                    let period = relativePeriod(instant, map)
                    let beforeCutoff = instant < bounds.cutoff
                    let inWindow = instant >= bounds.windowLow && instant < bounds.windowHigh
                    let eligible = beforeCutoff && (amount >= 0 || bounds.net)
                    if eligible { eligibleBuffer[period] += amount }
                    let state = states + key
                    if amount >= 0 {
                        purchases += 1
                        purchaseAmount += amount
                        if period > lastPeriod { lastPeriod = period }
                        let firstKey = bounds.firstBias - instant
                        if firstKey > state.pointee.firstKey {
                            state.pointee.firstKey = firstKey
                            state.pointee.firstCount = 1
                            state.pointee.firstAmount = amount
                        } else if firstKey == state.pointee.firstKey {
                            state.pointee.firstCount += 1
                            state.pointee.firstAmount += amount
                        }
                        // The first purchase period first, since the bits count from it.
                        let periodKey = ReportFold.periodBias - Int32(truncatingIfNeeded: period)
                        let oldKey = state.pointee.firstPeriodKey
                        if periodKey > oldKey {
                            if oldKey != 0 {
                                let shift = UInt64(periodKey - oldKey)
                                let bits = state.pointee.periodBits
                                if bits != 0 && (shift >= 64 || bits >> (64 - shift) != 0) {
                                    gaveUp = true
                                    break
                                }
                                state.pointee.periodBits = shift >= 64 ? 0 : bits << shift
                            }
                            state.pointee.firstPeriodKey = periodKey
                            state.pointee.firstPeriodAmount = eligible ? amount : 0
                        } else if periodKey == oldKey && eligible {
                            state.pointee.firstPeriodAmount += amount
                        }
                        var flags = state.pointee.flags
                        if beforeCutoff {
                            state.pointee.rfmPurchases += 1
                            state.pointee.rfmAmount += amount
                            let lastKey = instant - bounds.lastBias
                            if lastKey > state.pointee.lastKey { state.pointee.lastKey = lastKey }
                            let offset = state.pointee.firstPeriodKey - periodKey
                            guard offset < 64 else {
                                gaveUp = true
                                break
                            }
                            state.pointee.periodBits |= 1 << UInt64(offset)
                        } else if period == limitPeriod {
                            flags |= KernelFlags.limitExtra
                        }
                        if inWindow {
                            windowOrders += 1
                            windowRevenue += amount
                            flags |= (flags & KernelFlags.inWindow) << 2 | KernelFlags.inWindow
                        } else if instant < bounds.windowLow {
                            flags |= KernelFlags.before
                        }
                        if instant >= bounds.startLow && instant < bounds.startHigh { flags |= KernelFlags.atStart }
                        if instant >= bounds.endLow && instant < bounds.endHigh { flags |= KernelFlags.atEnd }
                        state.pointee.flags = flags
                    } else if bounds.net {
                        if beforeCutoff { state.pointee.rfmAmount += amount }
                        if inWindow { windowRevenue += amount }
                        if eligible {
                            refunds.append(
                                KernelEarlyRefund(customer: keyValue, period: Int32(period), amount: amount))
                        }
                    }
                }
            }
        }
        totals.pointee.windowOrders += windowOrders
        totals.pointee.windowRevenue += windowRevenue
        totals.pointee.purchases += purchases
        totals.pointee.purchaseAmount += purchaseAmount
        totals.pointee.lastPeriod = lastPeriod
        totals.pointee.minInstant = minInstant
        totals.pointee.maxInstant = maxInstant
        totals.pointee.minKey = minKey
        totals.pointee.maxKey = maxKey
        totals.pointee.refunds = refunds
        if gaveUp { totals.pointee.gaveUp = true }
    }

    /// The report of every row folded so far, equal to ``RetentionReport/init(_:options:)-(OrderLedger,_)`` over a ledger of them
    /// (`currency`: the ledger's); `nil` when the fold gave up or holds no row.
    /// - Throws: ``MetricError`` as the report does.
    package func report(currency: Currency?) throws -> RetentionReport? {
        guard !gaveUp else { return nil }
        let parts = UnsafeMutableBufferPointer(start: workerMemory, count: workers)
        let minKey = parts.map(\.minKey).min()!
        let maxKey = parts.map(\.maxKey).max()!
        guard maxKey >= 0 else { return nil }
        let range = parts.map(\.minInstant).min()!...parts.map(\.maxInstant).max()!
        guard let plan = try KernelPlan(range: range, options: options) else { return nil }
        // Without a window the fold took every row as in it and no activity window: true when the data's window
        // starts no later than its first row and the end window ends after its last (it always does).
        if !windowGiven {
            guard plan.bounds.startHigh <= range.lowerBound, plan.bounds.endHigh > range.upperBound,
                plan.bounds.cutoff > range.upperBound
            else { return nil }
        }
        let states = stateMemory.base
        let provisionalCount = mapper.periodCount
        // Provisional period p is real period p + shift.
        let shift = Int(mapper.periodBase - plan.mapper.periodBase)
        let periodCount = plan.mapper.periodCount
        var totals = KernelTotals(periodCount: periodCount)
        // Deferred refunds, now that every first purchase period is final: in the first period they count as the
        // customer's new revenue, before it (or without purchases) they are left out of the series.
        var excluded = [Int64](repeating: 0, count: provisionalCount)
        for part in parts {
            applyEarlyRefunds(
                part.refunds, states: states, periodCount: Int(ReportFold.periodBias), excluded: &excluded)
        }
        for provisional in 0..<provisionalCount {
            var eligible: Int64 = 0
            for part in parts { eligible += part.eligible[provisional] }
            guard eligible != 0 || excluded[provisional] != 0 else { continue }
            let period = provisional + shift
            guard period >= 0 && period < periodCount else { return nil }
            totals.eligible[period] = eligible
            totals.irregularExcluded[period] = excluded[provisional]
        }
        for part in parts {
            totals.windowOrders += part.windowOrders
            totals.windowRevenue += part.windowRevenue
            totals.purchases += part.purchases
            totals.purchaseAmount += part.purchaseAmount
            if part.lastPeriod >= 0 {
                totals.lastPurchasePeriod = Swift.max(totals.lastPurchasePeriod ?? .min, part.lastPeriod + shift)
            }
        }
        // The states, converted in place to the kernel's data-relative keys and bit positions.
        let count = maxKey - minKey + 1
        let words = plan.words
        let extraMemory = ZeroedBuffer<UInt64>(count: words > 1 ? count * (words - 1) : 0)
        let base = SharedPointer(base: states + minKey)
        let extra = SharedPointer(base: extraMemory.base)
        let firstShift = ReportFold.firstBias - plan.bounds.firstBias
        let lastShift = ReportFold.lastBias - plan.bounds.lastBias
        let periodShift = Int(ReportFold.periodBias) + shift
        let endLow = plan.bounds.endLow - plan.bounds.lastBias
        let converters = count >= 131_072 ? 2 : 1
        let split = count / converters
        let windowGiven = self.windowGiven
        var failed = [Bool](repeating: false, count: converters)
        failed.withUnsafeMutableBufferPointer { failedBuffer in
            let failedOut = SharedPointer(base: failedBuffer.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: converters) { part in
                let low = part == 0 ? 0 : split
                let high = part == converters - 1 ? count : split
                for customer in low..<high {
                    let state = base.base + customer
                    guard state.pointee.firstPeriodKey != 0 else { continue }  // refunds only: nothing to convert
                    state.pointee.firstKey -= firstShift
                    if state.pointee.lastKey != 0 { state.pointee.lastKey += lastShift }
                    // Real period of the first purchase, and the kernel's key for it.
                    let first = periodShift - Int(state.pointee.firstPeriodKey)
                    state.pointee.firstPeriodKey = Int32(periodCount - first)
                    let bits = state.pointee.periodBits
                    if bits != 0 {
                        guard first >= 0, words >= 1 else {
                            failedOut.base[part] = true
                            return
                        }
                        let word = first / 64
                        let offset = UInt64(first % 64)
                        let low = bits << offset
                        let high = offset == 0 ? 0 : bits >> (64 - offset)
                        guard word < words, high == 0 || word + 1 < words else {
                            failedOut.base[part] = true
                            return
                        }
                        state.pointee.periodBits = word == 0 ? low : 0
                        if word > 0 { extra.base[customer * (words - 1) + word - 1] = low }
                        if high != 0 { extra.base[customer * (words - 1) + word] = high }
                    }
                    if !windowGiven && state.pointee.lastKey != 0 && state.pointee.lastKey >= endLow {
                        state.pointee.flags |= KernelFlags.atEnd
                    }
                }
            }
        }
        guard !failed.contains(true) else { return nil }
        return try RetentionReport.finishKernel(
            plan, states: base.base, count: count, extraBits: extra.base, totals: totals, currency: currency,
            options: options)
    }
}
