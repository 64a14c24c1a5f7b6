/// A cohort retention table: customers grouped by the period of their first purchase, and for each later period
/// the share of the cohort that purchased again.
///
///     cohort(c)    = the period (in the calendar's time zone) of customer c's first purchase
///     size         = customers in the cohort
///     active(k)    = customers of the cohort with a purchase in period cohort + k      (k >= 0)
///     retention(k) = active(k) / size
///
/// Refund rows (amount < 0) are not purchases: they neither start a cohort nor make a customer active.
/// The table is right-censored: offsets whose period lies after the last observed period are absent, not zero.
/// The last observed period is the period containing `asOf` when given, else the period of the last purchase.
///
/// ```swift
/// let table = CohortTable(ledger: ledger, unit: .month, calendar: PeriodCalendar(identifier: "Europe/Berlin")!)
/// table.rows[0].cohort.description                          // "2024-03"
/// table.retention(cohort: table.rows[0].cohort, offset: 1)  // 0.5: half of March's new customers bought in April
/// ```
///
/// Rows are sorted by cohort, then offset; every cohort has offsets 0 through (last observed - cohort), with
/// `active == 0` where nobody bought, and `retention(0) == 1`.
public struct CohortTable: Sendable, Codable, Hashable {
    /// One cell of the table.
    public struct Row: Sendable, Codable, Hashable {
        /// The cohort: the period of its customers' first purchase. Its `description` is the label
        /// (`2024-03`, `2024-W09`, `2024-Q1`, `2024-03-05`, `2024`).
        public var cohort: Period
        /// Periods after the cohort period (0 = the cohort period itself).
        public var offset: Int
        /// Customers of the cohort with a purchase in period `cohort + offset`.
        public var active: Int
        /// Customers in the cohort.
        public var size: Int
        /// `active / size`.
        public var retention: Double

        /// A cell of a non-empty cohort.
        /// - Precondition: `size > 0` and `0 <= active <= size` (a table has no row for an empty cohort, so its
        ///   retention is never 0 / 0).
        public init(cohort: Period, offset: Int, active: Int, size: Int) {
            precondition(
                size > 0 && (0...size).contains(active), "a cohort cell needs size > 0 and 0 <= active <= size")
            self.cohort = cohort
            self.offset = offset
            self.active = active
            self.size = size
            self.retention = Double(active) / Double(size)
        }
    }

    /// The period length of cohorts and offsets.
    public var unit: PeriodUnit
    /// The last period observed; offsets beyond it are absent. `nil` for an empty table.
    public var lastObservedPeriod: Period?
    /// The cells, sorted by cohort, then offset.
    public var rows: [Row]

    /// Builds the table from a ledger.
    ///
    ///     retention(k) = |{c in cohort : c purchased in cohort + k}| / |cohort|
    ///
    /// ```swift
    /// let table = CohortTable(ledger: ledger, unit: .week, calendar: .utc)
    /// for row in table.rows { print(row.cohort, row.offset, row.retention) }   // 2024-W09 0 1.0 ...
    /// ```
    ///
    /// - Parameters:
    ///   - ledger: The orders. Refund rows (amount < 0) are ignored.
    ///   - unit: The period length of cohorts and offsets.
    ///   - calendar: The time zone in which instants become periods.
    ///   - asOf: The observation end. Orders in periods after the one containing `asOf` are ignored, and that
    ///     period is the last observed one (it may be partly observed). When `nil`, the last observed period is
    ///     the period of the last purchase.
    /// - Returns: The table; empty (no rows, `lastObservedPeriod == nil`) without purchases.
    /// - Complexity: O(*n*) in the number of orders, plus the size of the table: two passes over the rows, then
    ///   a radix sort of the (customer, period) pairs that counts each distinct pair once.
    public init(ledger: OrderLedger, unit: PeriodUnit, calendar: PeriodCalendar, asOf: Timestamp? = nil) {
        let limit = asOf.map { calendar.period(unit, of: $0).index }
        let activity = CustomerPeriodActivity(ledger: ledger, unit: unit, calendar: calendar, limit: limit)
        guard let lastPurchase = activity.lastPurchase else {
            self.init(unit: unit, lastObservedPeriod: nil, rows: [])
            return
        }
        var counter = CohortCounter(
            firstPurchase: activity.firstPurchase, last: limit ?? lastPurchase, records: ledger.count)
        let amounts = ledger.amountColumn
        let customers = ledger.customerColumn
        for row in 0..<ledger.count where activity.included[row] && amounts[row] >= 0 {
            counter.record(customer: customers[row], period: activity.periods[row])
        }
        self.init(unit: unit, lastObservedPeriod: Period(unit: unit, index: counter.last), rows: counter.rows(unit))
    }

