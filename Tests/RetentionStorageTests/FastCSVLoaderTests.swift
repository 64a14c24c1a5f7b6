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
        let text = standardHeader + "1001,alice,2024-01-15T10:23:45-05:00,25.00\n1003,alice,2024-03-01 12:00,7\n"
            + "1001,alice,2024-01-15T15:23:45Z,25\nR1,bob,2024-03-02T00:00:00Z,-0.05\n"
        let (ledger, report) = try #require(try FastCSVLoader.load(bytes: Array(text.utf8), options: .init()))
        #expect(ledger.orders == [
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
        lines.insert(contentsOf: [
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
        let text = standardHeader
            + "\n1,a,2024-01-01,1\nx,a,bad,1\n\n2,b,2024-01-02,2\n2,b,2024-01-02,3\n1,a,2024-01-01,2\n"
        try expectSameAsReference(Array(text.utf8), FastCSVLoaderTests.skip)
        try expectSameAsReference(Array(text.utf8))
        let (_, report) = try load(text, FastCSVLoaderTests.skip)
        #expect(report.errors.map(\.description) == [
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
            let text = String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(rng.next() % 10_000), Int(rng.next() % 14),
                Int(rng.next() % 33), Int(rng.next() % 26), Int(rng.next() % 62), Int(rng.next() % 62))
            let general = try? TimestampParser.parse(text, in: .utc).secondsSince1970
            let fast = Array(text.utf8).withUnsafeBufferPointer { FastCSVLoader.utcTimestamp($0) }
            #expect(fast == general, "\(text)")
        }
    }

    @Test(arguments: [
        "0", "12", "-0.05", "12.5", "12.50", "1.", ".5", "+1", "1.234", "123456789012345", "1234567890123456",
        "-", "", "1.2.3", "00012.30"])
    func amountFastPathAgreesWithTheGeneralParser(text: String) {
        let fast = Array(text.utf8).withUnsafeBufferPointer { FastCSVLoader.plainAmount($0, minorDigits: 2) }
        if let fast { #expect(fast == (try? AmountParser.minorUnits(text, minorUnitDigits: 2))) }
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
