/// A deterministic stream of realistic synthetic orders, for tests, benchmarks and examples.
///
/// The shape follows what shop data looks like:
///
///     orders of customer c = 1 + extras(c)
///     extras(c)            = share of (count - customers) proportional to a weight w(c):
///                            w = 0 with probability oneTimeShare (one-time buyers),
///                            w ~ Pareto(alpha = 1.3) otherwise (a few customers buy very often)
///     day of an order      = uniform over the span, months weighted (November x1.5, December x1.7)
///     amount (cents)       = round(exp(mu_c + 0.6 z)), mu_c = ln(4500) + 0.5 z_c, z ~ N(0, 1); at least 100
///
/// A customer's first order falls anywhere in the span; the others fall between it and the end, and a customer's
/// share of the repeat orders is scaled by the part of the span left after the first order, so the pace of
/// buying does not depend on when a customer arrived. With a
/// `refundShare` above 0, some non-first orders become refunds of the customer's previous purchase.
///
/// ```swift
/// let orders = SyntheticOrders(count: 10_000_000, seed: 7)      // 3,333,333 customers, 2021-01-01 + 3 years
/// try await store.append(contentsOf: orders, batchSize: 50_000) // streams: never 10M orders in memory
/// ```
///
/// Determinism: the same parameters give the same orders on every platform and Swift version. The generator is
/// xoshiro256** seeded by SplitMix64, uniform integers use Lemire's method, and the only real functions are
/// `exp` and `log` implemented here with `+ - * /` (IEEE-754 correctly rounded everywhere), never the
/// platform's libm or the standard library's `random(in:)`.
///
/// Orders are emitted customer by customer (customer `C1`'s orders by time, then `C2`'s, ...), with order ids
/// `O1...` numbered in emission order, zero-padded to a fixed width. Sort by timestamp if time order matters.
///
/// - Complexity: creating the sequence is O(customers) (a pass over the customer weights); iterating is O(1)
///   per order, with memory O(orders of the most active customer).
public struct SyntheticOrders: Sequence, Sendable {
    /// Number of orders produced (refund rows included).
    public let count: Int
    /// Number of distinct customers; each has at least one order.
    public let customers: Int
    /// The first day of the span (UTC).
    public let start: CivilDate
    /// The span's length in calendar years.
    public let years: Int
    public let seed: UInt64
    public let currency: Currency
    /// The probability that a customer buys exactly once before weights are applied (default 0.6).
    public let oneTimeShare: Double
    /// The probability that a non-first order is a refund of the customer's previous purchase (default 0).
    public let refundShare: Double

    private let totalWeight: Double
    private let startDay: Int64
    private let endDay: Int64

    /// A generator of `count` orders.
    ///
    /// - Parameters:
    ///   - count: Orders to produce, >= 0.
    ///   - customers: Distinct customers, 1...count (default count / 3, at least 1).
    ///   - start: First day of the span (default 2021-01-01).
    ///   - years: Span length in years, >= 1 (default 3).
    ///   - seed: The PRNG seed; the same seed gives the same orders.
    ///   - currency: The orders' currency (default USD).
    ///   - oneTimeShare: In 0...1 (default 0.6).
    ///   - refundShare: In 0...1 (default 0).
    public init(
        count: Int, customers: Int? = nil, start: CivilDate = CivilDate(year: 2021, month: 1, day: 1)!,
        years: Int = 3, seed: UInt64 = 42, currency: Currency = .usd, oneTimeShare: Double = 0.6,
        refundShare: Double = 0
    ) {
        precondition(count >= 0, "count must be >= 0")
        let customers = customers ?? Swift.max(1, count / 3)
        precondition(count == 0 || (1...count).contains(customers), "customers must be in 1...count")
        precondition(years >= 1, "years must be >= 1")
        precondition((0...1).contains(oneTimeShare) && (0...1).contains(refundShare), "shares must be in 0...1")
        self.count = count
        self.customers = count == 0 ? 0 : customers
        self.start = start
        self.years = years
        self.seed = seed
        self.currency = currency
        self.oneTimeShare = oneTimeShare
        self.refundShare = refundShare
        let endYear = start.year + years
        let end = CivilDate(
            year: endYear, month: start.month,
            day: Swift.min(start.day, CivilDate.daysInMonth(year: endYear, month: start.month)))!
        self.startDay = start.daysSince1970
        self.endDay = end.daysSince1970
        var total = 0.0
        for customer in 0..<self.customers {
            total += SyntheticOrders.weight(
                customer: customer, seed: seed, oneTimeShare: oneTimeShare, startDay: startDay, endDay: endDay
            ).weight
        }
        self.totalWeight = total
    }

