import Foundation

/// An A/B comparison of two groups' retention (seed 001: weekly versus bi-weekly emails to two halves of the
/// audience): the difference, the relative lift, a 95% confidence interval and a two-proportion z-test.
///
///     p_A = retained_A / total_A       p_B = retained_B / total_B
///     difference   = p_B - p_A
///     relativeLift = difference / p_A
///     95% CI       = difference ± 1.959963984540054 x sqrt(p_A(1 - p_A)/n_A + p_B(1 - p_B)/n_B)   (unpooled Wald)
///     z            = difference / sqrt(p(1 - p)(1/n_A + 1/n_B)),  p = (retained_A + retained_B) / (n_A + n_B)
///     pValue       = erfc(|z| / √2)                                  (two-sided, pooled)
///
/// The interval and the test match statsmodels' `confint_proportions_2indep(method="wald")` and
/// `proportions_ztest` (pooled), and R's `prop.test(correct = FALSE)` for the p-value.
///
/// ```swift
/// let test = try RetentionComparison(a: (retained: 450, total: 1_000), b: (retained: 500, total: 1_000))
/// test.difference          // 0.05
/// test.relativeLift        // 0.111...
/// test.pValue              // 0.0252...
/// ```
public struct RetentionComparison: Hashable, Sendable, Codable {
    /// One group's counts and rate.
    public struct Group: Hashable, Sendable, Codable {
        /// Customers of the group who were retained.
        public let retained: Int
        /// Customers in the group (> 0).
        public let total: Int
        /// retained / total.
        public let rate: Double
    }

    /// Group A (the control).
    public let a: Group
    /// Group B (the variant).
    public let b: Group
    /// p_B - p_A.
    public let difference: Double
    /// (p_B - p_A) / p_A; `nil` when p_A = 0.
    public let relativeLift: Double?
    /// The 95% unpooled Wald interval of the difference (a single point when both rates are 0 or 1).
    public let confidenceInterval: ClosedRange<Double>
    /// The pooled two-proportion z statistic; `nil` when the pooled variance is 0 (both groups all retained or
    /// none retained).
    public let zStatistic: Double?
    /// The two-sided p-value of the pooled z-test; `nil` when ``zStatistic`` is.
    public let pValue: Double?

    /// The standard normal 97.5% quantile.
    static let z975 = 1.959963984540054

    /// Compares two groups' retention.
    ///
    ///     difference = p_B - p_A, CI = difference ± z_0.975 x SE_unpooled, pValue = erfc(|z_pooled| / √2)
    ///
    /// ```swift
    /// try RetentionComparison(a: (retained: 450, total: 1_000), b: (retained: 500, total: 1_000)).pValue
    /// ```
    ///
    /// - Parameters:
    ///   - a: Group A's retained and total customers.
    ///   - b: Group B's retained and total customers.
    /// - Throws: ``MetricError/Code/negativeCount``, ``MetricError/Code/partExceedsWhole`` when retained > total,
    ///   ``MetricError/Code/emptyGroup`` when a group has no customers.
    /// - Complexity: O(1).
    public init(a: (retained: Int, total: Int), b: (retained: Int, total: Int)) throws {
        self.a = try Group(a, name: "A")
        self.b = try Group(b, name: "B")
        let (pA, pB) = (self.a.rate, self.b.rate)
        let (nA, nB) = (Double(a.total), Double(b.total))
        difference = pB - pA
        relativeLift = pA == 0 ? nil : difference / pA
        let standardError = (pA * (1 - pA) / nA + pB * (1 - pB) / nB).squareRoot()
        confidenceInterval = (difference - Self.z975 * standardError)...(difference + Self.z975 * standardError)
        let pooled = Double(a.retained + b.retained) / (nA + nB)
        let pooledVariance = pooled * (1 - pooled) * (1 / nA + 1 / nB)
        if pooledVariance > 0 {
            let z = difference / pooledVariance.squareRoot()
            zStatistic = z
            pValue = erfc(abs(z) / 2.0.squareRoot())
        } else {
            zStatistic = nil
            pValue = nil
        }
    }

    /// Compares the returning rates of two groups (``ReturningRate``: returned of existing).
    ///
    /// ```swift
    /// try RetentionComparison(a: weeklyEmails, b: biweeklyEmails).difference
    /// ```
    ///
    /// - Parameters:
    ///   - a: Group A's returning rate.
    ///   - b: Group B's returning rate.
    /// - Throws: ``MetricError/Code/emptyGroup`` when a group has no existing customers.
    /// - Complexity: O(1).
    public init(a: ReturningRate, b: ReturningRate) throws {
        try self.init(a: (a.returned, a.existing), b: (b.returned, b.existing))
    }
}

extension RetentionComparison.Group {
    init(_ counts: (retained: Int, total: Int), name: String) throws {
        try MetricError.requireNonNegative([
            "group \(name) retained": counts.retained, "group \(name) total": counts.total,
        ])
        guard counts.total > 0 else { throw MetricError(.emptyGroup, "group \(name) has no customers") }
        guard counts.retained <= counts.total else {
            throw MetricError(
                .partExceedsWhole,
                "group \(name): retained (\(counts.retained)) exceed total (\(counts.total))")
        }
        self.init(retained: counts.retained, total: counts.total, rate: Double(counts.retained) / Double(counts.total))
    }
}
