import Foundation
import RetentionSQLite
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Crash safety: a child process (`RetentionCrashWriter`) appends numbered batches to an SQLite store and
/// acknowledges each one after `append` returns; the test kills it with SIGKILL at a random moment, reopens the
/// store and checks that every acknowledged batch is fully there and no batch is partially there (at most the
/// one batch in flight may be there unacknowledged, and then completely).
///
/// Runs `RETENTION_CRASH_RUNS` times (default 5); `RETENTION_CRASH_RUNS=50 swift test --filter CrashSafety`.
struct CrashSafetyTests {
    static let runs = ProcessInfo.processInfo.environment["RETENTION_CRASH_RUNS"].flatMap(Int.init) ?? 5
    /// The seed of the kill delays (and torn-write cuts): `RETENTION_CRASH_SEED`, else a fresh one, printed so
    /// that a failing run's delays can be replayed (the process's own timing still varies from run to run).
    static let killSeed: UInt64 = {
        let seed =
            ProcessInfo.processInfo.environment["RETENTION_CRASH_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 0...UInt64.max)
        print("crash safety: kill delays from RETENTION_CRASH_SEED=\(seed)")
        return seed
    }()

    /// Batch k's size, as the writer computes it.
    static func batchSize(_ batch: Int) -> Int { (batch * 37) % 150 + 1 }

    /// The writer binary: next to the test bundle (the build products directory), else under .build/debug.
    static func writerPath() -> String? {
        var candidates: [URL] = []
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        candidates.append(Bundle.main.bundleURL)
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug"))
        return candidates.map { $0.appendingPathComponent("RetentionCrashWriter").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test func acknowledgedBatchesSurviveSIGKILLAndNoBatchIsPartial() async throws {
        let writer = try #require(Self.writerPath(), "build the RetentionCrashWriter target first (swift build)")
        var rng = SeededGenerator(seed: CrashSafetyTests.killSeed)
        var totalAcknowledged = 0
        for run in 0..<Self.runs {
            let directory = try TemporaryDirectory()
            let path = directory.path("crash.sqlite")
            let delay = UInt32.random(in: 20_000...600_000, using: &rng)  // microseconds
            let acknowledged = try Self.runAndKill(writer: writer, arguments: [path], afterMicroseconds: delay)
            totalAcknowledged += acknowledged.count
            #expect(acknowledged == Array(0..<acknowledged.count), "run \(run): acknowledgements out of order")

            let store = try SQLiteOrderStore(path: path)
            var ordersByBatch: [Int: Set<Int>] = [:]
            for try await page in store.orders(placedIn: .allTime, batchSize: 1_000) {
                for order in page {
                    let parts = order.id.split(separator: "-").compactMap { Int($0) }
                    try #require(parts.count == 2, "run \(run): unexpected id \(order.id)")
                    ordersByBatch[parts[0], default: []].insert(parts[1])
                }
            }
            let last = acknowledged.last ?? -1
            for batch in 0..<(last + 1) {
                let found = ordersByBatch[batch]?.count ?? 0
                let context = "run \(run) (seed \(Self.killSeed), kill after \(delay) us)"
                #expect(
                    found == Self.batchSize(batch), "\(context): acknowledged batch \(batch) has \(found) orders")
            }
            for (batch, indices) in ordersByBatch {
                #expect(indices.count == Self.batchSize(batch), "run \(run): batch \(batch) is partial")
                #expect(batch <= last + 1, "run \(run): batch \(batch) stored but never attempted")
            }
        }
        print("crash safety: \(Self.runs) runs, \(totalAcknowledged) acknowledged batches verified")
    }

    /// Starts the writer, kills it with SIGKILL after `afterMicroseconds`, and returns the acknowledged batches.
    static func runAndKill(writer: String, arguments: [String], afterMicroseconds delay: UInt32) throws -> [Int] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: writer)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        usleep(delay)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        // A line cut by the kill has no newline: it was not acknowledged.
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()
        return lines.compactMap { Int($0) }
    }
}
