import Foundation

/// Which calendar periods each customer purchased in: the distinct (customer, period) pairs of the purchases
/// (amount >= 0) in a range, for one ``PeriodUnit`` in one time zone. It is what cohort tables and
/// active-customer counts need, and far smaller than the orders (one pair per customer and active period).
///
///     pairs = distinct (customerID, calendar.period(unit, of: timestamp)) over orders with amount >= 0
///
/// ```swift
/// let activity = try await store.purchaseActivity(
///     placedIn: .allTime, unit: .month, calendar: PeriodCalendar(identifier: "Europe/Berlin")!)
/// activity.customerIDs[0]                  // "alice"
/// activity.periods(ofCustomerAt: 0)        // [24290, 24293]  (2024-03 and 2024-06 as month indices)
/// ```
///
/// Customers are ordered by id as UTF-8 bytes; each customer's periods are ascending and distinct. Customers
/// without a purchase in the range (only refunds, or nothing) are absent. Storage is compressed-row: the
/// periods of customer `i` are `periodIndices[periodStarts[i] ..< periodStarts[i + 1]]`.
public struct PeriodActivity: Hashable, Sendable, Codable {
    /// The period length.
    public var unit: PeriodUnit
    /// The IANA identifier of the time zone the periods are local to.
    public var timeZoneIdentifier: String
    /// Customers with at least one purchase, ascending by UTF-8 bytes.
    public var customerIDs: [String]
    /// `customerIDs.count + 1` offsets into ``periodIndices``.
    public var periodStarts: [Int]
    /// ``Period`` indices, ascending within each customer.
    public var periodIndices: [Int64]

    /// An activity with no customer.
    public init(unit: PeriodUnit, timeZoneIdentifier: String) {
        self.unit = unit
        self.timeZoneIdentifier = timeZoneIdentifier
        self.customerIDs = []
        self.periodStarts = [0]
        self.periodIndices = []
    }

    /// Number of customers with a purchase.
    public var customerCount: Int { customerIDs.count }

    /// Number of distinct (customer, period) pairs.
    public var pairCount: Int { periodIndices.count }

    /// The period indices of the customer at `index`, ascending.
    public func periods(ofCustomerAt index: Int) -> ArraySlice<Int64> {
        periodIndices[periodStarts[index]..<periodStarts[index + 1]]
    }

    /// The activity as a dictionary from customer id to its periods, for comparisons and small data.
    public var periodsByCustomer: [String: [Period]] {
        var result: [String: [Period]] = [:]
        for (index, id) in customerIDs.enumerated() {
            result[id] = periods(ofCustomerAt: index).map { Period(unit: unit, index: $0) }
        }
        return result
    }

    /// How many customers of each cohort (the period of their first purchase in the data) purchased at each
    /// period offset.
    ///
    ///     customers(cohort c, offset k) = #{customers whose first period is c and who purchased in c + k}
    ///
    /// Offset 0 is the cohort size. Cohorts are the first period *within the activity's range*: read the
    /// activity from the start of the history if cohorts must be acquisition cohorts.
    ///
    /// - Returns: One entry per (cohort, offset) with at least one customer, ascending by cohort then offset.
    /// - Complexity: O(*p* log *p*) for *p* pairs.
    public func cohortCounts() -> [CohortActivityCount] {
        var counts: [CohortKey: Int] = [:]
        for index in 0..<customerIDs.count {
            let periods = self.periods(ofCustomerAt: index)
            guard let first = periods.first else { continue }
            for period in periods { counts[CohortKey(cohort: first, offset: period - first), default: 0] += 1 }
        }
        return counts.sorted { ($0.key.cohort, $0.key.offset) < ($1.key.cohort, $1.key.offset) }.map {
            CohortActivityCount(
                cohort: Period(unit: unit, index: $0.key.cohort), offset: $0.key.offset, customers: $0.value)
        }
    }

    private struct CohortKey: Hashable {
        var cohort: Int64
        var offset: Int64
    }

    /// Builds a ``PeriodActivity`` from (customer, local day) or (customer, period) rows that arrive sorted by
    /// customer id (UTF-8 bytes) and then by day or period, as a SQL `ORDER BY customer_id, local_day` returns
    /// them. Repeated pairs are merged.
    public struct Builder: Sendable {
        private var activity: PeriodActivity

