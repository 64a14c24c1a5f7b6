internal import CRetentionPrefetch
import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

// The incremental state behind `RetentionTracker(live:)`: per-customer state updated on every record, plus running
// aggregates per period, so that the default report ("as of now") is assembled from the aggregates and one pass
// over compact per-customer columns (RFM), without reading the orders.

/// Per-period (or per-day) sums indexed by an absolute index, growing on both sides, in memory that a
/// ``LiveSums`` owns: no copy-on-write check per update (the live state checks its ``LiveSumsBox`` once per order
/// instead, which an array per series would do on every add). A copy of the value is a view of the same memory.
struct OffsetSeries {
    private(set) var base: Int64 = 0
    private(set) var count = 0
    private var values: UnsafeMutablePointer<Int64>?

    @inline(__always)
    subscript(index: Int64) -> Int64 {
        let slot = index &- base
        return slot >= 0 && slot < Int64(count) ? values![Int(slot)] : 0
    }

    /// The index range that may hold non-zero values.
    var indices: Range<Int64> { base..<(base + Int64(count)) }

    @inline(__always)
    mutating func add(_ index: Int64, _ delta: Int64) {
        let slot = index &- base
        if slot >= 0 && slot < Int64(count) {
            values.unsafelyUnwrapped[Int(slot)] &+= delta
            return
        }
        grow(toCover: index)
        values.unsafelyUnwrapped[Int(index - base)] &+= delta
    }

    /// Room for `index`: at least double the slots, zeros on the side that grows.
    private mutating func grow(toCover index: Int64) {
        guard let old = values else {
            base = index - 8
            count = 32
            values = zeroedInt64s(count)
            return
        }
        (values, count, base) = grownOnBothSides(old, count: count, base: base, toCover: index, zero: 0)
    }

    /// A copy in memory of its own.
    func copied() -> OffsetSeries {
        var copy = self
        if let values {
            copy.values = UnsafeMutablePointer<Int64>.allocate(capacity: count)
            copy.values!.initialize(from: values, count: count)
        }
        return copy
    }

    func deallocate() { values?.deallocate() }
}

/// `count` zeros.
private func zeroedInt64s(_ count: Int) -> UnsafeMutablePointer<Int64> {
    let memory = UnsafeMutablePointer<Int64>.allocate(capacity: count)
    memory.initialize(repeating: 0, count: count)
    return memory
}

/// The `count` values at `old` (indices from `base`) moved into new memory that also covers `index`: at least twice
/// as many slots, `zero` on the side that grows; `old` is freed. Returns the memory, its count and its base.
private func grownOnBothSides<T>(
    _ old: UnsafeMutablePointer<T>, count: Int, base: Int64, toCover index: Int64, zero: T
) -> (UnsafeMutablePointer<T>?, Int, Int64) {
    let lower = index < base
    let needed = lower ? Int(base - index) + count : Int(index - base) + 1
    let larger = Swift.max(needed, count * 2)
    let memory = UnsafeMutablePointer<T>.allocate(capacity: larger)
    memory.initialize(repeating: zero, count: larger)
    let shift = lower ? larger - count : 0
    (memory + shift).update(from: old, count: count)
    old.deinitialize(count: count)
    old.deallocate()
    return (memory, larger, base - Int64(shift))
}

/// One customer's incremental state: everything the live report needs of the customer, in one 64-byte cache line
/// (``LiveCustomerStore`` aligns them), so that recording an order touches one line of per-customer memory. The
/// all-zero value is a customer without rows, so fresh zeroed memory needs no initialising pass.
struct LiveCustomer: Sendable {
    /// The earliest purchase instant, and the sum and number of the purchases at it (when `purchases > 0`).
    var firstInstant: Int64 = 0
    var firstInstantAmount: Int64 = 0
    /// Eligible amounts (purchases, plus refunds under `.net`) in the first purchase period.
    var firstPeriodAmount: Int64 = 0
    /// Bit k: a purchase in period `firstPeriod + k` (k < 64; later periods live in `LiveState.farPeriods`).
    var bits: UInt64 = 0
    /// RFM monetary: purchases, plus refunds under `.net`.
    var amount: Int64 = 0
    /// Absolute period index of the first purchase (when `purchases > 0`).
    var firstPeriod: Int32 = 0
    /// Local day of the last purchase, relative to `LiveState.dayOrigin` (when `purchases > 0`).
    var lastDay: Int32 = 0
    var purchases: Int32 = 0
    var firstCount: Int32 = 0
    /// ``LiveState/earlyRefundsFlag`` and ``LiveState/farPeriodsFlag``.
    var flags: UInt32 = 0
    /// The customer's numeric id key plus one while the tracker numbers customers by key (0 otherwise): see
    /// ``LiveState/customer(guess:key:)``.
    var keyPlusOne: UInt32 = 0
}

/// The live customers: zero-filled, 64-byte-aligned memory (one ``LiveCustomer`` a cache line). A store never
/// grows in place: ``LiveState`` replaces it by a larger copy, and copies it before writing when it is shared (a
/// copied tracker), so a store is only ever written while one state holds it.
final class LiveCustomerStore: @unchecked Sendable {
    let base: UnsafeMutablePointer<LiveCustomer>
    let capacity: Int
    var count = 0
    /// The customers whose memory to fault in next (see ``faultInAhead()``).
    private var faultAhead = FaultAhead(window: 1 << 17)
    /// Whether `base` now belongs to a grown store (see ``grown(capacity:)``).
    private var handedOver = false

    init(capacity: Int) {
        self.capacity = Swift.max(capacity, 1_024)
        base = Self.allocate(self.capacity)
    }

    private init(base: UnsafeMutablePointer<LiveCustomer>, capacity: Int, count: Int, faultAhead: FaultAhead) {
        self.base = base
        self.capacity = capacity
        self.count = count
        self.faultAhead = faultAhead
    }

    /// Keeps the memory of the next 131,072 customers faulted in on another thread
    /// (``faultInInBackground(from:to:)``): fresh pages cost their first touch, which would otherwise stall
    /// recording.
    @inline(__always)
    func faultInAhead() {
        guard let customers = faultAhead.next(count: count, capacity: capacity) else { return }
        faultInInBackground(
            from: Int(bitPattern: base + customers.lowerBound), to: Int(bitPattern: base + customers.upperBound))
    }