    /// Builds the table from precomputed (customer, period) activity, such as a database's
    /// `SELECT DISTINCT customer_id, <period of created_at> FROM orders WHERE amount >= 0`.
    ///
    ///     cohort(c) = min period of c's activity;  active(k) = |{c : (c, cohort(c) + k) in activity}|
    ///
    /// ```swift
    /// let table = try CohortTable(
    ///     activity: [CohortActivity(customerID: "a", period: Period(unit: .month, index: 24_290))],
    ///     unit: .month)
    /// table.rows.count   // 1
    /// ```
    ///
    /// - Parameters:
    ///   - activity: Purchase periods per customer. Duplicate pairs are harmless (each counts once). Activity in
    ///     periods after `lastObservedPeriod` is ignored.
    ///   - unit: The unit of every activity period.
    ///   - lastObservedPeriod: The last observed period; `nil` for the latest activity period.
    /// - Returns: The same table ``init(ledger:unit:calendar:asOf:)`` builds from the underlying orders.
    /// - Throws: ``CohortTableError`` with code `unitMismatch` when a period (or `lastObservedPeriod`) is not of
    ///   `unit`.
    /// - Complexity: O(*m*) in the number of activity records (hashing their customer ids, then a radix sort of
    ///   the pairs), plus the size of the table.
    public init(activity: some Sequence<CohortActivity>, unit: PeriodUnit, lastObservedPeriod: Period? = nil) throws {
        if let lastObservedPeriod, lastObservedPeriod.unit != unit {
            throw CohortTableError.unitMismatch(lastObservedPeriod, expected: unit)
        }
        let limit = lastObservedPeriod?.index ?? .max
        var numbers: [String: Int32] = [:]
        var customerColumn: [Int32] = []
        var periodColumn: [Int64] = []
        var first: [Int64] = []
        var last: Int64?
        for record in activity {
            guard record.period.unit == unit else { throw CohortTableError.unitMismatch(record.period, expected: unit) }
            let period = record.period.index
            guard period <= limit else { continue }
            let number: Int32
            if let known = numbers[record.customerID] {
                number = known
            } else {
                number = Int32(first.count)
                numbers[record.customerID] = number
                first.append(.max)
            }
            customerColumn.append(number)
            periodColumn.append(period)
            first[Int(number)] = min(first[Int(number)], period)
            last = max(last ?? .min, period)
        }
        guard let last else {
            self.init(unit: unit, lastObservedPeriod: lastObservedPeriod, rows: [])
            return
        }
        var counter = CohortCounter(
            firstPurchase: first, last: lastObservedPeriod?.index ?? last, records: customerColumn.count)
        for (customer, period) in zip(customerColumn, periodColumn) {
            counter.record(customer: customer, period: period)
        }
        self.init(unit: unit, lastObservedPeriod: Period(unit: unit, index: counter.last), rows: counter.rows(unit))
    }

    /// A table from its parts (for decoding, tests and adapters).
    public init(unit: PeriodUnit, lastObservedPeriod: Period?, rows: [Row]) {
        self.unit = unit
        self.lastObservedPeriod = lastObservedPeriod
        self.rows = rows
    }

    /// The retention of `cohort` at `offset`.
    ///
    ///     retention(cohort, k) = active(k) / size
    ///
    /// ```swift
    /// table.retention(cohort: march, offset: 1)    // 0.5
    /// table.retention(cohort: march, offset: 99)   // nil: beyond the observation (right-censored)
    /// ```
    ///
    /// - Parameters:
    ///   - cohort: The cohort period (of the table's unit).
    ///   - offset: Periods after the cohort period.
    /// - Returns: `nil` when the table has no such cell: unknown cohort, other unit, negative offset, or an offset
    ///   past the last observed period.
    /// - Complexity: O(log *r*) in the number of rows.
    public func retention(cohort: Period, offset: Int) -> Double? {
        guard cohort.unit == unit else { return nil }
        var low = 0
        var high = rows.count
        while low < high {
            let mid = (low + high) / 2
            let row = rows[mid]
            if (row.cohort.index, row.offset) < (cohort.index, offset) { low = mid + 1 } else { high = mid }
        }
        guard low < rows.count, rows[low].cohort.index == cohort.index, rows[low].offset == offset else { return nil }
        return rows[low].retention
    }
}

