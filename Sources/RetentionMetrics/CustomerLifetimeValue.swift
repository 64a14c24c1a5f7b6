import Foundation

/// Customer lifetime value: annual customer value over the customer's expected lifespan, times the gross margin,
/// optionally discounted (seed 002's CLV = CV x t).
///
/// Without discounting (d = 0):
///
///     value = CV x m x L
///
/// With an annual discount rate d, year t's value (t = 1, 2, ...) is received at the end of year t and
/// discounted by (1 + d)^t; the fractional last year (L - n, n = floor(L)) is pro-rated and discounted as year
/// n + 1:
///
///     value = CV x m x [ Σ_{t=1..n} (1 + d)^-t  +  (L - n) x (1 + d)^-(n+1) ]
///           = CV x m x [ (1 - (1 + d)^-n) / d  +  (L - n) x (1 + d)^-(n+1) ]
///
/// CV = annual customer value (major units), m = gross margin (0...1), L = lifespan in years.
///
/// ```swift
/// try CustomerLifetimeValue(annualCustomerValue: 100, lifespanYears: 2.5, grossMargin: 0.5).value   // 125
/// try CustomerLifetimeValue(annualCustomerValue: 100, lifespanYears: 2.5, grossMargin: 0.5,
///                           annualDiscountRate: 0.1).value
/// // 50 x (1/1.1 + 1/1.1^2 + 0.5/1.1^3) = 140,500 / 1,331 = 105.5597...
/// ```
public struct CustomerLifetimeValue: Hashable, Sendable, Codable {
    /// CV: major units per customer per year.
    public let annualCustomerValue: Double
    /// L: expected lifespan in years.
    public let lifespanYears: Double
    /// m: gross margin, 0...1 (1 = revenue, not profit).
    public let grossMargin: Double
    /// d: annual discount rate (0 = no discounting).
    public let annualDiscountRate: Double
    /// The lifetime value, major units.
    public let value: Double

    /// The lifetime value of a customer with annual value CV over L years.
    ///
    ///     value = CV x m x [ (1 - (1 + d)^-n) / d + (L - n) x (1 + d)^-(n+1) ]    (CV x m x L when d = 0)
    ///
    /// ```swift
    /// try CustomerLifetimeValue(annualCustomerValue: 100, lifespanYears: 2.5, grossMargin: 0.5).value   // 125
    /// ```
    ///
    /// - Parameters:
    ///   - annualCustomerValue: CV in major units per year (``CustomerValue/annualValue``).
    ///   - lifespanYears: L >= 0, given (seed 002: usually 1 to 3) or from
    ///     ``estimatedLifespanYears(churnPerPeriod:period:)``.
    ///   - grossMargin: m in 0...1 (default 1).
    ///   - annualDiscountRate: d > -1 (default 0, no discounting).
    /// - Throws: ``MetricError/Code/parameterOutOfRange`` for a non-finite value, L < 0, m outside 0...1, or
    ///   d <= -1.
    /// - Complexity: O(1).
    public init(
        annualCustomerValue: Double, lifespanYears: Double, grossMargin: Double = 1, annualDiscountRate: Double = 0
    ) throws {
        guard annualCustomerValue.isFinite else {
            throw MetricError(.parameterOutOfRange, "annual customer value must be finite, got \(annualCustomerValue)")
        }
        guard lifespanYears.isFinite, lifespanYears >= 0 else {
            throw MetricError(.parameterOutOfRange, "lifespan must be finite and >= 0 years, got \(lifespanYears)")
        }
        guard (0...1).contains(grossMargin) else {
            throw MetricError(.parameterOutOfRange, "gross margin must be in 0...1, got \(grossMargin)")
        }
        guard annualDiscountRate.isFinite, annualDiscountRate > -1 else {
            throw MetricError(.parameterOutOfRange, "discount rate must be finite and > -1, got \(annualDiscountRate)")
        }
        self.annualCustomerValue = annualCustomerValue
        self.lifespanYears = lifespanYears
        self.grossMargin = grossMargin
        self.annualDiscountRate = annualDiscountRate
        let years: Double
        if annualDiscountRate == 0 {
            years = lifespanYears
        } else {
            let whole = lifespanYears.rounded(.down)
            let factor = 1 + annualDiscountRate
            years = (1 - pow(factor, -whole)) / annualDiscountRate
                + (lifespanYears - whole) * pow(factor, -(whole + 1))
        }
        value = annualCustomerValue * grossMargin * years
    }

    /// The expected lifespan in years implied by a churn rate measured per period.
    ///
    ///     lifespan = (1 / churn) periods = (1 / churn) x periodDays / 365.2425 years
    ///
    /// The mean of a geometric lifetime with a constant per-period churn. Use a churn in 0...1 such as
    /// ``ChurnRate/rate`` (lost / S); the complement of seed 001's rate can be negative.
    ///
    /// ```swift
    /// CustomerLifetimeValue.estimatedLifespanYears(churnPerPeriod: 0.25, period: q1)   // 4 x 91 days ≈ 0.9966 y
    /// ```
    ///
    /// - Parameters:
    ///   - churnPerPeriod: The churn rate of one period.
    ///   - period: A period of the length the churn was measured over (its elapsed seconds / 86,400 = days).
    /// - Returns: `nil` when the churn is `nil`, not positive or not finite, or the period is empty.
    /// - Complexity: O(1).
    public static func estimatedLifespanYears(churnPerPeriod: Double?, period: Range<Timestamp>) -> Double? {
        guard let churn = churnPerPeriod, churn.isFinite, churn > 0, !period.isEmpty else { return nil }
        let seconds = Double(period.upperBound.secondsSince1970) - Double(period.lowerBound.secondsSince1970)
        return seconds / 31_556_952 / churn
    }
}
