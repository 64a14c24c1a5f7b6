import Foundation
import RetentionModels
import Testing

struct ParetoNBDTests {
    static let customer = BTYDObservation(frequency: 2, recency: 30.43, T: 38.86)

    /// Independent values: the likelihood with A0 computed by numerical integration (scipy.integrate.quad,
    /// epsrel 1e-13) of s (alpha + y)^-(r+x) (beta + y)^-(s+1) over [t_x, T], no 2F1 involved.
    @Test(arguments: [
        (0.55327573, 10.57777579, 0.60629475, 11.67021624, -9594.976179043595),
        (0.553, 10.578, 0.606, 11.669, -9594.976259272633),
        (0.5, 8.0, 0.5, 10.0, -9608.861661754057),
    ])
    func logLikelihoodAtKnownParameters(r: Double, alpha: Double, s: Double, beta: Double, expected: Double) {
        let ll = ParetoNBDModel(r: r, alpha: alpha, s: s, beta: beta).logLikelihood(CDNOW.data)
        #expect(abs(ll - expected) < 1e-6, "\(ll)")
    }

    @Test func singleCustomerLikelihoods() {
        let model = ParetoNBDModel(r: 0.5, alpha: 8, s: 0.5, beta: 10)
        #expect(abs(model.logLikelihood(Self.customer) - -9.537703474929742) < 1e-11)
        let none = BTYDObservation(frequency: 0, recency: 0, T: 38.86)
        #expect(abs(model.logLikelihood(none) - -0.5681459590244144) < 1e-11)
        // alpha > beta takes the other branch of A0; alpha == beta makes the 2F1 argument 0.
        let swapped = ParetoNBDModel(r: 0.5, alpha: 12, s: 0.5, beta: 10)
        #expect(swapped.logLikelihood(Self.customer).isFinite)
        let equal = ParetoNBDModel(r: 0.5, alpha: 10, s: 0.5, beta: 10)
        #expect(equal.logLikelihood(Self.customer).isFinite)
    }

    @Test func fitReproducesThePublishedEstimate() {
        let fit = ParetoNBDModel.fit(CDNOW.data)
        let m = fit.model
        print("Pareto/NBD CDNOW fit: \(m), LL \(fit.diagnostics.logLikelihood), \(fit.diagnostics)")
        #expect(fit.diagnostics.converged)
        // Published: r 0.553, alpha 10.578, s 0.606, beta 11.669, LL -9595.0; beta is weakly identified (SE ~ 2.5),
        // lifetimes lands on 11.670.
        #expect(abs(m.r - 0.553) < 1e-3 && abs(m.alpha - 10.578) < 5e-3)
        #expect(abs(m.s - 0.606) < 1e-3 && abs(m.beta - 11.669) < 2e-2)
        #expect(rounded(fit.diagnostics.logLikelihood, 1) == -9595.0)
        #expect(fit.diagnostics.logLikelihood >= -9594.976179043595 - 1e-6)
    }

    @Test func predictionsMatchLifetimes() {
        // lifetimes 0.11.3 ParetoNBDFitter with these parameters.
        let model = CDNOW.paretoLifetimes
        #expect(abs(model.probabilityAlive(Self.customer) - 0.869117245617182) < 1e-10)
        #expect(close(model.conditionalExpectedPurchases(in: 39, for: Self.customer), 1.455105229741206, 1e-10))
        // Near s = 1 the limit form is used and stays continuous.
        let near = ParetoNBDModel(r: 0.5, alpha: 10, s: 1 + 1e-12, beta: 10)
        let at = ParetoNBDModel(r: 0.5, alpha: 10, s: 1 + 1e-6, beta: 10)
        let a = near.conditionalExpectedPurchases(in: 39, for: Self.customer)
        let b = at.conditionalExpectedPurchases(in: 39, for: Self.customer)
        #expect(a != nil && b != nil && abs(a! - b!) < 1e-5)
    }
}