    /// A copy with room for `capacity` customers.
    func copy(capacity: Int) -> LiveCustomerStore {
        let result = LiveCustomerStore(capacity: Swift.max(capacity, count))
        result.base.update(from: base, count: count)
        result.count = count
        return result
    }

    /// This store's customers with room for `capacity` (more) customers; this store must not be used again. On
    /// Linux the mapping grows in place or moves (`mremap`): no copy, and the pages already touched are kept.
    func grown(capacity: Int) -> LiveCustomerStore {
        #if os(Linux)
            let stride = MemoryLayout<LiveCustomer>.stride
            let memory = retention_remap(UnsafeMutableRawPointer(base), self.capacity * stride, capacity * stride)
            if let memory, memory != UnsafeMutableRawPointer(bitPattern: -1) {
                if capacity * stride >= 8 << 20 { _ = madvise(memory, capacity * stride, Int32(MADV_HUGEPAGE)) }
                handedOver = true
                return LiveCustomerStore(
                    base: memory.bindMemory(to: LiveCustomer.self, capacity: capacity), capacity: capacity,
                    count: count, faultAhead: faultAhead)
            }
        #endif
        return copy(capacity: capacity)
    }

    deinit {
        guard !handedOver else { return }
        #if os(Linux)
            _ = munmap(UnsafeMutableRawPointer(base), capacity * MemoryLayout<LiveCustomer>.stride)
        #else
            UnsafeMutableRawPointer(base).deallocate()
        #endif
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<LiveCustomer> {
        let bytes = count * MemoryLayout<LiveCustomer>.stride
        #if os(Linux)
            // Fresh pages: zeroed by the kernel on first touch, page-aligned, transparent huge pages when large.
            guard let memory = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                memory != UnsafeMutableRawPointer(bitPattern: -1)
            else { fatalError("RetentionTracker: cannot map \(bytes) bytes of customer state") }
            if bytes >= 8 << 20 { _ = madvise(memory, bytes, Int32(MADV_HUGEPAGE)) }
        #else
            let memory = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            memory.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        #endif
        return memory.bindMemory(to: LiveCustomer.self, capacity: count)
    }
}

/// Active customers by cohort period, then by offset from it: rows indexed from `base`, growing on both sides, in
/// memory a ``LiveSums`` owns (see ``OffsetSeries``).
struct CohortGrid {
    private(set) var base: Int64 = 0
    /// Per cohort, its actives by offset (`count` of them; later offsets are zero).
    private var rows: UnsafeMutablePointer<OffsetSeries>?
    private var rowCount = 0

    /// The actives of `cohort` at `offset` periods from it.
    subscript(cohort: Int64, offset: Int64) -> Int64 {
        let slot = cohort &- base
        guard slot >= 0 && slot < Int64(rowCount) else { return 0 }
        return rows.unsafelyUnwrapped[Int(slot)][offset]
    }

    @inline(__always)
    mutating func add(cohort: Int64, offset: Int64, _ delta: Int64) {
        var slot = cohort &- base
        if slot < 0 || slot >= Int64(rowCount) {
            grow(toCover: cohort)
            slot = cohort - base
        }
        rows.unsafelyUnwrapped[Int(slot)].add(offset, delta)
    }

    private mutating func grow(toCover cohort: Int64) {
        guard let old = rows else {
            base = cohort
            rowCount = 1
            rows = .allocate(capacity: 1)
            rows!.initialize(to: OffsetSeries())
            return
        }
        (rows, rowCount, base) = grownOnBothSides(
            old, count: rowCount, base: base, toCover: cohort, zero: OffsetSeries())
    }

    /// A copy in memory of its own.
    func copied() -> CohortGrid {
        var copy = self
        if let rows {
            copy.rows = .allocate(capacity: rowCount)
            for slot in 0..<rowCount { (copy.rows! + slot).initialize(to: rows[slot].copied()) }
        }
        return copy
    }

    func deallocate() {
        guard let rows else { return }
        for slot in 0..<rowCount { rows[slot].deallocate() }
        rows.deinitialize(count: rowCount)
        rows.deallocate()
    }
}

/// The running per-period sums and histograms of a ``LiveState``, in memory of their own.
struct LiveSums {
    /// Customers by number of purchases / by local day of the last purchase (RFM cut points without sorting).
    var frequencyHistogram = OffsetSeries()
    var lastDayHistogram = OffsetSeries()
    /// Purchasers by ``logBucket(_:)`` of their RFM monetary value (65,536 buckets): the report's monetary cut
    /// points need only the customers in the few buckets that hold a wanted rank.
    var monetaryBuckets: UnsafeMutablePointer<Int32>

    // Per period.
    var eligible = OffsetSeries()
    var newRevenue = OffsetSeries()
    /// Eligible amounts in periods before the customer's first purchase period (or of customers without purchases).
    var excluded = OffsetSeries()
    var cohortSizes = OffsetSeries()
    var returningCounts = OffsetSeries()
    /// Active customers by cohort period, then by offset from it.
    var cohortActive = CohortGrid()

    static let bucketCount = 65_536

    init() {
        monetaryBuckets = .allocate(capacity: Self.bucketCount)
        monetaryBuckets.initialize(repeating: 0, count: Self.bucketCount)
    }

    func copied() -> LiveSums {
        var copy = self
        copy.frequencyHistogram = frequencyHistogram.copied()
        copy.lastDayHistogram = lastDayHistogram.copied()
        copy.monetaryBuckets = .allocate(capacity: Self.bucketCount)
        copy.monetaryBuckets.initialize(from: monetaryBuckets, count: Self.bucketCount)
        copy.eligible = eligible.copied()
        copy.newRevenue = newRevenue.copied()
        copy.excluded = excluded.copied()
        copy.cohortSizes = cohortSizes.copied()
        copy.returningCounts = returningCounts.copied()
        copy.cohortActive = cohortActive.copied()
        return copy
    }

    func deallocate() {
        frequencyHistogram.deallocate()
        lastDayHistogram.deallocate()
        eligible.deallocate()
        newRevenue.deallocate()
        excluded.deallocate()
        cohortSizes.deallocate()
        returningCounts.deallocate()
        monetaryBuckets.deallocate()
        cohortActive.deallocate()
    }
}

/// The owner of a ``LiveSums``: the unit of copy-on-write for the live state's aggregates. The state writes
/// through ``sums`` only after checking that it holds the only reference (and copying the box otherwise), so a
/// box is only ever written while one state holds it, as with ``LiveCustomerStore``.
final class LiveSumsBox: @unchecked Sendable {
    let sums: UnsafeMutablePointer<LiveSums>

