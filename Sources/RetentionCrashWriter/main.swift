// A child process for the crash-safety tests (Tests/RetentionSQLiteTests/CrashSafetyTests.swift and
// FileStoreCrashSafetyTests.swift): appends numbered batches of orders to a store forever and, after each
// `append` returns, writes the batch number on its own line to standard output. The test kills it with SIGKILL
// at a random moment and checks the store against the acknowledged numbers.
//
//     retention-crash-writer [sqlite|csv|jsonl] <path>        (the kind defaults to sqlite)
//
// Batch k holds `CrashBatch.size(k)` orders with ids "k-0", "k-1", ..., all for customer "c<k % 7>".

import Foundation
import RetentionSQLite

enum CrashBatch {
    static func size(_ batch: Int) -> Int { (batch * 37) % 150 + 1 }
}

let usage = "usage: retention-crash-writer [sqlite|csv|jsonl] <path>\n"
var arguments = Array(CommandLine.arguments.dropFirst())
let kind = arguments.count == 2 ? arguments.removeFirst() : "sqlite"
guard arguments.count == 1 else {
    FileHandle.standardError.write(Data(usage.utf8))
    exit(2)
}
let store: any OrderStore
switch kind {
case "sqlite": store = try SQLiteOrderStore(path: arguments[0])
case "csv": store = try CSVFileOrderStore(path: arguments[0])
case "jsonl": store = try JSONLinesOrderStore(path: arguments[0])
default:
    FileHandle.standardError.write(Data(usage.utf8))
    exit(2)
}
var batch = 0
while true {
    let orders = (0..<CrashBatch.size(batch)).map { index in
        Order(
            id: "\(batch)-\(index)", customerID: "c\(batch % 7)",
            timestamp: Timestamp(secondsSince1970: 1_704_067_200 + Int64(batch) * 60 + Int64(index)),
            amount: Int64(batch * 100 + index))
    }
    _ = try await store.append(orders)
    // Unbuffered: once this write returns, the acknowledgement is in the pipe even if the process dies next.
    FileHandle.standardOutput.write(Data("\(batch)\n".utf8))
    batch += 1
}
