import Foundation

/// One customer as the "buy till you die" models see it (lifetimes' convention).
///
///     frequency = x   = purchase periods - 1 (repeat purchases)
///     recency   = t_x = last purchase - first purchase (age at the last purchase, NOT RFM recency)
///     T         = observation end - first purchase
///     monetaryValue = mean of the repeat purchase periods' sums (0 when x = 0)
///
/// All durations are in one time unit (CDNOW: days / 7 = weeks).
///
/// ```swift
/// let customer = BTYDObservation(frequency: 2, recency: 30.43, T: 38.86)
/// ```
public struct BTYDObservation: Hashable, Sendable, Codable {
    /// Repeat purchases x (a whole number >= 0).
    public var frequency: Double
    /// Age at the last purchase, t_x (0 when x = 0).
    public var recency: Double
    /// Age at the end of observation, T >= t_x.
    public var T: Double
    /// Mean value of the repeat purchases (only Gamma-Gamma reads it).
    public var monetaryValue: Double

    public init(frequency: Double, recency: Double, T: Double, monetaryValue: Double = 0) {
        self.frequency = frequency
        self.recency = recency
        self.T = T
        self.monetaryValue = monetaryValue
    }

    /// Checks the invariants the likelihoods rely on.
    ///
    /// - Parameter index: Position in the input, for the error.
    /// - Throws: ``ModelError`` `.invalidObservation` when x is not a whole number >= 0, a value is not finite,
    ///   or not 0 <= t_x <= T (t_x = 0 required when x = 0).
    /// - Complexity: O(1).
    public func validate(index: Int? = nil) throws(ModelError) {
        guard frequency.isFinite, recency.isFinite, T.isFinite, monetaryValue.isFinite else {
            throw ModelError(.invalidObservation, index: index, "values must be finite: \(self)")
        }
        guard frequency >= 0, frequency == frequency.rounded() else {
            throw ModelError(
                .invalidObservation, index: index, "frequency must be a whole number >= 0, got \(frequency)")
        }
        guard recency >= 0, recency <= T else {
            throw ModelError(.invalidObservation, index: index, "need 0 <= recency <= T, got \(recency) and \(T)")
        }
        guard frequency > 0 || recency == 0 else {
            throw ModelError(.invalidObservation, index: index, "recency must be 0 when frequency is 0, got \(recency)")
        }
    }

    /// BTYD observations from day-level purchases: purchases on the same day are merged (amounts summed).
    ///
    ///     x = distinct purchase days - 1,  t_x = (last day - first day) / daysPerPeriod,
    ///     T = (observationEnd - first day) / daysPerPeriod,  m = mean of the repeat days' sums
    ///
    /// Purchases after `observationEnd` are ignored; customers with none on or before it are absent.
    ///
    /// ```swift
    /// let purchases = [
    ///     DatedPurchase(customer: "a", day: 0, amount: 10), DatedPurchase(customer: "a", day: 7, amount: 4),
    /// ]
    /// let rows = BTYDObservation.summaries(of: purchases, observationEnd: 14, daysPerPeriod: 7)
    /// rows[0].observation     // x = 1, t_x = 1, T = 2, m = 4
    /// ```
    ///
    /// - Parameters:
    ///   - purchases: (customer, local day number, amount) triples in any order.
    ///   - observationEnd: The last day observed, inclusive.
    ///   - daysPerPeriod: The time unit in days (7 for weeks).
    /// - Returns: One row per customer, in order of first appearance in `purchases`.
    /// - Complexity: O(*n* log *n*) in the number of purchases.
    public static func summaries<Customer: Hashable & Sendable>(
        of purchases: some Sequence<DatedPurchase<Customer>>, observationEnd: Int64, daysPerPeriod: Double = 1
    ) -> [CustomerObservation<Customer>] {
        precondition(daysPerPeriod > 0, "daysPerPeriod must be > 0")
        return PurchaseDays(purchases, through: observationEnd).customers.map { entry in
            CustomerObservation(
                customer: entry.customer,
                observation: entry.observation(end: observationEnd, daysPerPeriod: daysPerPeriod))
        }
    }
}

