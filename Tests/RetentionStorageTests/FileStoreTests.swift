import Foundation
import RetentionStorage
import RetentionTesting
import Testing

/// The two file stores: conformance, durability across reopening, crash recovery, compatibility with the
/// CSV / JSON Lines readers and writers.
///
/// Each test's files live in a directory of its own, removed when the test ends (the suite is a class so that its
/// `deinit` can remove it).
final class FileStoreTests: Sendable {
    enum Kind: String, CaseIterable, Sendable, CustomStringConvertible {
        case csv, jsonLines
        var description: String { rawValue }
        var fileExtension: String { self == .csv ? "csv" : "jsonl" }

        func open(_ path: String) throws -> any FileStoreUnderTest {
            switch self {
            case .csv: return try CSVFileOrderStore(path: path)
            case .jsonLines: return try JSONLinesOrderStore(path: path)
            }
        }
    }

    /// This test's directory.
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("filestore-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// A new file name in `directory`.
    static func temporaryPath(_ kind: Kind, in directory: String) -> String {
        directory + "/\(UUID()).\(kind.fileExtension)"
    }

    func temporaryPath(_ kind: Kind) -> String { Self.temporaryPath(kind, in: directory) }

    static func contents(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }

    static func appendRaw(_ text: String, to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    static func order(_ id: String, _ customer: String, _ t: Int64, _ amount: Int64, _ currency: Currency = .usd)
        -> Order
    {
        Order(
            id: id, customerID: customer, timestamp: Timestamp(secondsSince1970: t), amount: amount, currency: currency)
    }

    static func readAll(_ store: any OrderStore) async throws -> [Order] {
        var all: [Order] = []
        for try await batch in store.orders(placedIn: .allTime, batchSize: 7) { all += batch }
        return all
    }

    static let conformanceCases = Kind.allCases.flatMap { kind in
        OrderStoreConformance.Check.allCases.map { (kind, $0) }
    }

    @Test(arguments: conformanceCases)
    func conformance(kind: Kind, check: OrderStoreConformance.Check) async {
        let directory = directory
        let suite = OrderStoreConformance { try kind.open(FileStoreTests.temporaryPath(kind, in: directory)) }
        let failures = await suite.run(check)
        #expect(failures.isEmpty, "\(failures)")
    }

    /// The bytes of a CSV store after two appends, written out by hand.
    @Test func csvFileLayout() async throws {
        let path = temporaryPath(.csv)
        let store = try CSVFileOrderStore(path: path)
        #expect(try Self.contents(path) == "order_id,customer_id,timestamp,amount,currency\n#commit,0\n")
        try await store.append([Self.order("1001", "alice", 1_709_294_400, 2_500)])
        try await store.append([
            Self.order("#1002", "bob", 1_709_371_800, 1_200), Self.order("1001", "alice", 1_709_294_400, 2_500),
        ])
        #expect(
            try Self.contents(path) == """
                order_id,customer_id,timestamp,amount,currency
                #commit,0
                1001,alice,2024-03-01T12:00:00Z,25.00,USD
                #commit,1,USD,2
                "#1002",bob,2024-03-02T09:30:00Z,12.00,USD
                #commit,2,USD,2

                """)
    }

    @Test func jsonLinesFileLayout() async throws {
        let path = temporaryPath(.jsonLines)
        let store = try JSONLinesOrderStore(path: path)
        try await store.append([Self.order("1001", "alice", 1_709_294_400, -2_500, Currency("KWD"))])
        #expect(
            try Self.contents(path) == """
                {"commit":0}
                {"orderId":"1001","customerId":"alice","timestamp":"2024-03-01T12:00:00Z","amount":"-2.500",\
                "currency":"KWD"}
                {"commit":1,"currency":"KWD","minorUnitDigits":3}

                """)
    }

