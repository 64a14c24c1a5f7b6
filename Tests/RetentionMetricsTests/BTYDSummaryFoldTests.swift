import Testing

@testable import RetentionMetrics

/// The distinct-period count of customers past five periods in the one-pass BTYD summary: the worker's log of
/// (customer, period) pairs, radix-sorted and counted. (`BTYDSummaryOnePassTests` compares the whole summary with
/// the ledger path's.)
struct BTYDSummaryFoldTests {
    /// The radix sort equals `sorted()`: values of every width (one byte in use up to all eight), repeats, zero.
    @Test(arguments: [0, 1, 2, 255, 256, 5_000])
    func radixSortEqualsSorted(count: Int) {
        var random = KernelFixture.Generator(state: UInt64(count) + 1)
        for width in [8, 16, 47, 64] {
            let values: [UInt64] = (0..<count).map { index in
                let value = width == 64 ? random.next() : random.next() & ((1 << UInt64(width)) - 1)
                return index % 7 == 0 ? 0 : value
            }
            var work = values
            var scratch = [UInt64](repeating: 0, count: count)
            let sorted = work.withUnsafeMutableBufferPointer { work in
                scratch.withUnsafeMutableBufferPointer { scratch in Array(radixSort(work, scratch: scratch)) }
            }
            #expect(sorted == values.sorted(), "\(count) values of \(width) bits")
        }
    }

    /// Random pairs with many repeats: each key's count equals a set's; keys not in the log keep their state.
    @Test(arguments: [1, 2, 1_000, 70_000])
    func distinctPairsEqualASet(count: Int) {
        var random = KernelFixture.Generator(state: UInt64(count))
        let keyCount = 300
        var pairs: [UInt64] = []
        var expected: [Int: Set<UInt16>] = [:]
        for _ in 0..<count {
            // Keys below 200 only, so that 200..<300 stay untouched; few periods per key, sometimes the extremes.
            let key = random.below(200)
            let period = random.below(10) == 0 ? UInt16.max - 1 - UInt16(random.below(2)) : UInt16(random.below(40))
            pairs.append(UInt64(key) << 16 | UInt64(period))
            expected[key, default: []].insert(period)
        }
        let states = UnsafeMutablePointer<BTYDSummaryFold.State>.allocate(capacity: keyCount)
        defer { states.deallocate() }
        states.initialize(repeating: BTYDSummaryFold.State(count: 6), count: keyCount)
        #expect(pairs.withUnsafeMutableBufferPointer { countDistinctPairs($0, into: states) })
        for key in 0..<keyCount {
            #expect(Int(states[key].count) == (expected[key]?.count ?? 6), "key \(key)")
        }
    }

    /// Every one of the 65,536 16-bit periods for one key is more than the state's `UInt16` count holds: the count
    /// declines (the fold gives up, as the row-by-row count did). 65,535 are counted.
    @Test func tooManyPeriodsDeclines() {
        var pairs = (0...UInt64(UInt16.max)).map { 6 << 16 | $0 }
        let states = UnsafeMutablePointer<BTYDSummaryFold.State>.allocate(capacity: 8)
        defer { states.deallocate() }
        states.initialize(repeating: BTYDSummaryFold.State(), count: 8)
        #expect(!pairs.withUnsafeMutableBufferPointer { countDistinctPairs($0, into: states) })
        pairs.removeLast()
        #expect(pairs.withUnsafeMutableBufferPointer { countDistinctPairs($0, into: states) })
        #expect(states[6].count == UInt16.max)
    }
}
