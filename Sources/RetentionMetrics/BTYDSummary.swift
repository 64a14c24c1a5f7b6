/// The per-customer summary the "buy till you die" models (BG/NBD, Pareto/NBD, Gamma-Gamma) take, in the
/// convention of lifetimes 0.11.3's `summary_data_from_transaction_data`.
///
/// Purchases are floored to periods in the calendar's time zone, and purchases in the same period merged (their
/// amounts summed). Then, per customer, with periods counted from the first purchase period:
///
///     frequency      = distinct purchase periods - 1                      (repeat periods)
///     recency        = last purchase period - first purchase period       (age at the last purchase)
///     T              = observation-end period - first purchase period     (age at the end; `age` here)
///     monetary_value = mean of the per-period sums, EXCLUDING the first period; 0 when frequency == 0
///
/// Recency here is *not* RFM recency (days since the last purchase): a customer who bought once has recency 0.
///
/// ```swift
/// // customer "3" buys 2015-01-01, 2015-01-02 and 2015-01-05; observation ends 2015-02-07
/// let btyd = BTYDSummary(ledger: ledger, calendar: .utc, observationEnd: CivilDate(year: 2015, month: 2, day: 7)!)
/// btyd.rows[2]   // frequency 2, recency 4, age (T) 37
/// ```
///
/// Refund rows (amount < 0) are never purchases: they create no period and do not count in frequency, recency or
/// T. Under `.net` a refund is subtracted from the money of the period it falls in: in the first purchase period it
/// reduces ``Row/firstPeriodAmount``; in a later period it reduces ``Row/repeatAmount`` (even if that period has
/// no purchase); before the first purchase it is ignored. Under `.exclude` refunds are ignored.
public struct BTYDSummary: Sendable, Codable, Hashable {
    /// The time unit of recency and T.
    public enum Unit: String, Sendable, Codable, CaseIterable {
        /// Periods are local days (lifetimes `freq='D'`).
        case day
        /// Periods are weeks Monday...Sunday (lifetimes `freq='W'`, pandas' `W-SUN` periods); recency and T are
        /// whole weeks.
        case week
        /// Periods are local days (purchases merged per day), recency and T in days divided by 7: fractional
        /// weeks (lifetimes `freq='D', freq_multiplier=7`), the usual input of the models' papers.
        case weeksFromDays
    }

    /// One customer.
    public struct Row: Sendable, Codable, Hashable {
        public var customerID: String
        /// Distinct purchase periods - 1.
        public var frequency: Int
        /// Last purchase period - first purchase period, in ``BTYDSummary/unit``.
        public var recency: Double
        /// Observation-end period - first purchase period (lifetimes' `T`), in ``BTYDSummary/unit``.
        public var age: Double
        /// Mean per-period amount over the repeat periods, major units (`repeatAmount / frequency / 10^digits`);
        /// 0 when `frequency == 0`.
        public var monetaryValue: Double
        /// Exact money of the first purchase period, minor units.
        public var firstPeriodAmount: Int64
        /// Exact money of all later periods, minor units (the numerator of ``monetaryValue``).
        public var repeatAmount: Int64

        public init(
            customerID: String, frequency: Int, recency: Double, age: Double, monetaryValue: Double,
            firstPeriodAmount: Int64, repeatAmount: Int64
        ) {
            self.customerID = customerID
            self.frequency = frequency
            self.recency = recency
            self.age = age
            self.monetaryValue = monetaryValue
            self.firstPeriodAmount = firstPeriodAmount
            self.repeatAmount = repeatAmount
        }
    }

    public var unit: Unit
    /// The last observed day (inclusive; for `.week` its whole week is observed, as in lifetimes).
    public var observationEnd: CivilDate
    /// The IANA identifier of the calendar's time zone.
    public var timeZone: String
    public var refunds: RefundPolicy
    /// The currency of the amounts; `nil` for an empty ledger.
    public var currency: Currency?
    /// One row per customer whose first purchase is not after the observation end, sorted by customer id.
    public var rows: [Row]

