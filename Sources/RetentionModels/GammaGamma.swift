import Foundation

/// The Gamma-Gamma spend model (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value"): a customer's
/// transaction values are Gamma(p, ν), and ν varies across customers as Gamma(q, gamma). Only repeat buyers
/// (x > 0) are fitted, on the mean of their x repeat transactions, m.
///
///     log L(p, q, gamma | x, m) = logΓ(px + q) - logΓ(px) - logΓ(q) + q log gamma + (px - 1) log m
///         + px log x - (px + q) log(x m + gamma)
///
/// It assumes spend is independent of purchase frequency: ``GammaGammaFit/correlationWarning`` flags data where
/// the Pearson correlation between x and m exceeds ``GammaGammaModel/correlationThreshold`` in absolute value.
///
/// ```swift
/// let fit = try GammaGammaModel.fit(cdnow)     // 946 repeat buyers: p 6.25, q 3.74, gamma 15.44
/// fit.model.conditionalExpectedAverageValue(frequency: 2, monetaryValue: 30)   // 30.93
/// ```
public struct GammaGammaModel: Hashable, Sendable, Codable {
    /// Shape of the per-transaction gamma.
    public var p: Double
    /// Shape of the gamma on ν.
    public var q: Double
    /// Rate of the gamma on ν (lifetimes calls it `v`).
    public var gamma: Double

    /// |Pearson correlation of frequency and monetary value| above which the independence assumption is doubtful
    /// (0.3, a common rule of thumb; lifetimes' docs suggest checking that the correlation is "close to 0").
    public static let correlationThreshold = 0.3

    public init(p: Double, q: Double, gamma: Double) {
        self.p = p
        self.q = q
        self.gamma = gamma
    }

    /// The log-likelihood of one repeat buyer's mean spend (the density of m, constants included).
    ///
    ///     see the type's formula
    ///
    /// ```swift
    /// GammaGammaModel(p: 6, q: 4, gamma: 15).logLikelihood(frequency: 2, monetaryValue: 30)
    /// ```
    ///
    /// - Parameters:
    ///   - frequency: x > 0.
    ///   - monetaryValue: m > 0.
    /// - Returns: The log-likelihood.
    /// - Complexity: O(1).
    public func logLikelihood(frequency x: Double, monetaryValue m: Double) -> Double {
        let px = p * x
        return lgamma(px + q) - lgamma(px) - lgamma(q) + q * log(gamma) + (px - 1) * log(m) + px * log(x)
            - (px + q) * log(x * m + gamma)
    }

    /// The expected mean transaction value of a customer, given their history (a credibility-weighted mean).
    ///
    ///     E[M | x, m] = (1 - w) gamma p / (q - 1) + w m,  w = p x / (p x + q - 1)
    ///
    /// For x = 0 this is the population mean gamma p / (q - 1).
    ///
    /// ```swift
    /// GammaGammaModel(p: 6.24957228, q: 3.74422467, gamma: 15.44352102)
    ///     .conditionalExpectedAverageValue(frequency: 2, monetaryValue: 30)   // 30.930808692526057
    /// ```
    ///
    /// - Parameters:
    ///   - frequency: x >= 0.
    ///   - monetaryValue: m (ignored when x = 0).
    /// - Returns: The expectation; `nil` when q <= 1 (the population mean does not exist).
    /// - Complexity: O(1).
    public func conditionalExpectedAverageValue(frequency x: Double, monetaryValue m: Double) -> Double? {
        guard q > 1 else { return nil }
        let w = p * x / (p * x + q - 1)
        let populationMean = gamma * p / (q - 1)
        return (1 - w) * populationMean + (x > 0 ? w * m : 0)
    }

