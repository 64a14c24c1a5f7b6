import Foundation
import RetentionSQLite
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Crash safety of the file stores (``CSVFileOrderStore``, ``JSONLinesOrderStore``), as `CrashSafetyTests` does
/// for SQLite: `RetentionCrashWriter csv|jsonl <file>` appends numbered batches and acknowledges each after
/// `append` returns; the test kills it with SIGKILL at a random moment, reopens the file and checks that every
/// acknowledged batch is fully there, no batch is partially there, the file is still readable by the plain
/// readers, and the store takes further appends.
///
/// Every other run also simulates a torn write, which a SIGKILL rarely produces on its own (the writer issues one
/// `write` per batch): it appends the first rows of the next batch, cut at a random byte and with no commit
/// marker, to the killed file. Opening must discard exactly those bytes (``FileStoreRecovery``) and nothing
/// acknowledged.
///
/// Runs `RETENTION_CRASH_RUNS` times per format (default 5); `RETENTION_CRASH_RUNS=50 swift test --filter
/// CrashSafety`.
struct FileStoreCrashSafetyTests {
    enum Kind: String, CaseIterable, Sendable {
        case csv
        case jsonl

        func open(_ path: String) throws -> (store: any OrderStore, recovery: FileStoreRecovery) {
            switch self {
            case .csv:
                let store = try CSVFileOrderStore(path: path)
                return (store, store.recovery)
            case .jsonl:
                let store = try JSONLinesOrderStore(path: path)
                return (store, store.recovery)
            }
        }

        /// Whether the file holds the store's first commit marker (it may be the only line besides the header).
        func isInitialised(_ data: Data) -> Bool {
            let marker = self == .csv ? "\n#commit,0\n" : #"{"commit":0}"# + "\n"
            return String(decoding: data.prefix(200), as: UTF8.self).contains(marker)
        }

        /// The rows of `orders` as the store writes them, without a commit marker.
        func rows(_ orders: [Order]) -> [UInt8] {
            switch self {
            case .csv:
                var bytes: [UInt8] = []
                for order in orders { CSVOrderWriter.appendRow(order, to: &bytes) }
                return bytes
            case .jsonl:
                return Array(JSONLinesOrderWriter.string(orders).utf8)
            }
        }

        /// The orders of the file read with the plain reader, skipping the commit markers.
        func readPlainly(_ path: String) throws -> Int {
            var options = OrderInputOptions()
            options.skipsCommitMarkers = true
            var count = 0
            switch self {
            case .csv:
                var reader = try CSVOrderReader(path: path, options: options)
                while try reader.next() != nil { count += 1 }
            case .jsonl:
                var reader = try JSONLinesOrderReader(path: path, options: options)
                while try reader.next() != nil { count += 1 }
            }
            return count
        }
    }

    /// Batch k as the writer makes it.
    static func batch(_ k: Int) -> [Order] {
        (0..<CrashSafetyTests.batchSize(k)).map { index in
            Order(
                id: "\(k)-\(index)", customerID: "c\(k % 7)",
                timestamp: Timestamp(secondsSince1970: 1_704_067_200 + Int64(k) * 60 + Int64(index)),
                amount: Int64(k * 100 + index))
        }
    }

    static func fileSize(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1
    }

