import Foundation
import RetentionModels
import Testing

struct GammaGammaTests {
    @Test func fitReproducesTheFaderHardieNote() throws {
        let obs = CDNOW.split.observations
        let repeaters = obs.filter { $0.frequency > 0 }
        // The note's input: 946 repeat buyers, mean of their average repeat spend $35.078.
        #expect(repeaters.count == 946)
        #expect(abs(repeaters.reduce(0) { $0 + $1.monetaryValue } / 946 - 35.077847533689834) < 1e-9)
        let fit = try GammaGammaModel.fit(obs)
        print("Gamma-Gamma CDNOW fit: \(fit.model), \(fit.diagnostics)")
        #expect(fit.diagnostics.converged)
        #expect(fit.repeatCustomers == 946)
        #expect(rounded(fit.model.p, 2) == 6.25 && rounded(fit.model.q, 2) == 3.74)
        #expect(rounded(fit.model.gamma, 2) == 15.44)
        // lifetimes: 6.24957228 3.74422467 15.44352102.
        #expect(abs(fit.model.p - 6.24957228) < 1e-3 && abs(fit.model.q - 3.74422467) < 1e-3)
        #expect(abs(fit.model.gamma - 15.44352102) < 5e-3)
        // pandas corr() of frequency_cal and monetary_value_cal over the repeaters.
        #expect(close(fit.frequencyMonetaryCorrelation, 0.11388791939125481, 1e-12))
        #expect(!fit.correlationWarning)
    }

    @Test func conditionalExpectedAverageValue() {
        let model = CDNOW.gammaGammaLifetimes
        // lifetimes conditional_expected_average_profit(2, 30.0) and (0, 0.0).
        let repeater = model.conditionalExpectedAverageValue(frequency: 2, monetaryValue: 30)
        #expect(close(repeater, 30.930808692526057, 1e-12))
        #expect(close(model.conditionalExpectedAverageValue(frequency: 0, monetaryValue: 0), 35.17037133045388, 1e-12))
        let noMean = GammaGammaModel(p: 1, q: 1, gamma: 1)
        #expect(noMean.conditionalExpectedAverageValue(frequency: 1, monetaryValue: 1) == nil)
    }

    @Test(arguments: [0.0, -5.0, Double.nan])
    func nonPositiveMonetaryValueIsATypedError(value: Double) {
        let obs = [
            BTYDObservation(frequency: 2, recency: 3, T: 4, monetaryValue: 10),
            BTYDObservation(frequency: 0, recency: 0, T: 4, monetaryValue: 0),  // x = 0: m is not used
            BTYDObservation(frequency: 1, recency: 2, T: 4, monetaryValue: value),
        ]
        do {
            _ = try GammaGammaModel.fit(obs)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .nonPositiveMonetaryValue)
            #expect(error.index == 2)
        }
    }

    @Test func correlationWarning() throws {
        // Spend rising with frequency: corr = 1 > 0.3.
        let obs = (1...30).map { (i: Int) -> BTYDObservation in
            let x = Double(i % 6 + 1)
            let m: Double = x * 10 + Double(i)
            return BTYDObservation(frequency: x, recency: 1, T: 2, monetaryValue: m)
        }
        let fit = try GammaGammaModel.fit(obs)
        #expect(fit.correlationWarning)
        #expect(throws: ModelError.self) { try GammaGammaModel.fit([BTYDObservation(frequency: 0, recency: 0, T: 1)]) }
    }
}
