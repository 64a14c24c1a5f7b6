import Foundation

/// A calibration/holdout split of day-level purchases, in lifetimes' `calibration_and_holdout_data` convention.
///
///     calibration: purchases with day <= calibrationEnd -> BTYDObservation (x, t_x, T = calEnd - first day)
///     holdout:     distinct purchase days with calibrationEnd < day <= observationEnd
///     duration:    (observationEnd - calibrationEnd) / daysPerPeriod
///
/// Purchases on the same day are merged (one purchase, amounts summed), in both periods. Customers whose first
/// purchase is after `calibrationEnd` are not in the split (the models condition on a calibration history).
///
/// ```swift
/// // CDNOW: calibration to 1997-09-30, holdout to 1998-06-30, weeks
/// let split = try CalibrationHoldout(
///     purchases: purchases, calibrationEnd: day(1997, 9, 30), observationEnd: day(1998, 6, 30), daysPerPeriod: 7)
/// split.rows.count                    // 2357
/// split.holdoutDuration               // 39
/// split.compare(with: bgnbd).totalActual   // 1882
/// ```
public struct CalibrationHoldout<Customer: Hashable & Sendable>: Sendable {
    /// One customer's calibration summary and holdout purchases.
    public struct Row: Hashable, Sendable {
        public var customer: Customer
        /// The calibration-period observation (durations in periods).
        public var calibration: BTYDObservation
        /// Distinct purchase days in the holdout (lifetimes' `frequency_holdout`).
        public var holdoutFrequency: Int
        /// Mean of the holdout days' summed amounts, 0 without holdout purchases (`monetary_value_holdout`).
        public var holdoutMonetaryValue: Double
        /// The holdout purchase days as offsets after `calibrationEnd` (1 = the day after), ascending.
        public var holdoutDayOffsets: [Int64]
    }

    /// One row per customer with a purchase on or before `calibrationEnd`, in order of first appearance.
    public let rows: [Row]
    /// Last calibration day (inclusive).
    public let calibrationEnd: Int64
    /// Last observed day (inclusive).
    public let observationEnd: Int64
    /// Days per time unit (7 for weeks).
    public let daysPerPeriod: Double

    /// The holdout length in periods (lifetimes' `duration_holdout`).
    public var holdoutDuration: Double { Double(observationEnd - calibrationEnd) / daysPerPeriod }

    /// The calibration observations, row order.
    public var observations: [BTYDObservation] { rows.map(\.calibration) }

    /// Builds the split.
    ///
    /// - Parameters:
    ///   - purchases: (customer, local day number, amount) triples, any order.
    ///   - calibrationEnd: Last calibration day, inclusive.
    ///   - observationEnd: Last holdout day, inclusive.
    ///   - daysPerPeriod: Days per time unit (> 0).
    /// - Throws: ``ModelError`` `.invalidPeriod` when `observationEnd < calibrationEnd`.
    /// - Complexity: O(*n* log *n*) in the number of purchases.
    public init(
        purchases: some Sequence<DatedPurchase<Customer>>, calibrationEnd: Int64, observationEnd: Int64,
        daysPerPeriod: Double = 1
    ) throws(ModelError) {
        precondition(daysPerPeriod > 0, "daysPerPeriod must be > 0")
        guard observationEnd >= calibrationEnd else {
            throw ModelError(
                .invalidPeriod, index: nil,
                "observation end (day \(observationEnd)) is before calibration end (day \(calibrationEnd))")
        }
        self.calibrationEnd = calibrationEnd
        self.observationEnd = observationEnd
        self.daysPerPeriod = daysPerPeriod
        var result: [Row] = []
        for entry in PurchaseDays(purchases, through: observationEnd).customers {
            let firstHoldout = entry.days.firstIndex(where: { $0 > calibrationEnd }) ?? entry.days.count
            guard firstHoldout > 0 else { continue }
            let calibration = PurchaseDays<Customer>.Entry(
                customer: entry.customer, days: Array(entry.days[..<firstHoldout]),
                amounts: Array(entry.amounts[..<firstHoldout]))
            let holdoutAmounts = entry.amounts[firstHoldout...]
            let holdoutCount = holdoutAmounts.count
            result.append(
                Row(
                    customer: entry.customer,
                    calibration: calibration.observation(end: calibrationEnd, daysPerPeriod: daysPerPeriod),
                    holdoutFrequency: holdoutCount,
                    holdoutMonetaryValue: holdoutCount > 0 ? holdoutAmounts.reduce(0, +) / Double(holdoutCount) : 0,
                    holdoutDayOffsets: entry.days[firstHoldout...].map { $0 - calibrationEnd }))
        }
        rows = result
    }

