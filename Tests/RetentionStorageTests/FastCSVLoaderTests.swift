import Foundation
import Testing

@testable import RetentionMetrics
@testable import RetentionStorage

/// The fast loader against the record-by-record reference on generated and adversarial inputs: the same
/// ledger (every order in order, customer ids, duplicates) and the same report, or the same error.
struct FastCSVLoaderTests {
    /// Loads `bytes` both ways and expects identical outcomes; returns whether the fast path handled it.
    @discardableResult
    func expectSameAsReference(
        _ bytes: [UInt8], _ options: OrderInputOptions = OrderInputOptions(), fastPath: Bool? = true,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Bool {
        let reference = Result { () throws(InputError) in
            try CSVOrderReader.loadLedgerRecordByRecord(bytes: bytes, options: options)
        }
        let fast = Result { () throws(InputError) in try FastCSVLoader.load(bytes: bytes, options: options) }
        let handled: Bool
        switch (reference, fast) {
        case (.failure(let expected), .failure(let actual)):
            #expect(actual == expected, sourceLocation: sourceLocation)
            handled = true
        case (.failure, .success(nil)):
            handled = false  // handed over to the reader, which fails the same way below
        case (.success(let expected), .success(let actual)):
            handled = actual != nil
            if let (ledger, report) = actual {
                expectSame(ledger, expected.ledger, sourceLocation: sourceLocation)
                #expect(report == expected.report, sourceLocation: sourceLocation)
            }
        default:
            Issue.record("reference \(reference) but fast \(fast)", sourceLocation: sourceLocation)
            return false
        }
        if let fastPath { #expect(handled == fastPath, "fast path used", sourceLocation: sourceLocation) }
        // The public entry point (fast path or hand-over) agrees with the reference too.
        let viaPublic = Result { () throws(InputError) in
            try CSVOrderReader.loadLedger(bytes: bytes, options: options)
        }
        switch (reference, viaPublic) {
        case (.failure(let expected), .failure(let actual)): #expect(actual == expected, sourceLocation: sourceLocation)
        case (.success(let expected), .success(let actual)):
            expectSame(actual.ledger, expected.ledger, sourceLocation: sourceLocation)
            #expect(actual.report == expected.report, sourceLocation: sourceLocation)
        default: Issue.record("public entry point differs", sourceLocation: sourceLocation)
        }
        return handled
    }

    func expectSame(_ a: OrderLedger, _ b: OrderLedger, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.orders == b.orders, sourceLocation: sourceLocation)
        #expect(a.customerIDs == b.customerIDs, sourceLocation: sourceLocation)
        #expect(a.customerColumn == b.customerColumn, sourceLocation: sourceLocation)
        #expect(a.duplicatesIgnored == b.duplicatesIgnored && a.currency == b.currency, sourceLocation: sourceLocation)
        for id in a.customerIDs.prefix(50) {
            #expect(a.customerNumber(of: id) == b.customerNumber(of: id), sourceLocation: sourceLocation)
        }
    }

    static let skip = OrderInputOptions(badRows: .skip)

    @Test func worksThroughTheDefaultFormatByteForByte() throws {
        let text =
            standardHeader + "1001,alice,2024-01-15T10:23:45-05:00,25.00\n1003,alice,2024-03-01 12:00,7\n"
            + "1001,alice,2024-01-15T15:23:45Z,25\nR1,bob,2024-03-02T00:00:00Z,-0.05\n"
        let (ledger, report) = try #require(try FastCSVLoader.load(bytes: Array(text.utf8), options: .init()))
        #expect(
            ledger.orders == [
                Order(id: "1001", customerID: "alice", timestamp: ts(1_705_332_225), amount: 2500),
                Order(id: "1003", customerID: "alice", timestamp: ts(1_709_294_400), amount: 700),
                Order(id: "R1", customerID: "bob", timestamp: ts(1_709_337_600), amount: -5),
            ])
        #expect(report.rowsRead == 4 && report.ordersLoaded == 3 && report.duplicatesIgnored == 1)
        try expectSameAsReference(Array(text.utf8))
    }

