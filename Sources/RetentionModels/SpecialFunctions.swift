import Foundation

/// Log-space special functions for the "buy till you die" likelihoods.
///
/// Every function here works with logarithms so that likelihoods of thousands of customers never overflow or
/// underflow. Tolerances: ``logGamma(_:)`` is the C library's `lgamma` (glibc on Linux, within a few ulps for
/// positive arguments); ``hypergeometric2F1(_:_:_:_:)`` sums its series until the bound on the remaining tail is
/// below `2^-53` times the partial sum, so its relative error is a small multiple of `Double.ulpOfOne` times the
/// number of terms; the tests check it against `scipy.special.hyp2f1` to 1e-12 relative.
public enum SpecialFunctions {
    /// The logarithm of the absolute value of the gamma function.
    ///
    ///     logGamma(x) = log |Γ(x)|
    ///
    /// ```swift
    /// SpecialFunctions.logGamma(5)    // log 24 = 3.1780538303479458
    /// ```
    ///
    /// - Parameter x: Any real number; poles (0, -1, -2, ...) give `+infinity`.
    /// - Returns: `log |Γ(x)|`.
    /// - Complexity: O(1).
    @inlinable
    public static func logGamma(_ x: Double) -> Double { lgamma(x) }

    /// The logarithm of the beta function.
    ///
    ///     logBeta(a, b) = logΓ(a) + logΓ(b) - logΓ(a + b)
    ///
    /// ```swift
    /// SpecialFunctions.logBeta(2, 3)  // log(1/12)
    /// ```
    ///
    /// - Parameters:
    ///   - a: First argument, > 0.
    ///   - b: Second argument, > 0.
    /// - Returns: `log B(a, b)`.
    /// - Complexity: O(1).
    @inlinable
    public static func logBeta(_ a: Double, _ b: Double) -> Double { lgamma(a) + lgamma(b) - lgamma(a + b) }

    /// `log(exp(x) + exp(y))` without overflow.
    ///
    ///     logSumExp(x, y) = max + log1p(exp(min - max))
    ///
    /// ```swift
    /// SpecialFunctions.logSumExp(1000, 1000)   // 1000 + log 2
    /// ```
    ///
    /// - Parameters:
    ///   - x: A log value, possibly `-infinity`.
    ///   - y: A log value, possibly `-infinity`.
    /// - Returns: The log of the sum; `-infinity` when both are `-infinity`.
    /// - Complexity: O(1).
    @inlinable
    public static func logSumExp(_ x: Double, _ y: Double) -> Double {
        let hi = Swift.max(x, y)
        let lo = Swift.min(x, y)
        if hi == -.infinity { return -.infinity }
        return hi + log1p(exp(lo - hi))
    }

    /// `log(sum of exp(v))` over a collection, without overflow.
    ///
    ///     logSumExp(v) = m + log(sum exp(v_i - m)),  m = max v_i
    ///
    /// ```swift
    /// SpecialFunctions.logSumExp([0, 0, 0, 0])   // log 4
    /// ```
    ///
    /// - Parameter values: Log values; empty gives `-infinity`.
    /// - Returns: The log of the sum of the exponentials.
    /// - Complexity: O(*n*).
    public static func logSumExp(_ values: some Collection<Double>) -> Double {
        guard let m = values.max(), m != -.infinity else { return -.infinity }
        if m == .infinity { return .infinity }
        var sum = 0.0
        for v in values { sum += exp(v - m) }
        return m + log(sum)
    }

    /// `log(exp(x) - exp(y))` for `x >= y`.
    ///
    ///     logDiffExp(x, y) = x + log(-expm1(y - x))
    ///
    /// ```swift
    /// SpecialFunctions.logDiffExp(log(3), 0)   // log 2
    /// ```
    ///
    /// - Parameters:
    ///   - x: The larger log value.
    ///   - y: The smaller log value.
    /// - Returns: The log of the difference; `-infinity` when `x == y`, `nil` when `x < y`.
    /// - Complexity: O(1).
    @inlinable
    public static func logDiffExp(_ x: Double, _ y: Double) -> Double? {
        if y == -.infinity { return x }
        if x < y { return nil }
        if x == y { return -.infinity }
        return x + log(-expm1(y - x))
    }

