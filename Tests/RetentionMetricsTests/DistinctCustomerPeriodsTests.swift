import Testing

@testable import RetentionMetrics

/// The open-addressing set answers exactly as `Set<UInt64>` over the same packed keys.
struct DistinctCustomerPeriodsTests {
    @Test(arguments: [0, 1, 1_000, 100_000])
    func insertAnswersAsASet(capacity: Int) {
        var rng = SeededGenerator(seed: 20_241_123 &+ UInt64(capacity))
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
}