    init(_ value: LiveSums = LiveSums()) {
        sums = .allocate(capacity: 1)
        sums.initialize(to: value)
    }

    func copy() -> LiveSumsBox { LiveSumsBox(sums.pointee.copied()) }

    deinit {
        sums.pointee.deallocate()
        sums.deinitialize(count: 1)
        sums.deallocate()
    }
}

/// A refund (under `.net`) in a period before its customer's first purchase period, or of a customer without
/// purchases: excluded from the revenue split until the first purchase period moves to or before it.
struct EarlyRefund: Sendable {
    var period: Int64
    var amount: Int64
}

/// The running aggregates for one fixed calendar, cohort unit and refund policy.
///
/// Every order updates its customer's ``LiveCustomer`` and the aggregates in O(1), whatever the arrival order:
/// a purchase older than its customer's first one moves the customer's first instant (the spend-uplift split) or
/// its cohort (sizes, actives, the old first period's revenue turned returning, refunds no longer before the
/// first period) by the difference, without reading the customer's other orders.
struct LiveState: Sendable {
    let calendar: PeriodCalendar
    let unit: PeriodUnit
    let net: Bool

    static let earlyRefundsFlag: UInt32 = 1
    static let farPeriodsFlag: UInt32 = 2

    // Per customer.
    private(set) var store = LiveCustomerStore(capacity: 1_024)
    /// `store.count`, read without the exclusivity check of a class's property.
    private var customers = 0
    /// Periods at offset >= 64 from a customer's first period.
    var farPeriods: [Int32: Set<Int64>] = [:]
    /// Refunds in periods before a customer's first purchase period (see ``EarlyRefund``).
    var earlyRefunds: [Int32: [EarlyRefund]] = [:]

    // Totals over every row.
    var minInstant: Int64 = .max
    var maxInstant: Int64 = .min
    var purchases = 0
    var purchaseAmount: Int64 = 0
    /// Purchases plus refunds under `.net`.
    var revenue: Int64 = 0
    var minPurchasePeriod: Int64 = .max
    var maxPurchasePeriod: Int64 = .min

    // Over customers.
    var purchasers = 0
    var repeaters = 0
    var firstPurchases = 0
    var firstAmount: Int64 = 0

    // Histograms and per-period sums (``LiveSums``): written through `sums` after `record`'s uniqueness check.
    private var box = LiveSumsBox()
    @inline(__always) private var sums: UnsafeMutablePointer<LiveSums> { box.sums }
    var frequencyHistogram: OffsetSeries { box.sums.pointee.frequencyHistogram }
    var lastDayHistogram: OffsetSeries { box.sums.pointee.lastDayHistogram }
    var monetaryBuckets: UnsafeBufferPointer<Int32> {
        UnsafeBufferPointer(start: box.sums.pointee.monetaryBuckets, count: LiveSums.bucketCount)
    }
    var eligible: OffsetSeries { box.sums.pointee.eligible }
    var newRevenue: OffsetSeries { box.sums.pointee.newRevenue }
    var excluded: OffsetSeries { box.sums.pointee.excluded }
    var cohortSizes: OffsetSeries { box.sums.pointee.cohortSizes }
    var returningCounts: OffsetSeries { box.sums.pointee.returningCounts }
    var cohortActive: CohortGrid { box.sums.pointee.cohortActive }

    // Local days and periods without a calendar call per order: UTC days whose offset is the same all day, by
    // UTC day modulo 1,024 (-> the offset), and local days by local day modulo 1,024 (-> the period).
    private var offsetDays = [Int64](repeating: .min, count: 1_024)
    private var offsets = [Int64](repeating: 0, count: 1_024)
    private var periodDays = [Int64](repeating: .min, count: 1_024)
    private var periods = [Int64](repeating: 0, count: 1_024)
    /// Local days further than this from the first one make the live state give up (the report then reads the
    /// columns), so that the per-day histogram stays small.
    private var dayBounds: ClosedRange<Int64>?
    /// The first local day seen (the center of `dayBounds`).
    private(set) var dayOrigin: Int64 = 0

    init(calendar: PeriodCalendar, unit: PeriodUnit, refunds: RefundPolicy) {
        self.calendar = calendar
        self.unit = unit
        self.net = refunds == .net
    }

    /// Customers (with or without rows).
    var customerCount: Int { customers }

    /// Whether `options` asks for exactly what this state answers.
    func answers(_ options: RetentionReport.Options) -> Bool {
        guard options.window == nil, options.activeWithin == nil, options.binning == .share,
            options.cohortUnit == unit, (options.refunds == .net) == net,
            options.calendar.identifier == calendar.identifier, purchases > 0 || minInstant != .max
        else { return false }
        if let asOf = options.asOf {
            return asOf.daysSince1970 >= calendar.localDayNumber(of: maxInstant)
        }
        return true
    }

    /// The local day and period of `instant`; `nil` when the day is out of `dayBounds`.
    @inline(__always)
    private mutating func dayAndPeriod(_ instant: Int64) -> (day: Int64, period: Int64)? {
        let utcDay = floorDiv(instant, 86_400)
        let slot = Int(UInt64(bitPattern: utcDay) & 1_023)
        let day: Int64
        if offsetDays[slot] == utcDay {
            day = floorDiv(instant + offsets[slot], 86_400)
        } else {
            let start = utcDay * 86_400
            let low = calendar.utcOffset(at: start)
            if low == calendar.utcOffset(at: start + 86_399) && calendar.utcOffset(at: start + 43_200) == low {
                offsetDays[slot] = utcDay
                offsets[slot] = low
            }
            day = calendar.localDayNumber(of: instant)
        }
        let daySlot = Int(UInt64(bitPattern: day) & 1_023)
        if periodDays[daySlot] == day { return (day, periods[daySlot]) }
        if let dayBounds {
            guard dayBounds.contains(day) else { return nil }
        } else {
            dayBounds = (day - 1_000_000)...(day + 1_000_000)
            dayOrigin = day
        }
        let period = Period.index(unit: unit, daysSince1970: day)
        periodDays[daySlot] = day
        periods[daySlot] = period
        return (day, period)
    }

