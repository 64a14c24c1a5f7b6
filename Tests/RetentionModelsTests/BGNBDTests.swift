import Foundation
import RetentionModels
import Testing

struct BGNBDTests {
    /// lifetimes 0.11.3 BetaGeoFitter on the same split.
    static let lifetimesFit = BGNBDModel(
        r: 0.24259454342106748, alpha: 4.413602716077385, a: 0.7929218333479277, b: 2.425905728721954)
    static let customer = BTYDObservation(frequency: 2, recency: 30.43, T: 38.86)

    @Test func cdnowCounts() {
        let obs = CDNOW.split.observations
        #expect(obs.count == 2357)
        #expect(obs.filter { $0.frequency == 0 }.count == 1411)
        #expect(obs.filter { $0.frequency > 0 }.count == 946)
        #expect(CDNOW.data.customerCount == 2357)
        #expect(CDNOW.data.groupCount == 1016)   // pandas groupby(['frequency','recency','T']).size()
    }

    /// Independent values from a numpy/scipy transcription of FHL (2005) eq. 6, summed over the 2,357 customers.
    @Test(arguments: [
        (0.2425945, 4.4136019, 0.7929199, 2.4258881, -9582.429206675144),
        (0.243, 4.414, 0.793, 2.426, -9582.430478013672),
        (0.5, 5.0, 1.0, 2.0, -9856.853289808678),
    ])
    func logLikelihoodAtKnownParameters(r: Double, alpha: Double, a: Double, b: Double, expected: Double) {
        let ll = BGNBDModel(r: r, alpha: alpha, a: a, b: b).logLikelihood(CDNOW.data)
        #expect(abs(ll - expected) < 1e-7, "\(ll)")
        // The per-customer form agrees with the grouped one.
        let model = BGNBDModel(r: r, alpha: alpha, a: a, b: b)
        let perCustomer = CDNOW.split.observations.reduce(0) { $0 + model.logLikelihood($1) }
        #expect(abs(perCustomer - expected) < 1e-7)
    }

    @Test func singleCustomerWithoutRepeats() {
        // x = 0: L = (alpha / (alpha + T))^r.
        let model = BGNBDModel(r: 0.5, alpha: 5, a: 1, b: 2)
        let ll = model.logLikelihood(BTYDObservation(frequency: 0, recency: 0, T: 10))
        #expect(abs(ll - 0.5 * log(5.0 / 15)) < 1e-15)
    }

    @Test func fitReproducesThePaper() {
        let fit = BGNBDModel.fit(CDNOW.data)
        let m = fit.model
        print("BG/NBD CDNOW fit: \(m), LL \(fit.diagnostics.logLikelihood), \(fit.diagnostics)")
        #expect(fit.diagnostics.converged)
        #expect(rounded(m.r, 3) == 0.243 && rounded(m.alpha, 3) == 4.414)
        #expect(rounded(m.a, 3) == 0.793 && rounded(m.b, 3) == 2.426)
        // The precise MLE, to the accuracy the flat likelihood allows (lifetimes itself is 1.7e-5 off in b).
        #expect(abs(m.r - 0.2425945) < 1e-5 && abs(m.alpha - 4.4136019) < 1e-4)
        #expect(abs(m.a - 0.7929199) < 1e-4 && abs(m.b - 2.4258881) < 1e-4)
        #expect(rounded(fit.diagnostics.logLikelihood, 1) == -9582.4)
        #expect(abs(fit.diagnostics.logLikelihood - -9582.429206675144) < 1e-5)
        // lifetimes' standard errors: 0.01255738 0.3782241 0.18573375 0.70541385.
        let se = fit.standardErrors
        #expect(close(se?.r, 0.01255738, 2e-4) && close(se?.alpha, 0.3782241, 4e-3))
        #expect(close(se?.a, 0.18573375, 2e-3) && close(se?.b, 0.70541385, 7e-3))
    }

    @Test func conditionalExpectationMatchesThePaperAndLifetimes() {
        #expect(close(CDNOW.bgnbdPaper.conditionalExpectedPurchases(in: 39, for: Self.customer).map { rounded($0, 3) },
                      1.226, 0))
        // lifetimes 0.11.3 conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86).
        #expect(close(Self.lifetimesFit.conditionalExpectedPurchases(in: 39, for: Self.customer),
                      1.2259068098148282, 1e-12))
        #expect(Self.lifetimesFit.conditionalExpectedPurchases(in: 0, for: Self.customer) == 0)
    }

    @Test func newCustomerPredictions() {
        // P(X(39) = 0) = (alpha / (alpha + 39))^r: 0.5737864 with the paper's rounded parameters.
        #expect(rounded(CDNOW.bgnbdPaper.probabilityOfPurchases(0, in: 39), 7) == 0.5737864)
        // lifetimes: probability_of_n_purchases_up_to_time(39, 0) and (39, 3);
        // expected_number_of_purchases_up_to_time(39).
        #expect(abs(Self.lifetimesFit.probabilityOfPurchases(0, in: 39) - 0.5743071606916325) < 1e-12)
        #expect(abs(Self.lifetimesFit.probabilityOfPurchases(3, in: 39) - 0.045797557536020606) < 1e-12)
        #expect(close(Self.lifetimesFit.expectedPurchases(in: 39), 1.195009974479011, 1e-12))
        // The distribution sums to 1 and its mean is E[X(t)].
        let probabilities = (0..<400).map { Self.lifetimesFit.probabilityOfPurchases($0, in: 39) }
        #expect(abs(probabilities.reduce(0, +) - 1) < 1e-9)
        let mean = probabilities.enumerated().reduce(0) { $0 + Double($1.offset) * $1.element }
        #expect(close(Self.lifetimesFit.expectedPurchases(in: 39), mean, 1e-6))
    }

    @Test func probabilityAlive() {
        // lifetimes conditional_probability_alive(2, 30.43, 38.86) and (0, 0, 38.86).
        #expect(abs(Self.lifetimesFit.probabilityAlive(Self.customer) - 0.7266091487652466) < 1e-12)
        #expect(Self.lifetimesFit.probabilityAlive(BTYDObservation(frequency: 0, recency: 0, T: 38.86)) == 1)
    }

    @Test func invalidObservationsAreRejected() {
        #expect(throws: ModelError.self) { try BTYDData([BTYDObservation(frequency: 1, recency: 5, T: 4)]) }
        #expect(throws: ModelError.self) { try BTYDData([BTYDObservation(frequency: 1.5, recency: 1, T: 4)]) }
        #expect(throws: ModelError.self) { try BTYDData([BTYDObservation(frequency: 0, recency: 1, T: 4)]) }
        #expect(throws: ModelError.self) { try BTYDData([BTYDObservation(frequency: .nan, recency: 1, T: 4)]) }
        #expect(throws: ModelError.self) { try BTYDData([BTYDObservation]()) }
        do {
            _ = try BTYDData([
                BTYDObservation(frequency: 0, recency: 0, T: 4), BTYDObservation(frequency: -1, recency: 0, T: 4),
            ])
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidObservation && error.index == 1)
        }
    }
}
