import CSQLite

/// `SQLITE_TRANSIENT`: SQLite copies bound text before the call returns (the macro is not imported).
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite connection with a prepared-statement cache. Not thread-safe: ``SQLiteOrderStore`` only uses it
/// under its mutex. Values always travel as bound parameters; SQL text is always one of the store's constants.
final class SQLiteConnection {
    let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]

    init(path: String, busyTimeoutMilliseconds: Int32) throws(SQLiteError) {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &db, flags, nil)
        guard code == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(extendedResultCode: code, message: message + " (opening \(path))")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Runs SQL without parameters (PRAGMA, BEGIN, COMMIT, DDL); returns the first column of the first row as
    /// text, if any.
    @discardableResult
    func execute(_ sql: String) throws(SQLiteError) -> String? {
        var result: String?
        try query(sql, []) { row in if result == nil { result = row.isNull(0) ? nil : row.text(0) } }
        return result
    }

    /// Runs a statement and returns the number of rows it changed.
    @discardableResult
    func run(_ sql: String, _ arguments: [SQLiteValue]) throws(SQLiteError) -> Int {
        try query(sql, arguments) { _ in }
        return Int(sqlite3_changes(handle))
    }

    /// Runs a statement, calling `row` for every result row.
    func query(_ sql: String, _ arguments: [SQLiteValue], row: (SQLiteRow) throws(SQLiteError) -> Void)
        throws(SQLiteError)
    {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (index, argument) in arguments.enumerated() {
            let position = Int32(index + 1)
            let code: Int32
            switch argument {
            case .integer(let value): code = sqlite3_bind_int64(statement, position, value)
            case .null: code = sqlite3_bind_null(statement, position)
            case .text(let value):
                var copy = value
                code = copy.withUTF8 { bytes in
                    // An empty buffer may have a nil base address, which SQLite would bind as NULL, not ''.
                    guard bytes.count <= Int(Int32.max) else { return SQLITE_TOOBIG }
                    guard let base = bytes.baseAddress, !bytes.isEmpty else {
                        return sqlite3_bind_text(statement, position, "", 0, transient)
                    }
                    return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                        sqlite3_bind_text(statement, position, $0, Int32(bytes.count), transient)
                    }
                }
            }
            guard code == SQLITE_OK else { throw error(code, sql, arguments) }
        }
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else { throw error(code, sql, arguments) }
            try row(SQLiteRow(statement: statement))
        }
    }

    /// Runs `body` in a transaction (`BEGIN IMMEDIATE` takes the write lock up front, so two writers never
    /// deadlock upgrading read locks); rolls back when it throws.
    func transaction<T>(immediate: Bool, _ body: () throws -> T) throws -> T {
        try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if sqlite3_get_autocommit(handle) == 0 { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    private func prepared(_ sql: String) throws(SQLiteError) -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else { throw error(code, sql, []) }
        statements[sql] = statement
        return statement
    }

    private func error(_ code: Int32, _ sql: String, _ arguments: [SQLiteValue]) -> SQLiteError {
        SQLiteError(
            extendedResultCode: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)),
            sql: sql, arguments: arguments)
    }
}

/// The current row of a statement being stepped.
struct SQLiteRow {
    let statement: OpaquePointer

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }

    /// The column as text, by its byte length (so embedded NUL bytes survive).
    func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(statement, column) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }
}