    /// Asks for the state of customer `number` (about to be recorded), so that the cache misses of a batch's
    /// customers overlap instead of following one another.
    @inline(__always)
    func prefetch(_ number: Int32) {
        retention_prefetch_for_write(store.base + Int(number))
    }

    /// ``prefetch(_:)`` of a guessed customer number, when it is one. (`mutating` only so that
    /// `tracker.live?.prefetch(guess:)` reaches the state in place: a non-mutating call through the optional
    /// copied the state's 256 bytes first.)
    @inline(__always)
    mutating func prefetch(guess number: Int64) {
        guard number >= 0 && number < Int64(customers) else { return }
        retention_prefetch_for_write(store.base + Int(number))
    }

    /// `guess` when it is the number of the customer whose numeric id key is `key`; `nil` when it is not (or the
    /// customer is new). One load of the customer's own state, which recording its order reads next, instead of
    /// a load of the tracker's key index and then one of the state: customer ids handed out in order of first
    /// purchase keep a fixed distance to the customer numbers, so the guess usually holds.
    @inline(__always)
    func customer(guess: Int64, key: Int64) -> Int32? {
        guard guess >= 0 && guess < Int64(customers), key >= 0 && key < Int64(UInt32.max) else { return nil }
        let matches = store.base[Int(guess)].keyPlusOne == UInt32(truncatingIfNeeded: key &+ 1)
        return matches ? Int32(truncatingIfNeeded: guess) : nil
    }

    /// Adds a customer number (no rows yet), with its numeric id key when the tracker numbers customers by key
    /// (for ``customer(guess:key:)``).
    mutating func addCustomer(key: Int64? = nil) {
        if !isKnownUniquelyReferenced(&store) {
            store = store.copy(capacity: store.count == store.capacity ? store.capacity * 2 : store.capacity)
        } else if store.count == store.capacity {
            store = store.grown(capacity: store.capacity * 2)
        }
        if let key, key >= 0 && key < Int64(UInt32.max) {
            store.base[customers].keyPlusOne = UInt32(truncatingIfNeeded: key &+ 1)
        }
        customers += 1
        store.count = customers
        store.faultInAhead()
    }

    /// Records an order (already in the tracker's columns) of customer `customer`; `false` when the live state
    /// cannot hold it (an instant over a million days from the first), and must be dropped.
    mutating func record(customer: Int32, instant: Int64, amount: Int64) -> Bool {
        guard let (day, period) = dayAndPeriod(instant) else { return false }
        if !isKnownUniquelyReferenced(&store) { store = store.copy(capacity: store.capacity) }
        if !isKnownUniquelyReferenced(&box) { box = box.copy() }
        let state = store.base + Int(customer)
        minInstant = Swift.min(minInstant, instant)
        maxInstant = Swift.max(maxInstant, instant)
        if amount >= 0 {
            purchases += 1
            purchaseAmount += amount
            revenue += amount
            sums.pointee.eligible.add(period, amount)
            minPurchasePeriod = Swift.min(minPurchasePeriod, period)
            maxPurchasePeriod = Swift.max(maxPurchasePeriod, period)
            if state.pointee.purchases == 0 {
                recordFirstPurchase(
                    state, customer: customer, instant: instant, amount: amount, day: day, period: period)
            } else {
                recordRepeat(state, customer: customer, instant: instant, amount: amount, day: day, period: period)
            }
            return true
        }
        guard net else { return true }
        revenue += amount
        sums.pointee.eligible.add(period, amount)
        if state.pointee.purchases > 0 { moveMonetary(from: state.pointee.amount, to: state.pointee.amount + amount) }
        state.pointee.amount += amount
        if state.pointee.purchases == 0 || period < Int64(state.pointee.firstPeriod) {
            sums.pointee.excluded.add(period, amount)
            earlyRefunds[customer, default: []].append(EarlyRefund(period: period, amount: amount))
            state.pointee.flags |= Self.earlyRefundsFlag
        } else if period == Int64(state.pointee.firstPeriod) {
            sums.pointee.newRevenue.add(period, amount)
            state.pointee.firstPeriodAmount += amount
        }
        return true
    }

    /// A purchaser's monetary value changed from `old` to `new`.
    @inline(__always)
    private mutating func moveMonetary(from old: Int64, to new: Int64) {
        let from = logBucket(old)
        let to = logBucket(new)
        guard from != to else { return }
        let buckets = sums.pointee.monetaryBuckets
        buckets[from] &-= 1
        buckets[to] &+= 1
    }

    private mutating func recordFirstPurchase(
        _ state: UnsafeMutablePointer<LiveCustomer>, customer: Int32, instant: Int64, amount: Int64, day: Int64,
        period: Int64
    ) {
        state.pointee.firstInstant = instant
        state.pointee.firstInstantAmount = amount
        state.pointee.firstCount = 1
        state.pointee.firstPeriod = Int32(period)
        state.pointee.firstPeriodAmount = amount
        state.pointee.bits = 1
        state.pointee.lastDay = Int32(day - dayOrigin)
        state.pointee.purchases = 1
        state.pointee.amount += amount
        sums.pointee.monetaryBuckets[logBucket(state.pointee.amount)] &+= 1
        purchasers += 1
        firstPurchases += 1
        firstAmount += amount
        sums.pointee.frequencyHistogram.add(1, 1)
        sums.pointee.lastDayHistogram.add(day, 1)
        sums.pointee.cohortSizes.add(period, 1)
        sums.pointee.cohortActive.add(cohort: period, offset: 0, 1)
        sums.pointee.newRevenue.add(period, amount)
        if state.pointee.flags & Self.earlyRefundsFlag != 0 { settleEarlyRefunds(state, customer: customer) }
    }

