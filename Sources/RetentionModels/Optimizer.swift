import Foundation

/// The outcome of a minimisation.
public struct OptimizationResult: Hashable, Sendable, Codable {
    /// The best point found.
    public var point: [Double]
    /// The objective at ``point`` (finite unless no finite value was ever seen).
    public var value: Double
    /// Whether the stopping test was met (rather than the iteration limit or a failed line search far from a
    /// stationary point).
    public var converged: Bool
    /// Iterations of the last method run (Nelder-Mead plus BFGS for ``Optimizer/minimize(_:from:options:)``).
    public var iterations: Int
    /// Objective evaluations, all methods together.
    public var evaluations: Int
    /// The largest absolute component of the final numerical gradient (BFGS only; `nil` for Nelder-Mead).
    public var gradientNorm: Double?

    public init(
        point: [Double], value: Double, converged: Bool, iterations: Int, evaluations: Int, gradientNorm: Double?
    ) {
        self.point = point
        self.value = value
        self.converged = converged
        self.iterations = iterations
        self.evaluations = evaluations
        self.gradientNorm = gradientNorm
    }
}

/// Settings for ``Optimizer``.
public struct OptimizerOptions: Hashable, Sendable, Codable {
    /// Nelder-Mead iteration limit.
    public var nelderMeadMaxIterations: Int = 5_000
    /// Nelder-Mead stops when `max f - min f <= tolerance * (|min f| + 1e-12)` over the simplex and the simplex fits
    /// in a box of side `tolerance.squareRoot()`.
    public var nelderMeadTolerance: Double = 1e-10
    /// Side of the initial simplex along each axis.
    public var initialStep: Double = 0.5
    /// BFGS iteration limit.
    public var bfgsMaxIterations: Int = 200
    /// BFGS declares convergence when the largest gradient component is at most this (in units of the objective
    /// per unit of the variable; the model fits minimise the mean negative log-likelihood per customer).
    public var gradientTolerance: Double = 1e-6

    public init() {}
}

/// A small derivative-free minimiser: Nelder-Mead to get close, then BFGS with a central-difference gradient to
/// polish, plus a numerical Hessian for standard errors.
///
/// Objective values that are NaN or infinite are treated as `+infinity`, so a step into a region where the
/// likelihood cannot be evaluated is simply rejected; the result never holds NaN.
///
/// Tolerances, in the spirit of swift-numerics' `isApproximatelyEqual`: the central-difference gradient has
/// error about `h^2 |f'''| + ulp(f) / h` with `h = 1e-5 * max(1, |x|)`, so gradients below about 1e-9 (for
/// objectives of order 1) are noise; BFGS stops there or at ``OptimizerOptions/gradientTolerance``.
public enum Optimizer {
    /// Nelder-Mead, then a BFGS polish from the Nelder-Mead point.
    ///
    ///     x* = argmin f(x)
    ///
    /// ```swift
    /// let rosenbrock: ([Double]) -> Double = { x in
    ///     (1 - x[0]) * (1 - x[0]) + 100 * (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0])
    /// }
    /// let result = Optimizer.minimize(rosenbrock, from: [-1.2, 1])
    /// result.point        // ≈ [1, 1]
    /// result.converged    // true
    /// ```
    ///
    /// - Parameters:
    ///   - f: The objective; non-finite values count as `+infinity`.
    ///   - start: The starting point.
    ///   - options: Limits and tolerances.
    /// - Returns: The best point, its value, whether the BFGS stopping test was met, and counts.
    /// - Complexity: O(evaluations x cost of `f`); BFGS uses `2n` evaluations per gradient.
    public static func minimize(
        _ f: ([Double]) -> Double, from start: [Double], options: OptimizerOptions = OptimizerOptions()
    ) -> OptimizationResult {
        let nm = nelderMead(f, from: start, options: options)
        var polished = bfgs(f, from: nm.point, options: options)
        polished.evaluations += nm.evaluations
        polished.iterations += nm.iterations
        if nm.value < polished.value {
            polished.point = nm.point
            polished.value = nm.value
        }
        return polished
    }