    @Test(arguments: [false, true])
    func generatedFilesMatchTheReference(stringIDs: Bool) throws {
        var generator = OrderFileGenerator(
            seed: stringIDs ? 7 : 3, stringOrderIDs: stringIDs, stringCustomerIDs: !stringIDs)
        let text = generator.csv(orders: 3000, customers: 900)
        for options in [OrderInputOptions(), FastCSVLoaderTests.skip] { try expectSameAsReference(text, options) }
    }

    @Test func shuffledIntegerIdsAndAdversarialRows() throws {
        var lines = [String]()
        var rng = SplitMix(seed: 11)
        for k in 0..<2000 {
            let id = Int(rng.next() % 5000)  // shuffled, many repeats
            let amount = k % 7 == 0 ? "-\(k % 100).5" : "\(k % 1000).\(k % 10)\(k % 3)"
            // Customer ids of 2 to 19 bytes (the interner keeps the first 8 inline, the rest in an arena).
            let customer = (id % 3 == 0 ? "C" : id % 3 == 1 ? "customer-number-" : "c-1234") + "\(id % 300)"
            lines.append("\(id),\(customer),2023-0\(1 + id % 9)-1\(id % 10)T0\(id % 10):4\(id % 10):12Z,\(amount)")
        }
        // Every kind of bad row, in the middle of good ones.
        lines.insert(
            contentsOf: [
                "5001,c,2023-02-30T00:00:00Z,1.00", "5002,c,2023-01-01T00:00:00Z,1.001", "5003,,2023-01-01,1",
                "5004,c,2023-01-01,", "5005,c,2023-01-01", "5006,c,2023-01-01,1,extra", "", "5007,c,2023-01-01,1e3",
                "5008,c,2023-01-01T24:00:00Z,1", "5009,c, 2023-01-01T10:00:00Z ,  2.5 ", "007,c,2023-01-01,1",
                "7,c,2023-01-01,1", "5010,c,2023-01-01,92233720368547758.07", "5011,c,2023-01-01,-92233720368547758.07",
            ], at: 1000)
        let text = Array((standardHeader + lines.joined(separator: "\n") + "\n").utf8)
        try expectSameAsReference(text, FastCSVLoaderTests.skip)
        try expectSameAsReference(text)
    }

    @Test func lineEndsByteOrderMarkAndBlankLines() throws {
        let body = "1,a,2024-01-01T00:00:00Z,1.00\n\n2,b,2024-01-02,2.5\n2,b,2024-01-02T00:00:00Z,2.50\n3,c,bad,1\n"
        for text in [body, body.replacingOccurrences(of: "\n", with: "\r\n"), "\r\n\n" + body] {
            let bytes = [0xEF, 0xBB, 0xBF] + Array((standardHeader + text).utf8)
            try expectSameAsReference(bytes, FastCSVLoaderTests.skip)
            try expectSameAsReference(Array((standardHeader + text).dropLast().utf8), FastCSVLoaderTests.skip)
        }
    }

    @Test func invalidUTF8AndLongFields() throws {
        var bytes = Array((standardHeader + "1,a,2024-01-01,1.00\n2,").utf8)
        bytes += [0x62, 0xC3, 0x28] + Array(",2024-01-01,1.00\n3,é,2024-01-01,1\n".utf8)
        try expectSameAsReference(bytes, FastCSVLoaderTests.skip)
        let long = standardHeader + "1,\(String(repeating: "x", count: 17)),2024-01-01,1.00\n2,b,2024-01-01,2\n"
        try expectSameAsReference(Array(long.utf8), OrderInputOptions(badRows: .skip, maxFieldBytes: 16))
        try expectSameAsReference(Array(long.utf8), OrderInputOptions(maxFieldBytes: 16))
    }