    private mutating func recordRepeat(
        _ pointer: UnsafeMutablePointer<LiveCustomer>, customer: Int32, instant: Int64, amount: Int64, day: Int64,
        period: Int64
    ) {
        var state = pointer.pointee
        let count = Int64(state.purchases)
        state.purchases += 1
        sums.pointee.frequencyHistogram.add(count, -1)
        sums.pointee.frequencyHistogram.add(count + 1, 1)
        if count == 1 { repeaters += 1 }
        moveMonetary(from: state.amount, to: state.amount + amount)
        state.amount += amount
        let relative = Int32(day - dayOrigin)
        if relative > state.lastDay {
            sums.pointee.lastDayHistogram.add(Int64(state.lastDay) + dayOrigin, -1)
            sums.pointee.lastDayHistogram.add(day, 1)
            state.lastDay = relative
        }
        if instant < state.firstInstant {
            firstPurchases -= Int(state.firstCount) - 1
            firstAmount += amount - state.firstInstantAmount
            state.firstInstant = instant
            state.firstCount = 1
            state.firstInstantAmount = amount
        } else if instant == state.firstInstant {
            state.firstCount += 1
            state.firstInstantAmount += amount
            firstPurchases += 1
            firstAmount += amount
        }
        let first = Int64(state.firstPeriod)
        if period < first {
            pointer.pointee = state
            moveCohort(pointer, customer: customer, to: period)
            pointer.pointee.firstPeriodAmount += amount
            sums.pointee.newRevenue.add(period, amount)
            return
        }
        let offset = period - first
        if offset == 0 {
            sums.pointee.newRevenue.add(period, amount)
            state.firstPeriodAmount += amount
        } else if offset < 64 {
            if state.bits & (1 << UInt64(offset)) == 0 {
                state.bits |= 1 << UInt64(offset)
                sums.pointee.returningCounts.add(period, 1)
                sums.pointee.cohortActive.add(cohort: first, offset: offset, 1)
            }
        } else if farPeriods[customer, default: []].insert(period).inserted {
            state.flags |= Self.farPeriodsFlag
            sums.pointee.returningCounts.add(period, 1)
            sums.pointee.cohortActive.add(cohort: first, offset: offset, 1)
        }
        pointer.pointee = state
    }

    /// Moves a customer's first purchase period back to `period` (a purchase older than its first period arrived):
    /// the customer leaves its cohort for the earlier one, its old first period becomes a returning period (its
    /// revenue returning revenue), its activity shifts by the difference, and refunds no longer before its first
    /// period are settled. The new first period's own amounts are the caller's to add.
    private mutating func moveCohort(
        _ pointer: UnsafeMutablePointer<LiveCustomer>, customer: Int32, to period: Int64
    ) {
        var state = pointer.pointee
        let old = Int64(state.firstPeriod)
        let shift = old - period
        sums.pointee.cohortSizes.add(old, -1)
        sums.pointee.cohortSizes.add(period, 1)
        sums.pointee.newRevenue.add(old, -state.firstPeriodAmount)
        sums.pointee.returningCounts.add(old, 1)
        if state.flags & Self.farPeriodsFlag != 0, let far = farPeriods[customer] {
            for active in far {
                sums.pointee.cohortActive.add(cohort: old, offset: active - old, -1)
                sums.pointee.cohortActive.add(cohort: period, offset: active - period, 1)
            }
        }
        var bits = state.bits
        var moved: UInt64 = 1
        while bits != 0 {
            let offset = Int64(bits.trailingZeroBitCount)
            bits &= bits &- 1
            sums.pointee.cohortActive.add(cohort: old, offset: offset, -1)
            sums.pointee.cohortActive.add(cohort: period, offset: offset + shift, 1)
            if offset + shift < 64 {
                moved |= 1 << UInt64(offset + shift)
            } else {
                farPeriods[customer, default: []].insert(old + offset)
                state.flags |= Self.farPeriodsFlag
            }
        }
        sums.pointee.cohortActive.add(cohort: period, offset: 0, 1)
        state.bits = moved
        state.firstPeriod = Int32(period)
        state.firstPeriodAmount = 0
        pointer.pointee = state
        if state.flags & Self.earlyRefundsFlag != 0 { settleEarlyRefunds(pointer, customer: customer) }
    }

