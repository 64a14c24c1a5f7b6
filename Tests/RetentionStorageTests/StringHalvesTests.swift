import Foundation
import Testing

@testable import RetentionMetrics
@testable import RetentionStorage

/// Files whose order ids follow no digit pattern, read in two halves (each keeps its ids unchecked) and joined:
/// one hash table built for both halves by two threads finds every repeat. A repeat or an error in the second
/// half (or across the halves) makes the first half's state read the second again; one in the first half
/// restarts the file as one pass. Every outcome must equal the record-by-record reference.
struct StringHalvesTests {
    let loader = FastCSVLoaderTests()

    /// `rows` orders with string order ids (`o417-12x`) and string (`cust-3-x`) or patterned (`C003`) customers.
    func stringExport(rows: Int, seed: UInt64, patternedCustomers: Bool, lineEnd: String = "\n") -> String {
        var rng = SplitMix(seed: seed)
        var text = standardHeader.replacingOccurrences(of: "\n", with: lineEnd)
        for k in 0..<rows {
            let number = rng.next() % 9
            let customer = patternedCustomers ? "C00\(number)" : "cust-\(number)-x"
            let amount = k % 6 == 4 ? "-\(k % 7).10" : "\(5 + k % 40).\(k % 10)5"
            text +=
                "o\(rng.next() % 1000)-\(k)x,\(customer),2024-0\(1 + k % 9)-2\(k % 8)T0\(k % 10):30:00Z,\(amount)"
                + lineEnd
        }
        return text
    }

    @Test func halvesOfStringOrderIDsJoinAtEverySplit() throws {
        let hashed = Array(stringExport(rows: 30, seed: 21, patternedCustomers: false).utf8)
        let keyed = Array(stringExport(rows: 30, seed: 22, patternedCustomers: true, lineEnd: "\r\n").utf8)
        for bytes in [hashed, keyed, [0xEF, 0xBB, 0xBF] + hashed, Array(keyed.dropLast())] {
            let counts = try loader.expectEverySplitSameAsReference(bytes, OrderInputOptions())
            // Every split inside the rows joins the halves; the others read the file in one pass.
            #expect(counts[.joined, default: 0] >= bytes.count - 2 * standardHeader.count - 80)
            #expect(Set(counts.keys).isSubset(of: [.joined, .single]))
        }
    }

    @Test func repeatedOrderIDsAreReadAgainInFileOrder() throws {
        var lines = stringExport(rows: 24, seed: 5, patternedCustomers: false).split(separator: "\n").map(String.init)
        let conflicting = lines[6].replacingOccurrences(of: "2024-", with: "2023-")
        lines.append(lines[3])  // an identical re-send of an early order, late in the file
        lines.insert(lines[20], at: 22)  // an identical re-send close by
        for extra in [[], [conflicting]] {
            let text = Array(((lines + extra).joined(separator: "\n") + "\n").utf8)
            for options in [OrderInputOptions(), FastCSVLoaderTests.skip] {
                let counts = try loader.expectEverySplitSameAsReference(text, options)
                // A repeat within the first half restarts; else the first half's state reads the second.
                #expect(counts[.restarted, default: 0] > 50 && counts[.reread, default: 0] > 500)
                #expect(counts[.joined] == nil)
            }
        }
        let (ledger, report) = try CSVOrderReader.loadLedger(
            bytes: Array((lines.joined(separator: "\n") + "\n").utf8))
        #expect(ledger.count == 24 && report.duplicatesIgnored == 2)
    }

    @Test func badRowsInEitherHalf() throws {
        let lines = stringExport(rows: 24, seed: 8, patternedCustomers: false).split(separator: "\n").map(String.init)
        var early = lines
        early.insert("o1-1x,cust-1-x,2024-02-30,1.00", at: 3)  // no such day
        var late = lines
        late.insert("o2-2x,cust-2-x,2024-01-01,1.0.0", at: 22)
        for (variant, badHalf) in [(early, 0), (late, 1)] {
            let text = Array((variant.joined(separator: "\n") + "\n").utf8)
            let failing = try loader.expectEverySplitSameAsReference(text, OrderInputOptions())
            #expect(failing[.joined] == nil)
            let skipping = try loader.expectEverySplitSameAsReference(text, FastCSVLoaderTests.skip)
            if badHalf == 0 {
                // An error in the first half may follow a repeat that one pass would report first: restart.
                #expect(failing[.restarted, default: 0] > 100)
                // Rows skipped in the first half keep their line numbers; no repeat, so the halves join.
                #expect(skipping[.joined, default: 0] > 500)
            } else {
                // An error or a skipped row in the second half: the first half's state reads it.
                #expect(failing[.reread, default: 0] > 100 && skipping[.reread, default: 0] > 100)
            }
        }
    }

