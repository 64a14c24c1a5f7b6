import Foundation

/// A model that predicts a customer's future purchases from (x, t_x, T): BG/NBD or Pareto/NBD.
public protocol BTYDTransactionModel: Sendable {
    /// Expected purchases in the next `t` time units for a customer with this history.
    func conditionalExpectedPurchases(in t: Double, for customer: BTYDObservation) -> Double?
    /// Probability that a customer with this history is still active at T.
    func probabilityAlive(_ customer: BTYDObservation) -> Double
}

/// The BG/NBD model (Fader, Hardie & Lee 2005): while active a customer buys as a Poisson process with rate
/// λ ~ Gamma(r, alpha); after each purchase they drop out with probability p ~ Beta(a, b).
///
///     L(r, alpha, a, b | x, t_x, T) = B(a, b + x) / B(a, b) * Γ(r + x) alpha^r / Γ(r)
///         * [ (alpha + T)^-(r+x) + 1{x > 0} a / (b + x - 1) (alpha + t_x)^-(r+x) ]
///         (the second term uses B(a + 1, b + x - 1) / B(a, b + x) = a / (b + x - 1))
///
/// ```swift
/// let fit = BGNBDModel.fit(try BTYDData(cdnow))   // r 0.243, alpha 4.414, a 0.793, b 2.426, LL -9582.43
/// let customer = BTYDObservation(frequency: 2, recency: 30.43, T: 38.86)
/// fit.model.conditionalExpectedPurchases(in: 39, for: customer)   // 1.226
/// ```
public struct BGNBDModel: Hashable, Sendable, Codable, BTYDTransactionModel {
    /// Shape of the purchase-rate gamma.
    public var r: Double
    /// Scale (rate parameter) of the purchase-rate gamma, in time units.
    public var alpha: Double
    /// First shape of the dropout-probability beta.
    public var a: Double
    /// Second shape of the dropout-probability beta.
    public var b: Double

    public init(r: Double, alpha: Double, a: Double, b: Double) {
        self.r = r
        self.alpha = alpha
        self.a = a
        self.b = b
    }