    /// Refunds of the customer that are no longer before its first purchase period: out of `excluded`, and those
    /// in the first period into the new-customer revenue.
    private mutating func settleEarlyRefunds(_ state: UnsafeMutablePointer<LiveCustomer>, customer: Int32) {
        guard let refunds = earlyRefunds[customer] else { return }
        let first = Int64(state.pointee.firstPeriod)
        var kept: [EarlyRefund] = []
        for refund in refunds {
            if refund.period < first {
                kept.append(refund)
                continue
            }
            sums.pointee.excluded.add(refund.period, -refund.amount)
            if refund.period == first {
                sums.pointee.newRevenue.add(first, refund.amount)
                state.pointee.firstPeriodAmount += refund.amount
            }
        }
        earlyRefunds[customer] = kept.isEmpty ? nil : kept
        if kept.isEmpty { state.pointee.flags &= ~Self.earlyRefundsFlag }
    }
}

extension RetentionReport {
    /// The report of a live state (``LiveState/answers(_:)`` is true for `options`): the data window, every order
    /// before the cutoff, assembled from the running aggregates and one pass over the purchasers for RFM.
    init(live: LiveState, currency code: Currency?, options: Options) throws {
        let calendar = options.calendar
        let currency = code ?? .usd
        let firstDay = calendar.localDayNumber(of: live.minInstant)
        let lastDay = calendar.localDayNumber(of: live.maxInstant)
        let windowStart = calendar.startOfDay(CivilDate(daysSince1970: firstDay))
        let window = windowStart..<calendar.startOfDay(CivilDate(daysSince1970: lastDay + 1))
        let activeWithin = window.upperBound.secondsSince1970 - window.lowerBound.secondsSince1970
        // Every order lies in the window: nobody is active at its start or bought before it.
        _ = try PeriodRetention.summaryWindows(period: window, activeWithin: activeWithin)
        let asOfDay = options.asOf ?? CivilDate(daysSince1970: lastDay)
        let cutoff = calendar.startOfDay(asOfDay.adding(days: 1)).secondsSince1970
        let limit = calendar.period(options.cohortUnit, of: Timestamp(secondsSince1970: cutoff - 1)).index

        let purchasers = live.purchasers
        let aov = try AverageOrderValue(orders: live.purchases, revenue: live.revenue, currency: currency)
        let frequency = try PurchaseFrequency(orders: live.purchases, customers: purchasers, window: window)
        timeZone = calendar.identifier
        from = window.lowerBound.description
        to = window.upperBound.description
        self.currency = code?.code
        customers = purchasers
        orders = aov.orders
        revenueMinorUnits = aov.revenue
        revenue = Money.decimalString(aov.revenue, digits: currency.minorUnitDigits)
        averageOrderValue = aov.value
        purchaseFrequency = frequency.value
        repeatPurchaseRate = ratio(live.repeaters, purchasers)
        returningCustomerRate = ratio(0, purchasers)
        spendUplift = SpendUplift.value(
            firstPurchases: live.firstPurchases, firstAmount: live.firstAmount,
            repeatPurchases: live.purchases - live.firstPurchases, repeatAmount: live.purchaseAmount - live.firstAmount)
        // S = 0 (no purchase before the window), E = N = every purchaser.
        retention = Retention(
            start: 0, new: purchasers, end: purchasers, retained: 0, reactivated: 0, rate: ratio(0, 0),
            cohortRate: ratio(0, 0), churnRate: ratio(0, 0), lostRate: ratio(0, 0),
            activeWithinDays: Double(activeWithin) / 86_400)
        returning = Returning(existing: 0, returned: 0, rate: ratio(0, 0))
        customerLifetimeValue = try RetentionReport.lifetimeValue(
            aov: aov, frequency: frequency, lostRate: ratio(0, 0), window: window, options: options)

        asOf = asOfDay.description
        cohortPeriod = options.cohortUnit
        let unit = options.cohortUnit
        var cells: [CohortCell] = []
        for cohort in live.cohortSizes.indices where cohort <= limit {
            let size = Int(live.cohortSizes[cohort])
            guard size > 0 else { continue }
            let label = Period(unit: unit, index: cohort).description
            let actives = live.cohortActive
            for offset in 0...Int(limit - cohort) {
                let active = Int(actives[cohort, Int64(offset)])
                cells.append(
                    CohortCell(
                        cohort: label, offset: offset, active: active, size: size,
                        retention: Double(active) / Double(size)))
            }
        }
        cohorts = cells
        segments = live.segments(options.segmentation, bins: options.bins, asOfDay: asOfDay.daysSince1970)
        var series: [PeriodRevenue] = []
        if live.minPurchasePeriod <= min(live.maxPurchasePeriod, limit) {
            let digits = currency.minorUnitDigits
            for period in live.minPurchasePeriod...min(live.maxPurchasePeriod, limit) {
                let newAmount = live.newRevenue[period]
                let returningAmount = live.eligible[period] - newAmount - live.excluded[period]
                series.append(
                    PeriodRevenue(
                        period: Period(unit: unit, index: period).description,
                        newCustomers: Int(live.cohortSizes[period]),
                        returningCustomers: Int(live.returningCounts[period]),
                        newCustomerRevenue: Money.decimalString(newAmount, digits: digits),
                        returningCustomerRevenue: Money.decimalString(returningAmount, digits: digits)))
            }
        }
        revenueByPeriod = series
    }
}

extension LiveState {
    /// RFM segment sizes (`.share` binning) as ``RFMSegmentation/sizes(of:)`` counts them: recency and frequency
    /// cut points from the histograms, monetary ones by selection, then one pass over the purchasers.
    func segments(_ segmentation: RFMSegmentation, bins: Int, asOfDay: Int64) -> [RFMSegmentSize] {
        precondition(bins >= 1, "RFMScores needs at least one bin")
        let (names, position) = segmentation.namesInOrder()
        let table = segmentation.positionTable(bins: bins, position: position)
        if purchasers > 0 && !table.isEmpty {
            return zip(names, onePassCounts(table: table, width: names.count, bins: bins, asOfDay: asOfDay)).map {
                RFMSegmentSize(name: $0, customers: $1)
            }
        }
        return segmentsByGathering(segmentation, bins: bins, asOfDay: asOfDay)
    }

    /// ``segments(_:bins:asOfDay:)`` by gathering every purchaser's money first (the path for over 32 bins).
    func segmentsByGathering(_ segmentation: RFMSegmentation, bins: Int, asOfDay: Int64) -> [RFMSegmentSize] {
        let (names, position) = segmentation.namesInOrder()
        var counts = [Int](repeating: 0, count: names.count)
        if purchasers > 0 {
            let (recencyCuts, frequencyCuts) = recencyAndFrequencyCuts(bins: bins, asOfDay: asOfDay)
            // The passes over the customers are split between two workers (the kernel's split) when large.
            let customerCount = store.count
            let customers = SharedPointer(base: store.base)
            let workers = customerCount >= 131_072 ? 2 : 1
            let split = customerCount / workers
            // Gather the purchasers' money: worker 0 fills from the front, worker 1 from the back.
            var monetary = [Int64](repeating: 0, count: purchasers)
            let total = purchasers
            monetary.withUnsafeMutableBufferPointer { out in
                let output = SharedPointer(base: out.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    let end = worker == workers - 1 ? customerCount : split
                    let range = worker == 0 ? 0..<end : split..<end
                    var next = worker == 0 ? 0 : total - 1
                    let step = worker == 0 ? 1 : -1
                    for index in range where customers.base[index].purchases > 0 {
                        output.base[next] = customers.base[index].amount
                        next += step
                    }
                }
            }
            let monetaryCuts = monetary.withUnsafeBufferPointer { bucketShareCuts($0, bins: bins) }
            monetary = []
            // Score tables by last purchase day and by purchase count, and the segment of every score triple.
            let dayBase = lastDayHistogram.indices.lowerBound
            let recencyScore = lastDayHistogram.indices.map { bins - cutsBelow(Double(asOfDay - $0), recencyCuts) }
            let countBase = frequencyHistogram.indices.lowerBound
            let frequencyScore = frequencyHistogram.indices.map { 1 + cutsBelow(Double($0), frequencyCuts) }
            let side = bins + 1
            let table = segmentation.positionTable(bins: bins, position: position)
            let dayShift = Int(dayOrigin - dayBase)
            if table.isEmpty {
                for index in 0..<customerCount where customers.base[index].purchases > 0 {
                    let entry = customers.base[index]
                    let r = recencyScore[Int(entry.lastDay) + dayShift]
                    let f = frequencyScore[Int(Int64(entry.purchases) - countBase)]
                    let m = 1 + cutsBelow(Double(entry.amount), monetaryCuts)
                    counts[position[segmentation.segment(recency: r, frequency: f, monetary: m)]!] += 1
                }
            } else {
                let width = names.count
                var partCounts = [Int](repeating: 0, count: workers * width)
                let segmentTable = table
                partCounts.withUnsafeMutableBufferPointer { parts in
                    let shared = SharedPointer(base: parts.baseAddress!)
                    DispatchQueue.concurrentPerform(iterations: workers) { worker in
                        let end = worker == workers - 1 ? customerCount : split
                        let range = worker == 0 ? 0..<end : split..<end
                        countingPrivately(width: width, into: shared.base + worker * width) { counts in
                            for index in range where customers.base[index].purchases > 0 {
                                let entry = customers.base[index]
                                let r = recencyScore[Int(entry.lastDay) + dayShift]
                                let f = frequencyScore[Int(Int64(entry.purchases) - countBase)]
                                let m = 1 + cutsBelow(Double(entry.amount), monetaryCuts)
                                counts[segmentTable[(r * side + f) * side + m]] += 1
                            }
                        }
                    }
                }
                for worker in 0..<workers {
                    for slot in 0..<width { counts[slot] += partCounts[worker * width + slot] }
                }
            }
        }
        return zip(names, counts).map { RFMSegmentSize(name: $0, customers: $1) }
    }
}

extension LiveState {
    /// The (recency, frequency) cut points of the purchasers, from the histograms (recency ascending = last
    /// purchase day descending).
    fileprivate func recencyAndFrequencyCuts(bins: Int, asOfDay: Int64) -> (recency: [Double], frequency: [Double]) {
        var recency: [(value: Int64, count: Int64)] = []
        for day in lastDayHistogram.indices.reversed() where lastDayHistogram[day] > 0 {
            recency.append((asOfDay - day, lastDayHistogram[day]))
        }
        var frequency: [(value: Int64, count: Int64)] = []
        for count in frequencyHistogram.indices where count > 0 && frequencyHistogram[count] > 0 {
            frequency.append((count, frequencyHistogram[count]))
        }
        return (
            histogramShareCuts(recency, count: purchasers, bins: bins),
            histogramShareCuts(frequency, count: purchasers, bins: bins)
        )
    }

