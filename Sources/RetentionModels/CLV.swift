import Foundation

/// Predictive customer lifetime value: lifetimes' `customer_lifetime_value`, discrete monthly form.
public enum CLV {
    /// The time unit of the transaction model's durations, and how many of them make a month (lifetimes' `freq`).
    public enum TimeUnit: String, Hashable, Sendable, Codable, CaseIterable {
        /// `freq="D"`: 30 days per month.
        case days
        /// `freq="W"`: 4.345 weeks per month (lifetimes' constant, about 365.25 / 12 / 7 = 4.348).
        case weeks
        /// `freq="M"`: 1.
        case months
        /// `freq="H"`: 720 hours per month.
        case hours

        /// Time units per month, exactly as lifetimes 0.11.3 `utils._customer_lifetime_value`.
        public var perMonth: Double {
            switch self {
            case .days: 30
            case .weeks: 4.345
            case .months: 1
            case .hours: 720
            }
        }
    }

    /// Discounted expected value of a customer's purchases over the next `months` months.
    ///
    ///     CLV = sum_{i=1..H} E[M | x, m] (E[Y(i f) | x, t_x, T] - E[Y((i - 1) f) | x, t_x, T]) / (1 + d)^i
    ///     f = time units per month (TimeUnit.perMonth), d = monthly discount rate
    ///
    /// This reproduces lifetimes 0.11.3 `GammaGammaFitter.customer_lifetime_value(model, x, t_x, T, m, time=H,
    /// discount_rate=d, freq=...)`, including its 4.345 weeks per month.
    ///
    /// ```swift
    /// let clv = CLV.customerLifetimeValue(
    ///     transactions: bgnbd, spend: gammaGamma,
    ///     customer: BTYDObservation(frequency: 2, recency: 30.43, T: 38.86, monetaryValue: 30),
    ///     months: 12, monthlyDiscountRate: 0.01, timeUnit: .weeks)   // 45.506 with lifetimes' CDNOW fits
    /// ```
    ///
    /// - Parameters:
    ///   - transactions: BG/NBD or Pareto/NBD, fitted in `timeUnit`.
    ///   - spend: A Gamma-Gamma model.
    ///   - customer: The customer's history (monetaryValue = mean repeat spend).
    ///   - months: Horizon H in months, >= 0 (lifetimes' `time`, default 12).
    ///   - monthlyDiscountRate: d > -1 (lifetimes' default 0.01).
    ///   - timeUnit: The models' time unit.
    /// - Returns: The value in the currency of `monetaryValue`, or `nil` when a prediction is undefined (q <= 1,
    ///   2F1 not computable).
    /// - Complexity: O(H x cost of one conditional expectation).
    public static func customerLifetimeValue(
        transactions: some BTYDTransactionModel, spend: GammaGammaModel, customer: BTYDObservation,
        months: Int = 12, monthlyDiscountRate: Double = 0.01, timeUnit: TimeUnit
    ) -> Double? {
        precondition(months >= 0, "months must be >= 0")
        precondition(monthlyDiscountRate > -1, "monthlyDiscountRate must be > -1")
        guard let value = spend.conditionalExpectedAverageValue(
            frequency: customer.frequency, monetaryValue: customer.monetaryValue)
        else { return nil }
        let f = timeUnit.perMonth
        var total = 0.0
        var previous = 0.0
        for i in stride(from: 1, through: months, by: 1) {
            guard let cumulative = transactions.conditionalExpectedPurchases(in: Double(i) * f, for: customer) else {
                return nil
            }
            total += value * (cumulative - previous) / pow(1 + monthlyDiscountRate, Double(i))
            previous = cumulative
        }
        return total
    }
}