/// A purchase on a local calendar day, the input to ``BTYDObservation/summaries(of:observationEnd:daysPerPeriod:)``
/// and ``CalibrationHoldout``.
public struct DatedPurchase<Customer: Hashable & Sendable>: Hashable, Sendable {
    public var customer: Customer
    /// Local day number (days since 1970-01-01 in the shop's time zone, as `PeriodCalendar.localDayNumber(of:)`).
    public var day: Int64
    /// The purchase amount in major units (e.g. dollars).
    public var amount: Double

    public init(customer: Customer, day: Int64, amount: Double) {
        self.customer = customer
        self.day = day
        self.amount = amount
    }
}

/// A customer and their BTYD observation.
public struct CustomerObservation<Customer: Hashable & Sendable>: Hashable, Sendable {
    public var customer: Customer
    public var observation: BTYDObservation

    public init(customer: Customer, observation: BTYDObservation) {
        self.customer = customer
        self.observation = observation
    }
}

extension DatedPurchase: Codable where Customer: Codable {}
extension CustomerObservation: Codable where Customer: Codable {}

/// Per customer, the distinct purchase days (sorted) with their summed amounts.
struct PurchaseDays<Customer: Hashable & Sendable> {
    struct Entry {
        var customer: Customer
        var days: [Int64]
        var amounts: [Double]

        func observation(end: Int64, daysPerPeriod: Double) -> BTYDObservation {
            let x = days.count - 1
            let repeatSum = amounts.dropFirst().reduce(0, +)
            return BTYDObservation(
                frequency: Double(x),
                recency: Double(days[x] - days[0]) / daysPerPeriod,
                T: Double(end - days[0]) / daysPerPeriod,
                monetaryValue: x > 0 ? repeatSum / Double(x) : 0)
        }
    }

    var customers: [Entry] = []

    init(_ purchases: some Sequence<DatedPurchase<Customer>>, through end: Int64) {
        var index: [Customer: Int] = [:]
        var raw: [[(Int64, Double)]] = []
        var names: [Customer] = []
        for p in purchases where p.day <= end {
            if let i = index[p.customer] {
                raw[i].append((p.day, p.amount))
            } else {
                index[p.customer] = raw.count
                raw.append([(p.day, p.amount)])
                names.append(p.customer)
            }
        }
        customers.reserveCapacity(raw.count)
        for (i, rows) in raw.enumerated() {
            let sorted = rows.sorted { $0.0 < $1.0 }
            var days: [Int64] = []
            var amounts: [Double] = []
            for (day, amount) in sorted {
                if days.last == day {
                    amounts[amounts.count - 1] += amount
                } else {
                    days.append(day)
                    amounts.append(amount)
                }
            }
            customers.append(Entry(customer: names[i], days: days, amounts: amounts))
        }
    }
}

/// Observations grouped by identical (x, t_x, T) with weights, and the distinct values indexed, so a likelihood
/// costs one pass over the groups with the per-x and per-duration logarithms computed once.
///
///     LL = sum over groups g of weight_g * LL(x_g, t_x,g, T_g)
///
/// ```swift
/// let data = try BTYDData(observations)   // 2,357 CDNOW customers -> 1,016 groups
/// data.customerCount                       // 2357
/// ```
public struct BTYDData: Sendable {
    /// Number of customers (sum of the weights).
    public let customerCount: Int
    /// Repeat purchases per group.
    public let frequency: [Double]
    /// t_x per group.
    public let recency: [Double]
    /// T per group.
    public let T: [Double]
    /// Customers per group.
    public let weight: [Double]

    // Distinct values and per-group indexes into them.
    let distinctX: [Double]
    let distinctT: [Double]
    let distinctRecency: [Double]
    let xIndex: [Int32]
    let tIndex: [Int32]
    let recencyIndex: [Int32]

    /// Number of distinct (x, t_x, T) groups.
    public var groupCount: Int { weight.count }