    @Test(arguments: Kind.allCases)
    func acknowledgedBatchesSurviveSIGKILLAndNoBatchIsPartial(kind: Kind) async throws {
        let writer = try #require(
            CrashSafetyTests.writerPath(), "build the RetentionCrashWriter target first (swift build)")
        var rng = SeededGenerator(seed: CrashSafetyTests.killSeed)
        var totalAcknowledged = 0
        var killedMidAppend = 0  // runs whose file ended in an unfinished append of the writer's own
        var tornRuns = 0
        var tornBytes = 0
        var killedBeforeCreating = 0
        var unacknowledgedButWhole = 0  // the batch in flight was written whole, the kill came before its ack
        for run in 0..<CrashSafetyTests.runs {
            let directory = try TemporaryDirectory()
            let path = directory.path("crash.\(kind.rawValue)")
            let delay = UInt32.random(in: 20_000...600_000, using: &rng)  // microseconds
            let acknowledged = try CrashSafetyTests.runAndKill(
                writer: writer, arguments: [kind.rawValue, path], afterMicroseconds: delay)
            totalAcknowledged += acknowledged.count
            #expect(acknowledged == Array(0..<acknowledged.count), "run \(run): acknowledgements out of order")
            let last = acknowledged.last ?? -1
            let seed = CrashSafetyTests.killSeed
            let acknowledgedCount = acknowledged.count
            let context = "\(kind) run \(run) (seed \(seed), kill after \(delay) us, \(acknowledgedCount) acknowledged)"

            // Killed before the writer even created the file (a slow start on a loaded machine).
            let created = FileManager.default.fileExists(atPath: path)
            if !created {
                #expect(acknowledged.isEmpty, "\(context): acknowledged batches but no file")
                killedBeforeCreating += 1
            }

            // Every other run: a torn write of the next batch (a random prefix of its rows, no marker). Only once
            // the writer has finished creating the file (its first commit marker is there): the store never
            // appends to a file it has not initialised, it reopens (and initialises) it first.
            var initialised = false
            if created { initialised = kind.isInitialised(try Data(contentsOf: URL(fileURLWithPath: path))) }
            var torn: [UInt8] = []
            if run % 2 == 1, initialised {
                let rows = kind.rows(Self.batch(last + 2))
                torn = Array(rows.prefix(Int.random(in: 1...rows.count, using: &rng)))
                let handle = try #require(FileHandle(forWritingAtPath: path), "\(context): cannot open the file")
                try handle.seekToEnd()
                try handle.write(contentsOf: torn)
                try handle.close()
                tornRuns += 1
                tornBytes += torn.count
            }
            let sizeBefore = created ? try Self.fileSize(path) : 0

            let (store, recovery) = try kind.open(path)
            if recovery.discardedBytes > torn.count { killedMidAppend += 1 }
            #expect(recovery.discardedBytes >= torn.count, "\(context): torn bytes kept: \(recovery)")
            #expect(torn.isEmpty || !recovery.isClean, "\(context): a torn tail was not reported")
            if initialised {
                #expect(
                    try Self.fileSize(path) == sizeBefore - recovery.discardedBytes,
                    "\(context): the file was not cut to its last commit")
            }

            var ordersByBatch: [Int: Set<Int>] = [:]
            var total = 0
            for try await page in store.orders(placedIn: .allTime, batchSize: 1_000) {
                for order in page {
                    let parts = order.id.split(separator: "-").compactMap { Int($0) }
                    try #require(parts.count == 2, "\(context): unexpected id \(order.id)")
                    ordersByBatch[parts[0], default: []].insert(parts[1])
                    total += 1
                }
            }
            for batch in 0..<(last + 1) {
                let found = ordersByBatch[batch]?.count ?? 0
                #expect(
                    found == CrashSafetyTests.batchSize(batch),
                    "\(context): acknowledged batch \(batch) has \(found) orders")
            }
            if ordersByBatch[last + 1] != nil { unacknowledgedButWhole += 1 }
            for (batch, indices) in ordersByBatch {
                #expect(indices.count == CrashSafetyTests.batchSize(batch), "\(context): batch \(batch) is partial")
                #expect(batch <= last + 1, "\(context): batch \(batch) stored but never attempted")
            }
            // The file is still a valid file of its format, and the store goes on.
            #expect(try kind.readPlainly(path) == total, "\(context): the plain reader disagrees")
            let next = Self.batch(last + 2)
            let summary = try await store.append(next)
            #expect(summary == AppendSummary(inserted: next.count, duplicatesIgnored: 0), "\(context): \(summary)")
            let (reopened, again) = try kind.open(path)
            #expect(again.isClean, "\(context): reopening after recovery discarded \(again)")
            #expect(try await reopened.count() == total + next.count, "\(context): count after reopening")
        }
        print(
            "crash safety (\(kind)): \(CrashSafetyTests.runs) runs, \(totalAcknowledged) acknowledged batches "
                + "verified, \(unacknowledgedButWhole) runs with the batch in flight whole but unacknowledged, "
                + "\(killedMidAppend) runs killed inside a write, \(tornRuns) torn tails "
                + "(\(tornBytes) bytes) discarded, \(killedBeforeCreating) runs killed before the file existed")
    }
}