    /// Everything the conformance round trip writes (quotes, line breaks, unicode, 3 minor digits of a code whose
    /// ISO default is 2, extreme amounts) reads back the same after reopening, and appends continue.
    @Test(arguments: Kind.allCases)
    func reopenSeesEverything(kind: Kind) async throws {
        let path = temporaryPath(kind)
        let xts = Currency("XTS", minorUnitDigits: 3)
        let texts = ["a,b", "line\nbreak", "quote\"d", "caf\u{E9}", "cafe\u{301}", "  spaced  ", "#hash", "\\", "\r"]
        var orders = texts.enumerated().map { index, text in
            Self.order(
                text, texts[(index + 1) % texts.count], Int64(index) * 86_399 - 100_000, Int64(index) * 1_001, xts)
        }
        orders.append(Self.order("max", "big", 253_402_300_799, .max, xts))
        orders.append(Self.order("min", "big", -62_167_219_200, .min + 1, xts))
        do {
            let store = try kind.open(path)
            try await store.append(Array(orders.prefix(5)))
            try await store.append(Array(orders.dropFirst(5)))
        }
        let reopened = try kind.open(path)
        #expect(reopened.recovery.isClean)
        #expect(try await reopened.count() == orders.count)
        #expect(try await reopened.currency() == xts)
        let read = try await Self.readAll(reopened)
        let want = orders.sorted(by: OrderBatchRules.precedes)
        #expect(read.count == want.count && zip(read, want).allSatisfy { OrderBatchRules.identical($0, $1) })
        let again = try await reopened.append([orders[0], Self.order("new", "c", 0, 1, xts)])
        #expect(again == AppendSummary(inserted: 1, duplicatesIgnored: 1))
        let third = try kind.open(path)
        #expect(try await third.count() == orders.count + 1)
        #expect(try await third.orders(ofCustomer: "big").map(\.id) == ["min", "max"])
    }