    /// Fits the model to the repeat buyers (x > 0) among `customers`, by maximum likelihood.
    ///
    ///     (p, q, gamma) = argmax sum_{i: x_i > 0} log L(p, q, gamma | x_i, m_i)
    ///
    /// ```swift
    /// let fit = try GammaGammaModel.fit(observations)
    /// fit.repeatCustomers        // 946 on CDNOW
    /// fit.correlationWarning     // false (corr 0.114)
    /// ```
    ///
    /// - Parameters:
    ///   - customers: Observations; those with x = 0 are skipped.
    ///   - options: Optimizer settings.
    /// - Returns: The estimate, standard errors, diagnostics and the frequency/monetary correlation check.
    /// - Throws: ``ModelError`` `.nonPositiveMonetaryValue` when a repeat buyer's m <= 0 (or is not finite),
    ///   `.invalidObservation` for a negative or non-finite frequency, `.emptyInput` without repeat buyers.
    /// - Complexity: O(evaluations x repeat buyers).
    public static func fit(
        _ customers: some Sequence<BTYDObservation>, options: OptimizerOptions = OptimizerOptions()
    ) throws(ModelError) -> GammaGammaFit {
        var xs: [Double] = []
        var ms: [Double] = []
        for (i, c) in customers.enumerated() {
            guard c.frequency.isFinite, c.frequency >= 0 else {
                throw ModelError(.invalidObservation, index: i, "frequency must be >= 0, got \(c.frequency)")
            }
            guard c.frequency > 0 else { continue }
            guard c.monetaryValue > 0, c.monetaryValue.isFinite else {
                throw ModelError(
                    .nonPositiveMonetaryValue, index: i,
                    "Gamma-Gamma needs a monetary value > 0 for repeat buyers, got \(c.monetaryValue)")
            }
            xs.append(c.frequency)
            ms.append(c.monetaryValue)
        }
        guard !xs.isEmpty else { throw ModelError(.emptyInput, index: nil, "no repeat buyers (frequency > 0)") }
        let meanM = ms.reduce(0, +) / Double(ms.count)
        let fit = fitPositive(start: [1, 2, meanM], customers: xs.count, groups: xs.count, options: options) { v in
            let model = GammaGammaModel(p: v[0], q: v[1], gamma: v[2])
            var total = 0.0
            for i in 0..<xs.count { total += model.logLikelihood(frequency: xs[i], monetaryValue: ms[i]) }
            return total.isFinite ? total : -.infinity
        }
        let v = fit.parameters
        let correlation = pearson(xs, ms)
        return GammaGammaFit(
            model: GammaGammaModel(p: v[0], q: v[1], gamma: v[2]),
            standardErrors: fit.standardErrors.map { GammaGammaModel(p: $0[0], q: $0[1], gamma: $0[2]) },
            diagnostics: fit.diagnostics, repeatCustomers: xs.count, frequencyMonetaryCorrelation: correlation,
            correlationWarning: correlation.map { abs($0) > correlationThreshold } ?? false)
    }

    static func pearson(_ x: [Double], _ y: [Double]) -> Double? {
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n
        let my = y.reduce(0, +) / n
        var sxy = 0.0
        var sxx = 0.0
        var syy = 0.0
        for i in 0..<x.count {
            sxy += (x[i] - mx) * (y[i] - my)
            sxx += (x[i] - mx) * (x[i] - mx)
            syy += (y[i] - my) * (y[i] - my)
        }
        guard sxx > 0, syy > 0 else { return nil }
        return sxy / (sxx * syy).squareRoot()
    }
}

/// A fitted Gamma-Gamma model.
public struct GammaGammaFit: Hashable, Sendable, Codable {
    /// The maximum likelihood estimate.
    public var model: GammaGammaModel
    /// Standard errors (same field names), `nil` when the Hessian is not positive definite.
    public var standardErrors: GammaGammaModel?
    /// Log-likelihood, convergence and counts (``FitDiagnostics/customers`` = repeat buyers).
    public var diagnostics: FitDiagnostics
    /// Customers with x > 0 used in the fit.
    public var repeatCustomers: Int
    /// Pearson correlation between x and m over the repeat buyers; `nil` when either is constant.
    public var frequencyMonetaryCorrelation: Double?
    /// `|correlation| > GammaGammaModel.correlationThreshold` (0.3): the independence assumption is doubtful.
    public var correlationWarning: Bool
}