    /// The log-likelihood of one customer, constants included (the value the paper reports, summed).
    ///
    ///     log L = logΓ(r + x) - logΓ(r) + r log alpha + logB(a, b + x) - logB(a, b)
    ///         + logSumExp(-(r + x) log(alpha + T), log a - log(b + x - 1) - (r + x) log(alpha + t_x))
    ///
    /// ```swift
    /// BGNBDModel(r: 0.5, alpha: 5, a: 1, b: 2).logLikelihood(BTYDObservation(frequency: 0, recency: 0, T: 10))
    /// // 0.5 log(5 / 15) = -0.5493061443340549
    /// ```
    ///
    /// - Parameter customer: A valid observation.
    /// - Returns: The log-likelihood (`-infinity` if the parameters make it zero).
    /// - Complexity: O(1).
    public func logLikelihood(_ customer: BTYDObservation) -> Double {
        let x = customer.frequency
        let rate: Double = lgamma(r + x) - lgamma(r) + r * log(alpha)
        let dropout: Double = lgamma(a + b) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x)
        let common = rate + dropout
        let a3 = -(r + x) * log(alpha + customer.T)
        guard x > 0 else { return common + a3 }
        let a4 = log(a) - log(b + x - 1) - (r + x) * log(alpha + customer.recency)
        return common + SpecialFunctions.logSumExp(a3, a4)
    }

    /// The log-likelihood of grouped data (weights times group log-likelihoods).
    ///
    ///     LL = sum_g w_g log L(x_g, t_x,g, T_g)
    ///
    /// ```swift
    /// BGNBDModel(r: 0.2425945, alpha: 4.4136019, a: 0.7929199, b: 2.4258881).logLikelihood(cdnow) // -9582.429
    /// ```
    ///
    /// - Parameter data: Grouped observations.
    /// - Returns: The total log-likelihood, or `-infinity` if it is not finite.
    /// - Complexity: O(groups + distinct x + distinct T + distinct t_x).
    public func logLikelihood(_ data: BTYDData) -> Double {
        let logAlphaT = data.distinctT.map { log(alpha + $0) }
        let logAlphaTx = data.distinctRecency.map { log(alpha + $0) }
        let base = -lgamma(r) + r * log(alpha) + lgamma(a + b) - lgamma(b)
        let logA = log(a)
        let common = data.distinctX.map { x in base + lgamma(r + x) + lgamma(b + x) - lgamma(a + b + x) }
        let second = data.distinctX.map { x in x > 0 ? logA - log(b + x - 1) : -Double.infinity }
        var total = 0.0
        data.xIndex.withUnsafeBufferPointer { xi in
            data.tIndex.withUnsafeBufferPointer { ti in
                data.recencyIndex.withUnsafeBufferPointer { ri in
                    data.weight.withUnsafeBufferPointer { w in
                        data.frequency.withUnsafeBufferPointer { fx in
                            for g in 0..<w.count {
                                let j = Int(xi[g])
                                let rx = r + fx[g]
                                let a3 = -rx * logAlphaT[Int(ti[g])]
                                var ll = common[j] + a3
                                if fx[g] > 0 {
                                    let a4 = second[j] - rx * logAlphaTx[Int(ri[g])]
                                    let hi = max(a3, a4)
                                    ll = common[j] + hi + log1p(exp(min(a3, a4) - hi))
                                }
                                total += w[g] * ll
                            }
                        }
                    }
                }
            }
        }
        return total.isFinite ? total : -.infinity
    }

    /// Probability that the customer is still active at T.
    ///
    ///     P(alive | x, t_x, T) = 1 / (1 + 1{x > 0} a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))
    ///
    /// ```swift
    /// fit.model.probabilityAlive(BTYDObservation(frequency: 2, recency: 30.43, T: 38.86))   // 0.7266
    /// ```
    ///
    /// - Parameter customer: A valid observation.
    /// - Returns: A probability in (0, 1]; 1 for customers without repeat purchases.
    /// - Complexity: O(1).
    public func probabilityAlive(_ customer: BTYDObservation) -> Double {
        let x = customer.frequency
        guard x > 0 else { return 1 }
        let logOdds = log(a) - log(b + x - 1) + (r + x) * (log(alpha + customer.T) - log(alpha + customer.recency))
        return 1 / (1 + exp(logOdds))
    }

    /// Expected purchases in the next `t` time units, given the history (FHL 2005, eq. 10).
    ///
    ///     E[Y(t) | x, t_x, T] = (a + b + x - 1) / (a - 1)
    ///         * [1 - ((alpha + T) / (alpha + T + t))^(r + x) 2F1(r + x, b + x; a + b + x - 1; t / (alpha + T + t))]
    ///         / (1 + 1{x > 0} a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))
    ///
    /// ```swift
    /// BGNBDModel(r: 0.243, alpha: 4.414, a: 0.793, b: 2.426)
    ///     .conditionalExpectedPurchases(in: 39, for: BTYDObservation(frequency: 2, recency: 30.43, T: 38.86))
    /// // 1.226
    /// ```
    ///
    /// - Parameters:
    ///   - t: Horizon, >= 0, in the model's time unit.
    ///   - customer: A valid observation.
    /// - Returns: The expectation, or `nil` when 2F1 cannot be evaluated (horizon far beyond the data, a = 1).
    /// - Complexity: O(2F1 terms).
    public func conditionalExpectedPurchases(in t: Double, for customer: BTYDObservation) -> Double? {
        guard t > 0 else { return t == 0 ? 0 : nil }
        let x = customer.frequency
        let T = customer.T
        let c = a + b + x - 1
        let z = t / (alpha + T + t)
        guard let f = SpecialFunctions.logHypergeometric2F1(r + x, b + x, c, z) else { return nil }
        let logPower = (r + x) * (log(alpha + T) - log(alpha + T + t))
        // 1 - sign * exp(log|2F1| + logPower), without cancellation when the sign is +1.
        let bracket = f.sign > 0 ? -expm1(f.logMagnitude + logPower) : 1 + exp(f.logMagnitude + logPower)
        let value = (c / (a - 1)) * bracket * probabilityAlive(customer)
        return value.isFinite ? value : nil
    }

    /// Expected purchases of a new customer in (0, t] (FHL 2005, eq. 7).
    ///
    ///     E[X(t)] = (a + b - 1) / (a - 1) [1 - (alpha / (alpha + t))^r 2F1(r, b; a + b - 1; t / (alpha + t))]
    ///
    /// ```swift
    /// fit.model.expectedPurchases(in: 39)    // 1.195
    /// ```
    ///
    /// - Parameter t: Horizon, >= 0.
    /// - Returns: The expectation, or `nil` when 2F1 cannot be evaluated.
    /// - Complexity: O(2F1 terms).
    public func expectedPurchases(in t: Double) -> Double? {
        guard t > 0 else { return t == 0 ? 0 : nil }
        let c = a + b - 1
        guard let f = SpecialFunctions.logHypergeometric2F1(r, b, c, t / (alpha + t)) else { return nil }
        let log = f.logMagnitude + r * (Foundation.log(alpha) - Foundation.log(alpha + t))
        let bracket = f.sign > 0 ? -expm1(log) : 1 + exp(log)
        let value = c / (a - 1) * bracket
        return value.isFinite ? value : nil
    }

    /// Probability that a new customer makes exactly `n` purchases in (0, t] (FHL 2005, eq. 8).
    ///
    ///     P(X(t) = n) = B(a, b + n) / B(a, b) Γ(r + n) / (Γ(r) n!) (alpha / (alpha + t))^r (t / (alpha + t))^n
    ///         + 1{n > 0} B(a + 1, b + n - 1) / B(a, b)
    ///           [1 - (alpha / (alpha + t))^r sum_{j<n} Γ(r + j) / (Γ(r) j!) (t / (alpha + t))^j]
    ///
    /// ```swift
    /// BGNBDModel(r: 0.243, alpha: 4.414, a: 0.793, b: 2.426).probabilityOfPurchases(0, in: 39)   // 0.5737864
    /// ```
    ///
    /// - Parameters:
    ///   - n: Number of purchases, >= 0.
    ///   - t: Horizon, > 0.
    /// - Returns: The probability.
    /// - Complexity: O(*n*).
    public func probabilityOfPurchases(_ n: Int, in t: Double) -> Double {
        precondition(n >= 0, "n must be >= 0")
        let nn = Double(n)
        let logBab = SpecialFunctions.logBeta(a, b)
        let logP = log(alpha) - log(alpha + t)
        let logQ = log(t) - log(alpha + t)
        func logNB(_ j: Double) -> Double { lgamma(r + j) - lgamma(r) - lgamma(j + 1) + r * logP + j * logQ }
        var p = exp(SpecialFunctions.logBeta(a, b + nn) - logBab + logNB(nn))
        if n > 0 {
            var cdf = 0.0
            for j in 0..<n { cdf += exp(logNB(Double(j))) }
            p += exp(SpecialFunctions.logBeta(a + 1, b + nn - 1) - logBab) * max(0, 1 - cdf)
        }
        return p
    }

    /// Fits the model by maximum likelihood (Nelder-Mead then BFGS on log-parameters).
    ///
    ///     (r, alpha, a, b) = argmax sum_g w_g log L(r, alpha, a, b | x_g, t_x,g, T_g)
    ///
    /// ```swift
    /// let fit = BGNBDModel.fit(try BTYDData(observations))
    /// fit.model.r                      // 0.2426 on CDNOW (weeks)
    /// fit.diagnostics.logLikelihood    // -9582.43
    /// fit.diagnostics.converged        // true
    /// ```
    ///
    /// - Parameters:
    ///   - data: Grouped observations.
    ///   - options: Optimizer settings.
    /// - Returns: The estimate, standard errors (from the numerical Hessian; `nil` if it is not positive definite)
    ///   and diagnostics. A fit that did not converge says so in `diagnostics.converged`.
    /// - Complexity: O(evaluations x groups); about 1,000 evaluations.
    public static func fit(_ data: BTYDData, options: OptimizerOptions = OptimizerOptions()) -> BGNBDFit {
        let meanT = zip(data.T, data.weight).reduce(0) { $0 + $1.0 * $1.1 } / Double(data.customerCount)
        let fit = fitPositive(
            start: [1, max(meanT, 1e-3), 1, 1], customers: data.customerCount, groups: data.groupCount,
            options: options
        ) { p in
            BGNBDModel(r: p[0], alpha: p[1], a: p[2], b: p[3]).logLikelihood(data)
        }
        let p = fit.parameters
        return BGNBDFit(
            model: BGNBDModel(r: p[0], alpha: p[1], a: p[2], b: p[3]),
            standardErrors: fit.standardErrors.map { BGNBDModel(r: $0[0], alpha: $0[1], a: $0[2], b: $0[3]) },
            diagnostics: fit.diagnostics)
    }
}

/// A fitted BG/NBD model.
public struct BGNBDFit: Hashable, Sendable, Codable {
    /// The maximum likelihood estimate.
    public var model: BGNBDModel
    /// Standard errors of each parameter (same field names), `nil` when the Hessian is not positive definite.
    public var standardErrors: BGNBDModel?
    /// Log-likelihood, convergence and counts.
    public var diagnostics: FitDiagnostics
}