    /// Predicted versus actual holdout purchases, per customer and cumulatively per period.
    ///
    ///     predicted_i = E[Y(duration) | x_i, t_x,i, T_i],  actual_i = holdout purchase days
    ///     cumulative(k) = sum_i E[Y(min(k, duration)) | ...]  vs  holdout purchase days up to k periods
    ///
    /// ```swift
    /// let comparison = split.compare(with: bgnbd)
    /// comparison.totalActual       // 1882 on CDNOW
    /// comparison.totalPredicted    // 1653.4 (BG/NBD)
    /// ```
    ///
    /// - Parameter model: A fitted transaction model in the split's time unit.
    /// - Returns: The comparison; customers whose prediction is undefined are counted in
    ///   ``HoldoutComparison/customersWithoutPrediction`` and left out of the predicted totals.
    /// - Complexity: O(customers x periods x cost of a prediction).
    public func compare(with model: some BTYDTransactionModel) -> HoldoutComparison {
        let totalDays = observationEnd - calibrationEnd
        let periods = Int((Double(totalDays) / daysPerPeriod).rounded(.up))
        var customers: [HoldoutComparison.CustomerPoint] = []
        var predictedCumulative = [Double](repeating: 0, count: periods)
        var actualCumulative = [Int](repeating: 0, count: periods)
        var missing = 0
        for row in rows {
            var predictions: [Double] = []
            predictions.reserveCapacity(periods)
            for k in 0..<periods {
                let horizon = min(Double(k + 1) * daysPerPeriod, Double(totalDays)) / daysPerPeriod
                guard let p = model.conditionalExpectedPurchases(in: horizon, for: row.calibration) else { break }
                predictions.append(p)
            }
            for offset in row.holdoutDayOffsets {
                let k = Int((Double(offset) / daysPerPeriod).rounded(.up)) - 1
                actualCumulative[max(0, k)] += 1
            }
            guard predictions.count == periods else {
                missing += 1
                customers.append(.init(predicted: nil, actual: row.holdoutFrequency))
                continue
            }
            for k in 0..<periods { predictedCumulative[k] += predictions[k] }
            customers.append(.init(predicted: predictions.last ?? 0, actual: row.holdoutFrequency))
        }
        var running = 0
        var points: [HoldoutComparison.PeriodPoint] = []
        for k in 0..<periods {
            running += actualCumulative[k]
            points.append(.init(period: k + 1, predictedCumulative: predictedCumulative[k], actualCumulative: running))
        }
        return HoldoutComparison(
            customers: customers, periods: points, totalPredicted: predictedCumulative.last ?? 0,
            totalActual: rows.reduce(0) { $0 + $1.holdoutFrequency }, customersWithoutPrediction: missing)
    }
}

extension CalibrationHoldout.Row: Codable where Customer: Codable {}

/// Predicted versus actual holdout purchases (see ``CalibrationHoldout/compare(with:)``).
public struct HoldoutComparison: Hashable, Sendable, Codable {
    /// One customer, in the split's row order.
    public struct CustomerPoint: Hashable, Sendable, Codable {
        /// Expected holdout purchases; `nil` when the model could not predict.
        public var predicted: Double?
        /// Holdout purchase days.
        public var actual: Int
    }

    /// Cumulative totals after `period` holdout periods (the last may be partial).
    public struct PeriodPoint: Hashable, Sendable, Codable {
        public var period: Int
        public var predictedCumulative: Double
        public var actualCumulative: Int
    }

    public var customers: [CustomerPoint]
    public var periods: [PeriodPoint]
    /// Sum of the per-customer predictions over the whole holdout.
    public var totalPredicted: Double
    /// Sum of the holdout purchase days.
    public var totalActual: Int
    /// Customers whose prediction was undefined (left out of the predicted figures).
    public var customersWithoutPrediction: Int
}
