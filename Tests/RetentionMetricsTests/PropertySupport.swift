import RetentionMetrics

/// A small deterministic PRNG (SplitMix64) for property tests: the same seed gives the same cases on every
/// platform, and a failing case names its seed so it can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    private(set) var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The seeds of a property: `count` cases derived from one base seed, so a run is reproducible.
func propertySeeds(_ count: Int, base: UInt64 = 20_240_301) -> [UInt64] {
    (0..<UInt64(count)).map { base &+ $0 &* 7919 }
}

/// Random orders: unique ids, `customers` customers, timestamps over `days` days from 2023-01-01T00:00:00Z (so
/// several months), amounts from -50.00 to 500.00 with about one refund in ten.
func randomOrders(
    _ rng: inout SeededGenerator, count: Int, customers: Int, days: Int64 = 400, currency: Currency = .usd
) -> [Order] {
    let start: Int64 = 1_672_531_200
    return (0..<count).map { index in
        let customer = Int.random(in: 0..<max(customers, 1), using: &rng)
        let seconds = start + Int64.random(in: 0..<(days * 86_400), using: &rng)
        let refund = Int.random(in: 0..<10, using: &rng) == 0
        let amount = refund ? -Int64.random(in: 1...5_000, using: &rng) : Int64.random(in: 0...50_000, using: &rng)
        return Order(
            id: "o\(index)", customerID: "c\(customer)", timestamp: Timestamp(secondsSince1970: seconds),
            amount: amount, currency: currency)
    }
}

/// Summaries keyed by customer id, for comparisons that must not depend on customer order.
func keyed(_ summaries: CustomerSummaries) -> [String: CustomerSummary] {
    Dictionary(uniqueKeysWithValues: zip(summaries.customerIDs, summaries.summaries))
}
