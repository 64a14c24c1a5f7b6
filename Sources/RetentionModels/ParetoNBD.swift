import Foundation

/// The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987): while active a customer buys as a Poisson process
/// with rate λ ~ Gamma(r, alpha); their lifetime is exponential with rate μ ~ Gamma(s, beta), independent of λ.
///
///     L = Γ(r + x) alpha^r beta^s / Γ(r) * [ (alpha + T)^-(r+x) (beta + T)^-s + s / (r + s + x) A0 ]
///     A0 = 2F1(r+s+x, t; r+s+x+1; |alpha-beta| / (m + t_x)) / (m + t_x)^(r+s+x)
///        - 2F1(r+s+x, t; r+s+x+1; |alpha-beta| / (m + T)) / (m + T)^(r+s+x)
///     m = max(alpha, beta); t = r + x when alpha < beta, else s + 1
///
/// ```swift
/// let fit = ParetoNBDModel.fit(try BTYDData(cdnow))   // r 0.553, alpha 10.578, s 0.606, beta 11.669, LL -9595.0
/// ```
public struct ParetoNBDModel: Hashable, Sendable, Codable, BTYDTransactionModel {
    /// Shape of the purchase-rate gamma.
    public var r: Double
    /// Rate parameter of the purchase-rate gamma, in time units.
    public var alpha: Double
    /// Shape of the dropout-rate gamma.
    public var s: Double
    /// Rate parameter of the dropout-rate gamma, in time units.
    public var beta: Double

    public init(r: Double, alpha: Double, s: Double, beta: Double) {
        self.r = r
        self.alpha = alpha
        self.s = s
        self.beta = beta
    }

    /// log A0 (see the type's formula), `nil` when a 2F1 cannot be evaluated.
    func logA0(x: Double, recency: Double, T: Double) -> Double? {
        let (low, high, t) = alpha < beta ? (alpha, beta, r + x) : (beta, alpha, s + 1)
        let gap = high - low
        let rsx = r + s + x
        guard let f1 = SpecialFunctions.logHypergeometric2F1(rsx, t, rsx + 1, gap / (high + recency)),
            let f2 = SpecialFunctions.logHypergeometric2F1(rsx, t, rsx + 1, gap / (high + T))
        else { return nil }
        let first = f1.logMagnitude - rsx * log(high + recency)
        let second = f2.logMagnitude - rsx * log(high + T)
        if first <= second { return -.infinity }  // t_x = T (or rounding): A0 = 0
        return SpecialFunctions.logDiffExp(first, second)
    }

    /// The log-likelihood of one customer, constants included.
    ///
    ///     log L = logΓ(r + x) - logΓ(r) + r log alpha + s log beta
    ///         + logSumExp(-(r + x) log(alpha + T) - s log(beta + T), log s - log(r + s + x) + log A0)
    ///
    /// ```swift
    /// ParetoNBDModel(r: 0.5, alpha: 8, s: 0.5, beta: 10)
    ///     .logLikelihood(BTYDObservation(frequency: 2, recency: 30.43, T: 38.86))   // -9.537703474929742
    /// ```
    ///
    /// - Parameter customer: A valid observation.
    /// - Returns: The log-likelihood, or `-infinity` when it cannot be evaluated.
    /// - Complexity: O(2F1 terms).
    public func logLikelihood(_ customer: BTYDObservation) -> Double {
        logLikelihood(x: customer.frequency, recency: customer.recency, T: customer.T)
    }

    func logLikelihood(x: Double, recency: Double, T: Double) -> Double {
        let a1 = lgamma(r + x) - lgamma(r) + r * log(alpha) + s * log(beta)
        let first = -(r + x) * log(alpha + T) - s * log(beta + T)
        guard let a0 = logA0(x: x, recency: recency, T: T) else { return -.infinity }
        let v = a1 + SpecialFunctions.logSumExp(first, log(s) - log(r + s + x) + a0)
        return v.isNaN ? -.infinity : v
    }

    /// The log-likelihood of grouped data.
    ///
    ///     LL = sum_g w_g log L(x_g, t_x,g, T_g)
    ///
    /// ```swift
    /// ParetoNBDModel(r: 0.553, alpha: 10.578, s: 0.606, beta: 11.669).logLikelihood(cdnow)   // -9594.976
    /// ```
    ///
    /// - Parameter data: Grouped observations.
    /// - Returns: The total, or `-infinity` when any group cannot be evaluated.
    /// - Complexity: O(groups x 2F1 terms).
    public func logLikelihood(_ data: BTYDData) -> Double {
        var total = 0.0
        for g in 0..<data.groupCount {
            let ll = logLikelihood(x: data.frequency[g], recency: data.recency[g], T: data.T[g])
            guard ll.isFinite else { return -.infinity }
            total += data.weight[g] * ll
        }
        return total
    }

