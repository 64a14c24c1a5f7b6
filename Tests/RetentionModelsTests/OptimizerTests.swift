import Foundation
import RetentionModels
import Testing

struct OptimizerTests {
    static func rosenbrock(_ x: [Double]) -> Double {
        (1 - x[0]) * (1 - x[0]) + 100 * (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0])
    }

    @Test func rosenbrockFromTheClassicStart() {
        let result = Optimizer.minimize(Self.rosenbrock, from: [-1.2, 1])
        #expect(result.converged)
        #expect(abs(result.point[0] - 1) < 1e-5 && abs(result.point[1] - 1) < 1e-5, "\(result.point)")
        #expect(result.value < 1e-10)
    }

    @Test func nelderMeadAloneOnRosenbrock() {
        let result = Optimizer.nelderMead(Self.rosenbrock, from: [-1.2, 1])
        #expect(result.converged)
        #expect(abs(result.point[0] - 1) < 1e-3 && abs(result.point[1] - 1) < 2e-3)
    }

    @Test func nonFiniteValuesCountAsInfinity() {
        // NaN outside x > 0: the optimizer must stay inside and never report NaN.
        let f: ([Double]) -> Double = { x in x[0] > 0 ? (log(x[0]) - 1) * (log(x[0]) - 1) : .nan }
        let result = Optimizer.minimize(f, from: [0.1])
        #expect(!result.value.isNaN)
        #expect(abs(result.point[0] - M_E) < 1e-4)
    }

    @Test func iterationLimitIsReportedAsNotConverged() {
        var options = OptimizerOptions()
        options.nelderMeadMaxIterations = 5
        options.bfgsMaxIterations = 1
        let result = Optimizer.minimize(Self.rosenbrock, from: [-1.2, 1], options: options)
        #expect(!result.converged)
        #expect(result.value.isFinite)
    }

    @Test func hessianAndStandardErrors() throws {
        let h = Optimizer.hessian({ x in x[0] * x[0] * x[1] }, at: [1, 2])
        #expect(abs(h[0][0] - 4) < 1e-6 && abs(h[0][1] - 2) < 1e-6 && abs(h[1][1]) < 1e-6)
        let se = try #require(Optimizer.standardErrors(fromHessian: [[4, 0], [0, 100]]))
        #expect(abs(se[0] - 0.5) < 1e-15 && abs(se[1] - 0.1) < 1e-15)
        // [[2, 1], [1, 2]]^-1 = [[2, -1], [-1, 2]] / 3
        let se2 = try #require(Optimizer.standardErrors(fromHessian: [[2, 1], [1, 2]]))
        #expect(abs(se2[0] - (2.0 / 3).squareRoot()) < 1e-15)
        #expect(Optimizer.standardErrors(fromHessian: [[1, 2], [2, 1]]) == nil)
    }
}
