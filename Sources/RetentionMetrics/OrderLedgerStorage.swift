// Compact storage behind `OrderLedger`: an id hash, an open-addressing table of Int32 values and the order-id
// column. `package` so that the bulk loaders in RetentionStorage can build them directly.

internal import CRetentionPrefetch
import Dispatch

/// The 64-bit hash the ledger uses for customer and order ids (over their UTF-8 bytes).
///
///     h = mix(... mix(seed ^ n ^ word_0) ^ word_1 ...)      words: little-endian 8-byte loads, last one padded
///
/// Not a security hash: equal hashes are always confirmed by comparing the ids themselves.
///
/// `@usableFromInline`, as ``IDHashTable`` and ``DigitPattern``: the `@inlinable` methods of a plain `package`
/// type are not inlined into another module.
@usableFromInline
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
/// match with their own equality test. A slot holds `value + 1` in its low 32 bits and the high 32 bits of the
/// hash as a tag; 0 is empty. A probe calls the caller's test only when the tags agree: the test usually reads
/// the stored id (a cache miss), so a probe past other ids costs no miss but the slot's. Load factor at most 1/2.
@usableFromInline
package struct IDHashTable: Sendable {
    @usableFromInline package var slots: [UInt64]
    @usableFromInline package var mask: Int
    package private(set) var count = 0
    /// Whether every value was inserted as the count at that time, so that the values are exactly `0..<count`:
    /// growing can then rehash them in that order (callers' ids stored in value order are read sequentially)
    /// instead of in slot order (a random access per value).
    private var dense = true

    /// A table that holds `minimumCapacity` values without growing.
    package init(minimumCapacity: Int = 0) {
        var capacity = 16
        while capacity < minimumCapacity * 2 + 2 { capacity *= 2 }
        slots = IDHashTable.zeroedSlots(capacity)
        mask = capacity - 1
    }

    /// `count` empty slots; from 8 MiB on, in memory marked for huge pages before it is zeroed (fresh memory's
    /// first touch costs far less in 2 MiB pages than in 4 KiB ones).
    static func zeroedSlots(_ count: Int) -> [UInt64] {
        guard count >= 1 << 20 else { return [UInt64](repeating: 0, count: count) }
        var slots = [UInt64]()
        slots.reserveCapacity(count)
        adviseHugePages(&slots)
        slots.append(contentsOf: repeatElement(0, count: count))
        return slots
    }

    /// How many values fit before the table must grow.
    package var capacity: Int { slots.count / 2 }

    /// The slot of `value` under `hash`.
    @inlinable @inline(__always)
    package static func slot(hash: UInt64, value: Int32) -> UInt64 {
        hash & 0xFFFF_FFFF_0000_0000 | UInt64(UInt32(bitPattern: value &+ 1))
    }

    /// The value a full slot holds.
    @inlinable @inline(__always)
    package static func value(_ slot: UInt64) -> Int32 {
        Int32(bitPattern: UInt32(truncatingIfNeeded: slot)) &- 1
    }

    /// The first value under `hash` for which `matches` is true.
    @inlinable
    package func find(hash: UInt64, where matches: (Int32) -> Bool) -> Int32? {
        slots.withUnsafeBufferPointer { slots in
            let tag = hash & 0xFFFF_FFFF_0000_0000
            var index = Int(truncatingIfNeeded: hash) & mask
            while true {
                let slot = slots[index]
                if slot == 0 { return nil }
                if slot & 0xFFFF_FFFF_0000_0000 == tag {
                    let value = Self.value(slot)
                    if matches(value) { return value }
                }
                index = (index + 1) & mask
            }
        }
    }

    /// Asks for the slot where a look-up of `hash` starts (a batch requests its ids' slots before looking them up,
    /// so that the cache misses overlap).
    @inline(__always)
    package func prefetch(hash: UInt64) {
        slots.withUnsafeBufferPointer {
            retention_prefetch_for_write($0.baseAddress! + (Int(truncatingIfNeeded: hash) & mask))
        }
    }

    /// Inserts `value` under `hash` (the caller knows it is absent); the table must have room.
    package mutating func insert(hash: UInt64, value: Int32) {
        precondition(count < capacity, "IDHashTable is full")
        let mask = self.mask
        slots.withUnsafeMutableBufferPointer { slots in
            var index = Int(truncatingIfNeeded: hash) & mask
            while slots[index] != 0 { index = (index + 1) & mask }
            slots[index] = Self.slot(hash: hash, value: value)
        }
        dense = dense && value == Int32(truncatingIfNeeded: count)
        count += 1
    }

    /// Inserts `value`, doubling the table first when it is full; `rehash` gives a stored value's hash.
    package mutating func insert(hash: UInt64, value: Int32, rehash: (Int32) -> UInt64) {
        if count >= capacity {
            var larger = IDHashTable(minimumCapacity: 0)
            larger.slots = IDHashTable.zeroedSlots(slots.count * 2)
            larger.mask = slots.count * 2 - 1
            if dense {
                // In value order, each value's new slot requested 16 values ahead: the inserts land in random
                // slots of fresh memory, a cache miss each otherwise.
                let total = Int32(truncatingIfNeeded: count)
                withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 16) { ahead in
                    for old in 0..<Swift.min(16, total) {
                        ahead[Int(old)] = rehash(old)
                        larger.prefetch(hash: ahead[Int(old)])
                    }
                    for old in 0..<total {
                        let hash = ahead[Int(old & 15)]
                        if old + 16 < total {
                            ahead[Int(old & 15)] = rehash(old + 16)
                            larger.prefetch(hash: ahead[Int(old & 15)])
                        }
                        larger.insert(hash: hash, value: old)
                    }
                }
            } else {
                for slot in slots where slot != 0 {
                    let old = Self.value(slot)
                    larger.insert(hash: rehash(old), value: old)
                }
            }
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
///
/// `@usableFromInline` (with the fields ``nextInSequence(_:)`` reads), so that that test is inlined into the CSV
/// loader's row loop, as ``DigitPattern``'s methods are.
@usableFromInline
package struct OrderIDStore: Sendable {
    @usableFromInline
    package enum Kind: Sendable, Equatable { case affine, sortedIntegers, integers, strings }

    @usableFromInline package private(set) var kind = Kind.affine
    @usableFromInline package private(set) var count = 0
    /// How integer ids are spelled (set from the first id, or by ``adopt(pattern:)``): `1001`, `O00000042`.
    @usableFromInline package private(set) var pattern = DigitPattern.plain
    private var patternSet = false
    /// The first id of an ``Kind/affine`` store.
    @usableFromInline private(set) var first: Int64 = 0
    private var integers: [Int64] = []
    private var arena: [UInt8] = []
    private var ends: [UInt32] = []
    private var table = IDHashTable()
    /// Whether string ids wait for their table (see ``startDeferredStrings()``).
    package private(set) var deferred = false
    /// The hash of each id while ``deferred`` (string ids).
    private var hashes: [UInt64] = []
    /// Whether integer ids that come out of increasing order are kept without a table (``deferIntegerIndex()``).
    private var defersIntegerIndex = false

    package init() {}

    /// Makes an empty store keep string ids (whatever they look like) with their hashes and no table: appending
    /// an id is a copy, looking one up finds nothing. A bulk loader reading a file in two parts gives each part
    /// such a store and checks the ids of both for repeats once, while ``joinedTable(_:_:)`` builds their one table.
    package mutating func startDeferredStrings(reservingCapacity rows: Int = 0) {
        precondition(count == 0, "startDeferredStrings() before the first id")
        kind = .strings
        deferred = true
        patternSet = true
        reserveDeferred(rows: rows, bytes: 0)
    }

    /// Makes an empty store of integer ids keep them without a table once they come out of increasing order
    /// (then ``deferred``, kind ``Kind/integers``): looking one up finds nothing from then on. A bulk loader
    /// reading a file in two parts checks both parts' ids for repeats once, in the table
    /// ``joinedTable(_:_:)`` builds; a streaming pass keeps them as bits instead, or calls ``indexDeferred()``.
    package mutating func deferIntegerIndex() {
        precondition(count == 0, "deferIntegerIndex() before the first id")
        defersIntegerIndex = true
    }

    /// Room for `rows` more deferred ids of `bytes` in all, in memory marked for huge pages.
    package mutating func reserveDeferred(rows: Int, bytes: Int) {
        guard deferred, rows > 0 else { return }
        ends.reserveCapacity(count + rows)
        hashes.reserveCapacity(count + rows)
        arena.reserveCapacity(arena.count + bytes)
        adviseHugePages(&ends)
        adviseHugePages(&hashes)
        adviseHugePages(&arena)
    }

    /// Sequential ids `first, first + 1, ...` for `count` rows (no storage).
    package init(affineFrom first: Int64, count: Int) {
        self.first = first
        self.count = count
    }

    /// Sets the spelling of integer ids before the first id (a bulk loader that splits a file gives every part
    /// the pattern of the file's first id).
    package mutating func adopt(pattern: DigitPattern) {
        precondition(count == 0, "adopt(pattern:) before the first id")
        self.pattern = pattern
        patternSet = true
    }

    /// The integer key `bytes` spell under this store's pattern (`nil` once the store holds strings).
    @inlinable @inline(__always)
    package func integer(of bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        kind == .strings ? nil : pattern.key(bytes)
    }

    /// `a` followed by `b` without any lookup, when both hold increasing integer ids of one pattern and `b`'s
    /// first id is above `a`'s last (so no id of `b` is in `a`); else `nil`.
    package static func concatenated(_ a: OrderIDStore, _ b: OrderIDStore) -> OrderIDStore? {
        if b.count == 0 { return a }
        if a.count == 0 { return b }
        let increasing: Set<Kind> = [.affine, .sortedIntegers]
        guard increasing.contains(a.kind), increasing.contains(b.kind),
            let pattern = DigitPattern.common(a.pattern, b.pattern),
            let last = a.integer(at: a.count - 1), let next = b.integer(at: 0), next > last
        else { return nil }
        var result = a
        result.pattern = pattern
        if a.kind == .affine && b.kind == .affine && next == last + 1 {
            result.count += b.count
            return result
        }
        if result.kind == .affine { result.integers = (0..<a.count).map { a.first + Int64($0) } }
        result.kind = .sortedIntegers
        result.integers.reserveCapacity(a.count + b.count)
        for row in 0..<b.count { result.integers.append(b.integer(at: row)!) }
        result.count += b.count
        return result
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
        integers.capacity * 8 + arena.capacity + ends.capacity * 4 + table.slots.count * 8 + hashes.capacity * 8
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
            var text = pattern.string(value)
            return text.withUTF8 { row(ofBytes: $0) }
        }
    }

    /// The key of the id spelled by `bytes` when it is the next id of an ``Kind/affine`` store (`first + count`),
    /// hence new without a look-up; `nil` otherwise (then ``lookUp(bytes:)``). `lookUp(bytes:) == (key, nil)`
    /// whenever this returns `key`. Inlined into the loaders' row loops: an export's increasing ids cost a parse
    /// and a comparison there, no call and no copy of the store.
    @inlinable @inline(__always)
    package func nextInSequence(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard kind == .affine, let key = pattern.key(bytes), key == first &+ Int64(count) else { return nil }
        return key
    }

    /// The integer key of the id spelled by `bytes` (``integer(of:)``) and its row (``row(ofInteger:)`` or
    /// ``row(ofBytes:)``), in one call for a loader's or a tracker's row.
    ///
    /// `mutating` only so that callers pass the store by address (it changes nothing): a non-mutating call on a
    /// stored property of a mutating caller made the compiler copy the whole store (129 bytes) for each call, two
    /// `memcpy`s a row that took 9% of a one-pass report's CPU.
    package mutating func lookUp(bytes: UnsafeBufferPointer<UInt8>) -> (key: Int64?, row: Int?) {
        guard let key = integer(of: bytes) else { return (nil, row(ofBytes: bytes)) }
        return (key, row(ofInteger: key))
    }

    /// Asks for the hash-table slot where a look-up of the id spelled by `bytes` starts, when the store has a table.
    /// (`mutating` only for the reason ``lookUp(bytes:)`` gives: callers pass the store by address, not a copy.)
    @inline(__always)
    package mutating func prefetch(bytes: UnsafeBufferPointer<UInt8>) {
        switch kind {
        case .affine, .sortedIntegers: return
        case .integers:
            if !deferred, let value = pattern.key(bytes) { table.prefetch(hash: IDHash.hash(integer: value)) }
        case .strings: if !deferred { table.prefetch(hash: IDHash.hash(UnsafeRawBufferPointer(bytes))) }
        }
    }

    /// The row of the id spelled by `bytes` (`nil` while ``deferred``: there is no table yet).
    package func row(ofBytes bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        if kind != .strings {
            guard let value = pattern.key(bytes) else { return nil }
            return row(ofInteger: value)
        }
        if deferred { return nil }
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
        case .affine: return pattern.string(first + Int64(row))
        case .sortedIntegers, .integers: return pattern.string(integers[row])
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

    /// Appends integer id `value` spelled by `bytes` (its key under ``pattern``, see ``integer(of:)``).
    @inline(__always)
    package mutating func append(integer value: Int64, spelledBy bytes: UnsafeBufferPointer<UInt8>) {
        pattern.narrow(bytes)
        append(integer: value)
    }

    /// Appends integer id `value` (0 ..< 10^18; spelled with ``pattern``, which must allow its spelling).
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
            var text = pattern.string(value)
            text.withUTF8 { appendToArena($0, hash: IDHash.hash(UnsafeRawBufferPointer($0))) }
            return
        }
        integers.append(value)
        count += 1
        if kind == .integers && !deferred {
            let integers = self.integers
            table.insert(hash: IDHash.hash(integer: value), value: Int32(count - 1)) {
                IDHash.hash(integer: integers[Int($0)])
            }
        }
    }

    /// Appends the id spelled by `bytes`.
    package mutating func append(bytes: UnsafeBufferPointer<UInt8>) {
        if kind != .strings {
            if count == 0 && !patternSet, let inferred = DigitPattern.infer(bytes) { pattern = inferred }
            if let value = pattern.accept(bytes) {
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
        if defersIntegerIndex {
            deferred = true
            return
        }
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
        if deferred {
            hashes.append(hash)
            return
        }
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

extension OrderIDStore {
    /// The hash table of the ids of `a` followed by those of `b` (both ``deferred``; `b`'s ids numbered after
    /// `a`'s), or `nil` when an id occurs twice, in one part or across them. Neither store changes: with a table,
    /// ``append(deferred:table:)`` joins them; without one, the caller can index `a` alone
    /// (``indexDeferred()``) and read `b`'s part of the file again the way that reports repeats in file order.
    ///
    /// The table is built by two threads at once, each inserting the ids whose home slot lies in its half of the
    /// table, in id order; an id whose probe would cross into the other half waits, and the waiting ids are
    /// inserted afterwards in id order. An id's home slot fixes its half, so two spellings of one id meet in one
    /// thread, in file order; a waiting id's probe ran to its half's end through occupied slots, so every later
    /// equal id waits too and meets it in the final pass.
    ///
    /// - Complexity: O(*n*) for *n* ids in all, the table's cache misses split between two threads.
    package static func joinedTable(_ a: OrderIDStore, _ b: OrderIDStore) -> IDHashTable? {
        guard a.count + b.count < Int(Int32.max) else { return nil }
        if a.kind != .strings && b.kind != .strings {
            // Integer ids (one spelling per integer under a common pattern): the table of their values.
            guard DigitPattern.common(a.pattern, b.pattern) != nil else { return nil }
            let (aValues, bValues) = (a.integerColumn(), b.integerColumn())
            return aValues.withUnsafeBufferPointer { aValues in
                bValues.withUnsafeBufferPointer { bValues in
                    IDHashTable.build(IDParts(integers: aValues, bValues))
                }
            }
        }
        precondition(a.deferred && b.deferred, "joinedTable(_:_:) takes deferred string stores")
        guard a.arena.count + b.arena.count <= Int(UInt32.max) else { return nil }
        return a.hashes.withUnsafeBufferPointer { aHashes in
            b.hashes.withUnsafeBufferPointer { bHashes in
                a.arena.withUnsafeBufferPointer { aArena in
                    a.ends.withUnsafeBufferPointer { aEnds in
                        b.arena.withUnsafeBufferPointer { bArena in
                            b.ends.withUnsafeBufferPointer { bEnds in
                                IDHashTable.build(
                                    IDParts(
                                        first: IDPart(hashes: aHashes, arena: aArena, ends: aEnds),
                                        second: IDPart(hashes: bHashes, arena: bArena, ends: bEnds)))
                            }
                        }
                    }
                }
            }
        }
    }

    /// The integer ids, one per row (made for affine ids).
    private func integerColumn() -> [Int64] {
        kind == .affine ? (0..<count).map { first + Int64($0) } : integers
    }

    /// Appends the ids of `other` with `table` from ``joinedTable(_:_:)``, and drops `other`'s ids. The store is
    /// then an ordinary one with a table (kind ``Kind/integers`` for integer ids).
    package mutating func append(deferred other: inout OrderIDStore, table: IDHashTable) {
        precondition(table.count == count + other.count, "the joined table")
        if kind != .strings && other.kind != .strings {
            guard let common = DigitPattern.common(pattern, other.pattern) else {
                preconditionFailure("joinedTable(_:_:) checked the patterns")
            }
            integers = integerColumn()
            integers.append(contentsOf: other.integerColumn())
            kind = .integers
            pattern = common
            count += other.count
            other = OrderIDStore()
            self.table = table
            deferred = false
            return
        }
        precondition(deferred && other.deferred, "the joined table of deferred string stores")
        let shift = UInt32(arena.count)
        arena.append(contentsOf: other.arena)
        ends.reserveCapacity(count + other.count)
        for end in other.ends { ends.append(end + shift) }
        count += other.count
        other = OrderIDStore()
        self.table = table
        hashes = []
        deferred = false
    }

    /// Builds the table of this ``deferred`` store's ids and makes it an ordinary store; `false` (nothing
    /// changed) when an id occurs twice. A store that is not deferred is left as it is.
    package mutating func indexDeferred() -> Bool {
        guard deferred else {
            defersIntegerIndex = false
            return true
        }
        if kind == .integers {
            let built = integers.withUnsafeBufferPointer {
                IDHashTable.build(IDParts(integers: $0, UnsafeBufferPointer(start: nil, count: 0)))
            }
            guard let built else { return false }
            table = built
            deferred = false
            defersIntegerIndex = false
            return true
        }
        let built = hashes.withUnsafeBufferPointer { hashes in
            arena.withUnsafeBufferPointer { arena in
                ends.withUnsafeBufferPointer { ends in
                    IDHashTable.build(
                        IDParts(
                            first: IDPart(hashes: hashes, arena: arena, ends: ends),
                            second: IDPart(
                                hashes: .init(start: nil, count: 0), arena: arena, ends: .init(start: nil, count: 0))))
                }
            }
        }
        guard let built else { return false }
        table = built
        hashes = []
        deferred = false
        defersIntegerIndex = false
        return true
    }
}

/// Ids given by their hashes and bytes (`arena[ends[id - 1]..<ends[id]]`), as a deferred store holds them.
struct IDPart {
    var hashes: UnsafeBufferPointer<UInt64>
    var arena: UnsafeBufferPointer<UInt8>
    var ends: UnsafeBufferPointer<UInt32>
}

/// The ids of two parts, numbered `0..<first.count` then on: string ids (hashes and bytes) or integer ids
/// (values, hashed by ``IDHash/hash(integer:)``).
struct IDParts: @unchecked Sendable {
    // Read, never written, by both builders while they run; the buffers outlive the build.
    let first: IDPart
    let second: IDPart
    let firstIntegers: UnsafeBufferPointer<Int64>
    let secondIntegers: UnsafeBufferPointer<Int64>
    let integers: Bool
    let firstCount: Int
    let count: Int

    init(first: IDPart, second: IDPart) {
        self.first = first
        self.second = second
        (firstIntegers, secondIntegers) = (.init(start: nil, count: 0), .init(start: nil, count: 0))
        integers = false
        firstCount = first.hashes.count
        count = first.hashes.count + second.hashes.count
    }

    init(integers first: UnsafeBufferPointer<Int64>, _ second: UnsafeBufferPointer<Int64>) {
        let none = IDPart(
            hashes: .init(start: nil, count: 0), arena: .init(start: nil, count: 0), ends: .init(start: nil, count: 0))
        (self.first, self.second) = (none, none)
        (firstIntegers, secondIntegers) = (first, second)
        integers = true
        firstCount = first.count
        count = first.count + second.count
    }

    @inline(__always)
    func integer(_ id: Int) -> Int64 {
        id < firstCount ? firstIntegers[id] : secondIntegers[id - firstCount]
    }

    @inline(__always)
    func hash(_ id: Int) -> UInt64 {
        if integers { return IDHash.hash(integer: integer(id)) }
        return id < firstCount ? first.hashes[id] : second.hashes[id - firstCount]
    }

    /// The bytes of `id`: its start and length.
    @inline(__always)
    func bytes(_ id: Int) -> (UnsafePointer<UInt8>?, Int) {
        let (part, index) = id < firstCount ? (first, id) : (second, id - firstCount)
        let start = index == 0 ? 0 : Int(part.ends[index - 1])
        return (part.arena.baseAddress.map { $0 + start }, Int(part.ends[index]) - start)
    }

    /// Whether ids `x` and `y` are equal (the same integer, or the same bytes).
    func same(_ x: Int32, _ y: Int32) -> Bool {
        if integers { return integer(Int(x)) == integer(Int(y)) }
        let (xStart, xLength) = bytes(Int(x))
        let (yStart, yLength) = bytes(Int(y))
        guard xLength == yLength else { return false }
        guard xLength > 0, let xStart, let yStart else { return true }
        return memoryEqual(xStart, yStart, xLength)
    }
}

/// What the two builders of ``IDHashTable/build(_:)`` share: the slots (each zeroes and writes only its half
/// until both end), the ids (read only), the lists of round 1 (each builder writes two, read by both in round 2)
/// and one result per builder. Each round is one `concurrentPerform`, which returns after both builders, so its
/// writes are ordered before the next round's reads.
private struct TableBuild: @unchecked Sendable {
    let slots: UnsafeMutablePointer<UInt64>
    let mask: Int
    let ids: IDParts
    /// Per builder: the ids whose probe reached the end of its half (in id order), or `nil` after a repeat.
    let waiting: UnsafeMutablePointer<[Int32]?>
    /// Round 1's four id lists (half of the id range, half of the table) and their lengths.
    let lists: UnsafeMutablePointer<UnsafeMutablePointer<Int32>>
    let counts: UnsafeMutablePointer<Int>

    enum BuildStep { case inserted, repeated, waiting }

    /// Probes for `id` from its home slot up to `limit` (exclusive; wrapping when `limit` is `nil`) and inserts
    /// it: `.inserted`, `.repeated` (an equal id is in the table) or `.waiting` (the probe reached `limit`).
    func insert(_ id: Int32, limit: Int?) -> BuildStep {
        let hash = ids.hash(Int(id))
        let tag = hash & 0xFFFF_FFFF_0000_0000
        var index = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[index]
            if slot == 0 {
                slots[index] = IDHashTable.slot(hash: hash, value: id)
                return .inserted
            }
            if slot & 0xFFFF_FFFF_0000_0000 == tag && ids.same(IDHashTable.value(slot), id) { return .repeated }
            index += 1
            if let limit {
                if index == limit { return .waiting }
            } else {
                index &= mask
            }
        }
    }

    /// Round 1 of builder `part` of two: zeroes its half of the table (fresh memory: the page faults are shared
    /// too), and sorts the ids of its half of the id range (`0..<count / 2` or the rest) by the half of the
    /// table their home slot is in, into `lists[2 * part]` (first half of the table) and `lists[2 * part + 1]`,
    /// each in id order, their lengths in `counts`.
    func partition(part: Int) {
        let half = (mask + 1) / 2
        adviseHugePages(from: Int(bitPattern: slots + part * half), to: Int(bitPattern: slots + part * half + half))
        (slots + part * half).initialize(repeating: 0, count: half)
        let count = ids.count
        let range = part == 0 ? 0..<(count / 2) : (count / 2)..<count
        let low = lists[2 * part]
        let high = lists[2 * part + 1]
        var lowCount = 0
        var highCount = 0
        for id in range {
            // Branch-free: the id is written to both lists and kept in one.
            let upper = Int(truncatingIfNeeded: ids.hash(id)) & mask >= half ? 1 : 0
            low[lowCount] = Int32(truncatingIfNeeded: id)
            high[highCount] = Int32(truncatingIfNeeded: id)
            lowCount &+= 1 &- upper
            highCount &+= upper
        }
        counts[2 * part] = lowCount
        counts[2 * part + 1] = highCount
    }

    /// Round 2 of builder `part`: inserts, in id order, the ids whose home slot is in its half of the table
    /// (those round 1 found in the first half of the id range, then those in the second).
    func insert(part: Int) {
        let half = (mask + 1) / 2
        let high = part * half + half
        var waiting: [Int32] = []
        let ahead = 16
        for source in 0..<2 {
            let list = lists[2 * source + part]
            let found = counts[2 * source + part]
            for k in 0..<found {
                if k + ahead < found {
                    retention_prefetch_for_write(
                        slots + (Int(truncatingIfNeeded: ids.hash(Int(list[k + ahead]))) & mask))
                }
                switch insert(list[k], limit: high) {
                case .inserted: continue
                case .repeated:
                    self.waiting[part] = nil
                    return
                case .waiting: waiting.append(list[k])
                }
            }
        }
        self.waiting[part] = waiting
    }
}

extension IDHashTable {
    /// The table of `ids` under their hashes, built by two threads (one up to 65,536 ids), or `nil` when two ids
    /// are equal. See ``OrderIDStore/joinedTable(_:_:)``.
    static func build(_ ids: IDParts) -> IDHashTable? {
        let count = ids.count
        var table = IDHashTable()
        guard count > 0 else { return table }
        var capacity = 16
        while capacity < count * 2 + 2 { capacity *= 2 }
        // Zeroed by the builders, each its own half.
        table.slots = [UInt64](unsafeUninitializedCapacity: capacity) { _, initialized in initialized = capacity }
        table.mask = capacity - 1
        var waiting = [[Int32]?](repeating: [], count: 2)
        // Round 1's lists: each holds at most its half of the id range (pages only touched as written).
        let parallel = count > 65_536
        let lists = UnsafeMutablePointer<UnsafeMutablePointer<Int32>>.allocate(capacity: 4)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        for k in 0..<4 { (lists + k).initialize(to: .allocate(capacity: parallel ? count / 2 + 1 : 1)) }
        counts.initialize(repeating: 0, count: 4)
        defer {
            for k in 0..<4 { lists[k].deallocate() }
            lists.deallocate()
            counts.deallocate()
        }
        let ok = table.slots.withUnsafeMutableBufferPointer { slots in
            waiting.withUnsafeMutableBufferPointer { waiting in
                let build = TableBuild(
                    slots: slots.baseAddress!, mask: capacity - 1, ids: ids, waiting: waiting.baseAddress!,
                    lists: lists, counts: counts)
                if parallel {
                    DispatchQueue.concurrentPerform(iterations: 2) { build.partition(part: $0) }
                    DispatchQueue.concurrentPerform(iterations: 2) { build.insert(part: $0) }
                } else {
                    // One builder: every id in order, wrapping at the table's end.
                    slots.initialize(repeating: 0)
                    for id in 0..<count where build.insert(Int32(truncatingIfNeeded: id), limit: nil) == .repeated {
                        waiting[0] = nil
                        break
                    }
                }
                guard let first = waiting[0], let second = waiting[1] else { return false }
                // The waiting ids of both halves, in id order, with probes that wrap.
                var i = 0
                var j = 0
                while i < first.count || j < second.count {
                    let id: Int32
                    if j == second.count || (i < first.count && first[i] < second[j]) {
                        id = first[i]
                        i += 1
                    } else {
                        id = second[j]
                        j += 1
                    }
                    if build.insert(id, limit: nil) == .repeated { return false }
                }
                return true
            }
        }
        guard ok else { return nil }
        table.count = count
        return table
    }
}

/// Ids spelled as a fixed ASCII prefix and a decimal number zero-padded to a width W (`C0001234`,
/// `O00000042`, `1001`), so that each such id is an integer key and back.
///
///     id = prefix + digits(key), padded with zeros to W digits,   minWidth <= W <= maxWidth
///
/// W is known once an id with a leading zero is seen (`C0001234`: W = 7); until then ids without one only bound
/// it from above (`C2345678`: W <= 7). Every id stored narrows the range (``accept(_:)``) and every id looked up
/// must fit it (``key(_:)``), so one key has one spelling: `C01`, `C1`, `C001` and `1` never share a key.
///
/// The type and its fields are `@usableFromInline` so that its `@inlinable` methods (``key(_:)``, ``fits(_:)``,
/// ``narrow(_:)``) are inlined into the CSV loader's row loop in another module: an `@inlinable` method of a plain
/// `package` type is compiled as an ordinary call there (checked with `objdump`).
@usableFromInline
package struct DigitPattern: Sendable, Equatable {
    /// The prefix bytes, little-endian (at most 8).
    @usableFromInline package let prefixWord: UInt64
    @usableFromInline package let prefixLength: Int
    /// The range of widths W the ids seen so far allow.
    @usableFromInline package private(set) var minWidth: Int
    @usableFromInline package private(set) var maxWidth: Int

    /// Plain integers: `0` or 1...18 digits, without a leading zero until one is seen.
    package static let plain = DigitPattern(prefixWord: 0, prefixLength: 0, minWidth: 1, maxWidth: 18)

    package init(prefixWord: UInt64, prefixLength: Int, minWidth: Int, maxWidth: Int) {
        self.prefixWord = prefixWord
        self.prefixLength = prefixLength
        self.minWidth = minWidth
        self.maxWidth = maxWidth
    }

    /// The pattern both `a`'s and `b`'s ids fit (same prefix, the widths both allow), or `nil`.
    package static func common(_ a: DigitPattern, _ b: DigitPattern) -> DigitPattern? {
        guard a.prefixWord == b.prefixWord, a.prefixLength == b.prefixLength else { return nil }
        let low = Swift.max(a.minWidth, b.minWidth)
        let high = Swift.min(a.maxWidth, b.maxWidth)
        guard low <= high else { return nil }
        return DigitPattern(prefixWord: a.prefixWord, prefixLength: a.prefixLength, minWidth: low, maxWidth: high)
    }

    /// Whether the digits of an id (`count` of them, `leadingZero` when the first is `0` and there are more)
    /// fit the widths: a padded number must have exactly W digits, an unpadded one at least W.
    @inlinable @inline(__always)
    package func fits(count: Int, leadingZero: Bool) -> Bool {
        leadingZero ? count >= minWidth && count <= maxWidth : count >= minWidth
    }

    /// Whether `bytes` (an id that has a key) fits the current widths (a cheap re-check of ``key(_:)``).
    @inlinable @inline(__always)
    package func fits(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = bytes.count &- prefixLength
        return fits(count: count, leadingZero: count > 1 && bytes[prefixLength] == 0x30)
    }

    /// Narrows the widths to those `bytes` (an id that fits) allows.
    @inlinable @inline(__always)
    package mutating func narrow(_ bytes: UnsafeBufferPointer<UInt8>) {
        let count = bytes.count &- prefixLength
        if count > 1 && bytes[prefixLength] == 0x30 {
            minWidth = count
            maxWidth = count
        } else if count < maxWidth {
            maxWidth = count
        }
    }

    /// The key of `bytes`, narrowing the widths to those it allows; `nil` (unchanged) when it does not fit.
    @inlinable @inline(__always)
    package mutating func accept(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard let key = key(bytes) else { return nil }
        narrow(bytes)
        return key
    }

    /// The pattern `id` follows: its leading non-digit ASCII bytes (at most 8) as the prefix, then 1...18 digits;
    /// the width is the digit count when the digits start with a zero, else at most the digit count. `nil` for
    /// other ids.
    package static func infer(_ bytes: UnsafeBufferPointer<UInt8>) -> DigitPattern? {
        var p = 0
        while p < bytes.count, bytes[p] &- 0x30 > 9 {
            guard bytes[p] > 0x20, bytes[p] < 0x7F, p < 8 else { return nil }
            p += 1
        }
        let digits = bytes.count - p
        guard digits >= 1, digits <= 18 else { return nil }
        var word: UInt64 = 0
        for k in 0..<p { word |= UInt64(bytes[k]) << (8 * UInt64(k)) }
        var pattern = DigitPattern(prefixWord: word, prefixLength: p, minWidth: 1, maxWidth: 18)
        return pattern.accept(bytes) == nil ? nil : pattern
    }

    /// The key `bytes` spell under this pattern, or `nil`.
    @inlinable @inline(__always)
    package func key(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        let p = prefixLength
        let n = bytes.count &- p
        guard n >= 1, n <= 18, let base = bytes.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        if p > 0 {
            if bytes.count >= 8 {
                // The prefix (at most 8 bytes) in one comparison.
                let mask = p == 8 ? UInt64.max : (1 << UInt64(8 * p)) - 1
                guard raw.loadUnaligned(as: UInt64.self).littleEndian & mask == prefixWord else { return nil }
            } else {
                var word = prefixWord
                for k in 0..<p {
                    guard base[k] == UInt8(truncatingIfNeeded: word) else { return nil }
                    word >>= 8
                }
            }
        }
        guard fits(count: n, leadingZero: n > 1 && base[p] == 0x30) else { return nil }
        var value: Int64 = 0
        var k = p
        // Eight digits at a time: XOR with "00000000" makes each digit its value, and any other byte leaves a
        // bit that the check catches; then pairs, quadruples and the octet combine in three multiplications.
        while bytes.count - k >= 8 {
            let t = raw.loadUnaligned(fromByteOffset: k, as: UInt64.self).littleEndian ^ 0x3030_3030_3030_3030
            guard (t & 0xF0F0_F0F0_F0F0_F0F0) | ((t &+ 0x0606_0606_0606_0606) & 0x1010_1010_1010_1010) == 0 else {
                return nil
            }
            var v = (t &* 10 &+ (t >> 8)) & 0x00FF_00FF_00FF_00FF
            v = (v &* 100 &+ (v >> 16)) & 0x0000_FFFF_0000_FFFF
            v = (v &* 10_000 &+ (v >> 32)) & 0xFFFF_FFFF
            value = value &* 100_000_000 &+ Int64(v)
            k += 8
        }
        while k < bytes.count {
            let digit = base[k] &- 0x30
            guard digit < 10 else { return nil }
            value = value &* 10 &+ Int64(digit)
            k += 1
        }
        return value
    }

    /// The key of `text`, or `nil`.
    package func key(_ text: String) -> Int64? {
        var copy = text
        return copy.withUTF8 { key($0) }
    }

    /// The id of `key` (0 ..< 10^18).
    package func string(_ key: Int64) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 8 + 19) { buffer in
            var word = prefixWord
            for k in 0..<prefixLength {
                buffer[k] = UInt8(truncatingIfNeeded: word)
                word >>= 8
            }
            var digits = 0
            var rest = key
            repeat {
                digits += 1
                rest /= 10
            } while rest > 0
            let width = Swift.max(digits, minWidth)
            rest = key
            for k in stride(from: prefixLength + width - 1, through: prefixLength, by: -1) {
                buffer[k] = UInt8(truncatingIfNeeded: 0x30 + rest % 10)
                rest /= 10
            }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[0..<(prefixLength + width)]), as: UTF8.self)
        }
    }
}