    /// Segment counts (positions of `table`, from ``RFMSegmentation/positionTable(bins:position:)``) in one pass
    /// over the customers: monetary scores by bucket from ``monetaryBuckets``, the customers near a cut point set
    /// aside and scored exactly afterwards (``MonetaryBucketScores``).
    fileprivate func onePassCounts(table: [Int], width: Int, bins: Int, asOfDay: Int64) -> [Int] {
        let (recencyCuts, frequencyCuts) = recencyAndFrequencyCuts(bins: bins, asOfDay: asOfDay)
        let dayBase = lastDayHistogram.indices.lowerBound
        let recencyScore = lastDayHistogram.indices.map { bins - cutsBelow(Double(asOfDay - $0), recencyCuts) }
        let countBase = frequencyHistogram.indices.lowerBound
        let frequencyScore = frequencyHistogram.indices.map { 1 + cutsBelow(Double($0), frequencyCuts) }
        let dayShift = Int(dayOrigin - dayBase)
        let buckets = monetaryBuckets
        let scores = MonetaryBucketScores(count: purchasers, bins: bins) { Int(buckets[$0]) }
        let monetaryScore = scores.scoreOfBucket
        // The pass: two workers over halves of the customers when large.
        let customerCount = store.count
        let customers = SharedPointer(base: store.base)
        let workers = customerCount >= 131_072 ? 2 : 1
        let split = customerCount / workers
        let side = bins + 1
        var partCounts = [Int](repeating: 0, count: workers * width)
        var asideParts = [[(amount: Int64, rf: Int)]](repeating: [], count: workers)
        partCounts.withUnsafeMutableBufferPointer { parts in
            let shared = SharedPointer(base: parts.baseAddress!)
            asideParts.withUnsafeMutableBufferPointer { asides in
                let aside = SharedPointer(base: asides.baseAddress!)
                recencyScore.withUnsafeBufferPointer { recency in
                    frequencyScore.withUnsafeBufferPointer { frequency in
                        monetaryScore.withUnsafeBufferPointer { monetary in
                            table.withUnsafeBufferPointer { positions in
                                let recencyScore = SharedPointer(
                                    base: UnsafeMutablePointer(mutating: recency.baseAddress!))
                                let frequencyScore = SharedPointer(
                                    base: UnsafeMutablePointer(mutating: frequency.baseAddress!))
                                let monetaryScore = SharedPointer(
                                    base: UnsafeMutablePointer(mutating: monetary.baseAddress!))
                                let table = SharedPointer(base: UnsafeMutablePointer(mutating: positions.baseAddress!))
                                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                                    let end = worker == workers - 1 ? customerCount : split
                                    let range = worker == 0 ? 0..<end : split..<end
                                    var setAside: [(amount: Int64, rf: Int)] = []
                                    countingPrivately(width: width, into: shared.base + worker * width) { counts in
                                        for index in range where customers.base[index].purchases > 0 {
                                            let entry = customers.base[index]
                                            let r = recencyScore.base[Int(entry.lastDay) + dayShift]
                                            let f = frequencyScore.base[Int(Int64(entry.purchases) - countBase)]
                                            let m = Int(monetaryScore.base[logBucket(entry.amount)])
                                            if m == 0 {
                                                setAside.append((entry.amount, r * side + f))
                                            } else {
                                                counts[table.base[(r * side + f) * side + m]] += 1
                                            }
                                        }
                                    }
                                    aside.base[worker] = setAside
                                }
                            }
                        }
                    }
                }
            }
        }
        var counts = [Int](repeating: 0, count: width)
        for worker in 0..<workers {
            for slot in 0..<width { counts[slot] += partCounts[worker * width + slot] }
        }
        // The exact cut points from the values set aside, and their scores.
        let aside = asideParts.flatMap { $0 }
        let monetaryCuts = scores.cuts(setAside: aside.map(\.amount))
        for entry in aside {
            let m = 1 + cutsBelow(Double(entry.amount), monetaryCuts)
            counts[table[entry.rf * side + m]] += 1
        }
        return counts
    }
}

