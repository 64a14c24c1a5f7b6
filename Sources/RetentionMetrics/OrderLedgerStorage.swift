// Compact storage behind `OrderLedger`: an id hash, an open-addressing table of Int32 values and the order-id
// column. `package` so that the bulk loaders in RetentionStorage can build them directly.

/// The 64-bit hash the ledger uses for customer and order ids (over their UTF-8 bytes).
///
///     h = mix(... mix(seed ^ n ^ word_0) ^ word_1 ...)      words: little-endian 8-byte loads, last one padded
///
/// Not a security hash: equal hashes are always confirmed by comparing the ids themselves.
package enum IDHash {
    @inlinable @inline(__always)
    package static func mix(_ value: UInt64) -> UInt64 {
        let product = value.multipliedFullWidth(by: 0x9FB2_1C65_1E98_DF25)
        return product.high ^ product.low
    }

    /// The hash of `bytes`.
    @inlinable @inline(__always)
    package static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let n = bytes.count
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: n)
        var i = 0
        while i + 8 <= n {
            h = mix(h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        if i < n {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(bytes[i]) << shift
                shift += 8
                i += 1
            }
            h = mix(h ^ tail)
        }
        return mix(h ^ 0x2545_F491_4F6C_DD1D)
    }

    /// The hash of a string's UTF-8 bytes.
    @inlinable
    package static func hash(_ text: String) -> UInt64 {
        var copy = text
        return copy.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }

    /// The hash of an integer order id.
    @inlinable @inline(__always)
    package static func hash(integer value: Int64) -> UInt64 {
        mix(UInt64(bitPattern: value) ^ 0x9E37_79B9_7F4A_7C15)
    }
}

/// An open-addressing (linear probing) table of `Int32` values keyed by a 64-bit hash; callers confirm a hash
/// match with their own equality test. Slots hold `value + 1`, 0 is empty. Load factor at most 1/2: a probe that
/// misses costs the caller a comparison (often a cache miss), so short probe runs matter more than 4 bytes a slot.
package struct IDHashTable: Sendable {
    @usableFromInline package var slots: [Int32]
    @usableFromInline package var mask: Int
    package private(set) var count = 0

    /// A table that holds `minimumCapacity` values without growing.
    package init(minimumCapacity: Int = 0) {
        var capacity = 16
        while capacity < minimumCapacity * 2 + 2 { capacity *= 2 }
        slots = [Int32](repeating: 0, count: capacity)
        mask = capacity - 1
    }

    /// Adopts slots built elsewhere with the same probing rule (`hash & mask`, then +1).
    package init(slots: [Int32], count: Int) {
        precondition(slots.count >= 16 && slots.count & (slots.count - 1) == 0, "slot count must be a power of 2")
        self.slots = slots
        self.mask = slots.count - 1
        self.count = count
    }

    /// How many values fit before the table must grow.
    package var capacity: Int { slots.count / 2 }

    /// The first value under `hash` for which `matches` is true.
    @inlinable
    package func find(hash: UInt64, where matches: (Int32) -> Bool) -> Int32? {
        slots.withUnsafeBufferPointer { slots in
            var index = Int(truncatingIfNeeded: hash) & mask
            while true {
                let slot = slots[index]
                if slot == 0 { return nil }
                if matches(slot - 1) { return slot - 1 }
                index = (index + 1) & mask
            }
        }
    }

    /// Inserts `value` under `hash` (the caller knows it is absent); the table must have room.
    package mutating func insert(hash: UInt64, value: Int32) {
        precondition(count < capacity, "IDHashTable is full")
        let mask = self.mask
        slots.withUnsafeMutableBufferPointer { slots in
            var index = Int(truncatingIfNeeded: hash) & mask
            while slots[index] != 0 { index = (index + 1) & mask }
            slots[index] = value + 1
        }
        count += 1
    }

    /// Inserts `value`, doubling the table first when it is full; `rehash` gives a stored value's hash.
    package mutating func insert(hash: UInt64, value: Int32, rehash: (Int32) -> UInt64) {
        if count >= capacity {
            var larger = IDHashTable(minimumCapacity: 0)
            larger.slots = [Int32](repeating: 0, count: slots.count * 2)
            larger.mask = slots.count * 2 - 1
            for slot in slots where slot != 0 { larger.insert(hash: rehash(slot - 1), value: slot - 1) }
            self = larger
        }
        insert(hash: hash, value: value)
    }
}