    /// The customer's repeat weight, first purchase day and PRNG; the same draws start the customer's stream in
    /// the iterator. The weight is scaled by the share of the span left after the first purchase, so a customer who
    /// arrives late buys at the same pace as one who arrived early (no pile-up of orders in recent cohorts).
    static func weight(customer: Int, seed: UInt64, oneTimeShare: Double, startDay: Int64, endDay: Int64)
        -> (weight: Double, firstDay: Int64, rng: Xoshiro256StarStar)
    {
        var rng = Xoshiro256StarStar(seed: seed ^ (UInt64(customer) &* 0x9E37_79B9_7F4A_7C15))
        let repeats = rng.nextUnitInterval() >= oneTimeShare
        // u in (0, 1]: Pareto(1.3) weight u^(-1/1.3), capped to keep one customer from taking everything.
        let u = 1 - rng.nextUnitInterval()
        let pace = repeats ? Swift.min(PortableMath.exp(-PortableMath.log(u) / 1.3), 1e6) : 0
        let firstDay = seasonalDay(from: startDay, to: endDay, &rng)
        let remaining = Double(endDay - firstDay) / Double(Swift.max(endDay - startDay, 1))
        return (pace * remaining, firstDay, rng)
    }

    /// A day in `[from, to)` drawn with month weights (in 26ths: November 22, December 26, others 13...16).
    static func seasonalDay(from: Int64, to: Int64, _ rng: inout Xoshiro256StarStar) -> Int64 {
        let span = UInt64(Swift.max(to - from, 1))
        while true {
            let day = from + Int64(rng.next(below: span))
            let month = CivilDate(daysSince1970: day).month
            if rng.next(below: 26) < SyntheticOrders.monthWeights[month - 1] { return day }
        }
    }

    public func makeIterator() -> Iterator { Iterator(self) }

    public var underestimatedCount: Int { count }

    /// Produces the orders customer by customer.
    public struct Iterator: IteratorProtocol, Sendable {
        private let source: SyntheticOrders
        private var customer = 0
        private var cumulativeWeight = 0.0
        private var extrasSoFar = 0
        private var emitted = 0
        private var pending: [(timestamp: Int64, amount: Int64)] = []
        private var pendingIndex = 0
        private let orderWidth: Int
        private let customerWidth: Int

        init(_ source: SyntheticOrders) {
            self.source = source
            orderWidth = String(source.count).count
            customerWidth = String(source.customers).count
        }

        public mutating func next() -> Order? {
            while pendingIndex == pending.count {
                guard customer < source.customers else { return nil }
                fillCustomer()
            }
            let (timestamp, amount) = pending[pendingIndex]
            pendingIndex += 1
            emitted += 1
            return Order(
                id: "O" + padded(emitted, orderWidth), customerID: "C" + padded(customer, customerWidth),
                timestamp: Timestamp(secondsSince1970: timestamp), amount: amount, currency: source.currency)
        }

        /// Generates the next customer's orders into `pending` and advances `customer` (1-based in ids).
        private mutating func fillCustomer() {
            let drawn = SyntheticOrders.weight(
                customer: customer, seed: source.seed, oneTimeShare: source.oneTimeShare, startDay: source.startDay,
                endDay: source.endDay)
            var rng = drawn.rng
            customer += 1
            let extrasTotal = source.count - source.customers
            let extrasUpToHere: Int
            if customer == source.customers {
                extrasUpToHere = extrasTotal
            } else if source.totalWeight > 0 {
                cumulativeWeight += drawn.weight
                let share = (Double(extrasTotal) * (cumulativeWeight / source.totalWeight)).rounded(.down)
                extrasUpToHere = Swift.min(extrasTotal, Swift.max(extrasSoFar, Int(share)))
            } else {
                // No repeat weights at all: spread the extra orders evenly.
                extrasUpToHere = extrasTotal * customer / source.customers
            }
            let orders = 1 + extrasUpToHere - extrasSoFar
            extrasSoFar = extrasUpToHere

            let firstDay = drawn.firstDay
            var instants = [firstDay * 86_400 + Int64(rng.next(below: 86_400))]
            for _ in 1..<Swift.max(orders, 1) {
                instants.append(
                    SyntheticOrders.seasonalDay(from: firstDay, to: source.endDay, &rng) * 86_400
                        + Int64(rng.next(below: 86_400)))
            }
            instants.sort()
            let typical = PortableMath.log(4_500) + 0.5 * rng.nextStandardNormal()
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0
            var lastPurchase: Int64?
            for (index, instant) in instants.enumerated() {
                let cents = PortableMath.exp(typical + 0.6 * rng.nextStandardNormal()).rounded()
                let purchase = Swift.max(100, Int64(Swift.min(cents, 1e12)))
                let refund = rng.nextUnitInterval() < source.refundShare
                if index > 0, refund, let previous = lastPurchase {
                    pending.append((instant, -previous))
                    lastPurchase = nil
                } else {
                    pending.append((instant, purchase))
                    lastPurchase = purchase
                }
            }
        }

