import Foundation
import Testing

@testable import RetentionMetrics
@testable import RetentionStorage

/// `RetentionReport.streamed(fromCSV:)` equals the report of the loaded ledger, with the same load report, on
/// generated and adversarial files, at many split positions and block sizes; its one-pass path declines (and the
/// ledger path answers) exactly where it must.
struct StreamedReportTests {
    /// A file of `rows` orders over about two years: customers `C0000000...` (one pattern), order ids `O...` in
    /// increasing order unless `shuffledIDs`, refunds now and then, and optional extra lines.
    static func export(
        rows: Int, customers: Int, seed: UInt64, shuffledIDs: Bool = false, lineEnd: String = "\n",
        extra: [(at: Int, line: String)] = []
    ) -> [UInt8] {
        var rng = SplitMix(seed: seed)
        var ids = Array(0..<rows)
        if shuffledIDs {
            for k in ids.indices.reversed() where k > 0 { ids.swapAt(k, Int(rng.next() % UInt64(k + 1))) }
        }
        var lines = ["order_id,customer_id,timestamp,amount"]
        for k in 0..<rows {
            let customer = Int(rng.next() % UInt64(customers))
            let instant = 1_672_531_200 + Int64(rng.next() % (730 * 86_400))
            let cents = Int64(rng.next() % 20_000) - (rng.next() % 12 == 0 ? 25_000 : 0)
            lines.append(
                "O\(String(format: "%07d", ids[k] + 1)),C\(String(format: "%07d", customer)),"
                    + "\(Timestamp(secondsSince1970: instant)),\(Money.decimalString(cents, digits: 2))")
        }
        for (at, line) in extra.sorted(by: { $0.at > $1.at }) { lines.insert(line, at: at) }
        return Array((lines.joined(separator: lineEnd) + lineEnd).utf8)
    }

    struct Outcome {
        var onePass = 0
        var declined = 0
    }