    /// Probability that the customer is still active at T.
    ///
    ///     P(alive) = 1 / (1 + s / (r + s + x) (alpha + T)^(r+x) (beta + T)^s A0)
    ///
    /// ```swift
    /// fit.model.probabilityAlive(BTYDObservation(frequency: 2, recency: 30.43, T: 38.86))   // 0.869
    /// ```
    ///
    /// - Parameter customer: A valid observation.
    /// - Returns: A probability in (0, 1]; 1 when A0 cannot be evaluated (no evidence either way).
    /// - Complexity: O(2F1 terms).
    public func probabilityAlive(_ customer: BTYDObservation) -> Double {
        let x = customer.frequency
        guard let a0 = logA0(x: x, recency: customer.recency, T: customer.T) else { return 1 }
        let logOdds = log(s) - log(r + s + x) + (r + x) * log(alpha + customer.T) + s * log(beta + customer.T) + a0
        let p = 1 / (1 + exp(logOdds))
        return p.isNaN ? 1 : p
    }

    /// Expected purchases in the next `t` time units, given the history.
    ///
    ///     E[Y(t) | x, t_x, T] = Γ(r + x) alpha^r beta^s / (Γ(r) (alpha + T)^(r+x) (beta + T)^s L)
    ///         * (r + x)(beta + T) / ((alpha + T)(s - 1)) * [1 - ((beta + T) / (beta + T + t))^(s - 1)]
    ///
    /// (the bracket over s - 1 tends to log((beta + T + t) / (beta + T)) as s -> 1, used near s = 1).
    ///
    /// ```swift
    /// fit.model.conditionalExpectedPurchases(in: 39, for: BTYDObservation(frequency: 2, recency: 30.43, T: 38.86))
    /// // 1.455
    /// ```
    ///
    /// - Parameters:
    ///   - t: Horizon, >= 0.
    ///   - customer: A valid observation.
    /// - Returns: The expectation, or `nil` when the likelihood cannot be evaluated.
    /// - Complexity: O(2F1 terms).
    public func conditionalExpectedPurchases(in t: Double, for customer: BTYDObservation) -> Double? {
        guard t > 0 else { return t == 0 ? 0 : nil }
        let x = customer.frequency
        let T = customer.T
        let ll = logLikelihood(customer)
        guard ll.isFinite else { return nil }
        let first = lgamma(r + x) - lgamma(r) + r * log(alpha) + s * log(beta) - (r + x) * log(alpha + T)
            - s * log(beta + T)
        let second = log(r + x) + log(beta + T) - log(alpha + T)
        let logU = log(beta + T) - log(beta + T + t) // log u, u < 1
        let sm1 = s - 1
        let third = abs(sm1) < 1e-10 ? log(-logU) : log(-expm1(sm1 * logU) / sm1)
        let v = exp(first + second + third - ll)
        return v.isFinite ? v : nil
    }

    /// Fits the model by maximum likelihood (Nelder-Mead then BFGS on log-parameters).
    ///
    ///     (r, alpha, s, beta) = argmax sum_g w_g log L(r, alpha, s, beta | x_g, t_x,g, T_g)
    ///
    /// ```swift
    /// let fit = ParetoNBDModel.fit(try BTYDData(observations))
    /// fit.diagnostics.logLikelihood    // -9594.98 on CDNOW
    /// ```
    ///
    /// - Parameters:
    ///   - data: Grouped observations.
    ///   - options: Optimizer settings.
    /// - Returns: The estimate, standard errors and diagnostics (`converged == false` when the optimizer did not
    ///   meet its test; beta is weakly identified on small data, so check the standard errors).
    /// - Complexity: O(evaluations x groups x 2F1 terms).
    public static func fit(_ data: BTYDData, options: OptimizerOptions = OptimizerOptions()) -> ParetoNBDFit {
        let meanT = zip(data.T, data.weight).reduce(0) { $0 + $1.0 * $1.1 } / Double(data.customerCount)
        let scale = max(meanT, 1e-3)
        let fit = fitPositive(
            start: [1, scale, 1, scale], customers: data.customerCount, groups: data.groupCount, options: options
        ) { p in
            ParetoNBDModel(r: p[0], alpha: p[1], s: p[2], beta: p[3]).logLikelihood(data)
        }
        let p = fit.parameters
        return ParetoNBDFit(
            model: ParetoNBDModel(r: p[0], alpha: p[1], s: p[2], beta: p[3]),
            standardErrors: fit.standardErrors.map { ParetoNBDModel(r: $0[0], alpha: $0[1], s: $0[2], beta: $0[3]) },
            diagnostics: fit.diagnostics)
    }
}

/// A fitted Pareto/NBD model.
public struct ParetoNBDFit: Hashable, Sendable, Codable {
    /// The maximum likelihood estimate.
    public var model: ParetoNBDModel
    /// Standard errors of each parameter (same field names), `nil` when the Hessian is not positive definite.
    public var standardErrors: ParetoNBDModel?
    /// Log-likelihood, convergence and counts.
    public var diagnostics: FitDiagnostics
}