    /// Summarises a ledger.
    ///
    ///     frequency = periods - 1;  recency = last - first;  T = end - first;  monetary = repeat sum / frequency
    ///
    /// ```swift
    /// let btyd = BTYDSummary(ledger: cdnow, calendar: .utc, observationEnd: CivilDate(year: 1997, month: 9, day: 30)!,
    ///                        unit: .weeksFromDays)
    /// btyd.rows.filter { $0.frequency == 0 }.count   // customers without a repeat purchase
    /// ```
    ///
    /// - Parameters:
    ///   - ledger: The orders.
    ///   - calendar: The time zone that maps instants to days and weeks.
    ///   - observationEnd: The last observed day. Orders in later periods are ignored; customers whose first
    ///     purchase is later are excluded.
    ///   - unit: `.day` (default), `.week` or `.weeksFromDays`.
    ///   - refunds: `.net` (default) or `.exclude`; see the type's discussion.
    /// - Returns: One row per customer with a purchase up to the observation end, sorted by customer id.
    /// - Complexity: O(*n* + *c* log *c*) expected, for *n* orders and *c* customers: two passes over the orders
    ///   (periods and first periods, then distinct periods and money; a third over the rows of customers whose
    ///   purchases arrive out of period order, hashing their pairs), then a sort of the customer ids.
    public init(
        ledger: OrderLedger, calendar: PeriodCalendar, observationEnd: CivilDate, unit: Unit = .day,
        refunds: RefundPolicy = .net
    ) {
        let periodUnit: PeriodUnit = unit == .week ? .week : .day
        let end = Period(unit: periodUnit, containing: observationEnd).index
        let activity = CustomerPeriodActivity(ledger: ledger, unit: periodUnit, calendar: calendar, limit: end)
        let first = activity.firstPurchase
        let customerCount = ledger.customerCount
        var periodCounts = [Int](repeating: 0, count: customerCount)
        var last = [Int64](repeating: .min, count: customerCount)
        var firstAmount = [Int64](repeating: 0, count: customerCount)
        var repeatAmount = [Int64](repeating: 0, count: customerCount)
        // Distinct purchase periods: while a customer's purchases arrive in non-decreasing period order (the
        // usual case: exports sorted by time), a new period is one above the last, with no hashing. A customer
        // seen out of order is marked and recounted exactly afterwards, through a hash set of its pairs.
        var outOfOrder = [Bool](repeating: false, count: customerCount)
        var anyOutOfOrder = false
        let customers = ledger.customerColumn
        let amounts = ledger.amountColumn
        for row in 0..<ledger.count where activity.included[row] {
            let customer = Int(customers[row])
            let period = activity.periods[row]
            let amount = amounts[row]
            guard period >= first[customer] else { continue }  // also skips customers without purchases
            if amount >= 0 {
                if period > last[customer] {
                    last[customer] = period
                    periodCounts[customer] += 1
                } else if period < last[customer] {
                    outOfOrder[customer] = true
                    anyOutOfOrder = true
                }
            } else if refunds == .exclude {
                continue
            }
            if period == first[customer] { firstAmount[customer] += amount } else { repeatAmount[customer] += amount }
        }
        if anyOutOfOrder {
            var seen = DistinctCustomerPeriods(base: first.min() ?? 0)
            for customer in 0..<customerCount where outOfOrder[customer] { periodCounts[customer] = 0 }
            for row in 0..<ledger.count where activity.included[row] && amounts[row] >= 0 {
                let customer = Int(customers[row])
                guard outOfOrder[customer], activity.periods[row] >= first[customer] else { continue }
                if seen.insert(customer: customers[row], period: activity.periods[row]) { periodCounts[customer] += 1 }
            }
        }
        let divisor: Double = unit == .weeksFromDays ? 7 : 1
        let perMajor = Double(ledger.currency?.minorUnitsPerMajor ?? 1)
        var rows: [Row] = []
        for customer in 0..<customerCount where first[customer] <= end {
            let frequency = periodCounts[customer] - 1
            rows.append(
                Row(
                    customerID: ledger.customerIDs[customer],
                    frequency: frequency,
                    recency: Double(last[customer] - first[customer]) / divisor,
                    age: Double(end - first[customer]) / divisor,
                    monetaryValue: frequency == 0 ? 0 : Double(repeatAmount[customer]) / Double(frequency) / perMajor,
                    firstPeriodAmount: firstAmount[customer],
                    repeatAmount: repeatAmount[customer]))
        }
        rows.sort { $0.customerID < $1.customerID }
        self.unit = unit
        self.observationEnd = observationEnd
        self.timeZone = calendar.identifier
        self.refunds = refunds
        self.currency = ledger.currency
        self.rows = rows
    }
}
