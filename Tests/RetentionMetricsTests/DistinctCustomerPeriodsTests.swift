import Testing

@testable import RetentionMetrics

/// The open-addressing set answers exactly as `Set<UInt64>` over the same packed keys.
struct DistinctCustomerPeriodsTests {
    @Test(arguments: [0, 1, 1_000, 100_000])
    func insertAnswersAsASet(capacity: Int) {
        var rng = SplitMix(seed: 20_241_123 &+ UInt64(capacity))
        let base: Int64 = -5
        var fast = DistinctCustomerPeriods(base: base, capacity: capacity)
        var reference = Set<UInt64>()
        var insertedCount = 0
        for step in 0..<200_000 {
            // Few customers and periods early (many repeats), the extremes now and then.
            let customer: Int32 = step % 997 == 0 ? .max : Int32(truncatingIfNeeded: rng.next() % 5_000)
            let period: Int64 = step % 991 == 0 ? base + 0xFFFF_FFFF : base + Int64(rng.next() % 400)
            let key = UInt64(UInt32(bitPattern: customer)) << 32 | UInt64(period - base)
            let expected = reference.insert(key).inserted
            let inserted = fast.insert(customer: customer, period: period)
            #expect(inserted == expected)
            if expected { insertedCount += 1 }
        }
        #expect(insertedCount == reference.count)
        let first = fast.insert(customer: 0, period: base)  // the all-zero key is a key like any other
        let again = fast.insert(customer: 0, period: base)
        #expect(first && !again)
    }

    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