    /// Compares the one-pass path at the given split positions (`nil`: one part) and block sizes, and
    /// `streamed(fromCSV:)`, with the ledger's report and load report for every option set.
    @discardableResult
    static func expectSameAsLedger(
        _ bytes: [UInt8], input: OrderInputOptions = OrderInputOptions(), options: [RetentionReport.Options],
        splits: [Int?], blockSizes: [Int] = [1 << 12, 1 << 20], sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Outcome {
        let path = NSTemporaryDirectory() + "streamed-\(UUID().uuidString).csv"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)), sourceLocation: sourceLocation)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var outcome = Outcome()
        for option in options {
            let expected = Result { () throws -> (RetentionReport, LoadReport) in
                let (ledger, load) = try CSVOrderReader.loadLedger(path: path, options: input)
                return (try RetentionReport(ledger, options: option), load)
            }
            func check(_ actual: Result<(RetentionReport, LoadReport)?, any Error>, _ context: String) -> Bool? {
                switch (expected, actual) {
                case (_, .success(nil)):
                    return false
                case (.success(let (report, load)), .success(let (streamed, streamedLoad)?)):
                    #expect(streamed == report, "\(context)", sourceLocation: sourceLocation)
                    #expect(streamedLoad == load, "\(context)", sourceLocation: sourceLocation)
                    return true
                case (.failure(let error), .failure(let streamedError)):
                    #expect("\(streamedError)" == "\(error)", "\(context)", sourceLocation: sourceLocation)
                    return nil
                default:
                    Issue.record(
                        "ledger \(expected) but streamed \(actual) (\(context))", sourceLocation: sourceLocation)
                    return nil
                }
            }
            // The public entry always answers (one pass or the ledger path).
            let answered = check(
                Result { Optional(try RetentionReport.streamed(fromCSV: path, input: input, options: option)) },
                "streamed(fromCSV:)")
            #expect(answered != false, sourceLocation: sourceLocation)
            for split in splits {
                for blockSize in blockSizes {
                    let actual = Result {
                        try FastCSVLoader.streamReport(
                            path: path, options: input, reportOptions: option, blockSize: blockSize,
                            split: split.map { FastCSVLoader.Split(threshold: 0, position: $0) }
                                ?? FastCSVLoader.Split(threshold: .max))
                    }
                    switch check(actual, "split \(split.map(String.init) ?? "none"), block \(blockSize)") {
                    case true?: outcome.onePass += 1
                    case false?: outcome.declined += 1
                    case nil: break
                    }
                }
            }
        }
        return outcome
    }

    static func options(_ zone: String) throws -> [RetentionReport.Options] {
        let calendar = try #require(PeriodCalendar(identifier: zone))
        let window =
            Timestamp(secondsSince1970: 1_680_000_000)..<Timestamp(secondsSince1970: 1_720_000_000)
        return [
            .init(calendar: calendar),
            .init(calendar: calendar, activeWithin: 45 * 86_400, cohortUnit: .quarter, refunds: .exclude),
            .init(calendar: calendar, window: window, refunds: .net),
            .init(
                calendar: calendar, window: window, activeWithin: 90 * 86_400,
                asOf: CivilDate(year: 2024, month: 3, day: 31)!, bins: 4),
        ]
    }

    @Test(arguments: ["UTC", "Europe/Berlin", "America/New_York"])
    func cleanFilesTakeOnePassEverywhere(zone: String) throws {
        let bytes = Self.export(rows: 1_500, customers: 400, seed: 3)
        let splits: [Int?] = [nil, 0, 1, 40, bytes.count / 3, bytes.count / 2 + 7, bytes.count - 2, bytes.count]
        let outcome = try Self.expectSameAsLedger(bytes, options: try Self.options(zone), splits: splits)
        #expect(outcome.declined == 0 && outcome.onePass == 4 * splits.count * 2)
    }

    /// Every split position of a small file (CRLF line ends, shuffled order ids so that the halves' ids must be
    /// looked up, not just compared at the ends).
    @Test func everySplitPositionWithShuffledIDsAndCRLF() throws {
        let bytes = Self.export(rows: 16, customers: 5, seed: 5, shuffledIDs: true, lineEnd: "\r\n")
        let outcome = try Self.expectSameAsLedger(
            bytes, options: [.init(calendar: .utc)], splits: Array(0...bytes.count), blockSizes: [64])
        #expect(outcome.declined == 0)
    }

    /// Order ids out of increasing order are kept as one bit per key (not stored): shuffled ids, a first half
    /// shuffled and a second half increasing (each mode against the other at the join), a repeat in either mode
    /// (declined), and keys over the bit set's limit (the ids are stored as before).
    @Test func orderIDsOutOfOrderAsBits() throws {
        let lines = String(decoding: Self.export(rows: 60, customers: 12, seed: 13, shuffledIDs: true), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        let header = lines[0]
        let shuffled = Array(lines[1...])
        // Later ids, increasing: `O0000061...`.
        let increasing = (61...90).map { k in
            "O\(String(format: "%07d", k)),C\(String(format: "%07d", k % 12)),2024-01-0\(1 + k % 9)T00:00:00Z,\(k).50"
        }
        func file(_ rows: [String]) -> [UInt8] { Array(([header] + rows).joined(separator: "\n").utf8 + [0x0A]) }
        let mixed = file(shuffled + increasing)
        let splits = Array(Swift.stride(from: 0, through: mixed.count, by: 61)).map(Optional.some) + [nil]
        let clean = try Self.expectSameAsLedger(
            mixed, options: [.init(calendar: .utc)], splits: splits, blockSizes: [128])
        #expect(clean.declined == 0 && clean.onePass == splits.count)
        let reversed = file(increasing.reversed() + shuffled)
        let both = try Self.expectSameAsLedger(
            reversed, options: [.init(calendar: .utc)], splits: splits, blockSizes: [128])
        #expect(both.declined == 0)
        // A repeat: of a shuffled id in the increasing part, of an increasing id in the shuffled part, within the
        // shuffled part.
        for repeated in [
            file(shuffled + increasing + [shuffled[5]]), file([increasing[3]] + shuffled + increasing),
            file(shuffled + [shuffled[40]] + increasing),
        ] {
            let outcome = try Self.expectSameAsLedger(
                repeated, options: [.init(calendar: .utc)], splits: splits, blockSizes: [128])
            #expect(outcome.onePass == 0)
        }
        // Keys over the limit (2^26; `O100000012`): the one pass stores those ids and still answers.
        let large = (shuffled + increasing).map { "O10" + $0.dropFirst() }
        let outcome = try Self.expectSameAsLedger(
            file(large), options: [.init(calendar: .utc)], splits: [nil, 200, 900], blockSizes: [128])
        #expect(outcome.declined == 0)
        // ... and notices a repeat among them.
        let repeatedLarge = try Self.expectSameAsLedger(
            file(large + [large[30]]), options: [.init(calendar: .utc)], splits: [nil, 200, 900], blockSizes: [128])
        #expect(repeatedLarge.onePass == 0)
    }

    /// Bad rows: in the first part the one pass reports them (skip) or throws the ledger's error (fail); in the
    /// second part it declines (its line numbers are the ledger path's business). Duplicates, exact or not,
    /// always decline.
    @Test func badRowsAndDuplicates() throws {
        let bad = Self.export(
            rows: 400, customers: 50, seed: 7,
            extra: [(5, "O9000001,C0000001,2024-02-30T00:00:00Z,1.00"), (9, "O9000002,C0000002,2024-01-01,x")])
        let skip = OrderInputOptions(badRows: .skip)
        let splits: [Int?] = [nil, bad.count / 2]
        let early = try Self.expectSameAsLedger(bad, input: skip, options: [.init()], splits: splits)
        #expect(early.onePass == 2 * 2)
        try Self.expectSameAsLedger(bad, options: [.init()], splits: splits)
        let late = Self.export(rows: 400, customers: 50, seed: 7, extra: [(390, "O9000001,C0000001,soon,1.00")])
        let outcome = try Self.expectSameAsLedger(late, input: skip, options: [.init()], splits: [late.count / 2])
        #expect(outcome.declined == 2)
        let lines = String(decoding: Self.export(rows: 300, customers: 40, seed: 8), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        for duplicate in [lines[10], lines[10].replacingOccurrences(of: ",C", with: ",C1")] {
            let bytes = Array((lines + [duplicate]).joined(separator: "\n").utf8 + [0x0A])
            for input in [OrderInputOptions(), skip] {
                let outcome = try Self.expectSameAsLedger(
                    bytes, input: input, options: [.init()], splits: [nil, bytes.count / 2])
                #expect(outcome.onePass == 0 && outcome.declined == 4)
            }
        }
    }

    /// What the one pass does not take: customer ids without one digit pattern, ids above the key limit, quoted
    /// fields, weekly cohorts over customers spanning more than 64 weeks, an as-of day without a window,
    /// `.split` binning; and a header-only file. The ledger path answers each the same way.
    @Test func declinedInputsAndOptions() throws {
        let base = String(decoding: Self.export(rows: 300, customers: 60, seed: 9), as: UTF8.self)
        let emails = base.replacingOccurrences(of: ",C000", with: ",user@shop")
        let quoted = base.replacingOccurrences(of: ",C0000001,", with: ",\"C0000001\",")
        let huge = base.replacingOccurrences(of: ",C0000002,", with: ",C9999999,")
        for text in [emails, quoted, huge] {
            let outcome = try Self.expectSameAsLedger(
                Array(text.utf8), options: [.init()], splits: [nil, text.utf8.count / 2])
            #expect(outcome.declined == 4)
        }
        let asOf = CivilDate(year: 2024, month: 1, day: 1)!
        let declinedOptions: [RetentionReport.Options] = [
            .init(cohortUnit: .week), .init(asOf: asOf), .init(binning: .split),
        ]
        let outcome = try Self.expectSameAsLedger(Array(base.utf8), options: declinedOptions, splits: [nil])
        #expect(outcome.declined == 3 * 2)
        try Self.expectSameAsLedger(
            Array("order_id,customer_id,timestamp,amount\n".utf8), options: [.init()], splits: [nil])
    }
}

/// `RFMColumns.onePass(fromCSV:)` equals the ledger's `RFMScores(RFMSummary(...))` and segments, or declines.
struct RFMColumnsOnePassTests {
    static func expectSameAsLedger(
        _ bytes: [UInt8], zone: String, asOf: CivilDate?, bins: Int, input: OrderInputOptions? = nil,
        splits: [Int?] = [nil], sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Int {
        let path = NSTemporaryDirectory() + "rfm-one-pass-\(UUID().uuidString).csv"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)), sourceLocation: sourceLocation)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let calendar = try #require(PeriodCalendar(identifier: zone))
        var options = input ?? OrderInputOptions()
        options.calendar = calendar
        let (ledger, load) = try CSVOrderReader.loadLedger(path: path, options: options)
        let day = asOf ?? calendar.localDay(of: Timestamp(secondsSince1970: ledger.timestampRange!.upperBound))
        let expected = RFMScores(RFMSummary(ledger: ledger, asOf: day, calendar: calendar), bins: bins)
        let segments = RFMSegmentation.standard.segments(of: expected)
        var answered = 0
        for split in splits {
            guard
                let (columns, columnsLoad) = try RFMColumns.onePass(
                    path: path, input: options, asOf: asOf, bins: bins, segmentation: .standard, blockSize: 1 << 12,
                    split: split.map { FastCSVLoader.Split(threshold: 0, position: $0) }
                        ?? FastCSVLoader.Split(threshold: .max))
            else { continue }
            answered += 1
            #expect(columns.scores == expected, sourceLocation: sourceLocation)
            #expect(columns.segments.map { columns.segmentNames[Int($0)] } == segments, sourceLocation: sourceLocation)
            #expect(columns.asOf == day && columnsLoad == load, sourceLocation: sourceLocation)
        }
        if let (columns, _) = try RFMColumns.onePass(fromCSV: path, input: options, asOf: asOf, bins: bins) {
            #expect(columns.scores == expected, sourceLocation: sourceLocation)
        }
        return answered
    }

    @Test(arguments: ["UTC", "Europe/Berlin", "Australia/Lord_Howe"])
    func equalsTheLedgerPath(zone: String) throws {
        let bytes = StreamedReportTests.export(rows: 2_000, customers: 500, seed: 21)
        for (asOf, bins) in [(nil, 5), (CivilDate(year: 2024, month: 2, day: 29), 3), (nil, 1), (nil, 7)] {
            let answered = try Self.expectSameAsLedger(
                bytes, zone: zone, asOf: asOf, bins: bins, splits: [nil, 1, bytes.count / 2, bytes.count - 3])
            #expect(answered == 4)
        }
    }

    /// Over 131,072 keys the columns are filled and scored by two threads; heavy buyers (4,096 purchases and more)
    /// leave the frequency histogram.
    @Test func twoPartsAndHeavyBuyers() throws {
        var text = String(
            decoding: StreamedReportTests.export(rows: 200_000, customers: 150_000, seed: 24), as: UTF8.self)
        for k in 0..<4_100 { text += "P\(String(format: "%07d", k)),C0000007,2023-06-01T10:00:00Z,1.00\n" }
        let bytes = Array(text.utf8)
        let answered = try Self.expectSameAsLedger(bytes, zone: "Europe/Berlin", asOf: nil, bins: 5)
        #expect(answered == 1)
    }

    /// Refunds only, refunds after the as-of day, and bad rows skipped in the first half.
    @Test func refundsAndSkippedRows() throws {
        let bytes = StreamedReportTests.export(
            rows: 300, customers: 40, seed: 22,
            extra: [
                (3, "O9000001,C0000999,2023-05-01T00:00:00Z,-5.00"),
                (4, "O9000002,C0000001,2030-01-01T00:00:00Z,-7.00"),
                (6, "O9000003,C0000002,2024-13-01T00:00:00Z,1.00"),
            ])
        let answered = try Self.expectSameAsLedger(
            bytes, zone: "UTC", asOf: CivilDate(year: 2024, month: 6, day: 1), bins: 5,
            input: OrderInputOptions(badRows: .skip), splits: [nil, bytes.count / 2])
        #expect(answered == 2)
    }

    /// Ids of different lengths (key order is not id order) and ids of no digit pattern: the ledger's business.
    @Test func declinesWhereKeyOrderIsNotIdOrder() throws {
        let base = String(decoding: StreamedReportTests.export(rows: 300, customers: 40, seed: 23), as: UTF8.self)
        // "C0000042" -> "42": plain numbers of 1 to 2 digits.
        let plain = base.replacingOccurrences(of: #",C0*([0-9])"#, with: ",$1", options: .regularExpression)
        let emails = base.replacingOccurrences(of: ",C000", with: ",customer.email+")
        #expect(plain.contains(",7,") && plain.contains(",17,"))
        for text in [plain, emails] {
            #expect(try Self.expectSameAsLedger(Array(text.utf8), zone: "UTC", asOf: nil, bins: 5) == 0)
        }
    }
}