        private func padded(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: Swift.max(0, width - text.count)) + text
        }
    }

    /// Relative order volume per month, January first (acceptance weights out of 26).
    static let monthWeights: [UInt64] = [14, 13, 15, 15, 15, 15, 15, 15, 15, 16, 22, 26]
}

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny 64-bit generator, used here to seed ``Xoshiro256StarStar``.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** 1.0 (Blackman & Vigna 2018): a fast, high-quality 64-bit generator with a 256-bit state.
///
/// ```swift
/// var rng = Xoshiro256StarStar(state: (1, 2, 3, 4))
/// rng.next()   // 11520, the reference implementation's first output for this state
/// ```
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    /// A generator whose state is four outputs of SplitMix64 seeded with `seed` (the authors' recommendation).
    public init(seed: UInt64) {
        var mix = SplitMix64(seed: seed)
        s0 = mix.next()
        s1 = mix.next()
        s2 = mix.next()
        s3 = mix.next()
    }

    /// A generator with an explicit state, which must not be all zero.
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        precondition(state != (0, 0, 0, 0), "the xoshiro state must not be all zero")
        (s0, s1, s2, s3) = state
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    /// A uniform integer in `0 ..< bound` (Lemire's nearly-divisionless method, unbiased).
    public mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0, "bound must be positive")
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = next().multipliedFullWidth(by: bound) }
        }
        return product.high
    }

    /// A uniform double in `[0, 1)` with 53 random bits.
    public mutating func nextUnitInterval() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// An approximately standard normal variate: the Irwin-Hall sum of 12 uniforms minus 6 (mean 0, variance
    /// 1, support -6...6), chosen because it needs no transcendental function.
    public mutating func nextStandardNormal() -> Double {
        var sum = 0.0
        for _ in 0..<12 { sum += nextUnitInterval() }
        return sum - 6
    }

    @inline(__always)
    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// `exp` and `log` from `+ - * /` only, so results are bit-identical on every IEEE-754 platform (libm's may
/// differ in the last place between glibc and Darwin). Relative error below 1e-15 on the ranges used.
enum PortableMath {
    static let ln2 = 0.693_147_180_559_945_3

    /// e^x for |x| < 700.
    static func exp(_ x: Double) -> Double {
        precondition(abs(x) < 700, "exp argument out of range")
        let k = (x / ln2).rounded()
        let r = x - k * ln2
        // Taylor series of e^r for |r| <= ln2 / 2, Horner form, 18 terms (error < 1e-17).
        var sum = 1.0
        for i in stride(from: 18, through: 1, by: -1) { sum = 1 + sum * r / Double(i) }
        return Double(sign: .plus, exponent: Int(k), significand: sum)
    }

    /// ln x for x > 0 (finite, normal).
    static func log(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite, "log argument must be positive and finite")
        var exponent = Int(x.exponent)
        var m = x.significand  // [1, 2)
        if m > 1.414_213_562_373_095 {
            m /= 2
            exponent += 1
        }
        // ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716: 2 (s + s^3/3 + s^5/5 + ...).
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var sum = 0.0
        for i in stride(from: 41, through: 1, by: -2) { sum = 1 / Double(i) + s2 * sum }
        return Double(exponent) * ln2 + 2 * s * sum
    }
}