    @Test func customersIndexedDifferentlyInTheHalvesAreReadAgain() throws {
        // The first row sets the customer pattern `C` + 3 digits; `cust-x` late in the file makes the second
        // half hash its customers while the first keeps keys.
        var lines = stringExport(rows: 24, seed: 9, patternedCustomers: true).split(separator: "\n").map(String.init)
        lines.append("o5-5x,cust-x,2024-03-01T00:00:00Z,3.00")
        lines.append("o6-6x,C007,2024-03-02T00:00:00Z,4.00")
        let text = Array((lines.joined(separator: "\n") + "\n").utf8)
        let counts = try loader.expectEverySplitSameAsReference(text, OrderInputOptions())
        #expect(counts[.reread, default: 0] > 500)
        let (ledger, _) = try CSVOrderReader.loadLedger(bytes: text)
        #expect(ledger.customerNumber(of: "cust-x") == Int32(ledger.customerCount - 1))
    }

    @Test func patternedOrderIDsWithStringCustomersAppend() throws {
        // Increasing integer order ids, hashed customers: the second half's customers merge by look-up.
        let increasing =
            standardHeader
            + (1...25).map { "\(100 + $0),cust-\($0 % 7)-x,2024-02-0\($0 % 9 + 1),\($0).5" }.joined(separator: "\n")
            + "\n"
        let appended = try loader.expectEverySplitSameAsReference(Array(increasing.utf8), OrderInputOptions())
        #expect(appended[.appended, default: 0] > 500 && appended[.reread] == nil)
        // Decreasing ids: each half keeps them unchecked, one table for both.
        let decreasing =
            standardHeader
            + (1...25).map { "\(200 - $0),cust-\($0 % 7)-x,2024-02-0\($0 % 9 + 1),\($0).5" }.joined(separator: "\n")
            + "\n"
        let joined = try loader.expectEverySplitSameAsReference(Array(decreasing.utf8), OrderInputOptions())
        // (Splits before the first row leave the first half empty: the second is appended as is.)
        #expect(joined[.joined, default: 0] > 500 && joined[.appended, default: 0] < 60)
    }

    /// Integer order ids out of increasing order (`O0417`, `O0012`, ...) join like string ids: every split, and
    /// repeats in either half or across them, with both bad-row policies.
    @Test func integerOrderIDsOutOfOrderJoin() throws {
        var rng = SplitMix(seed: 31)
        var ids = Array(0..<30)
        for k in ids.indices.reversed() where k > 0 { ids.swapAt(k, Int(rng.next() % UInt64(k + 1))) }
        let lines = ids.enumerated().map { k, id in
            "O\(String(format: "%04d", id)),C00\(k % 7),2024-0\(1 + k % 9)-1\(k % 10)T10:00:00Z,\(k + 3).25"
        }
        let clean = Array((standardHeader + lines.joined(separator: "\n") + "\n").utf8)
        let counts = try loader.expectEverySplitSameAsReference(clean, OrderInputOptions())
        #expect(counts[.joined, default: 0] > 600 && counts[.reread] == nil && counts[.restarted] == nil)
        let conflicting = lines[4].replacingOccurrences(of: ".25", with: ".75")
        for extra in [[lines[2]], [conflicting], [lines[27], lines[1]]] {
            let text = Array((standardHeader + (lines + extra).joined(separator: "\n") + "\n").utf8)
            for options in [OrderInputOptions(), FastCSVLoaderTests.skip] {
                let outcome = try loader.expectEverySplitSameAsReference(text, options)
                #expect(outcome[.joined] == nil && outcome[.reread, default: 0] > 300)
            }
        }
    }

