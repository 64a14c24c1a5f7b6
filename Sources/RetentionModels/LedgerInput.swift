import RetentionMetrics

/// The bridge from an ``OrderLedger`` to the models' inputs: day-level purchases, per-customer observations and a
/// calibration/holdout split, with days taken in an explicit time zone.
///
///     purchase day = calendar.localDay(order.timestamp)       (orders of one customer on one day merged)
///     amount       = exact sum of the day's minor units / minorUnitsPerMajor
///     durations    = days / unit.daysPerPeriod                (1 for days, 7 for weeks)
///
/// ```swift
/// let (ledger, _) = try CSVOrderReader.loadLedger(path: "Examples/Data/cdnow.csv")
/// let split = try LedgerInput.calibrationHoldout(
///     ledger, calendar: .utc, calibrationEnd: CivilDate(year: 1997, month: 9, day: 30)!,
///     observationEnd: CivilDate(year: 1998, month: 6, day: 30)!, unit: .week)
/// split.rows.count                                                // 2357
/// split.observations.filter { $0.frequency == 0 }.count           // 1411
/// ```
///
/// Refund rows (amount < 0) are never purchases. Under `.net` a refund is subtracted from the customer's purchase
/// on the same local day or, failing that, the latest earlier purchase day on the same side of the calibration end
/// (refunds with no such purchase are ignored); under `.exclude` refunds are ignored.
public enum LedgerInput {
    /// The models' time unit.
    public enum Unit: String, Sendable, Hashable, Codable, CaseIterable {
        /// Durations in days.
        case day
        /// Durations in days / 7: fractional weeks, as the BG/NBD and Pareto/NBD papers use.
        case week

        /// Days per time unit: 1 or 7.
        public var daysPerPeriod: Double { self == .day ? 1 : 7 }

        /// The matching unit of ``CLV``.
        public var clvTimeUnit: CLV.TimeUnit { self == .day ? .days : .weeks }
    }

    /// One purchase per customer and local day on or before `observationEnd`, customers in ledger order (first
    /// appearance), days ascending.
    ///
    ///     day = calendar.localDayNumber(timestamp);  amount = sum of the day's minor units / minorUnitsPerMajor
    ///
    /// ```swift
    /// let end = CivilDate(year: 1998, month: 6, day: 30)!
    /// let purchases = LedgerInput.purchases(ledger, calendar: .utc, observationEnd: end)
    /// ```
    ///
    /// - Parameters:
    ///   - ledger: The orders.
    ///   - calendar: The time zone of the day boundaries.
    ///   - observationEnd: The last day taken, inclusive; `nil` for all orders.
    ///   - calibrationEnd: Refunds are never carried across this day (the last calibration day); `nil` for none.
    ///   - refunds: `.net` (default) or `.exclude`; see the type's discussion.
    /// - Returns: The purchases, one per (customer, local day).
    /// - Complexity: O(*n* log *n*) for *n* orders (a sort by customer and instant).
    public static func purchases(
        _ ledger: OrderLedger, calendar: PeriodCalendar, observationEnd: CivilDate? = nil,
        calibrationEnd: CivilDate? = nil, refunds: RefundPolicy = .net
    ) -> [DatedPurchase<String>] {
        let limit = observationEnd?.daysSince1970 ?? .max
        let boundary = calibrationEnd?.daysSince1970 ?? .max
        let perMajor = Double(ledger.currency?.minorUnitsPerMajor ?? 1)
        let customers = ledger.customerColumn
        let amounts = ledger.amountColumn
        let days = ledger.timestampColumn.map { calendar.localDayNumber(of: $0) }
        let rows = (0..<ledger.count).filter { days[$0] <= limit }.sorted {
            (customers[$0], days[$0], amounts[$0] < 0 ? 1 : 0) < (customers[$1], days[$1], amounts[$1] < 0 ? 1 : 0)
        }
        var result: [DatedPurchase<String>] = []
        var dayTotals: [Int64] = []  // minor units of `result`'s entries
        var customerStart = 0  // first entry of the current customer in `result`
        var currentCustomer: Int32 = -1
        for row in rows {
            let customer = customers[row]
            let day = days[row]
            let amount = amounts[row]
            if customer != currentCustomer {
                currentCustomer = customer
                customerStart = result.count
            }
            let last = result.count > customerStart ? result.count - 1 : nil
            if amount >= 0 {
                if let last, result[last].day == day {
                    dayTotals[last] += amount
                } else {
                    result.append(DatedPurchase(customer: ledger.customerIDs[Int(customer)], day: day, amount: 0))
                    dayTotals.append(amount)
                }
            } else if refunds == .net, let last, (result[last].day <= boundary) == (day <= boundary) {
                dayTotals[last] += amount
            }
        }
        for index in result.indices { result[index].amount = Double(dayTotals[index]) / perMajor }
        return result
    }

