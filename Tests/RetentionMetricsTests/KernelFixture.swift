import Foundation
import RetentionMetrics

/// Deterministic synthetic order histories for the kernel tests and the opt-in performance test.
///
/// About three orders per customer, skewed (a third of the orders open a new customer; the others go to an
/// earlier customer, recent ones more often), timestamps spread over `years` years and roughly ascending,
/// `refundShare` of the rows refunds.
struct KernelFixture {
    /// A small, fast, deterministic generator (SplitMix64).
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    }

    /// `count` orders starting at `start`, over `years` years.
    static func orders(
        count: Int, seed: UInt64 = 42, start: Int64 = 1_640_995_200, years: Double = 3, refundShare: Double = 0.02,
        currency: Currency = .usd
    ) -> [Order] {
        var random = Generator(state: seed)
        let span = years * 365.2425 * 86_400
        var customers = 0
        var orders: [Order] = []
        orders.reserveCapacity(count)
        for index in 0..<count {
            let customer: Int
            if customers == 0 || random.below(3) == 0 {
                customer = customers
                customers += 1
            } else {
                let u = random.unit()
                customer = customers - 1 - Int(Double(customers) * u * u)
            }
            let base = Double(index) / Double(max(count, 1)) * span
            let jitter = Double(random.below(7 * 86_400)) - 3.5 * 86_400
            let timestamp = start + Int64(max(0, base + jitter))
            var amount = Int64(100 + random.below(30_000))
            if random.unit() < refundShare { amount = -amount / 2 }
            orders.append(
                Order(
                    id: "o\(index)", customerID: "c\(customer)", timestamp: Timestamp(secondsSince1970: timestamp),
                    amount: amount, currency: currency))
        }
        return orders
    }

    static func ledger(count: Int, seed: UInt64 = 42, years: Double = 3, refundShare: Double = 0.02) -> OrderLedger {
        var ledger = OrderLedger()
        for order in orders(count: count, seed: seed, years: years, refundShare: refundShare) {
            try! ledger.append(order)
        }
        return ledger
    }
}

/// Wall-clock seconds of `body`, best of `runs`.
func bestSeconds<T>(runs: Int = 3, _ body: () throws -> T) rethrows -> (seconds: Double, result: T) {
    var best = Double.infinity
    var last: T?
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        let value = try body()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        best = min(best, elapsed)
        last = value
    }
    return (best, last!)
}