extension RFMSegmentation {
    /// The position in `position` (from ``namesInOrder()``) of the segment of every score triple, at index
    /// `(r * (bins + 1) + f) * (bins + 1) + m`; empty when `bins` is over 32 (the table would pass 36,000 entries:
    /// look each triple up instead).
    func positionTable(bins: Int, position: [String: Int]) -> [Int] {
        guard bins <= 32 else { return [] }
        let side = bins + 1
        var table = [Int](repeating: -1, count: side * side * side)
        for r in 1...bins {
            for f in 1...bins {
                for m in 1...bins {
                    table[(r * side + f) * side + m] = position[segment(recency: r, frequency: f, monetary: m)]!
                }
            }
        }
        return table
    }
}

/// ``shareCuts(_:bins:)`` of the values a histogram holds (`pairs` ascending by value, `count` values in all).
func histogramShareCuts(_ pairs: [(value: Int64, count: Int64)], count n: Int, bins: Int) -> [Double] {
    shareCuts(count: n, bins: bins) { rank in
        var seen: Int64 = 0
        for pair in pairs {
            seen += pair.count
            if Int64(rank) < seen { return pair.value }
        }
        return pairs[pairs.count - 1].value
    }
}

/// ``shareCuts(_:bins:)`` of `values` by bucket selection: one pass counts the values in 65,536 buckets of
/// ``logBucket(_:)`` (exact below 512 in magnitude, then 512 per power of two: about 0.2% of the value wide),
/// a second gathers the few buckets that hold a wanted rank, and quickselect finishes inside them. Two streaming
/// passes instead of quickselect's copy and partitions of every value; the buckets are narrow wherever the values
/// are, so an outlier does not pile the rest into a few buckets. The second pass has two workers from 2^20 values
/// on.
///
/// `bucketCounts`, when given, is the histogram of `values` by ``logBucket(_:)`` (65,536 entries) that a caller
/// gathered while writing them; it saves the first of the two passes.
func bucketShareCuts(_ values: UnsafeBufferPointer<Int64>, bins: Int, bucketCounts: [Int]? = nil) -> [Double] {
    let n = values.count
    guard n > 0, bins > 1 else { return [] }
    guard n >= 4_096 else { return shareCuts(Array(values), bins: bins) }
    var counts: [Int]
    if let bucketCounts {
        precondition(bucketCounts.count == 65_536, "a histogram of the 65,536 log buckets")
        counts = bucketCounts
    } else {
        counts = [Int](repeating: 0, count: 65_536)
        counts.withUnsafeMutableBufferPointer { counts in
            for value in values { counts[logBucket(value)] += 1 }
        }
    }
    // The ranks shareCuts reads: j and j + 1 for each cut.
    var ranks: [Int] = []
    for k in 1..<bins {
        let j = min(Int((Double(n - 1) * (Double(k) / Double(bins))).rounded(.down)), n - 1)
        ranks.append(j)
        if j + 1 < n { ranks.append(j + 1) }
    }
    // The buckets holding a wanted rank (in `slotOf`, by bucket), the first rank of each, and its wanted ranks.
    var slotOf = [Int32](repeating: -1, count: 65_536)
    var slotStart: [Int] = []
    var slotRanks: [[Int]] = []
    var seen = 0
    var sortedRanks = Array(Set(ranks)).sorted()[...]
    for bucket in 0..<65_536 where counts[bucket] > 0 {
        while let rank = sortedRanks.first, rank < seen + counts[bucket] {
            if slotOf[bucket] < 0 {
                slotOf[bucket] = Int32(slotStart.count)
                slotStart.append(seen)
                slotRanks.append([])
            }
            slotRanks[Int(slotOf[bucket])].append(rank - seen)
            sortedRanks.removeFirst()
        }
        seen += counts[bucket]
    }
    // The gathering pass; two workers over halves of the values from 2^20 values on (each bucket's members are
    // a multiset: their order does not matter).
    let workers = n >= 1 << 20 ? 2 : 1
    let slotCount = slotStart.count
    var parts = [[[Int64]]](repeating: [], count: workers)
    let input = SharedPointer(base: UnsafeMutablePointer(mutating: values.baseAddress!))
    slotOf.withUnsafeMutableBufferPointer { slotBuffer in
        let slotOf = SharedPointer(base: slotBuffer.baseAddress!)
        parts.withUnsafeMutableBufferPointer { partBuffer in
            let out = SharedPointer(base: partBuffer.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var members = [[Int64]](repeating: [], count: slotCount)
                for index in (worker * n / workers)..<((worker + 1) * n / workers) {
                    let value = input.base[index]
                    let slot = slotOf.base[logBucket(value)]
                    if slot >= 0 { members[Int(slot)].append(value) }
                }
                out.base[worker] = members
            }
        }
    }
    var members = parts[0]
    for part in parts.dropFirst() {
        for slot in part.indices { members[slot] += part[slot] }
    }
    var statistics: [Int: Int64] = [:]
    for slot in slotStart.indices {
        let found = orderStatistics(members[slot], ranks: slotRanks[slot])
        for rank in slotRanks[slot] { statistics[slotStart[slot] + rank] = found[rank]! }
    }
    return shareCuts(count: n, bins: bins) { statistics[$0]! }
}

/// A bucket in `0..<65_536`, non-decreasing in `value`: magnitudes below 512 exactly, larger ones by their power
/// of two and the 9 bits after the leading one; negative values mirror below 32,768.
@inline(__always)
func logBucket(_ value: Int64) -> Int {
    let magnitude = value.magnitude
    let key: Int
    if magnitude < 512 {
        key = Int(magnitude)
    } else {
        let exponent = UInt64.bitWidth - 1 - magnitude.leadingZeroBitCount  // 9...63
        key = 512 + (exponent - 9) * 512 + Int((magnitude >> UInt64(exponent - 9)) & 511)
    }
    return value < 0 ? 32_767 - key : 32_768 + key
}

/// The type-7 cut points at k / bins of `n` values, given the value at each rank (ascending), with the same
/// arithmetic as ``shareCuts(_:bins:)``.
func shareCuts(count n: Int, bins: Int, statistic: (Int) -> Int64) -> [Double] {
    guard n > 0, bins > 1 else { return [] }
    return (1..<bins).map { k in
        let p = Double(k) / Double(bins)
        let h = Double(n - 1) * p
        let j = min(Int(h.rounded(.down)), n - 1)
        let g = h - Double(j)
        let a = Double(statistic(j))
        guard j + 1 < n else { return a }
        let b = Double(statistic(j + 1))
        let difference = b - a
        return g >= 0.5 ? b - difference * (1 - g) : a + difference * g
    }
}