/// `BTYDSummaryColumns.onePass(fromCSV:)` equals the ledger's `BTYDSummary`, or declines.
struct BTYDSummaryOnePassTests {
    static func expectSameAsLedger(
        _ bytes: [UInt8], zone: String, end: CivilDate?, unit: BTYDSummary.Unit, input: OrderInputOptions? = nil,
        splits: [Int?] = [nil], sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Int {
        let path = NSTemporaryDirectory() + "btyd-one-pass-\(UUID().uuidString).csv"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)), sourceLocation: sourceLocation)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let calendar = try #require(PeriodCalendar(identifier: zone))
        var options = input ?? OrderInputOptions()
        options.calendar = calendar
        let (ledger, load) = try CSVOrderReader.loadLedger(path: path, options: options)
        let day = end ?? calendar.localDay(of: Timestamp(secondsSince1970: ledger.timestampRange!.upperBound))
        let expected = BTYDSummary(ledger: ledger, calendar: calendar, observationEnd: day, unit: unit)
        var answered = 0
        for split in splits {
            guard
                let (columns, columnsLoad) = try BTYDSummaryColumns.onePass(
                    path: path, input: options, observationEnd: end, unit: unit, blockSize: 1 << 12,
                    split: split.map { FastCSVLoader.Split(threshold: 0, position: $0) }
                        ?? FastCSVLoader.Split(threshold: .max))
            else { continue }
            answered += 1
            #expect(columns.summary == expected, sourceLocation: sourceLocation)
            #expect(columnsLoad == load, sourceLocation: sourceLocation)
        }
        return answered
    }

    /// Shuffled rows (purchases out of period order), several purchases a day, refunds before, in and after the
    /// first period, customers with more than five purchase periods (the worker's log), in three zones and both
    /// units, with and without an observation end.
    @Test(arguments: ["UTC", "Europe/Berlin", "Australia/Lord_Howe"])
    func equalsTheLedgerPath(zone: String) throws {
        var lines = String(decoding: StreamedReportTests.export(rows: 3_000, customers: 300, seed: 31), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        for k in 0..<40 {
            lines.append("Q\(String(format: "%07d", k)),C0000005,2023-0\(1 + k % 9)-1\(k % 7)T2\(k % 4):30:00Z,\(k).50")
        }
        let bytes = Array((lines.joined(separator: "\n") + "\n").utf8)
        for (end, unit) in [
            (nil, BTYDSummary.Unit.day), (nil, .week), (CivilDate(year: 2024, month: 3, day: 31), .day),
            (CivilDate(year: 2023, month: 10, day: 1), .week),
        ] {
            let answered = try Self.expectSameAsLedger(
                bytes, zone: zone, end: end, unit: unit, splits: [nil, bytes.count / 2, 7])
            #expect(answered == 3)
        }
    }

    /// Two or three purchases per customer: the inline periods, never the log; the state is 32 bytes.
    @Test func fewPurchasesPerCustomer() throws {
        #expect(MemoryLayout<BTYDSummaryFold.State>.stride == 32)
        let bytes = StreamedReportTests.export(rows: 2_500, customers: 1_000, seed: 33)
        #expect(
            try Self.expectSameAsLedger(bytes, zone: "America/New_York", end: nil, unit: .day, splits: [nil, 99]) == 2)
    }

    @Test func declinesWhatItCannotTake() throws {
        let base = String(decoding: StreamedReportTests.export(rows: 300, customers: 40, seed: 32), as: UTF8.self)
        let plain = base.replacingOccurrences(of: #",C0*([0-9])"#, with: ",$1", options: .regularExpression)
        #expect(try Self.expectSameAsLedger(Array(plain.utf8), zone: "UTC", end: nil, unit: .day) == 0)
        let path = NSTemporaryDirectory() + "btyd-one-pass-\(UUID().uuidString).csv"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(base.utf8)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try BTYDSummaryColumns.onePass(fromCSV: path, unit: .weeksFromDays) == nil)
    }
}
