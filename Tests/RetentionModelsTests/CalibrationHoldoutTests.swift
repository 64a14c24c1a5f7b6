import Foundation
import RetentionMetrics
import RetentionModels
import Testing

struct CalibrationHoldoutTests {
    static func day(_ y: Int, _ m: Int, _ d: Int) -> Int64 { CivilDate(year: y, month: m, day: d)!.daysSince1970 }

    /// lifetimes' own summary fixture (field guide section 2), in days.
    @Test func lifetimesSummaryFixture() {
        let purchases = [
            DatedPurchase(customer: 1, day: Self.day(2015, 2, 1), amount: 1),
            DatedPurchase(customer: 1, day: Self.day(2015, 2, 6), amount: 2),
            DatedPurchase(customer: 2, day: Self.day(2015, 1, 1), amount: 5),
            DatedPurchase(customer: 3, day: Self.day(2015, 1, 1), amount: 1),
            DatedPurchase(customer: 3, day: Self.day(2015, 1, 2), amount: 2),
            DatedPurchase(customer: 3, day: Self.day(2015, 1, 5), amount: 4),
            DatedPurchase(customer: 3, day: Self.day(2015, 1, 5), amount: 6),   // same day: merged
        ]
        let rows = BTYDObservation.summaries(of: purchases, observationEnd: Self.day(2015, 2, 7))
        #expect(rows.map(\.customer) == [1, 2, 3])
        #expect(rows.map(\.observation) == [
            BTYDObservation(frequency: 1, recency: 5, T: 6, monetaryValue: 2),
            BTYDObservation(frequency: 0, recency: 0, T: 37, monetaryValue: 0),
            BTYDObservation(frequency: 2, recency: 4, T: 37, monetaryValue: 6),
        ])
    }

    @Test func cdnowSplit() throws {
        let split = CDNOW.split
        #expect(split.rows.count == 2357)
        #expect(split.holdoutDuration == 39)
        // lifetimes calibration_and_holdout_data(freq='D', freq_multiplier=7): customer 1 has
        // frequency_cal 2, recency_cal 30.428571, T_cal 38.857143 and 1 holdout purchase worth 26.48.
        let first = try #require(split.rows.first { $0.customer == 1 })
        #expect(first.calibration.frequency == 2)
        #expect(first.calibration.recency == 213.0 / 7 && first.calibration.T == 272.0 / 7)
        #expect(first.holdoutFrequency == 1 && first.holdoutMonetaryValue == 26.48)
        // Holdout purchase days, from the data (pandas: frequency_holdout.sum()).
        #expect(split.rows.reduce(0) { $0 + $1.holdoutFrequency } == 1882)
    }

    @Test func predictedVersusActualHoldout() {
        let comparison = CDNOW.split.compare(with: BGNBDTests.lifetimesFit)
        print("CDNOW holdout, BG/NBD: predicted \(comparison.totalPredicted), actual \(comparison.totalActual)")
        #expect(comparison.totalActual == 1882)
        #expect(comparison.customersWithoutPrediction == 0)
        // lifetimes: conditional_expected_number_of_purchases_up_to_time(duration_holdout, ...).sum().
        #expect(abs(comparison.totalPredicted - 1653.4087241798925) < 1e-6)
        #expect(comparison.periods.count == 39)
        #expect(comparison.periods.last?.actualCumulative == 1882)
        #expect(abs((comparison.periods.last?.predictedCumulative ?? 0) - comparison.totalPredicted) < 1e-9)
        let increasing = zip(comparison.periods, comparison.periods.dropFirst()).allSatisfy {
            $0.predictedCumulative <= $1.predictedCumulative && $0.actualCumulative <= $1.actualCumulative
        }
        #expect(increasing)
        for p in [1, 13, 26] {
            let point = comparison.periods[p - 1]
            print("  week \(39 + p): predicted \(point.predictedCumulative), actual \(point.actualCumulative)")
        }

        let pareto = CDNOW.split.compare(with: CDNOW.paretoLifetimes)
        print("CDNOW holdout, Pareto/NBD: predicted \(pareto.totalPredicted)")
        #expect(abs(pareto.totalPredicted - 1665.5242051012551) < 1e-6)
    }

    @Test func periodsInTheWrongOrderAreRejected() {
        #expect(throws: ModelError.self) {
            try CalibrationHoldout(purchases: [DatedPurchase(customer: 1, day: 5, amount: 1)], calibrationEnd: 10,
                                   observationEnd: 9)
        }
    }
}