    /// One observation per customer with a purchase on or before `observationEnd`, in ledger order.
    ///
    ///     x = purchase days - 1,  t_x = (last day - first day) / d,  T = (observationEnd - first day) / d
    ///     monetaryValue = mean of the repeat days' sums (major units), 0 when x = 0;  d = unit.daysPerPeriod
    ///
    /// ```swift
    /// let rows = LedgerInput.observations(ledger, calendar: .utc, observationEnd: end, unit: .week)
    /// rows[0].observation.T
    /// ```
    ///
    /// - Parameters:
    ///   - ledger: The orders.
    ///   - calendar: The time zone of the day boundaries.
    ///   - observationEnd: The last observed day, inclusive (lifetimes' `observation_period_end`).
    ///   - unit: `.day` or `.week` (days / 7).
    ///   - refunds: `.net` (default) or `.exclude`.
    /// - Returns: Customer ids with their observations.
    /// - Complexity: O(*n* log *n*) for *n* orders.
    public static func observations(
        _ ledger: OrderLedger, calendar: PeriodCalendar, observationEnd: CivilDate, unit: Unit,
        refunds: RefundPolicy = .net
    ) -> [CustomerObservation<String>] {
        BTYDObservation.summaries(
            of: purchases(ledger, calendar: calendar, observationEnd: observationEnd, refunds: refunds),
            observationEnd: observationEnd.daysSince1970, daysPerPeriod: unit.daysPerPeriod)
    }

    /// A calibration/holdout split of a ledger (lifetimes' `calibration_and_holdout_data`).
    ///
    ///     calibration: local days <= calibrationEnd;  holdout: calibrationEnd < day <= observationEnd
    ///
    /// ```swift
    /// let split = try LedgerInput.calibrationHoldout(
    ///     ledger, calendar: .utc, calibrationEnd: CivilDate(year: 1997, month: 9, day: 30)!,
    ///     observationEnd: CivilDate(year: 1998, month: 6, day: 30)!, unit: .week)
    /// split.holdoutDuration   // 39
    /// ```
    ///
    /// - Parameters:
    ///   - ledger: The orders.
    ///   - calendar: The time zone of the day boundaries.
    ///   - calibrationEnd: The last calibration day, inclusive.
    ///   - observationEnd: The last holdout day, inclusive.
    ///   - unit: `.day` or `.week` (days / 7).
    ///   - refunds: `.net` (default) or `.exclude`.
    /// - Returns: One row per customer with a purchase on or before `calibrationEnd`, in ledger order.
    /// - Throws: ``ModelError`` `.invalidPeriod` when `observationEnd` is before `calibrationEnd`.
    /// - Complexity: O(*n* log *n*) for *n* orders.
    public static func calibrationHoldout(
        _ ledger: OrderLedger, calendar: PeriodCalendar, calibrationEnd: CivilDate, observationEnd: CivilDate,
        unit: Unit, refunds: RefundPolicy = .net
    ) throws(ModelError) -> CalibrationHoldout<String> {
        try CalibrationHoldout(
            purchases: purchases(
                ledger, calendar: calendar, observationEnd: observationEnd, calibrationEnd: calibrationEnd,
                refunds: refunds),
            calibrationEnd: calibrationEnd.daysSince1970, observationEnd: observationEnd.daysSince1970,
            daysPerPeriod: unit.daysPerPeriod)
    }
}
