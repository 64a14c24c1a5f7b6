/// The shared pattern of the period-based metrics (``CohortTable``, ``BTYDSummary``, distinct purchase days in
/// ``RFMSummary``): map each purchase row of a ledger to its local period in a calendar, and count each
/// (customer, period) pair once.
///
/// Internal: callers see only the metrics built on it.
struct CustomerPeriodActivity {
    /// Per ledger row: the local period index of the row (meaningful only where ``included`` is true).
    var periods: [Int64]
    /// Per ledger row: whether the row is inside the observation (local period <= the limit).
    var included: [Bool]
    /// Per customer number: the first purchase period index, `Int64.max` for a customer without purchases.
    var firstPurchase: [Int64]
    /// The latest purchase period index seen, `nil` without purchases.
    var lastPurchase: Int64?

    /// Maps every row of `ledger` whose local period is `<= limit` (all rows when `nil`) to its period, and finds
    /// each customer's first purchase period (refund rows, amount < 0, are mapped but are not purchases).
    ///
    /// - Complexity: O(*n*) in the number of rows.
    init(ledger: OrderLedger, unit: PeriodUnit, calendar: PeriodCalendar, limit: Int64? = nil) {
        let count = ledger.count
        let customers = ledger.customerColumn
        let timestamps = ledger.timestampColumn
        let amounts = ledger.amountColumn
        let limit = limit ?? .max
        var periods = [Int64](repeating: 0, count: count)
        var included = [Bool](repeating: false, count: count)
        var first = [Int64](repeating: .max, count: ledger.customerCount)
        var last: Int64?
        for row in 0..<count {
            let period = Period.index(unit: unit, daysSince1970: calendar.localDayNumber(of: timestamps[row]))
            guard period <= limit else { continue }
            periods[row] = period
            included[row] = true
            guard amounts[row] >= 0 else { continue }
            let customer = Int(customers[row])
            if period < first[customer] { first[customer] = period }
            if period > last ?? .min { last = period }
        }
        self.periods = periods
        self.included = included
        self.firstPurchase = first
        self.lastPurchase = last
    }
}

/// A set of (customer number, period index) pairs, each packed into one `UInt64` (customer in the high 32 bits,
/// the period's distance from a base period in the low 32 bits).
///
/// An open-addressing table (linear probing, load at most 1/2) of `key + 1` (0 marks an empty slot; keys have a
/// clear top bit, customer numbers being non-negative `Int32`s), hashed by one multiply: about 4x faster than
/// `Set<UInt64>` with its seeded SipHash on tens of millions of inserts.
struct DistinctCustomerPeriods {
    private var slots: [UInt64]
    private var mask: Int
    private var shift: UInt64
    private var count = 0
    private let base: Int64

    /// - Parameter base: A period index `<=` every period that will be inserted.
    init(base: Int64, capacity: Int = 0) {
        self.base = base
        var size = 16
        while size < capacity * 2 { size *= 2 }
        slots = [UInt64](repeating: 0, count: size)
        mask = size - 1
        shift = UInt64(64 - size.trailingZeroBitCount)
    }

    /// Inserts the pair; returns `true` when it was not present yet.
    @inline(__always)
    mutating func insert(customer: Int32, period: Int64) -> Bool {
        let distance = UInt64(truncatingIfNeeded: period - base) & 0xFFFF_FFFF
        let stored = (UInt64(UInt32(bitPattern: customer)) << 32 | distance) &+ 1
        if count * 2 >= slots.count { grow() }
        let (shift, mask) = (self.shift, self.mask)
        let inserted = slots.withUnsafeMutableBufferPointer { slots -> Bool in
            var index = Int(truncatingIfNeeded: (stored &* 0x9E37_79B9_7F4A_7C15) >> shift) & mask
            while true {
                let slot = slots[index]
                if slot == stored { return false }
                if slot == 0 {
                    slots[index] = stored
                    return true
                }
                index = (index + 1) & mask
            }
        }
        if inserted { count += 1 }
        return inserted
    }

    private mutating func grow() {
        let old = slots
        let size = slots.count * 2
        slots = [UInt64](repeating: 0, count: size)
        mask = size - 1
        shift = UInt64(64 - size.trailingZeroBitCount)
        count = 0
        for stored in old where stored != 0 {
            var index = Int(truncatingIfNeeded: (stored &* 0x9E37_79B9_7F4A_7C15) >> shift) & mask
            while slots[index] != 0 { index = (index + 1) & mask }
            slots[index] = stored
            count += 1
        }
    }
}

/// Sorts `values` ascending with a least-significant-digit radix sort, 8 bits a pass over the bits any value uses
/// (a pass per byte up to the highest set bit), moving them between `values` and `scratch` (at least as long);
/// returns the one that holds the result.
/// - Complexity: O(*n* * *b* / 8) for *b* bits in use: two sequential reads and one scatter per pass.
func radixSort(
    _ values: UnsafeMutableBufferPointer<UInt64>, scratch: UnsafeMutableBufferPointer<UInt64>
) -> UnsafeMutableBufferPointer<UInt64> {
    precondition(scratch.count >= values.count, "radixSort needs scratch room for every value")
    var highest: UInt64 = 0
    for value in values { highest |= value }
    var source = values
    var target = UnsafeMutableBufferPointer(rebasing: scratch[0..<values.count])
    var shift: UInt64 = 0
    let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: 256)
    defer { counts.deallocate() }
    while shift < 64 && highest >> shift != 0 {
        counts.initialize(repeating: 0)
        for value in source { counts[Int(truncatingIfNeeded: (value >> shift) & 0xFF)] += 1 }
        var start = 0
        for digit in 0..<256 {
            let size = counts[digit]
            counts[digit] = start
            start += size
        }
        for value in source {
            let digit = Int(truncatingIfNeeded: (value >> shift) & 0xFF)
            target[counts[digit]] = value
            counts[digit] += 1
        }
        swap(&source, &target)
        shift += 8
    }
    return source
}