    /// Over 65,536 order ids and customers, so that two threads fill the table and write the customer ids: one
    /// split in the middle of a generated file.
    @Test func largeHalvesJoinWithTwoBuilders() throws {
        var rng = SplitMix(seed: 77)
        for repeated in [false, true] {
            var text = standardHeader
            for k in 0..<90_000 {
                let customer = rng.next() % 200_000  // about 80,000 customers: their ids are written by two threads
                text += "ord-\(rng.next() % 100_000)-\(k)-x,cust-\(customer)-y,2024-05-0\(1 + k % 9),\(k % 500).25\n"
            }
            if repeated { text += text.split(separator: "\n")[1] + "\n" }  // the first order re-sent at the end
            let bytes = Array(text.utf8)
            let path = NSTemporaryDirectory() + "string-halves-\(UUID().uuidString).csv"
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            defer { try? FileManager.default.removeItem(atPath: path) }
            var passes = FastCSVLoader.Passes.single
            let split = try #require(
                try FastCSVLoader.load(
                    path: path, options: OrderInputOptions(), blockSize: 1 << 16,
                    split: .init(threshold: 0, position: bytes.count / 2), passes: &passes))
            let reference = try CSVOrderReader.loadLedgerRecordByRecord(bytes: bytes, options: OrderInputOptions())
            loader.expectSame(split.0, reference.ledger)
            #expect(split.1 == reference.report)
            #expect(passes == (repeated ? .reread : .joined))
            #expect(split.1.duplicatesIgnored == (repeated ? 1 : 0) && split.0.customerCount > 65_536)
            if !repeated {
                // Every order id is found in the joined table at its row.
                for row in Swift.stride(from: 0, to: split.0.count, by: 97) {
                    #expect(split.0.row(ofOrderID: split.0.orderID(at: row)) == row)
                }
            }
        }
    }

    /// The table filler on crafted hashes: clusters that reach the end of the first half of the table and the
    /// end of the table (their ids wait, then go in by probes that cross over or wrap), with repeats among them.
    @Test func fillerPlacesWaitingIdsAndFindsRepeatsAmongThem() {
        let count = 70_000
        var capacity = 16
        while capacity < count * 2 + 2 { capacity *= 2 }
        let half = capacity / 2
        var rng = SplitMix(seed: 3)
        var hashes = (0..<count).map { _ in rng.next() }
        // 40 ids whose home is 5 slots before the middle, 40 whose home is 3 slots before the end.
        for k in 0..<40 {
            hashes[1_000 + k * 7] = hashes[1_000 + k * 7] & ~UInt64(capacity - 1) | UInt64(half - 5)
            hashes[2_000 + k * 11] = hashes[2_000 + k * 11] & ~UInt64(capacity - 1) | UInt64(capacity - 3)
        }
        let ids = (0..<count).map { "id\($0)" }
        /// The table of `ids` (the first 30,000 one part, the rest another) under `hashes`: its slots, or `nil`.
        func fill(_ ids: [String], _ hashes: [UInt64]) -> (Bool, [UInt64]) {
            func part(_ range: Range<Int>) -> (arena: [UInt8], ends: [UInt32]) {
                var arena: [UInt8] = []
                var ends: [UInt32] = []
                for id in ids[range] {
                    arena += Array(id.utf8)
                    ends.append(UInt32(arena.count))
                }
                return (arena, ends)
            }
            let split = 30_000
            let (first, second) = (part(0..<split), part(split..<count))
            let table = hashes.withUnsafeBufferPointer { all in
                first.arena.withUnsafeBufferPointer { firstArena in
                    first.ends.withUnsafeBufferPointer { firstEnds in
                        second.arena.withUnsafeBufferPointer { secondArena in
                            second.ends.withUnsafeBufferPointer { secondEnds in
                                IDHashTable.build(
                                    IDParts(
                                        first: IDPart(
                                            hashes: UnsafeBufferPointer(rebasing: all[..<split]), arena: firstArena,
                                            ends: firstEnds),
                                        second: IDPart(
                                            hashes: UnsafeBufferPointer(rebasing: all[split...]), arena: secondArena,
                                            ends: secondEnds)))
                            }
                        }
                    }
                }
            }
            #expect(table == nil || table!.slots.count == capacity)
            return (table != nil, table?.slots ?? [])
        }
        let (ok, slots) = fill(ids, hashes)
        #expect(ok)
        #expect(slots.filter { $0 != 0 }.count == count)
        // Each id from its home slot, as a look-up probes: found before an empty slot, under its tag.
        var misplaced = 0
        for id in 0..<count {
            var index = Int(truncatingIfNeeded: hashes[id]) & (capacity - 1)
            while slots[index] != 0 && IDHashTable.value(slots[index]) != Int32(id) {
                index = (index + 1) & (capacity - 1)
            }
            if slots[index] != IDHashTable.slot(hash: hashes[id], value: Int32(id)) { misplaced += 1 }
        }
        #expect(misplaced == 0)
        // Both clusters spilled over: most of the first past the middle, most of the second wrapped to the start.
        var pastMiddle = 0
        var wrapped = 0
        for index in 0..<capacity where slots[index] != 0 {
            let id = Int(IDHashTable.value(slots[index]))
            if id >= 1_000 && id < 1_280 && (id - 1_000) % 7 == 0 && index >= half { pastMiddle += 1 }
            if id >= 2_000 && id < 2_440 && (id - 2_000) % 11 == 0 && index < half { wrapped += 1 }
        }
        #expect(pastMiddle >= 35 && wrapped >= 37)
        // A repeat of a waiting id (the 31st of the first cluster), late in the second part: found.
        var late = (ids: ids, hashes: hashes)
        late.ids[60_000] = ids[1_000 + 30 * 7]
        late.hashes[60_000] = hashes[1_000 + 30 * 7]
        let (lateOK, _) = fill(late.ids, late.hashes)
        #expect(!lateOK)
        // Ids with the same hash but other bytes (no repeat), then a repeat inside one builder's half.
        var sameHash = hashes
        sameHash[50_000] = sameHash[10]
        let (sameHashOK, _) = fill(ids, sameHash)
        #expect(sameHashOK)
        var repeated = ids
        repeated[50_000] = ids[10]
        let (repeatedOK, _) = fill(repeated, sameHash)
        #expect(!repeatedOK)
    }
}
