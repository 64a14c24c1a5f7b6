import Foundation
import RetentionModels
import Testing

/// Fit-time measurements. They print figures and assert only on the estimates (no timed assertions). Run them in a
/// release build: `RETENTION_MODELS_BENCH=1 swift test -c release --filter BenchmarkTests`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["RETENTION_MODELS_BENCH"] != nil))
struct BenchmarkTests {
    @Test func bgnbdOnCDNOW() {
        let observations = CDNOW.split.observations
        var best = Duration.seconds(1000)
        for _ in 0..<5 {
            let start = ContinuousClock.now
            let fit = BGNBDModel.fit(try! BTYDData(observations))
            let elapsed = ContinuousClock.now - start
            best = min(best, elapsed)
            #expect(fit.diagnostics.converged)
        }
        print("BG/NBD fit on CDNOW (2,357 customers, grouping included): best of 5 = \(best)")
        let start = ContinuousClock.now
        let pareto = ParetoNBDModel.fit(CDNOW.data)
        print("Pareto/NBD fit on CDNOW (1,016 groups): \(ContinuousClock.now - start), \(pareto.diagnostics)")
        #expect(pareto.diagnostics.converged)
    }

    @Test func bgnbdOnAMillionSyntheticCustomers() {
        let truth = CDNOW.bgnbdMLE
        var rng = SplitMix64(seed: 42)
        let observations = (0..<1_000_000).map { _ in simulate(truth, &rng) }
        let start = ContinuousClock.now
        let data = try! BTYDData(observations)
        let grouped = ContinuousClock.now
        let fit = BGNBDModel.fit(data)
        let end = ContinuousClock.now
        print("""
            BG/NBD on 1,000,000 synthetic customers: \(data.groupCount) groups; grouping \(grouped - start), \
            fit \(end - grouped), total \(end - start); \(fit.model); \(fit.diagnostics)
            """)
        #expect(fit.diagnostics.converged)
        // Recovery within about 5 standard errors (CDNOW SEs / sqrt(1e6 / 2357): r 0.0006, alpha 0.018,
        // a 0.009, b 0.034).
        #expect(abs(fit.model.r - truth.r) < 0.003 && abs(fit.model.alpha - truth.alpha) < 0.08)
        #expect(abs(fit.model.a - truth.a) < 0.05 && abs(fit.model.b - truth.b) < 0.2)
    }
}

/// One BG/NBD customer observed for 26 to 39 weeks (first purchase days like CDNOW's first quarter), purchase
/// times rounded to the nearest day (so customers group as day-level data does).
func simulate(_ m: BGNBDModel, _ rng: inout SplitMix64) -> BTYDObservation {
    let tDays = Double(182 + Int(rng.next() % 92))
    let T = tDays / 7
    let lambda = gammaVariate(m.r, &rng) / m.alpha
    let ga = gammaVariate(m.a, &rng)
    let p = ga / (ga + gammaVariate(m.b, &rng))
    var t = 0.0
    var x = 0
    var tx = 0.0
    while true {
        t += -log(1 - rng.uniform()) / lambda
        if t > T { break }
        x += 1
        tx = t
        if rng.uniform() < p { break }
    }
    return BTYDObservation(frequency: Double(x), recency: min((tx * 7).rounded(), tDays) / 7, T: T)
}

/// Marsaglia-Tsang gamma(shape, 1), with the shape < 1 boost.
func gammaVariate(_ shape: Double, _ rng: inout SplitMix64) -> Double {
    if shape < 1 { return gammaVariate(shape + 1, &rng) * pow(rng.uniform(), 1 / shape) }
    let d = shape - 1.0 / 3
    let c = 1 / (9 * d).squareRoot()
    while true {
        var x: Double
        var v: Double
        repeat {
            x = rng.normal()
            v = 1 + c * x
        } while v <= 0
        v = v * v * v
        let u = rng.uniform()
        if log(u) < 0.5 * x * x + d - d * v + d * log(v) { return d * v }
    }
}

struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in (0, 1).
    mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) * 0x1p-53 }
    mutating func normal() -> Double {
        (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform())
    }
}
