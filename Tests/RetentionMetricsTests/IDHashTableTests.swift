import Testing

@testable import RetentionMetrics

/// The hash table behind hashed customer and order ids: a probe compares a stored id only when the slot's tag (the
/// hash's high 32 bits) agrees, always confirms it, and growth keeps every value, densely numbered or not.
@Suite struct IDHashTableTests {
    /// Hashes that share a slot (low bits) and differ in tag, or share both.
    static let slot: UInt64 = 0x0000_0000_0000_0005
    static let tagA: UInt64 = 0xAAAA_AAAA_0000_0000
    static let tagB: UInt64 = 0xBBBB_BBBB_0000_0000

    @Test func aProbeComparesOnlyAgreeingTagsAndConfirmsThem() {
        var table = IDHashTable()
        table.insert(hash: Self.tagA | Self.slot, value: 0)
        table.insert(hash: Self.tagB | Self.slot, value: 1)
        table.insert(hash: Self.tagA | Self.slot, value: 2)  // same hash as value 0: a collision of ids
        var compared: [Int32] = []
        let found = table.find(hash: Self.tagA | Self.slot) { value in
            compared.append(value)
            return value == 2
        }
        #expect(found == 2)
        #expect(compared == [0, 2])  // value 1 has another tag: never compared
        #expect(table.find(hash: Self.tagB | Self.slot) { _ in true } == 1)
        #expect(table.find(hash: Self.tagB | Self.slot) { _ in false } == nil)
        // Linear probing put the three in slots 5, 6, 7: a probe starting at 6 walks on to the next agreeing tag.
        #expect(table.find(hash: Self.tagA | 6) { _ in true } == 2)
        // The first value of an agreeing tag (what a batch requests before its look-ups): none for another tag.
        #expect(table.find(hash: Self.tagA | Self.slot) { _ in true } == 0)
        #expect(table.find(hash: 0xCCCC_CCCC_0000_0000 | Self.slot) { _ in true } == nil)
    }

    /// Growth from 16 slots to 2^15: every value is found again under its hash, whether the values were inserted
    /// as `0, 1, 2...` (rehashed in value order) or in another order (rehashed in slot order).
    @Test(arguments: [true, false])
    func growthKeepsEveryValue(dense: Bool) {
        let count = 10_000
        func hash(_ value: Int32) -> UInt64 { IDHash.hash(integer: Int64(value) * 7_919) }
        let values = dense ? Array(0..<Int32(count)) : (0..<Int32(count)).map { Int32(count) - 1 - $0 }
        var table = IDHashTable()
        for value in values { table.insert(hash: hash(value), value: value, rehash: hash) }
        #expect(table.count == count)
        #expect(table.capacity >= count)
        for value in values { #expect(table.find(hash: hash(value)) { $0 == value } == value) }
        #expect(table.find(hash: hash(Int32(count))) { _ in true } == nil)
    }
}