        public init(unit: PeriodUnit, timeZoneIdentifier: String) {
            activity = PeriodActivity(unit: unit, timeZoneIdentifier: timeZoneIdentifier)
        }

        /// Adds a purchase of `customerID` on the local day `localDay` (days since 1970-01-01 in the zone).
        public mutating func add(customerID: String, localDay: Int64) {
            add(customerID: customerID, periodIndex: Period.index(unit: activity.unit, daysSince1970: localDay))
        }

        /// Adds a purchase of `customerID` in the period with index `periodIndex`.
        /// - Precondition: rows arrive in ascending (customer id bytes, period) order.
        public mutating func add(customerID: String, periodIndex: Int64) {
            if let last = activity.customerIDs.last, last.utf8.elementsEqual(customerID.utf8) {
                let previous = activity.periodIndices.last!
                precondition(previous <= periodIndex, "rows must be sorted by customer id, then period")
                if previous == periodIndex { return }
            } else {
                precondition(
                    activity.customerIDs.last.map { $0.utf8.lexicographicallyPrecedes(customerID.utf8) } ?? true,
                    "rows must be sorted by customer id (UTF-8 bytes)")
                activity.customerIDs.append(customerID)
                activity.periodStarts.append(activity.periodIndices.count)
            }
            activity.periodIndices.append(periodIndex)
            activity.periodStarts[activity.periodStarts.count - 1] = activity.periodIndices.count
        }

        /// The activity built so far.
        public func build() -> PeriodActivity { activity }
    }
}

/// One cell of a cohort activity table: how many customers of `cohort` purchased `offset` periods later.
public struct CohortActivityCount: Hashable, Sendable, Codable {
    public var cohort: Period
    public var offset: Int64
    public var customers: Int

    public init(cohort: Period, offset: Int64, customers: Int) {
        self.cohort = cohort
        self.offset = offset
        self.customers = customers
    }
}

/// A stretch of time over which a time zone's UTC offset is constant.
public struct UTCOffsetSegment: Hashable, Sendable, Codable {
    /// Seconds since 1970, half-open.
    public var instants: Range<Int64>
    /// Seconds east of UTC in force throughout ``instants``.
    public var utcOffset: Int64

    public init(instants: Range<Int64>, utcOffset: Int64) {
        self.instants = instants
        self.utcOffset = utcOffset
    }
}

extension PeriodCalendar {
    /// The stretches of constant UTC offset covering `range`, in order: what a database needs to map instants
    /// to local days with plain integer arithmetic (SQL knows no time zones portably).
    ///
    ///     localDay(t) = floor((t + utcOffset(segment containing t)) / 86400)
    ///
    /// ```swift
    /// let berlin = PeriodCalendar(identifier: "Europe/Berlin")!
    /// berlin.utcOffsetSegments(covering: 1_704_067_200..<1_735_689_600)   // 2024: 3 segments, +3600, +7200, +3600
    /// ```
    ///
    /// The segments agree with ``PeriodCalendar/utcOffset(at:)`` at every instant: both come from Foundation's
    /// transitions of ``PeriodCalendar/timeZone``.
    ///
    /// - Parameter range: Seconds since 1970, half-open; an empty range gives no segment.
    /// - Returns: Contiguous segments whose union is `range`.
    /// - Complexity: O(*k*) Foundation calls for *k* offset changes in the range.
    public func utcOffsetSegments(covering range: Range<Int64>) -> [UTCOffsetSegment] {
        var segments: [UTCOffsetSegment] = []
        var start = range.lowerBound
        var cursor = Date(timeIntervalSince1970: TimeInterval(start))
        while start < range.upperBound {
            let offset = utcOffset(at: start)
            var end = range.upperBound
            while let next = timeZone.nextDaylightSavingTimeTransition(after: cursor) {
                let instant = Int64(next.timeIntervalSince1970.rounded(.down))
                cursor = next
                if instant >= range.upperBound { break }
                if instant > start, utcOffset(at: instant) != offset {
                    end = instant
                    break
                }
            }
            if end == range.upperBound { cursor = Date(timeIntervalSince1970: TimeInterval(range.upperBound)) }
            segments.append(UTCOffsetSegment(instants: start..<end, utcOffset: offset))
            start = end
        }
        return segments
    }
}