    /// A batch written without its commit marker (two whole rows and half of a third, as a crash mid-`write`
    /// leaves it) is cut away on open and reported; the next append and reopen work.
    @Test(arguments: Kind.allCases)
    func tornTailIsDiscardedAndReported(kind: Kind) async throws {
        let path = temporaryPath(kind)
        do {
            let store = try kind.open(path)
            try await store.append([Self.order("1", "alice", 100, 500), Self.order("2", "bob", 200, 700)])
        }
        let committed = try Self.contents(path)
        let rows: String
        switch kind {
        case .csv: rows = "3,carol,1970-01-01T00:05:00Z,1.00,USD\n4,dave,1970-01-01T00:06:00Z,2.00,USD\n5,er"
        case .jsonLines:
            rows =
                JSONLinesOrderWriter.string([Self.order("3", "carol", 300, 100), Self.order("4", "dave", 360, 200)])
                + #"{"orderId":"5","cust"#
        }
        try Self.appendRaw(rows, to: path)
        let store = try kind.open(path)
        #expect(store.recovery == FileStoreRecovery(discardedBytes: rows.utf8.count, discardedLines: 3))
        #expect(!store.recovery.isClean)
        #expect(try Self.contents(path) == committed)
        #expect(try await store.count() == 2)
        #expect(try await store.orders(ofCustomer: "carol").isEmpty)
        #expect(
            try await store.append([Self.order("3", "carol", 300, 999)])
                == AppendSummary(inserted: 1, duplicatesIgnored: 0))
        let reopened = try kind.open(path)
        #expect(reopened.recovery.isClean)
        #expect(try await reopened.orders(ofCustomer: "carol").map(\.amount) == [999])
    }

    /// A batch whose commit marker is torn (the crash came during the last bytes of the `write`) is discarded
    /// with its whole rows: it was never acknowledged.
    @Test(arguments: Kind.allCases)
    func tornMarkerIsDiscarded(kind: Kind) async throws {
        let path = temporaryPath(kind)
        do { try await kind.open(path).append([Self.order("1", "alice", 100, 500)]) }
        let marker = kind == .csv ? "2,bob,1970-01-01T00:03:20Z,7.00,USD\n#commit,2,US" : #"{"commit":2"#
        try Self.appendRaw(marker, to: path)
        let store = try kind.open(path)
        #expect(store.recovery.discardedLines == (kind == .csv ? 2 : 1))
        #expect(try await store.count() == 1)
    }

    /// A file written by CSVOrderWriter (no markers) opens with all its orders; the first append commits them
    /// first, so the file stays readable by the store and, with `skipsCommitMarkers`, by CSVOrderReader.
    @Test func csvOrderWriterFileIsReadable() async throws {
        let path = temporaryPath(.csv)
        let written = [
            Self.order("#1001", "alice@example.com", 1_709_294_400, 2_500),
            Self.order("1002", "bob, jr", 1_709_371_800, -1_200),
        ]
        try CSVOrderWriter.write(written, toFile: path)
        #expect(try Self.contents(path).contains("\"#1001\""))
        let store = try CSVFileOrderStore(path: path)
        #expect(store.recovery.isClean)
        #expect(try await Self.readAll(store) == written)
        try await store.append([Self.order("1003", "carol", 1_709_400_000, 100)])
        #expect(
            try Self.contents(path).hasSuffix(
                "#commit,2,USD,2\n1003,carol,2024-03-02T17:20:00Z,1.00,USD\n#commit,3,USD,2\n"))
        let reopened = try CSVFileOrderStore(path: path)
        #expect(try await reopened.count() == 3)

        let (ledger, report) = try CSVOrderReader.loadLedger(path: path, options: .init(skipsCommitMarkers: true))
        #expect(ledger.count == 3 && report.rowsRead == 3 && report.skippedRows == 0)
        #expect(throws: InputError.self) { try CSVOrderReader.loadLedger(path: path) }
        #expect(loadError(try Self.contents(path))?.line == 4)
    }

    @Test func jsonLinesOrderWriterFileIsReadable() async throws {
        let path = temporaryPath(.jsonLines)
        let written = [Self.order("1", "alice", 10, 2_500), Self.order("2", "bob", 20, 1_200)]
        try JSONLinesOrderWriter.write(written, toFile: path)
        let store = try JSONLinesOrderStore(path: path)
        #expect(try await Self.readAll(store) == written)
        try await store.append([Self.order("3", "carol", 30, 100)])
        let (ledger, report) = try JSONLinesOrderReader.loadLedger(path: path, options: .init(skipsCommitMarkers: true))
        #expect(ledger.count == 3 && report.rowsRead == 3)
        let (_, strict) = try JSONLinesOrderReader.loadLedger(path: path, options: .init(badRows: .skip))
        #expect(strict.skippedRows == 2 && strict.errors.first?.code == .missingColumn)
    }

    /// A foreign file whose last row lacks a line end keeps that row; the first append adds the line end.
    @Test func foreignFileWithoutFinalLineEnd() async throws {
        let path = temporaryPath(.csv)
        try Data("order_id,customer_id,timestamp,amount,currency\r\n1,a,1970-01-01T00:00:10Z,1.00,USD".utf8)
            .write(to: URL(fileURLWithPath: path))
        let store = try CSVFileOrderStore(path: path)
        #expect(store.recovery.isClean)
        try await store.append([Self.order("2", "b", 20, 200)])
        let reopened = try CSVFileOrderStore(path: path)
        #expect(try await Self.readAll(reopened).map(\.id) == ["1", "2"])
    }

    /// 8 writers appending concurrently lose nothing, in memory and on disk.
    @Test(arguments: Kind.allCases)
    func concurrentWritersLoseNothing(kind: Kind) async throws {
        let path = temporaryPath(kind)
        let store = try kind.open(path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for batch in 0..<25 {
                        let orders = (0..<4).map { item in
                            Self.order("w\(writer)-\(batch)-\(item)", "writer\(writer)", Int64(batch), Int64(item))
                        }
                        try await store.append(orders)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await store.count() == 800)
        let reopened = try kind.open(path)
        #expect(reopened.recovery.isClean)
        #expect(try await reopened.count() == 800)
        #expect(Set(try await Self.readAll(reopened).map(\.id)).count == 800)
        for writer in 0..<8 { #expect(try await reopened.orders(ofCustomer: "writer\(writer)").count == 100) }
        #expect(try Self.contents(path).components(separatedBy: "\n").filter { $0.contains("commit") }.count == 201)
    }

    @Test func foreignHeaderIsCorruptData() throws {
        let path = temporaryPath(.csv)
        try Data("id,customer,ts,amount\n1,a,2024-01-01,1.00\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: StoreError.self) { try CSVFileOrderStore(path: path) }
        do { _ = try CSVFileOrderStore(path: path) } catch { #expect(error.code == .corruptData) }
        #expect(try Self.contents(path) == "id,customer,ts,amount\n1,a,2024-01-01,1.00\n")
    }

    /// A row removed by another program makes the last marker's count disagree: corruptData, not a silent loss.
    @Test(arguments: Kind.allCases)
    func markerCountMismatchIsCorruptData(kind: Kind) async throws {
        let path = temporaryPath(kind)
        do { try await kind.open(path).append([Self.order("1", "a", 1, 1), Self.order("2", "b", 2, 2)]) }
        let lines = try Self.contents(path).components(separatedBy: "\n")
        let edited = lines.filter { !$0.contains("\"2\"") && !$0.hasPrefix("2,") }.joined(separator: "\n")
        try Data(edited.utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try kind.open(path)
            Issue.record("opening an edited file succeeded")
        } catch let error as StoreError {
            #expect(error.code == .corruptData)
            #expect(error.description.contains("counts 2 orders but the file holds 1"))
        }
    }

    /// Orders the formats cannot write are refused before anything is written.
    @Test(arguments: Kind.allCases)
    func unwritableOrdersAreInvalid(kind: Kind) async throws {
        let path = temporaryPath(kind)
        let store = try kind.open(path)
        let before = try Self.contents(path)
        for bad in [
            Self.order("late", "c", 253_402_300_800, 1), Self.order("early", "c", -62_167_219_201, 1),
            Self.order("code", "c", 0, 1, Currency("US1")),
        ] {
            do {
                try await store.append(bad.currency == .usd ? [Self.order("ok", "c", 0, 1), bad] : [bad])
                Issue.record("\(bad.id) was accepted")
            } catch let error as StoreError {
                #expect(error.code == .invalidOrder && error.orderID == bad.id)
            }
        }
        #expect(try Self.contents(path) == before)
        #expect(try await store.count() == 0)
    }
}

/// What the tests need of either store.
protocol FileStoreUnderTest: OrderStore {
    var recovery: FileStoreRecovery { get }
}

extension CSVFileOrderStore: FileStoreUnderTest {}
extension JSONLinesOrderStore: FileStoreUnderTest {}

struct CommentLineTests {
    /// With `skipsCommentLines`, a line starting with an unquoted `#` is skipped wherever it is (before the
    /// header, between records, with CRLF, last without a line end); a quoted `"#..."` field is data.
    @Test func commentLinesAreSkippedOnlyWhenAsked() throws {
        let text = "# generated\na,b\r\n#x,\"y\n1,2\n\"#q\",3\n#tail"
        var reader = try CSVReader(bytes: Array(text.utf8), options: .init(chunkSize: 3, skipsCommentLines: true))
        #expect(reader.header == ["a", "b"])
        var records: [[String]] = []
        var lines: [Int] = []
        while let record = try reader.next() {
            records.append((0..<record.count).map { record.string(at: $0) ?? "?" })
            lines.append(record.line)
        }
        #expect(records == [["1", "2"], ["#q", "3"]])
        #expect(lines == [4, 5])

        var plain = try CSVReader(bytes: Array("a,b\n#x,y\n".utf8))
        #expect(try plain.next()?.string(at: 0) == "#x")
    }

    @Test func csvOrderReaderSkipsMarkersOnlyWithTheOption() throws {
        let text = "order_id,customer_id,timestamp,amount,currency\n#commit,0\n1,a,2024-01-01T00:00:00Z,1.00,USD\n"
        let (ledger, report) = try load(text, OrderInputOptions(skipsCommitMarkers: true))
        #expect(ledger.count == 1 && report.rowsRead == 1)
        let error = loadError(text)
        #expect(error?.code == .malformedRow && error?.line == 2)
    }
}