/// The order-id column of an ``OrderLedger``, as compact as the ids allow.
///
/// - `affine`: every id so far is a canonical decimal integer equal to `first + row` (sequential ids):
///   nothing is stored and a lookup is a subtraction.
/// - `sortedIntegers`: canonical integers in strictly increasing order: one `Int64` per row, binary search.
/// - `integers`: canonical integers in any order: one `Int64` per row plus a hash table of rows.
/// - `strings`: anything else: the id bytes back to back in one arena, an end offset per row, a hash table.
///
/// A canonical integer is `0` or 1...18 digits without a leading zero, so that the integer and its text are
/// interchangeable (`"007"` is a string id, distinct from `"7"`).
package struct OrderIDStore: Sendable {
    package enum Kind: Sendable, Equatable { case affine, sortedIntegers, integers, strings }

    package private(set) var kind = Kind.affine
    package private(set) var count = 0
    private var first: Int64 = 0
    private var integers: [Int64] = []
    private var arena: [UInt8] = []
    private var ends: [UInt32] = []
    private var table = IDHashTable()

    package init() {}

    /// Sequential ids `first, first + 1, ...` for `count` rows (no storage).
    package init(affineFrom first: Int64, count: Int) {
        self.first = first
        self.count = count
    }

    /// The canonical integer `bytes` spell, or `nil`.
    @inlinable @inline(__always)
    package static func canonicalInteger(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        let n = bytes.count
        guard n >= 1, n <= 18 else { return nil }
        if bytes[0] == 0x30 { return n == 1 ? 0 : nil }
        var value: Int64 = 0
        for byte in bytes {
            let digit = byte &- 0x30
            guard digit < 10 else { return nil }
            value = value &* 10 &+ Int64(digit)
        }
        return value
    }

    /// The bytes in use: ids stored in the arena plus 8 bytes per stored integer, ends and table slots.
    package var storageBytes: Int {
        integers.capacity * 8 + arena.capacity + ends.capacity * 4 + table.slots.count * 4
    }

    // MARK: Lookup

    /// The row of integer id `value`.
    package func row(ofInteger value: Int64) -> Int? {
        switch kind {
        case .affine:
            return value >= first && value - first < Int64(count) ? Int(value - first) : nil
        case .sortedIntegers:
            var low = 0
            var high = integers.count
            while low < high {
                let middle = (low + high) / 2
                if integers[middle] < value { low = middle + 1 } else { high = middle }
            }
            return low < integers.count && integers[low] == value ? low : nil
        case .integers:
            return table.find(hash: IDHash.hash(integer: value)) { integers[Int($0)] == value }.map(Int.init)
        case .strings:
            var text = String(value)
            return text.withUTF8 { row(ofBytes: $0) }
        }
    }

    /// The row of the id spelled by `bytes`.
    package func row(ofBytes bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        if kind != .strings {
            guard let value = OrderIDStore.canonicalInteger(bytes) else { return nil }
            return row(ofInteger: value)
        }
        let hash = IDHash.hash(UnsafeRawBufferPointer(bytes))
        return arena.withUnsafeBufferPointer { arena in
            ends.withUnsafeBufferPointer { ends in
                table.find(hash: hash) { row in
                    let start = row == 0 ? 0 : Int(ends[Int(row) - 1])
                    let end = Int(ends[Int(row)])
                    guard end - start == bytes.count else { return false }
                    return bytes.isEmpty || memoryEqual(arena.baseAddress! + start, bytes.baseAddress!, bytes.count)
                }
            }
        }.map(Int.init)
    }

    /// The row of `id`.
    package func row(of id: String) -> Int? {
        var copy = id
        return copy.withUTF8 { row(ofBytes: $0) }
    }

    // MARK: Reading

    /// The id of `row` as text.
    package func string(at row: Int) -> String {
        precondition(row >= 0 && row < count, "row out of range")
        switch kind {
        case .affine: return String(first + Int64(row))
        case .sortedIntegers, .integers: return String(integers[row])
        case .strings:
            let start = row == 0 ? 0 : Int(ends[row - 1])
            return String(decoding: arena[start..<Int(ends[row])], as: UTF8.self)
        }
    }

    /// The integer id of `row`, when the store holds integers.
    package func integer(at row: Int) -> Int64? {
        switch kind {
        case .affine: return first + Int64(row)
        case .sortedIntegers, .integers: return integers[row]
        case .strings: return nil
        }
    }

    // MARK: Appending (the caller has checked that the id is absent)

    /// Appends integer id `value` (canonical, i.e. 0 ..< 10^18).
    package mutating func append(integer value: Int64) {
        switch kind {
        case .affine:
            if count == 0 {
                first = value
                count = 1
                return
            }
            if value == first + Int64(count) {
                count += 1
                return
            }
            let last = first + Int64(count) - 1
            integers = []
            integers.reserveCapacity(Swift.max(16, count * 2))
            for row in 0..<count { integers.append(first + Int64(row)) }
            kind = .sortedIntegers
            if value < last { indexIntegers() }
        case .sortedIntegers:
            if value <= integers[integers.count - 1] { indexIntegers() }
        case .integers:
            break
        case .strings:
            var text = String(value)
            text.withUTF8 { appendToArena($0, hash: IDHash.hash(UnsafeRawBufferPointer($0))) }
            return
        }
        integers.append(value)
        count += 1
        if kind == .integers {
            let integers = self.integers
            table.insert(hash: IDHash.hash(integer: value), value: Int32(count - 1)) {
                IDHash.hash(integer: integers[Int($0)])
            }
        }
    }

    /// Appends the id spelled by `bytes`.
    package mutating func append(bytes: UnsafeBufferPointer<UInt8>) {
        if kind != .strings {
            if let value = OrderIDStore.canonicalInteger(bytes) {
                append(integer: value)
                return
            }
            convertToStrings()
        }
        appendToArena(bytes, hash: IDHash.hash(UnsafeRawBufferPointer(bytes)))
    }

    /// Appends `id`.
    package mutating func append(_ id: String) {
        var copy = id
        copy.withUTF8 { append(bytes: $0) }
    }

    private mutating func indexIntegers() {
        kind = .integers
        table = IDHashTable(minimumCapacity: Swift.max(16, integers.count * 2))
        for row in integers.indices { table.insert(hash: IDHash.hash(integer: integers[row]), value: Int32(row)) }
    }

    private mutating func convertToStrings() {
        let rows = count
        var texts: [String] = []
        texts.reserveCapacity(rows)
        for row in 0..<rows { texts.append(string(at: row)) }
        kind = .strings
        integers = []
        count = 0
        arena = []
        ends = []
        ends.reserveCapacity(Swift.max(16, rows * 2))
        table = IDHashTable(minimumCapacity: Swift.max(16, rows * 2))
        for var text in texts { text.withUTF8 { appendToArena($0, hash: IDHash.hash(UnsafeRawBufferPointer($0))) } }
    }

    private mutating func appendToArena(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) {
        precondition(arena.count + bytes.count <= Int(UInt32.max), "order ids exceed 4 GiB in total")
        arena.append(contentsOf: bytes)
        ends.append(UInt32(arena.count))
        count += 1
        let arena = self.arena
        let ends = self.ends
        table.insert(hash: hash, value: Int32(count - 1)) { row in
            let start = row == 0 ? 0 : Int(ends[Int(row) - 1])
            return arena.withUnsafeBytes { all in
                IDHash.hash(UnsafeRawBufferPointer(rebasing: all[start..<Int(ends[Int(row)])]))
            }
        }
    }
}

@inline(__always)
private func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    for k in 0..<count where a[k] != b[k] { return false }
    return true
}
