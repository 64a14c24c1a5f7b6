import Foundation
import RetentionModels
import Testing

struct SpecialFunctionsTests {
    /// scipy.special.hyp2f1 (scipy 1.11) at the same points, including z near 1 and c < 0.
    @Test(arguments: [
        (1.0, 1.0, 2.0, 0.5, 1.3862943611198901),
        (0.8, 2.4, 3.2, 0.47, 1.4378915840889148),
        (1.5, 2.5, 3.0, 0.9, 14.663397526525134),
        (2.0, 3.0, 4.5, 0.99, 74.61083692457464),
        (0.3, 0.7, 1.2, 0.999, 1.8801497197449173),
        (5.0, 1.0, 6.0, 0.95, 7.140677618381622),
        (1.2, 3.0, -0.3, 0.4, -76.30350804518186),
        (20.5, 1.6, 21.5, 0.97, 102.77543968850074),
    ])
    func hypergeometricMatchesScipy(a: Double, b: Double, c: Double, z: Double, expected: Double) throws {
        let value = try #require(SpecialFunctions.hypergeometric2F1(a, b, c, z))
        #expect(abs(value - expected) <= 1e-12 * abs(expected), "2F1(\(a), \(b); \(c); \(z)) = \(value)")
    }

    @Test func hypergeometricClosedForms() throws {
        // 2F1(1, 1; 2; z) = -log(1 - z) / z and 2F1(a, b; b; z) = (1 - z)^-a.
        for z in [0.1, 0.5, 0.9, 0.999] {
            let v = try #require(SpecialFunctions.hypergeometric2F1(1, 1, 2, z))
            #expect(abs(v - (-log1p(-z) / z)) <= 1e-13 * v)
            let w = try #require(SpecialFunctions.hypergeometric2F1(0.7, 2.5, 2.5, z))
            #expect(abs(w - pow(1 - z, -0.7)) <= 1e-13 * w)
        }
    }

    @Test func hypergeometricRejectsOutsideDomain() {
        #expect(SpecialFunctions.hypergeometric2F1(1, 1, 2, 1) == nil)
        #expect(SpecialFunctions.hypergeometric2F1(1, 1, 2, -0.5) == nil)
        #expect(SpecialFunctions.hypergeometric2F1(1, 1, -2, 0.5) == nil)   // pole of (c)_k
        #expect(SpecialFunctions.hypergeometric2F1(1, 1, 2, 0) == 1)
    }

    @Test func logSpaceHelpers() throws {
        #expect(abs(SpecialFunctions.logGamma(5) - log(24)) < 1e-15)
        #expect(abs(SpecialFunctions.logBeta(2, 3) - log(1.0 / 12)) < 1e-15)
        #expect(SpecialFunctions.logSumExp(1000, 1000) == 1000 + log(2))
        #expect(SpecialFunctions.logSumExp(-.infinity, -.infinity) == -.infinity)
        #expect(abs(SpecialFunctions.logSumExp([0, 0, 0, 0]) - log(4)) < 1e-15)
        let d = try #require(SpecialFunctions.logDiffExp(log(3), 0))
        #expect(abs(d - log(2)) < 1e-15)
        #expect(SpecialFunctions.logDiffExp(0, 1) == nil)
    }
}
