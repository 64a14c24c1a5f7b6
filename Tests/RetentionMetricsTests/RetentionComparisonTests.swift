import RetentionMetrics
import Testing

/// Expected values from statsmodels 0.14: `proportions_ztest([x_B, x_A], [n_B, n_A])` (pooled) and
/// `confint_proportions_2indep(x_B, n_B, x_A, n_A, method="wald", compare="diff")`; scipy's `2 * norm.sf(|z|)`
/// gives the same p-values.
struct RetentionComparisonTests {
    typealias F = MetricsFixture

    struct Reference: Sendable, CustomTestStringConvertible {
        var a: (retained: Int, total: Int)
        var b: (retained: Int, total: Int)
        var difference: Double
        var lift: Double?
        var z: Double
        var pValue: Double
        var low: Double
        var high: Double
        var testDescription: String { "A \(a) vs B \(b)" }
    }

    static let references: [Reference] = [
        Reference(
            a: (450, 1_000), b: (500, 1_000), difference: 0.04999999999999999, lift: 0.11111111111111108,
            z: 2.2388683141982244, pValue: 0.025164485700318557, low: 0.0062835755888552905, high: 0.0937164244111447),
        Reference(
            a: (30, 200), b: (45, 180), difference: 0.1, lift: 0.6666666666666667,
            z: 2.4454708889807826, pValue: 0.014466312665070875, low: 0.019685308921205333, high: 0.18031469107879466),
        Reference(
            a: (0, 10), b: (3, 10), difference: 0.3, lift: nil,
            z: 1.8786728732554483, pValue: 0.060289173990602164, low: 0.015974234910674567, high: 0.5840257650893255),
        Reference(
            a: (7, 9), b: (2, 11), difference: -0.595959595959596, lift: -0.7662337662337663,
            z: -2.6652123368179317, pValue: 0.007693972527542967, low: -0.9505346646978724, high: -0.24138452722131964),
    ]

    @Test(arguments: references)
    func matchesStatsmodels(_ reference: Reference) throws {
        let test = try RetentionComparison(a: reference.a, b: reference.b)
        #expect(test.a.rate == Double(reference.a.retained) / Double(reference.a.total))
        #expect(abs(test.difference - reference.difference) <= 1e-12)
        if let lift = reference.lift {
            #expect(F.isClose(test.relativeLift, lift))
        } else {
            #expect(test.relativeLift == nil)
        }
        #expect(F.isClose(test.zStatistic, reference.z))
        #expect(F.isClose(test.pValue, reference.pValue))
        #expect(abs(test.confidenceInterval.lowerBound - reference.low) <= 1e-12)
        #expect(abs(test.confidenceInterval.upperBound - reference.high) <= 1e-12)
    }

    @Test func zeroPooledVarianceHasNoTest() throws {
        let none = try RetentionComparison(a: (0, 10), b: (0, 20))
        #expect(none.zStatistic == nil && none.pValue == nil)
        #expect(none.confidenceInterval == 0...0)
        #expect(none.relativeLift == nil)
        let all = try RetentionComparison(a: (10, 10), b: (20, 20))
        #expect(all.pValue == nil)
        #expect(all.relativeLift == 0)
    }

    @Test func fromReturningRates() throws {
        let weekly = try ReturningRate(existing: 1_000, returned: 450)
        let biweekly = try ReturningRate(existing: 1_000, returned: 500)
        let test = try RetentionComparison(a: weekly, b: biweekly)
        #expect(test == (try RetentionComparison(a: (450, 1_000), b: (500, 1_000))))
    }

    @Test(arguments: [
        ((0, 0), (1, 2), MetricError.Code.emptyGroup), ((1, 2), (0, 0), .emptyGroup),
        ((3, 2), (1, 2), .partExceedsWhole), ((-1, 2), (1, 2), .negativeCount),
    ])
    func invalidGroupsThrow(a: (Int, Int), b: (Int, Int), code: MetricError.Code) {
        #expect { try RetentionComparison(a: a, b: b) } throws: { ($0 as? MetricError)?.code == code }
    }
}