    @Test func conflictingDuplicateNamesTheFirstLineAfterSkippedAndBlankLines() throws {
        let text =
            standardHeader
            + "\n1,a,2024-01-01,1\nx,a,bad,1\n\n2,b,2024-01-02,2\n2,b,2024-01-02,3\n1,a,2024-01-01,2\n"
        try expectSameAsReference(Array(text.utf8), FastCSVLoaderTests.skip)
        try expectSameAsReference(Array(text.utf8))
        let (_, report) = try load(text, FastCSVLoaderTests.skip)
        #expect(
            report.errors.map(\.description) == [
                "line 4, column timestamp: 'bad' is not a valid timestamp "
                    + "(expected YYYY-MM-DD[THH:MM[:SS[.fff]][Z|+HH:MM]])",
                "line 7, column order_id: '2' was already loaded from line 6 with different content",
                "line 8, column order_id: '1' was already loaded from line 3 with different content",
            ])
    }

    @Test func unsupportedShapesHandOverToTheReader() throws {
        // Quotes (with an embedded newline), a currency column, Shopify's line-item collapsing, a lone CR.
        let quoted = standardHeader + "1,a,2024-01-01,1\n\"A\nB\",\"x\",2024-01-01,1\n2,b,2024-13-01,1\n"
        try expectSameAsReference(Array(quoted.utf8), FastCSVLoaderTests.skip, fastPath: false)
        let currency = "order_id,customer_id,timestamp,amount,currency\n1,a,2024-01-01,1,EUR\n"
        try expectSameAsReference(Array(currency.utf8), fastPath: false)
        let loneCR = standardHeader + "1,a,2024-01-01,1\r2,b,2024-01-01,1\n"
        try expectSameAsReference(Array(loneCR.utf8), fastPath: false)
        let quotedHeader = "\"order_id\",customer_id,timestamp,amount\n1,a,2024-01-01,1\n"
        try expectSameAsReference(Array(quotedHeader.utf8), fastPath: false)
    }

    @Test func filesReadInSmallBlocksGiveTheSameLedger() throws {
        var generator = OrderFileGenerator(seed: 5, stringOrderIDs: false, stringCustomerIDs: true)
        let bytes = generator.csv(orders: 500, customers: 200) + Array("9999,z,2024-01-01,bad\n,,,\n".utf8)
        let path = NSTemporaryDirectory() + "fast-csv-\(UUID().uuidString).csv"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reference = try CSVOrderReader.loadLedgerRecordByRecord(path: path, options: FastCSVLoaderTests.skip)
        for blockSize in [1, 7, 64, 4096, 1 << 20] {
            let (ledger, report) = try #require(
                try FastCSVLoader.load(path: path, options: FastCSVLoaderTests.skip, blockSize: blockSize))
            expectSame(ledger, reference.ledger)
            #expect(report == reference.report, "block size \(blockSize)")
        }
    }

    @Test func utcFastPathAgreesWithTheGeneralParser() throws {
        var rng = SplitMix(seed: 1)
        for _ in 0..<20_000 {
            let text = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(rng.next() % 10_000), Int(rng.next() % 14),
                Int(rng.next() % 33), Int(rng.next() % 26), Int(rng.next() % 62), Int(rng.next() % 62))
            let general = try? TimestampParser.parse(text, in: .utc).secondsSince1970
            let fast = Array(text.utf8).withUnsafeBufferPointer { FastCSVLoader.utcTimestamp($0) }
            #expect(fast == general, "\(text)")
        }
    }

    /// Every byte value at every position of a few valid timestamps: the word-at-a-time check takes exactly the
    /// digits it should (whatever it returns agrees with the general parser; it declines anything else it
    /// cannot read, and reads every valid one).
    @Test func utcFastPathChecksEveryByte() throws {
        for text in ["2024-02-29T23:59:59Z", "1999-12-31T00:00:00Z", "2100-02-28T12:34:56Z", "0001-01-01T00:00:00Z"] {
            let valid = Array(text.utf8)
            #expect(valid.withUnsafeBufferPointer { FastCSVLoader.utcTimestamp($0) } != nil)
            for position in valid.indices {
                for value in 0...255 {
                    var bytes = valid
                    bytes[position] = UInt8(value)
                    let fast = bytes.withUnsafeBufferPointer { FastCSVLoader.utcTimestamp($0) }
                    let general = try? TimestampParser.parse(String(decoding: bytes, as: UTF8.self), in: .utc)
                    if let fast { #expect(fast == general?.secondsSince1970, "\(bytes)") }
                    let isDigit = (0x30...0x39).contains(value)
                    let separator = [4: 0x2D, 7: 0x2D, 10: 0x54, 13: 0x3A, 16: 0x3A, 19: 0x5A][position]
                    if separator.map({ $0 != value }) ?? !isDigit { #expect(fast == nil, "\(bytes)") }
                }
            }
        }
    }

    /// The word-at-a-time key of ``DigitPattern`` equals digit-by-digit reading, for ids of every length with and
    /// without a prefix, and a non-digit at every position.
    @Test func digitPatternKeysAgreeWithTheSimpleReading() {
        func simple(_ pattern: DigitPattern, _ bytes: [UInt8]) -> Int64? {
            let p = pattern.prefixLength
            let n = bytes.count - p
            guard n >= 1, n <= 18 else { return nil }
            var word = pattern.prefixWord
            for k in 0..<p {
                guard bytes[k] == UInt8(truncatingIfNeeded: word) else { return nil }
                word >>= 8
            }
            guard pattern.fits(count: n, leadingZero: n > 1 && bytes[p] == 0x30) else { return nil }
            var value: Int64 = 0
            for byte in bytes[p...] {
                guard byte &- 0x30 < 10 else { return nil }
                value = value * 10 + Int64(byte &- 0x30)
            }
            return value
        }
        var rng = SplitMix(seed: 9)
        for prefix in ["", "C", "ORD-", "ABCDEFGH"] {
            let pattern = DigitPattern(
                prefixWord: prefix.utf8.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) },
                prefixLength: prefix.utf8.count, minWidth: 1, maxWidth: 18)
            for length in 1...20 {
                for _ in 0..<40 {
                    var bytes = Array(prefix.utf8) + (0..<length).map { _ in UInt8(0x30 + rng.next() % 10) }
                    if rng.next() % 3 == 0 {
                        let at = Int(rng.next() % UInt64(bytes.count))
                        bytes[at] = [0x2F, 0x3A, 0x20, 0xB0, 0x00, 0x43][Int(rng.next() % 6)]
                    }
                    let key = bytes.withUnsafeBufferPointer { pattern.key($0) }
                    #expect(key == simple(pattern, bytes), "\(String(decoding: bytes, as: UTF8.self))")
                }
            }
        }
    }

    @Test(arguments: [
        "0", "12", "-0.05", "12.5", "12.50", "1.", ".5", "+1", "1.234", "123456789012345", "1234567890123456",
        "-", "", "1.2.3", "00012.30",
    ])
    func amountFastPathAgreesWithTheGeneralParser(text: String) {
        let fast = Array(text.utf8).withUnsafeBufferPointer { FastCSVLoader.plainAmount($0, minorDigits: 2) }
        if let fast { #expect(fast == (try? AmountParser.minorUnits(text, minorUnitDigits: 2))) }
    }

    /// The word-at-a-time field split's zero-byte mask is exact: every byte value at every position, next to zero
    /// and non-zero neighbours (the short test `(v - 0x01..) & ~v & 0x80..` would flag a 0x01 after a zero byte).
    @Test func zeroByteMaskIsExact() {
        for value in 0...255 {
            for position in 0..<8 {
                for neighbour: UInt8 in [0x00, 0x01, 0x80, 0xFF, 0x2C] {
                    var bytes = [UInt8](repeating: neighbour, count: 8)
                    bytes[position] = UInt8(value)
                    var word: UInt64 = 0
                    var expected: UInt64 = 0
                    for (offset, byte) in bytes.enumerated() {
                        word |= UInt64(byte) << (8 * UInt64(offset))
                        if byte == 0 { expected |= 0x80 << (8 * UInt64(offset)) }
                    }
                    #expect(zeroBytes(word) == expected)
                }
            }
        }
    }

    /// Lines whose delimiters, quotes and CRs fall at every offset of an 8-byte word, and lines shorter than a
    /// word: the fast path equals the reader.
    @Test func delimitersAtEveryWordOffset() throws {
        for shift in 0..<9 {
            let pad = String(repeating: "7", count: shift)
            let rows = [
                "o1\(pad),c\(pad)1,2024-01-02T03:04:05Z,1\(pad).5",
                "o2\(pad),c2,2024-01-02T03:04:06Z,\(pad.isEmpty ? "0" : pad)",
                "o3,c\(pad)3,2024-01-03T00:00:00Z,2.25",
            ]
            let plain = "order_id,customer_id,timestamp,amount\n" + rows.joined(separator: "\n") + "\n"
            try expectSameAsReference(Array(plain.utf8))
            // A quote or a lone CR at this offset hands the file to the reader.
            let quoted = "order_id,customer_id,timestamp,amount\n\(rows[0])\no4\(pad)\",x\",c4,2024-01-04T00:00:00Z,1\n"
            try expectSameAsReference(Array(quoted.utf8), fastPath: false)
            let cr = "order_id,customer_id,timestamp,amount\n\(rows[0])\no5\(pad)\r5,c5,2024-01-05T00:00:00Z,1\n"
            try expectSameAsReference(Array(cr.utf8), fastPath: false)
        }
    }

    /// Regression (libFuzzer, csv harness, 2026-12-02): a 28-digit amount trapped on `Int64` overflow in the fast
    /// path before its digit bound was checked. Every length up to 30 digits, with and without decimals, in every
    /// currency precision: the fast path never traps and agrees with the exact parser whenever it answers.
    @Test func longAmountsNeverTrapAndAgreeWithTheExactParser() throws {
        for minorDigits in 0...4 {
            for length in 1...30 {
                let digits = String(repeating: "9", count: length)
                let sixes = "1" + String(repeating: "6", count: length - 1) + ".0"
                for text in [digits, digits + ".0", "-" + digits, sixes] {
                    let fast = Array(text.utf8).withUnsafeBufferPointer {
                        FastCSVLoader.plainAmount($0, minorDigits: minorDigits)
                    }
                    let exact = try? AmountParser.minorUnits(text, minorUnitDigits: minorDigits)
                    if let fast { #expect(fast == exact, "\(text), \(minorDigits) digits") }
                }
            }
        }
        let text = standardHeader + "0,a,2024-01-01,1666666666666666666666666666.0\n1,b,2024-01-02,2.50\n"
        try expectSameAsReference(Array(text.utf8), FastCSVLoaderTests.skip)
        #expect(throws: InputError.self) { try CSVOrderReader.loadLedger(bytes: Array(text.utf8)) }
    }

    /// Loads `bytes` from a file split into two halves at every position (`Split(threshold: 0, position:)`) and
    /// expects the reference's outcome each time; returns how often each way of reading the halves was taken.
    @discardableResult
    func expectEverySplitSameAsReference(
        _ bytes: [UInt8], _ options: OrderInputOptions, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [FastCSVLoader.Passes: Int] {
        let path = NSTemporaryDirectory() + "fast-csv-split-\(UUID().uuidString).csv"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reference = Result { () throws(InputError) in
            try CSVOrderReader.loadLedgerRecordByRecord(bytes: bytes, options: options)
        }
        var counts: [FastCSVLoader.Passes: Int] = [:]
        for position in 0...bytes.count {
            var passes = FastCSVLoader.Passes.single
            let split = Result { () throws(InputError) in
                try FastCSVLoader.load(
                    path: path, options: options, blockSize: 1 << 12, split: .init(threshold: 0, position: position),
                    passes: &passes)
            }
            counts[passes, default: 0] += 1
            switch (reference, split) {
            case (.failure(let expected), .failure(let actual)):
                #expect(actual == expected, "split at \(position)", sourceLocation: sourceLocation)
            case (.success(let expected), .success(let actual)):
                guard let (ledger, report) = actual else {
                    Issue.record("fast path gave up at \(position)", sourceLocation: sourceLocation)
                    continue
                }
                expectSame(ledger, expected.ledger, sourceLocation: sourceLocation)
                #expect(report == expected.report, "split at \(position)", sourceLocation: sourceLocation)
            default:
                Issue.record(
                    "split at \(position): reference \(reference) but \(split)", sourceLocation: sourceLocation)
            }
        }
        return counts
    }

    /// A small export like the CLI's: `O`-prefixed sequential ids, `C`-prefixed zero-padded customers, refunds.
    func prefixedExport(rows: Int, seed: UInt64, lineEnd: String = "\n") -> String {
        var rng = SplitMix(seed: seed)
        var text = standardHeader.replacingOccurrences(of: "\n", with: lineEnd)
        for k in 0..<rows {
            let customer = String(rng.next() % 12)
            let amount = k % 5 == 3 ? "-\(k % 9).25" : "\(10 + k % 70).\(k % 10)0"
            text +=
                "O\(String(repeating: "0", count: 4 - String(k).count))\(k),"
                + "C\(String(repeating: "0", count: 4 - customer.count))\(customer),"
                + "2024-0\(1 + k % 9)-1\(k % 10)T1\(k % 10):00:00Z,"
                + amount + lineEnd
        }
        return text
    }

    @Test func twoHalvesAppendedAtEverySplitMatchTheReference() throws {
        for lineEnd in ["\n", "\r\n"] {
            let text = Array(prefixedExport(rows: 30, seed: 3, lineEnd: lineEnd).utf8)
            for bytes in [text, [0xEF, 0xBB, 0xBF] + text, Array(text.dropLast())] {
                let counts = try expectEverySplitSameAsReference(bytes, OrderInputOptions())
                // Every split inside the rows appends the second half without re-reading it.
                #expect(counts[.appended, default: 0] >= bytes.count - 2 * standardHeader.count - 60)
                #expect(counts[.reread] == nil)
            }
        }
        // Plain numeric ids and customers, with refunds.
        let plain =
            standardHeader
            + (1...25).map { "\(100 + $0),\($0 % 7 + 1),2024-02-0\($0 % 9 + 1),-\($0).5" }
            .joined(separator: "\n") + "\n"
        let counts = try expectEverySplitSameAsReference(Array(plain.utf8), FastCSVLoaderTests.skip)
        #expect(counts[.appended, default: 0] > 500 && counts[.reread] == nil)
    }

    @Test func customerIdsThatBreakThePatternStayDistinct() throws {
        // `C01`, `C1`, `1`, `C001` are four customers; the first row sets the pattern `C` + 2 digits.
        let rows = ["C01", "C1", "1", "C001", "C01", "C10", "1", "C1", "C99", "C01", "C100", "01"]
        let text =
            standardHeader
            + rows.enumerated().map { "O\(10 + $0.offset),\($0.element),2024-01-01,\($0.offset)" }
            .joined(separator: "\n") + "\n"
        try expectSameAsReference(Array(text.utf8))
        try expectEverySplitSameAsReference(Array(text.utf8), OrderInputOptions())
        let (ledger, _) = try CSVOrderReader.loadLedger(bytes: Array(text.utf8))
        #expect(ledger.customerIDs == ["C01", "C1", "1", "C001", "C10", "C99", "C100", "01"])
        #expect(ledger.customerNumber(of: "C01") == 0 && ledger.customerNumber(of: "C001") == 3)
        #expect(ledger.customerNumber(of: "C0001") == nil && ledger.customerNumber(of: "C2") == nil)
        // The width is only known at the first zero-padded id: `C2345678` allows 1...7, `C0012345` fixes 7,
        // then `C12345` (key 12345 unpadded) is another customer than `C0012345`.
        for ids in [["C2345678", "C0012345", "C12345", "C0012345", "C2345678"], ["17", "170", "0170", "017", "9"]] {
            let text =
                standardHeader
                + ids.enumerated().map { "\($0.offset + 1),\($0.element),2024-01-01,1" }
                .joined(separator: "\n") + "\n"
            try expectSameAsReference(Array(text.utf8))
            try expectEverySplitSameAsReference(Array(text.utf8), OrderInputOptions())
        }
    }

    @Test func patternedOrderIDsNeedNoStorageAndKeepEverySpellingDistinct() {
        var store = OrderIDStore()
        for k in 1...1000 { store.append("O" + String(repeating: "0", count: 5 - String(k).count) + "\(k)") }
        // Nothing per id: only the empty 16-slot hash table (128 bytes).
        #expect(store.kind == .affine && store.storageBytes == 128)
        #expect(store.string(at: 41) == "O00042" && store.row(of: "O00042") == 41)
        #expect(store.row(of: "O0042") == nil && store.row(of: "42") == nil && store.row(of: "o00042") == nil)
        store.append("O042")  // another spelling of key 42: a different id, so the store keeps strings
        #expect(store.kind == .strings && store.row(of: "O00042") == 41 && store.row(of: "O042") == 1000)
        #expect(store.string(at: 999) == "O01000" && store.string(at: 1000) == "O042")
    }

    @Test func numericCustomerIndexHandedToTheLedgerKeepsWorking() throws {
        let text = prefixedExport(rows: 40, seed: 9)
        let (loaded, _) = try CSVOrderReader.loadLedger(bytes: Array(text.utf8))
        var ledger = loaded
        #expect(ledger.customerNumber(of: "C0003") == ledger.customerIDs.firstIndex(of: "C0003").map(Int32.init))
        #expect(ledger.customerNumber(of: "C003") == nil && ledger.customerNumber(of: "3") == nil)
        let before = ledger.customerCount
        try ledger.append(Order(id: "O9000", customerID: "C0500", timestamp: ts(1), amount: 1))
        try ledger.append(Order(id: "O9001", customerID: "C500", timestamp: ts(1), amount: 1))  // breaks the pattern
        #expect(ledger.customerCount == before + 2)
        #expect(ledger.customerNumber(of: "C0500") == Int32(before))
        #expect(ledger.customerNumber(of: "C500") == Int32(before + 1))
        #expect(ledger.customerNumber(of: "C0003") == loaded.customerNumber(of: "C0003"))
        #expect(ledger.orderID(at: 0) == "O0000" && ledger.row(ofOrderID: "O0007") == 7)
        #expect(ledger.row(ofOrderID: "O007") == nil)
    }

    @Test func currencyColumnOfTheDefaultCurrency() throws {
        let header = "order_id,customer_id,timestamp,amount,currency\n"
        let usd = header + "O01,C1,2024-01-01,1.50,USD\nO02,C2,2024-01-02,2,\nO03,C1,2024-01-03,-1,USD\n"
        #expect(try expectSameAsReference(Array(usd.utf8)))
        try expectEverySplitSameAsReference(Array(usd.utf8), OrderInputOptions())
        // Another currency (valid or not, any case) is the reader's: the same ledger, report or error.
        for other in ["EUR", "usd", "U$D", " USD"] {
            let text = Array((usd + "O04,C3,2024-01-04,1,\(other)\n").utf8)
            try expectSameAsReference(text, fastPath: nil)
            try expectSameAsReference(text, FastCSVLoaderTests.skip, fastPath: nil)
        }
        let yen = OrderInputOptions(defaultCurrency: Currency("JPY"))
        try expectSameAsReference(Array((header + "1,a,2024-01-01,150,JPY\n2,a,2024-01-01,150,\n").utf8), yen)
    }

    @Test func badRowsAndDuplicatesInEitherHalf() throws {
        var lines = prefixedExport(rows: 24, seed: 5).split(separator: "\n").map(String.init)
        // Bad rows and a conflicting duplicate in the first half; an identical and a conflicting duplicate of a
        // first-half order in the second half, and a bad row there; a blank line.
        lines.insert("O0002,C0001,2024-02-30,1.00", at: 4)
        lines.insert("O0001,C0009,2024-01-01,1.00", at: 7)
        lines.insert("", at: 9)
        lines.append(lines[3])
        lines.append("O0005,C0001,2024-01-01,1.00")
        lines.append("O0050,C0001,2024-01-01,bad")
        lines.append("O0051,C0001,2024-01-01,2")
        let text = Array((lines.joined(separator: "\n") + "\n").utf8)
        for options in [OrderInputOptions(), FastCSVLoaderTests.skip] {
            let counts = try expectEverySplitSameAsReference(text, options)
            if options.badRows == .skip { #expect(counts[.reread, default: 0] > 100) }
        }
        // Errors only in the second half, and ids that decrease across the halves.
        let late = prefixedExport(rows: 20, seed: 6) + "O0003,C0002,2024-01-01,1\nO0100,x,2024-01-01,1e2\n"
        for options in [OrderInputOptions(), FastCSVLoaderTests.skip] {
            try expectEverySplitSameAsReference(Array(late.utf8), options)
        }
        let (_, report) = try CSVOrderReader.loadLedger(bytes: Array(late.utf8), options: FastCSVLoaderTests.skip)
        #expect(report.errors.map(\.line) == [22, 23] && report.errors.first?.code == .conflictingDuplicate)
    }

    /// Timings (opt-in): `RETENTION_PERF=1 swift test -c release --filter FastCSVLoaderTests/timings`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["RETENTION_PERF"] != nil))
    func timings() throws {
        for orders in [100_000, 1_000_000] {
            var generator = OrderFileGenerator(seed: 42, stringOrderIDs: false, stringCustomerIDs: true)
            let path = NSTemporaryDirectory() + "fast-csv-perf-\(orders).csv"
            let data = Data(generator.csv(orders: orders, customers: orders * 10 / 33))
            #expect(FileManager.default.createFile(atPath: path, contents: data))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let clock = ContinuousClock()
            var best = Duration.seconds(1000)
            for _ in 0..<3 { best = min(best, try clock.measure { _ = try CSVOrderReader.loadLedger(path: path) }) }
            let reference = try clock.measure {
                _ = try CSVOrderReader.loadLedgerRecordByRecord(path: path, options: .init())
            }
            print("load \(orders) orders: fast \(best) (best of 3), record by record \(reference)")
        }
    }
}

/// SplitMix64, for reproducible test data.
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

/// Order files like a shop's export: sequential order ids (or `ORD-` strings), ~3.3 orders per customer,
/// timestamps over 2023, two-decimal amounts, some refunds and re-sent (identical) and conflicting rows.
struct OrderFileGenerator {
    var rng: SplitMix
    let stringOrderIDs: Bool
    let stringCustomerIDs: Bool

    init(seed: UInt64, stringOrderIDs: Bool, stringCustomerIDs: Bool) {
        rng = SplitMix(seed: seed)
        self.stringOrderIDs = stringOrderIDs
        self.stringCustomerIDs = stringCustomerIDs
    }

    mutating func csv(orders: Int, customers: Int, withDuplicates: Bool = true) -> [UInt8] {
        var out = Array(standardHeader.utf8)
        out.reserveCapacity(orders * 45)
        var start: Int64 = 1_672_531_200
        var previous: [UInt8] = []
        for k in 0..<orders {
            start += Int64(rng.next() % 7)
            var row: [UInt8]
            let id = stringOrderIDs ? "ORD-\(1_000_000 + k)" : "\(100_000 + k)"
            let customer = Int(rng.next() % UInt64(customers))
            let padding = String(repeating: "0", count: max(0, 7 - String(customer).count))
            let customerText = stringCustomerIDs ? "C" + padding + "\(customer)" : "\(customer + 1)"
            let cents = Int64(rng.next() % 30_000) - (rng.next() % 20 == 0 ? 30_000 : 0)
            let amount = Money.decimalString(cents, digits: 2)
            row = Array("\(id),\(customerText),\(Timestamp(secondsSince1970: start)),\(amount)\n".utf8)
            out += row
            if withDuplicates && k % 997 == 500 && !previous.isEmpty { out += previous }  // re-sent order
            if withDuplicates && k % 1499 == 700 {  // conflicting re-send
                out += Array("\(id),\(customerText),\(Timestamp(secondsSince1970: start + 1)),\(amount)\n".utf8)
            }
            previous = row
        }
        return out
    }
}