    /// Validates and groups observations.
    ///
    /// - Parameter observations: One per customer.
    /// - Throws: ``ModelError`` `.emptyInput` without observations, `.invalidObservation` for a bad row.
    /// - Complexity: O(*n*) expected (hashing).
    public init(_ observations: some Sequence<BTYDObservation>) throws(ModelError) {
        var groups: [GroupKey: Int] = [:]
        var fx: [Double] = []
        var ft: [Double] = []
        var fT: [Double] = []
        var w: [Double] = []
        var n = 0
        for o in observations {
            try o.validate(index: n)
            // +0.0 so that -0.0 and 0.0 share a group.
            let key = GroupKey(x: (o.frequency + 0).bitPattern, tx: (o.recency + 0).bitPattern, t: (o.T + 0).bitPattern)
            if let g = groups[key] {
                w[g] += 1
            } else {
                groups[key] = w.count
                fx.append(o.frequency)
                ft.append(o.recency)
                fT.append(o.T)
                w.append(1)
            }
            n += 1
        }
        guard n > 0 else { throw ModelError(.emptyInput, index: nil, "no observations") }
        customerCount = n
        frequency = fx
        recency = ft
        T = fT
        weight = w
        func intern(_ values: [Double]) -> ([Double], [Int32]) {
            var map: [Double: Int32] = [:]
            var distinct: [Double] = []
            let idx = values.map { v -> Int32 in
                if let i = map[v] { return i }
                let i = Int32(distinct.count)
                map[v] = i
                distinct.append(v)
                return i
            }
            return (distinct, idx)
        }
        (distinctX, xIndex) = intern(fx)
        (distinctT, tIndex) = intern(fT)
        (distinctRecency, recencyIndex) = intern(ft)
    }
}

struct GroupKey: Hashable {
    var x: UInt64
    var tx: UInt64
    var t: UInt64
}

/// A model input or fitting problem, with a stable ``code``.
public struct ModelError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
        /// No observations (or, for Gamma-Gamma, no repeat buyers).
        public static let emptyInput = Code(rawValue: "emptyInput")
        /// An observation breaks the BTYD invariants (see ``BTYDObservation/validate(index:)``).
        public static let invalidObservation = Code(rawValue: "invalidObservation")
        /// Gamma-Gamma needs monetary values > 0 for every repeat buyer.
        public static let nonPositiveMonetaryValue = Code(rawValue: "nonPositiveMonetaryValue")
        /// Day ranges given in the wrong order (e.g. calibration end after observation end).
        public static let invalidPeriod = Code(rawValue: "invalidPeriod")
    }

    public var code: Code
    /// Position of the offending observation in the input, when there is one.
    public var index: Int?
    public var description: String

    public init(_ code: Code, index: Int?, _ message: String) {
        self.code = code
        self.index = index
        self.description = index.map { "observation \($0): \(message)" } ?? message
    }
}

/// How a model fit went.
public struct FitDiagnostics: Hashable, Sendable, Codable {
    /// The full log-likelihood at the estimate (all constants included).
    public var logLikelihood: Double
    /// Whether the optimizer met its stopping test.
    public var converged: Bool
    /// Optimizer iterations (Nelder-Mead plus BFGS).
    public var iterations: Int
    /// Likelihood evaluations.
    public var evaluations: Int
    /// Customers in the fit.
    public var customers: Int
    /// Distinct (x, t_x, T) groups the likelihood was summed over.
    public var groups: Int
}

/// Fits positive parameters by minimising the mean negative log-likelihood over their logarithms, then computes
/// standard errors from the Hessian of the total negative log-likelihood in the original parameters.
func fitPositive(
    start: [Double], customers: Int, groups: Int, options: OptimizerOptions,
    logLikelihood: ([Double]) -> Double
) -> (parameters: [Double], standardErrors: [Double]?, diagnostics: FitDiagnostics) {
    let scale = 1 / Double(customers)
    let result = Optimizer.minimize({ theta in
        guard theta.allSatisfy({ abs($0) < 50 }) else { return .infinity }
        return -logLikelihood(theta.map(exp)) * scale
    }, from: start.map(log), options: options)
    let parameters = result.point.map(exp)
    let ll = logLikelihood(parameters)
    let hessian = Optimizer.hessian({ p in
        guard p.allSatisfy({ $0 > 0 }) else { return .infinity }
        let v = -logLikelihood(p)
        return v.isFinite ? v : .infinity
    }, at: parameters)
    let finite = ll.isFinite
    return (
        parameters, Optimizer.standardErrors(fromHessian: hessian),
        FitDiagnostics(
            logLikelihood: finite ? ll : -.infinity, converged: result.converged && finite,
            iterations: result.iterations, evaluations: result.evaluations, customers: customers, groups: groups)
    )
}