    /// The Gauss hypergeometric function 2F1(a, b; c; z) for 0 <= z < 1, as a signed logarithm.
    ///
    ///     2F1(a, b; c; z) = sum_k (a)_k (b)_k / ((c)_k k!) z^k
    ///     Euler: 2F1(a, b; c; z) = (1 - z)^(c - a - b) 2F1(c - a, c - b; c; z)
    ///
    /// The series is summed with a running power-of-two scale (so partial sums may pass
    /// `Double.greatestFiniteMagnitude`), in the direct form when `a + b <= c` and in Euler's transformed form
    /// otherwise: the form whose terms decay like `k^(smaller exponent) z^k`. The BTYD formulas put their arguments
    /// in [0, 1) before calling (Pareto/NBD uses `|alpha - beta| / (max(alpha, beta) + t)`), the approach of
    /// lifetimes, BTYD and CLVTools.
    ///
    /// ```swift
    /// let v = SpecialFunctions.logHypergeometric2F1(1, 1, 2, 0.5)!   // 2F1 = -log(1 - z)/z = 2 log 2
    /// v.sign * exp(v.logMagnitude)                                    // 1.3862943611198906
    /// ```
    ///
    /// - Parameters:
    ///   - a: First numerator parameter.
    ///   - b: Second numerator parameter.
    ///   - c: Denominator parameter, not 0, -1, -2, ...
    ///   - z: The argument, 0 <= z < 1.
    ///   - maxTerms: Give up after this many terms (default one million).
    /// - Returns: `(log |2F1|, sign)`, or `nil` when z is outside [0, 1), c is a pole, or the series did not
    ///   converge within `maxTerms`.
    /// - Complexity: O(number of terms), about `log(eps) / log z` for moderate parameters (35 at z = 0.35,
    ///   40,000 at z = 0.999).
    public static func logHypergeometric2F1(
        _ a: Double, _ b: Double, _ c: Double, _ z: Double, maxTerms: Int = 1_000_000
    ) -> (logMagnitude: Double, sign: Double)? {
        guard a.isFinite, b.isFinite, c.isFinite, z >= 0, z < 1 else { return nil }
        if z == 0 || a == 0 || b == 0 { return (0, 1) }
        if c - a - b < 0 {
            guard let s = series(c - a, c - b, c, z, maxTerms: maxTerms) else { return nil }
            return (s.logMagnitude + (c - a - b) * log1p(-z), s.sign)
        }
        return series(a, b, c, z, maxTerms: maxTerms)
    }

    /// The Gauss hypergeometric function 2F1(a, b; c; z) for 0 <= z < 1.
    ///
    ///     2F1(a, b; c; z) = sum_k (a)_k (b)_k / ((c)_k k!) z^k
    ///
    /// ```swift
    /// SpecialFunctions.hypergeometric2F1(1, 1, 2, 0.5)   // 1.3862943611198906
    /// ```
    ///
    /// - Parameters:
    ///   - a: First numerator parameter.
    ///   - b: Second numerator parameter.
    ///   - c: Denominator parameter, not 0, -1, -2, ...
    ///   - z: The argument, 0 <= z < 1.
    /// - Returns: The value, or `nil` when it is not finite or could not be computed (see
    ///   ``logHypergeometric2F1(_:_:_:_:maxTerms:)``).
    /// - Complexity: As ``logHypergeometric2F1(_:_:_:_:maxTerms:)``.
    public static func hypergeometric2F1(_ a: Double, _ b: Double, _ c: Double, _ z: Double) -> Double? {
        guard let v = logHypergeometric2F1(a, b, c, z) else { return nil }
        let value = v.sign * exp(v.logMagnitude)
        return value.isFinite ? value : nil
    }

    /// Sums the series with a running power-of-two scale.
    private static func series(
        _ a: Double, _ b: Double, _ c: Double, _ z: Double, maxTerms: Int
    ) -> (logMagnitude: Double, sign: Double)? {
        var term = 1.0
        var sum = 1.0
        var logScale = 0.0
        let big = 0x1p500
        let eps = 0x1p-53
        for k in 0..<maxTerms {
            let kk = Double(k)
            let ck = c + kk
            if ck == 0 { return nil }
            let ratio = (a + kk) * (b + kk) / (ck * (kk + 1)) * z
            term *= ratio
            if term == 0 { return finish(sum, logScale) }
            sum += term
            if Swift.abs(sum) > big || Swift.abs(term) > big {
                sum /= big
                term /= big
                logScale += 500 * M_LN2
            }
            // Once the terms shrink geometrically the tail is at most |term| r / (1 - r), r = max(|ratio|, z).
            let r = Swift.max(Swift.abs(ratio), z)
            if r < 1, kk + 1 > -c, Swift.abs(term) * r <= eps * (1 - r) * Swift.abs(sum) {
                return finish(sum, logScale)
            }
        }
        return nil
    }

    private static func finish(_ sum: Double, _ logScale: Double) -> (logMagnitude: Double, sign: Double)? {
        guard sum.isFinite else { return nil }
        if sum == 0 { return (-.infinity, 1) }
        return (log(Swift.abs(sum)) + logScale, sum < 0 ? -1 : 1)
    }
}