    /// The Nelder-Mead simplex method (reflection 1, expansion 2, contraction 1/2, shrink 1/2).
    ///
    ///     x_r = c + (c - x_worst),  c = centroid of the best n vertices
    ///
    /// ```swift
    /// let result = Optimizer.nelderMead({ x in (x[0] - 3) * (x[0] - 3) }, from: [0])
    /// result.point[0]     // ≈ 3
    /// ```
    ///
    /// - Parameters:
    ///   - f: The objective; non-finite values count as `+infinity`.
    ///   - start: The starting point (one vertex of the initial simplex).
    ///   - options: Limits and tolerances.
    /// - Returns: The best vertex; `converged` when the simplex met the tolerance.
    /// - Complexity: O(iterations x (n + cost of `f`)).
    public static func nelderMead(
        _ f: ([Double]) -> Double, from start: [Double], options: OptimizerOptions = OptimizerOptions()
    ) -> OptimizationResult {
        let n = start.count
        var evaluations = 0
        func g(_ x: [Double]) -> Double {
            evaluations += 1
            let v = f(x)
            return v.isFinite ? v : .infinity
        }
        var simplex = [start]
        for i in 0..<n {
            var v = start
            v[i] += options.initialStep
            simplex.append(v)
        }
        var values = simplex.map(g)
        var iterations = 0
        var converged = false
        let xTolerance = options.nelderMeadTolerance.squareRoot()
        while iterations < options.nelderMeadMaxIterations {
            let order = (0...n).sorted { values[$0] < values[$1] }
            simplex = order.map { simplex[$0] }
            values = order.map { values[$0] }
            let spreadF = values[n] - values[0]
            var spreadX = 0.0
            for v in simplex.dropFirst() {
                for i in 0..<n { spreadX = max(spreadX, abs(v[i] - simplex[0][i])) }
            }
            if values[0].isFinite, spreadF <= options.nelderMeadTolerance * (abs(values[0]) + 1e-12),
                spreadX <= xTolerance
            {
                converged = true
                break
            }
            iterations += 1
            var centroid = [Double](repeating: 0, count: n)
            for v in simplex.dropLast() {
                for i in 0..<n { centroid[i] += v[i] / Double(n) }
            }
            func along(_ t: Double) -> [Double] {
                (0..<n).map { centroid[$0] + t * (simplex[n][$0] - centroid[$0]) }
            }
            let reflected = along(-1)
            let fr = g(reflected)
            if fr < values[0] {
                let expanded = along(-2)
                let fe = g(expanded)
                if fe < fr {
                    simplex[n] = expanded
                    values[n] = fe
                } else {
                    simplex[n] = reflected
                    values[n] = fr
                }
                continue
            }
            if fr < values[n - 1] {
                simplex[n] = reflected
                values[n] = fr
                continue
            }
            let outside = fr < values[n]
            let contracted = along(outside ? -0.5 : 0.5)
            let fc = g(contracted)
            if fc < (outside ? fr : values[n]) {
                simplex[n] = contracted
                values[n] = fc
                continue
            }
            for j in 1...n {
                simplex[j] = (0..<n).map { simplex[0][$0] + 0.5 * (simplex[j][$0] - simplex[0][$0]) }
                values[j] = g(simplex[j])
            }
        }
        let best = (0...n).min { values[$0] < values[$1] }!
        return OptimizationResult(
            point: simplex[best], value: values[best], converged: converged, iterations: iterations,
            evaluations: evaluations, gradientNorm: nil)
    }

