import CSQLite
import Foundation
import RetentionSQLite
import RetentionTesting
import Testing

/// A fresh temporary directory per test, removed when the value goes away.
final class TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("retention-sqlite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

private func order(_ id: String, _ customer: String, _ t: Int64, _ amount: Int64) -> Order {
    Order(id: id, customerID: customer, timestamp: Timestamp(secondsSince1970: t), amount: amount)
}

struct SQLiteOrderStoreTests {
    @Test(arguments: OrderStoreConformance.Check.allCases)
    func conformance(check: OrderStoreConformance.Check) async throws {
        let directory = try TemporaryDirectory()
        let suite = OrderStoreConformance { try SQLiteOrderStore(path: directory.path("\(UUID().uuidString).sqlite")) }
        let failures = await suite.run(check)
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func conformanceInMemoryDatabase() async {
        let failures = await OrderStoreConformance { try SQLiteOrderStore(path: ":memory:") }.run()
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func migratesAnEmptyFileToTheCurrentSchema() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("empty.sqlite")
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let store = try SQLiteOrderStore(path: path)
        #expect(try await store.storedSchemaVersion() == SQLiteOrderStore.schemaVersion)
        #expect(SQLiteOrderStore.schemaVersion == 1)
        #expect(try await store.count() == 0)
        // The schema is what the documentation says.
        let tables = try sqliteRows(
            path, "SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name")
        #expect(
            tables.contains("orders") && tables.contains("orders_by_time") && tables.contains("orders_by_customer")
                && tables.contains("store_currency"))
        #expect(try sqliteRows(path, "PRAGMA journal_mode") == ["wal"])
    }

    @Test func reopeningKeepsOrdersAndCurrency() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("reopen.sqlite")
        do {
            let store = try SQLiteOrderStore(path: path, configuration: .init(synchronous: .full))
            try await store.append([
                Order(
                    id: "1", customerID: "a", timestamp: Timestamp(secondsSince1970: 5), amount: 1_234,
                    currency: Currency("KWD"))
            ])
        }
        let reopened = try SQLiteOrderStore(path: path)
        #expect(try await reopened.count() == 1)
        #expect(try await reopened.currency() == Currency("KWD", minorUnitDigits: 3))
        #expect(try await reopened.storedSchemaVersion() == 1)
        await #expect(throws: StoreError.self) {
            try await reopened.append([order("2", "b", 6, 1)])  // USD into a KWD store
        }
    }

    @Test func refusesASchemaFromTheFuture() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("future.sqlite")
        try sqliteExecute(path, "PRAGMA user_version = 99")
        #expect {
            _ = try SQLiteOrderStore(path: path)
        } throws: { error in
            (error as? StoreError)?.code == .unsupportedSchemaVersion
        }
    }

    @Test func injectionShapedIdsAreData() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("injection.sqlite")
        let store = try SQLiteOrderStore(path: path)
        let ids = [
            "'); DROP TABLE orders;--", "1' OR '1'='1", "\"; DELETE FROM orders; --", "x\u{0}y", "?", ":name", "$1",
        ]
        try await store.append(ids.enumerated().map { order($1, $1, Int64($0), 100) })
        #expect(try await store.count() == ids.count)
        for id in ids {
            let found = try await store.orders(ofCustomer: id)
            #expect(found.map(\.id) == [id])
        }
        let other = try await store.orders(ofCustomer: "x")
        #expect(other.isEmpty)
        #expect(try sqliteRows(path, "SELECT COUNT(*) FROM orders") == ["\(ids.count)"])
    }

    @Test func concurrentStoresOnOneFileShareIt() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("shared.sqlite")
        let first = try SQLiteOrderStore(path: path)
        let second = try SQLiteOrderStore(path: path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, store) in [first, second].enumerated() {
                group.addTask {
                    for batch in 0..<20 {
                        try await store.append(
                            (0..<10).map { order("s\(index)-\(batch)-\($0)", "c\(index)", Int64(batch), 1) })
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await first.count() == 400)
        #expect(try await second.count() == 400)
    }

    @Test func errorsCarryCodeMessageSQLAndArguments() throws {
        let directory = try TemporaryDirectory()
        let error = SQLiteError(
            extendedResultCode: 1555, message: "UNIQUE constraint failed: orders.order_id",
            sql: "INSERT INTO orders VALUES (?)", arguments: [.text("1001"), .integer(5), .null])
        #expect(error.resultCode == 19)
        #expect(
            error.description == "SQLite error 1555 (constraint failed): UNIQUE constraint failed: orders.order_id"
                + " - while executing `INSERT INTO orders VALUES (?)` with arguments [\"1001\", 5, NULL]")
        #expect(throws: SQLiteError.self) { _ = try SQLiteOrderStore(path: directory.path("missing/dir/x.sqlite")) }
    }

    @Test func corruptCurrencyIsReported() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("corrupt.sqlite")
        _ = try SQLiteOrderStore(path: path)
        try sqliteExecute(path, "INSERT INTO store_currency (id, code, minor_unit_digits) VALUES (1, 'USD', 9)")
        let store = try SQLiteOrderStore(path: path)
        await #expect { _ = try await store.currency() } throws: { ($0 as? StoreError)?.code == .corruptData }
    }

    /// The page query must seek through the (ts, order_id) index, not scan from the range start on every page.
    @Test func pageQueriesUseTheTimeIndex() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("plan.sqlite")
        _ = try SQLiteOrderStore(path: path)
        for sql in [SQLiteOrderStore.SQL.firstPage, SQLiteOrderStore.SQL.pageAfter] {
            let plan = try sqliteRows(path, "EXPLAIN QUERY PLAN " + sql, column: 3, bindAll: 1).joined(separator: " | ")
            #expect(plan.contains("orders_by_time"), "\(plan)")
        }
        let plan = try sqliteRows(
            path, "EXPLAIN QUERY PLAN " + SQLiteOrderStore.SQL.ordersOfCustomer, column: 3, bindAll: 1)
        #expect(plan.joined().contains("orders_by_customer"), "\(plan)")
    }
}

// MARK: - Raw SQLite access for checking the file from outside the store

private func sqliteOpen(_ path: String) throws -> OpaquePointer {
    var db: OpaquePointer?
    guard sqlite3_open(path, &db) == SQLITE_OK, let db else {
        throw SQLiteError(extendedResultCode: 1, message: "open")
    }
    return db
}

private func sqliteExecute(_ path: String, _ sql: String) throws {
    let db = try sqliteOpen(path)
    defer { sqlite3_close(db) }
    guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
        throw SQLiteError(
            extendedResultCode: sqlite3_extended_errcode(db), message: String(cString: sqlite3_errmsg(db)))
    }
}

private func sqliteRows(_ path: String, _ sql: String, column: Int32 = 0, bindAll: Int64? = nil) throws -> [String] {
    let db = try sqliteOpen(path)
    defer { sqlite3_close(db) }
    var statement: OpaquePointer?
    guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
        throw SQLiteError(extendedResultCode: 1, message: String(cString: sqlite3_errmsg(db)), sql: sql)
    }
    defer { sqlite3_finalize(statement) }
    if let bindAll {
        for index in 0..<sqlite3_bind_parameter_count(statement) { sqlite3_bind_int64(statement, index + 1, bindAll) }
    }
    var rows: [String] = []
    while sqlite3_step(statement) == SQLITE_ROW {
        rows.append(sqlite3_column_text(statement, column).map { String(cString: $0) } ?? "NULL")
    }
    return rows
}