/// Customer numbers by integer key for ids that follow one ``DigitPattern``: a direct table (`slots[key]` is
/// `number + 1`, 0 for absent), so a lookup is one load and needs no comparison. Keys must stay below `limit`
/// (set from the expected number of rows, so the table costs at most a few bytes per row); an id that does not
/// follow the pattern or whose key is too large makes the owner switch to hashing.
@usableFromInline
package struct NumericIDIndex: Sendable {
    @usableFromInline package private(set) var pattern: DigitPattern
    package let limit: Int
    @usableFromInline package private(set) var slots: [Int32] = []
    package private(set) var count = 0

    package init(pattern: DigitPattern, limit: Int) {
        self.pattern = pattern
        self.limit = limit
    }

    @inlinable @inline(__always)
    package func find(key: Int64) -> Int32? {
        guard key < Int64(slots.count) else { return nil }
        let slot = slots.withUnsafeBufferPointer { $0[Int(key)] }
        return slot == 0 ? nil : slot - 1
    }

    /// Requests the slot of `key` (a hint; nothing when the key is past the table).
    @inline(__always)
    package func prefetch(key: Int64) {
        guard key >= 0 && key < Int64(slots.count) else { return }
        slots.withUnsafeBufferPointer { retention_prefetch_for_write($0.baseAddress! + Int(key)) }
    }

    /// Inserts `number` under `key` (absent), spelled `bytes` (which fit the pattern); `false` when `key` is not
    /// below `limit`.
    package mutating func insert(key: Int64, number: Int32, spelledBy bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard insert(key: key, number: number) else { return false }
        pattern.narrow(bytes)
        return true
    }

    /// The index holding both `self`'s and `other`'s keys' pattern, as `self` with `pattern` (see
    /// ``DigitPattern/common(_:_:)``).
    package mutating func adopt(pattern: DigitPattern) { self.pattern = pattern }

    /// Inserts `number` under `key` (absent, with a spelling the pattern already allows); `false` when `key` is not
    /// below `limit`.
    package mutating func insert(key: Int64, number: Int32) -> Bool {
        guard key < Int64(limit) else { return false }
        if key >= Int64(slots.count) {
            var size = Swift.max(1 << 12, slots.count)
            while size <= Int(key) { size *= 2 }
            slots.append(contentsOf: repeatElement(0, count: Swift.min(size, limit) - slots.count))
        }
        slots.withUnsafeMutableBufferPointer { $0[Int(key)] = number + 1 }
        count += 1
        return true
    }

    /// The key of each number.
    package func keysByNumber() -> [Int64] {
        var keys = [Int64](repeating: 0, count: count)
        for key in slots.indices where slots[key] != 0 { keys[Int(slots[key]) - 1] = Int64(key) }
        return keys
    }

    /// The id of each number.
    package func strings() -> [String] {
        var ids = [String](repeating: "", count: count)
        ids.withUnsafeMutableBufferPointer { ids in
            slots.withUnsafeBufferPointer { slots in
                for key in slots.indices where slots[key] != 0 { ids[Int(slots[key]) - 1] = pattern.string(Int64(key)) }
            }
        }
        return ids
    }
}