    /// BFGS with a central-difference gradient and a backtracking (Armijo) line search.
    ///
    ///     H_{k+1} = (I - rho s y^T) H_k (I - rho y s^T) + rho s s^T,  rho = 1 / (y^T s)
    ///
    /// ```swift
    /// let result = Optimizer.bfgs({ x in x[0] * x[0] + 10 * x[1] * x[1] }, from: [1, 1])
    /// result.point        // ≈ [0, 0]
    /// ```
    ///
    /// - Parameters:
    ///   - f: The objective; non-finite values count as `+infinity`.
    ///   - start: The starting point; `f(start)` should be finite.
    ///   - options: Limits and tolerances.
    /// - Returns: The final point; `converged` when the largest gradient component is at most
    ///   ``OptimizerOptions/gradientTolerance``.
    /// - Complexity: O(iterations x (n^2 + 2n x cost of `f`)).
    public static func bfgs(
        _ f: ([Double]) -> Double, from start: [Double], options: OptimizerOptions = OptimizerOptions()
    ) -> OptimizationResult {
        let n = start.count
        var evaluations = 0
        func g(_ x: [Double]) -> Double {
            evaluations += 1
            let v = f(x)
            return v.isFinite ? v : .infinity
        }
        var x = start
        var fx = g(x)
        var grad = gradient(g, at: x)
        var h = identity(n)
        var iterations = 0
        var stalls = 0
        while iterations < options.bfgsMaxIterations, fx.isFinite {
            let gNorm = grad.map(abs).max() ?? 0
            if gNorm <= options.gradientTolerance * 1e-3 { break }
            iterations += 1
            var direction = (0..<n).map { i in -(0..<n).reduce(0.0) { $0 + h[i][$1] * grad[$1] } }
            var slope = zip(direction, grad).reduce(0.0) { $0 + $1.0 * $1.1 }
            if !(slope < 0) {
                h = identity(n)
                direction = grad.map { -$0 }
                slope = -grad.reduce(0.0) { $0 + $1 * $1 }
            }
            var step = 1.0
            var next = x
            var fNext = Double.infinity
            var accepted = false
            for _ in 0..<60 {
                next = (0..<n).map { x[$0] + step * direction[$0] }
                fNext = g(next)
                if fNext <= fx + 1e-4 * step * slope {
                    accepted = true
                    break
                }
                step *= 0.5
            }
            if !accepted {
                if h == identity(n) { break }
                h = identity(n)
                stalls += 1
                if stalls > 2 { break }
                continue
            }
            let gradNext = gradient(g, at: next)
            let s = (0..<n).map { next[$0] - x[$0] }
            let y = (0..<n).map { gradNext[$0] - grad[$0] }
            let ys = zip(y, s).reduce(0.0) { $0 + $1.0 * $1.1 }
            let improvement = fx - fNext
            x = next
            grad = gradNext
            let previous = fx
            fx = fNext
            if ys > 1e-300 {
                let rho = 1 / ys
                let hy = (0..<n).map { i in (0..<n).reduce(0.0) { $0 + h[i][$1] * y[$1] } }
                let yhy = zip(y, hy).reduce(0.0) { $0 + $1.0 * $1.1 }
                for i in 0..<n {
                    for j in 0..<n {
                        h[i][j] += -rho * (hy[i] * s[j] + s[i] * hy[j]) + (rho * rho * yhy + rho) * s[i] * s[j]
                    }
                }
            }
            if improvement <= 1e-16 * abs(previous) {
                stalls += 1
                if stalls > 2 { break }
            } else {
                stalls = 0
            }
        }
        let gNorm = grad.map(abs).max() ?? 0
        return OptimizationResult(
            point: x, value: fx, converged: fx.isFinite && gNorm <= options.gradientTolerance,
            iterations: iterations, evaluations: evaluations, gradientNorm: gNorm.isFinite ? gNorm : nil)
    }