/// One (customer, purchase period) pair of precomputed activity; see
/// ``CohortTable/init(activity:unit:lastObservedPeriod:)``.
public struct CohortActivity: Hashable, Sendable, Codable {
    public var customerID: String
    /// A period in which the customer made at least one purchase.
    public var period: Period

    public init(customerID: String, period: Period) {
        self.customerID = customerID
        self.period = period
    }
}

/// Invalid input to a ``CohortTable``.
public struct CohortTableError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable error code.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
        /// A period's unit differs from the table's unit.
        public static let unitMismatch = Code(rawValue: "unitMismatch")
    }

    public var code: Code
    /// The offending period.
    public var period: Period
    public var description: String

    public init(_ code: Code, period: Period, _ description: String) {
        self.code = code
        self.period = period
        self.description = description
    }

    static func unitMismatch(_ period: Period, expected: PeriodUnit) -> CohortTableError {
        CohortTableError(
            .unitMismatch, period: period,
            "period \(period) is a \(period.unit.rawValue) but the cohort table is by \(expected.rawValue)")
    }
}

/// Counts distinct (customer, period) pairs into cohort x offset cells.
private struct CohortCounter {
    let firstPurchase: [Int64]
    let last: Int64
    let firstCohort: Int64
    /// `active[cohort - firstCohort][offset]`; a row per cohort period between the first and the last cohort.
    var active: [[Int]]
    var sizes: [Int]
    /// `customer << 32 | (period - firstCohort)` of every record within the observation, duplicates included:
    /// sorted and counted once in ``rows(_:)``, where a set of pairs took a cache miss per record.
    var pairs: [UInt64] = []

    init(firstPurchase: [Int64], last: Int64, records: Int) {
        self.firstPurchase = firstPurchase
        self.last = last
        let firstCohort = firstPurchase.min() ?? 0
        let lastCohort = firstPurchase.lazy.filter { $0 <= last }.max() ?? firstCohort
        self.firstCohort = firstCohort
        self.active = (firstCohort...max(firstCohort, lastCohort)).map {
            [Int](repeating: 0, count: Int(last - $0 + 1))
        }
        self.sizes = [Int](repeating: 0, count: active.count)
        for cohort in firstPurchase where cohort <= last { sizes[Int(cohort - firstCohort)] += 1 }
        pairs.reserveCapacity(records)
    }

    @inline(__always)
    mutating func record(customer: Int32, period: Int64) {
        guard period <= last else { return }
        let distance = UInt64(truncatingIfNeeded: period - firstCohort) & 0xFFFF_FFFF
        pairs.append(UInt64(UInt32(bitPattern: customer)) << 32 | distance)
    }

    /// The table's rows, after counting each distinct pair once into `active`.
    mutating func rows(_ unit: PeriodUnit) -> [CohortTable.Row] {
        let n = pairs.count
        var scratch = [UInt64](repeating: 0, count: n)
        pairs.withUnsafeMutableBufferPointer { pairs in
            scratch.withUnsafeMutableBufferPointer { scratch in
                let sorted = radixSort(pairs, scratch: scratch)
                var previous = UInt64.max
                for pair in sorted where pair != previous {
                    previous = pair
                    let customer = Int(pair >> 32)
                    let period = firstCohort + Int64(pair & 0xFFFF_FFFF)
                    let cohort = firstPurchase[customer]
                    active[Int(cohort - firstCohort)][Int(period - cohort)] += 1
                }
            }
        }
        pairs = []
        var rows: [CohortTable.Row] = []
        for (index, size) in sizes.enumerated() where size > 0 {
            let cohort = Period(unit: unit, index: firstCohort + Int64(index))
            for (offset, count) in active[index].enumerated() {
                rows.append(CohortTable.Row(cohort: cohort, offset: offset, active: count, size: size))
            }
        }
        return rows
    }
}
