// A child process for the crash-safety test (Tests/RetentionSQLiteTests/CrashSafetyTests.swift): appends
// numbered batches of orders to an SQLite store forever and, after each `append` returns, writes the batch
// number on its own line to standard output. The test kills it with SIGKILL at a random moment and checks the
// store against the acknowledged numbers.
//
//     retention-crash-writer <database path>
//
// Batch k holds `CrashBatch.size(k)` orders with ids "k-0", "k-1", ..., all for customer "c<k % 7>".

import Foundation
import RetentionSQLite

enum CrashBatch {
    static func size(_ batch: Int) -> Int { (batch * 37) % 150 + 1 }
}

guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: retention-crash-writer <database path>\n".utf8))
    exit(2)
}
let store = try SQLiteOrderStore(path: CommandLine.arguments[1])
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