    /// The central-difference gradient.
    ///
    ///     df/dx_i ≈ (f(x + h e_i) - f(x - h e_i)) / 2h,  h = 1e-5 max(1, |x_i|)
    ///
    /// ```swift
    /// Optimizer.gradient({ x in x[0] * x[0] }, at: [3])   // ≈ [6]
    /// ```
    ///
    /// - Parameters:
    ///   - f: The function.
    ///   - x: The point.
    /// - Returns: The gradient estimate (components may be non-finite if `f` is).
    /// - Complexity: 2n evaluations of `f`.
    public static func gradient(_ f: ([Double]) -> Double, at x: [Double]) -> [Double] {
        (0..<x.count).map { i in
            let h = 1e-5 * max(1, abs(x[i]))
            var up = x
            var down = x
            up[i] += h
            down[i] -= h
            return (f(up) - f(down)) / (up[i] - down[i])
        }
    }

    /// The central-difference Hessian.
    ///
    ///     d2f/dx_i dx_j ≈ (f(++) - f(+-) - f(-+) + f(--)) / (4 h_i h_j),  h_i = step max(|x_i|, 1e-8)
    ///
    /// ```swift
    /// Optimizer.hessian({ x in x[0] * x[0] * x[1] }, at: [1, 2])   // ≈ [[4, 2], [2, 0]]
    /// ```
    ///
    /// - Parameters:
    ///   - f: The function.
    ///   - x: The point.
    ///   - relativeStep: `h_i / |x_i|` (default 1e-4).
    /// - Returns: The symmetric Hessian estimate.
    /// - Complexity: `2n^2 + 1` evaluations of `f`.
    public static func hessian(_ f: ([Double]) -> Double, at x: [Double], relativeStep: Double = 1e-4) -> [[Double]] {
        let n = x.count
        let steps = x.map { relativeStep * max(abs($0), 1e-8) }
        let f0 = f(x)
        var result = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        func at(_ i: Int, _ di: Double, _ j: Int, _ dj: Double) -> Double {
            var p = x
            p[i] += di * steps[i]
            p[j] += dj * steps[j]
            return f(p)
        }
        for i in 0..<n {
            result[i][i] = (at(i, 1, i, 1) - 2 * f0 + at(i, -1, i, -1)) / (4 * steps[i] * steps[i])
            for j in (i + 1)..<max(n, i + 1) {
                let v = (at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1))
                    / (4 * steps[i] * steps[j])
                result[i][j] = v
                result[j][i] = v
            }
        }
        return result
    }

    /// Square roots of the diagonal of the inverse of a symmetric positive definite matrix (Cholesky).
    ///
    ///     se_i = sqrt((H^-1)_ii)
    ///
    /// ```swift
    /// Optimizer.standardErrors(fromHessian: [[4, 0], [0, 100]])   // [0.5, 0.1]
    /// ```
    ///
    /// - Parameter h: The Hessian of a negative log-likelihood at its minimum.
    /// - Returns: The standard errors, or `nil` when `h` is not positive definite or not finite.
    /// - Complexity: O(n^3).
    public static func standardErrors(fromHessian h: [[Double]]) -> [Double]? {
        let n = h.count
        var l = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            for j in 0...i {
                var s = h[i][j]
                for k in 0..<j { s -= l[i][k] * l[j][k] }
                if i == j {
                    guard s > 0, s.isFinite else { return nil }
                    l[i][i] = s.squareRoot()
                } else {
                    l[i][j] = s / l[j][j]
                }
            }
        }
        // Column i of L^-1, then (H^-1)_ii = sum_k (L^-1)_ki^2.
        var result = [Double]()
        for i in 0..<n {
            var column = [Double](repeating: 0, count: n)
            for k in i..<n {
                var s = k == i ? 1.0 : 0.0
                for m in i..<k { s -= l[k][m] * column[m] }
                column[k] = s / l[k][k]
            }
            let v = column.reduce(0) { $0 + $1 * $1 }
            guard v.isFinite else { return nil }
            result.append(v.squareRoot())
        }
        return result
    }

    private static func identity(_ n: Int) -> [[Double]] {
        (0..<n).map { i in (0..<n).map { $0 == i ? 1 : 0 } }
    }
}
