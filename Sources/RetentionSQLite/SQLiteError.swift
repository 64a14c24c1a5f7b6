import CSQLite

/// An error from SQLite, with everything needed to reproduce it: the result code, SQLite's message, the SQL
/// text and the bound arguments (after GRDB's `DatabaseError`).
///
/// ```swift
/// do { try await store.append(orders) } catch let error as SQLiteError where error.resultCode == 5 {
///     // SQLITE_BUSY: another process held the write lock longer than the busy timeout
/// }
/// ```
///
/// The arguments are order data (ids, customer ids, amounts); ``description`` shows them, so log it only where
/// order data may be logged.
public struct SQLiteError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The primary result code (`SQLITE_BUSY` = 5, `SQLITE_CONSTRAINT` = 19, ...).
    public var resultCode: Int32 { extendedResultCode & 0xFF }
    /// The extended result code (`SQLITE_CONSTRAINT_PRIMARYKEY` = 1555, ...).
    public var extendedResultCode: Int32
    /// SQLite's message (`sqlite3_errmsg`), or the generic text of the code.
    public var message: String
    /// The statement that failed, when there was one.
    public var sql: String?
    /// The arguments bound to ``sql``, in order.
    public var arguments: [SQLiteValue]

    public init(extendedResultCode: Int32, message: String, sql: String? = nil, arguments: [SQLiteValue] = []) {
        self.extendedResultCode = extendedResultCode
        self.message = message
        self.sql = sql
        self.arguments = arguments
    }

    /// The generic English text of the result code (`sqlite3_errstr`), e.g. "database is locked".
    public var codeDescription: String { String(cString: sqlite3_errstr(extendedResultCode)) }

    /// `SQLite error 19 (constraint failed): NOT NULL constraint failed: orders.ts - while executing
    /// `INSERT INTO ...` with arguments ["1001", NULL]`.
    public var description: String {
        var text = "SQLite error \(extendedResultCode) (\(codeDescription)): \(message)"
        if let sql { text += " - while executing `\(sql)`" }
        if !arguments.isEmpty {
            text += " with arguments [" + arguments.map(\.description).joined(separator: ", ") + "]"
        }
        return text
    }
}

/// A value bound to or read from a statement.
public enum SQLiteValue: Hashable, Sendable, CustomStringConvertible {
    case integer(Int64)
    case text(String)
    case null

    public var description: String {
        switch self {
        case .integer(let value): return String(value)
        case .text(let value):
            return value.count > 64 ? String(value.prefix(64)).debugDescription + "..." : value.debugDescription
        case .null: return "NULL"
        }
    }
}
