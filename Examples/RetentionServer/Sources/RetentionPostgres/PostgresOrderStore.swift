import Logging
import PostgresNIO
import RetentionMetrics
import RetentionStorage
import Synchronization

/// An ``OrderStore`` in PostgreSQL, over PostgresNIO's `PostgresClient`, with the same semantics as
/// `SQLiteOrderStore` and the same push-down of per-customer summaries and per-period activity into SQL.
///
/// ```swift
/// let client = PostgresClient(configuration: try PostgresURL.configuration("postgres://shop@db/shop"))
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { await client.run() }          // the pool runs as long as the client is used
///     let store = try await PostgresOrderStore(client: client)
///     try await store.append(contentsOf: SyntheticOrders(count: 100_000), batchSize: 5_000)
///     let summaries = try await store.customerSummaries(placedIn: .allTime)   // one GROUP BY
///     group.cancelAll()
/// }
/// ```
///
/// Design:
/// - Every batch is one transaction on one pooled connection: `INSERT ... SELECT FROM unnest(...)
///   ON CONFLICT (order_id) DO NOTHING RETURNING order_id`, then the orders not returned are read back and
///   compared (identical: a duplicate to ignore; different: ``StoreError/Code/conflictingDuplicate`` and a
///   rollback). Concurrent writers of the same id wait on the primary key, so nothing is lost or doubled; rows
///   are inserted in id order so two batches lock shared ids in the same order, and a deadlock or
///   serialization failure that happens anyway is retried (``Configuration/retries``).
/// - Ids are `TEXT COLLATE "C"`: compared, indexed and ordered as UTF-8 bytes (the database must be UTF8), so
///   reads come ordered by (ts, order id bytes) and `caf\u{E9}` and `cafe\u{301}` are two orders, as in every
///   store.
/// - Values are always bound parameters. The SQL texts are fixed per store (``SQL``); the only text spliced in
///   is the schema name, checked against `[a-z_][a-z0-9_]*` and quoted.
/// - The schema version lives in `retention_schema`; ``migrations`` run forward under an advisory lock when a
///   store is created, and a newer schema is refused with ``StoreError/Code/unsupportedSchemaVersion``.
public final class PostgresOrderStore: SummarizingOrderStore, Sendable {
    /// Store settings.
    public struct Configuration: Sendable {
        /// The PostgreSQL schema (namespace) holding the tables; created when missing. Default `public`.
        public var schema: String
        /// How many times a batch is retried after a deadlock or serialization failure (default 3).
        public var retries: Int
        /// Where the store logs its queries (default: a logger that drops everything).
        public var logger: Logger

        public init(schema: String = "public", retries: Int = 3, logger: Logger? = nil) {
            self.schema = schema
            self.retries = retries
            self.logger = logger ?? Logger(label: "RetentionPostgres", factory: { _ in SwiftLogNoOpLogHandler() })
        }
    }

    /// One step of the schema's history: applied once, in order, when the stored version is below `version`.
    public struct Migration: Sendable {
        public var version: Int
        /// Statements, with `{schema}` standing for the quoted schema name.
        public var statements: [String]
    }

    /// The schema's history. Never edit a published migration: append a new one.
    public static let migrations: [Migration] = [
        Migration(
            version: 1,
            statements: [
                """
                CREATE TABLE {schema}.orders (
                    order_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
                    customer_id TEXT COLLATE "C" NOT NULL,
                    ts BIGINT NOT NULL,
                    amount BIGINT NOT NULL,
                    currency TEXT NOT NULL
                )
                """,
                "CREATE INDEX orders_by_time ON {schema}.orders (ts, order_id)",
                "CREATE INDEX orders_by_customer ON {schema}.orders (customer_id, ts, amount)",
                """
                CREATE TABLE {schema}.store_currency (
                    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
                    code TEXT NOT NULL,
                    minor_unit_digits INTEGER NOT NULL
                )
                """,
            ])
    ]

    /// The schema version this library writes: the last migration's.
    public static var schemaVersion: Int { migrations.last!.version }

    /// The client the store runs its queries on. The caller runs it (`client.run()`) for the store's lifetime.
    public let client: PostgresClient
    /// The store's settings.
    public let configuration: Configuration
    /// The SQL texts of this store's schema.
    public let sql: SQL
    /// The store's currency once known (it never changes after the first append).
    private let knownCurrency = Mutex<Currency?>(nil)

    /// Opens the store in `configuration.schema`, creating or migrating its tables to ``schemaVersion``.
    ///
    /// - Parameters:
    ///   - client: A running (or soon running) `PostgresClient`.
    ///   - configuration: Schema, retries, logger.
    /// - Throws: ``StoreError`` with ``StoreError/Code/invalidArgument`` for a schema name outside
    ///   `[a-z_][a-z0-9_]*`, ``StoreError/Code/unsupportedSchemaVersion`` for a schema newer than this
    ///   library; PostgresNIO's errors when the database cannot be reached.
    public init(client: PostgresClient, configuration: Configuration = Configuration()) async throws {
        self.client = client
        self.configuration = configuration
        self.sql = try SQL(schema: configuration.schema)
        try await migrate()
    }

    /// The stored schema version (0 before the first migration).
    public func storedSchemaVersion() async throws -> Int {
        try await client.withConnection { connection in
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql.schemaVersion), logger: logger)
            for try await version in rows.decode(Int32.self) { return Int(version) }
            return 0
        }
    }

    private var logger: Logger { configuration.logger }

    private func migrate() async throws {
        try await transaction { connection in
            var lock = PostgresBindings()
            lock.append(sql.quotedSchema)
            try await connection.query(PostgresQuery(unsafeSQL: SQL.advisoryLock, binds: lock), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: sql.createSchema), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: sql.createVersionTable), logger: logger)
            var current = 0
            for try await version in try await connection.query(
                PostgresQuery(unsafeSQL: sql.schemaVersion), logger: logger
            ).decode(Int32.self) {
                current = Int(version)
            }
            guard current <= Self.schemaVersion else {
                throw StoreError(
                    .unsupportedSchemaVersion,
                    "schema \(configuration.schema) has version \(current); this library understands up to "
                        + "\(Self.schemaVersion)")
            }
            for migration in Self.migrations where migration.version > current {
                for statement in migration.statements {
                    let text = statement.replacingOccurrences(of: "{schema}", with: sql.quotedSchema)
                    try await connection.query(PostgresQuery(unsafeSQL: text), logger: logger)
                }
                var version = PostgresBindings()
                version.append(Int32(migration.version))
                try await connection.query(
                    PostgresQuery(unsafeSQL: sql.setSchemaVersion, binds: version), logger: logger)
            }
        }
    }

    // MARK: - OrderStore

    @discardableResult
    public func append(_ orders: [Order]) async throws -> AppendSummary {
        var attempt = 0
        while true {
            do {
                return try await appendOnce(orders)
            } catch let error as PSQLError where attempt < configuration.retries && Self.isRetryable(error) {
                attempt += 1
            }
        }
    }

    private func appendOnce(_ orders: [Order]) async throws -> AppendSummary {
        if orders.isEmpty {
            // Nothing to validate or write: no transaction.
            return AppendSummary(inserted: 0, duplicatesIgnored: 0)
        }
        return try await transaction { connection -> AppendSummary in
            var stored = try await readCurrency(connection)
            if stored == nil {
                // Claim the store's currency first: a concurrent first batch waits here on the primary key, and
                // sees the winner's currency once it commits. A rollback (any error below) releases the claim.
                var binds = PostgresBindings()
                binds.append(orders[0].currency.code)
                binds.append(Int32(orders[0].currency.minorUnitDigits))
                try await connection.query(PostgresQuery(unsafeSQL: sql.claimCurrency, binds: binds), logger: logger)
                stored = try await readCurrency(connection)
            }
            let batch = try OrderBatchRules.prepare(orders, storeCurrency: stored)
            // Insert in id byte order, so batches sharing ids take their row locks in the same order.
            let sorted = batch.sorted { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
            var binds = PostgresBindings()
            binds.append(sorted.map(\.id))
            binds.append(sorted.map(\.customerID))
            binds.append(sorted.map(\.timestamp.secondsSince1970))
            binds.append(sorted.map(\.amount))
            binds.append(sorted.map(\.currency.code))
            var inserted = Set<[UInt8]>()
            for try await id in try await connection.query(
                PostgresQuery(unsafeSQL: sql.insert, binds: binds), logger: logger
            )
            .decode(String.self) {
                inserted.insert(Array(id.utf8))
            }
            let existing = sorted.filter { !inserted.contains(Array($0.id.utf8)) }
            if !existing.isEmpty {
                let currency = stored ?? orders[0].currency
                var ids = PostgresBindings()
                ids.append(existing.map(\.id))
                var found: [[UInt8]: Order] = [:]
                let rows = try await connection.query(
                    PostgresQuery(unsafeSQL: sql.ordersByID, binds: ids), logger: logger)
                for try await row in rows.decode((String, String, Int64, Int64).self) {
                    found[Array(row.0.utf8)] = Self.order(row, currency: currency)
                }
                for order in existing {
                    guard let stored = found[Array(order.id.utf8)], OrderBatchRules.identical(stored, order) else {
                        throw StoreError(
                            .conflictingDuplicate, orderID: order.id,
                            "order id \(order.id) is already stored with different content")
                    }
                }
            }
            return AppendSummary(inserted: inserted.count, duplicatesIgnored: orders.count - inserted.count)
        }
    }

    public func orders(placedIn range: Range<Timestamp>, after cursor: OrderCursor?, limit: Int) async throws
        -> [Order]
    {
        guard limit >= 1 else { throw StoreError(.invalidArgument, "page limit \(limit) is below 1") }
        guard let currency = try await currency() else { return [] }
        var binds = PostgresBindings()
        binds.append(range.lowerBound.secondsSince1970)
        binds.append(range.upperBound.secondsSince1970)
        let text: String
        if let cursor {
            binds.append(cursor.timestamp.secondsSince1970)
            binds.append(cursor.orderID)
            text = sql.pageAfter
        } else {
            text = sql.firstPage
        }
        binds.append(Int64(limit))
        return try await client.withConnection { connection in
            var page: [Order] = []
            page.reserveCapacity(Swift.min(limit, 10_000))
            let rows = try await connection.query(PostgresQuery(unsafeSQL: text, binds: binds), logger: logger)
            for try await row in rows.decode((String, String, Int64, Int64).self) {
                page.append(Self.order(row, currency: currency))
            }
            return page
        }
    }

    public func orders(ofCustomer customerID: String) async throws -> [Order] {
        guard let currency = try await currency() else { return [] }
        var binds = PostgresBindings()
        binds.append(customerID)
        return try await client.withConnection { connection in
            var orders: [Order] = []
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: sql.ordersOfCustomer, binds: binds), logger: logger)
            for try await row in rows.decode((String, String, Int64, Int64).self) {
                orders.append(Self.order(row, currency: currency))
            }
            return orders
        }
    }

    public func count() async throws -> Int {
        try await client.withConnection { connection in
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql.count), logger: logger)
            for try await count in rows.decode(Int64.self) { return Int(count) }
            return 0
        }
    }

    public func currency() async throws -> Currency? {
        if let known = knownCurrency.withLock({ $0 }) { return known }
        let read = try await client.withConnection { try await readCurrency($0) }
        if let read { knownCurrency.withLock { $0 = read } }
        return read
    }

    // MARK: - Push-down

    /// Per-customer summaries computed by one `GROUP BY` query (``SQL/customerSummaries``), the same SQL as
    /// `SQLiteOrderStore`'s with `$n` placeholders and `CAST(SUM(...) AS BIGINT)` (PostgreSQL sums `BIGINT`
    /// into `NUMERIC`).
    ///
    ///     purchases = SUM(amount >= 0), purchaseAmount = SUM(amount if >= 0), first/last = MIN/MAX(ts if >= 0),
    ///     refunds = SUM(amount < 0), refundAmount = SUM(amount if < 0),
    ///     firstInstant* = COUNT / SUM of purchases at ts = first purchase (joined back)
    ///
    /// ```swift
    /// let summaries = try await store.customerSummaries(placedIn: .allTime)
    /// summaries.customerIDs.first   // the smallest customer id as UTF-8 bytes
    /// ```
    ///
    /// - Parameter range: Half-open interval of instants.
    /// - Returns: Customers with a row in `range`, ascending by id bytes (`COLLATE "C"`).
    /// - Throws: PostgresNIO's errors; a database error when a customer's sum leaves `BIGINT`.
    /// - Complexity: one scan of the range's rows plus a hash or sort aggregate by customer, in the database.
    public func customerSummaries(placedIn range: Range<Timestamp>) async throws -> CustomerSummaries {
        let currency = try await currency()
        var binds = PostgresBindings()
        binds.append(range.lowerBound.secondsSince1970)
        binds.append(range.upperBound.secondsSince1970)
        return try await client.withConnection { connection in
            var ids: [String] = []
            var summaries: [CustomerSummary] = []
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: sql.customerSummaries, binds: binds), logger: logger)
            for try await row in rows.decode(
                (String, Int64, Int64, Int64?, Int64?, Int64, Int64, Int64, Int64).self)
            {
                var summary = CustomerSummary()
                summary.purchases = Int(row.1)
                summary.purchaseAmount = row.2
                summary.firstPurchase = row.3
                summary.lastPurchase = row.4
                summary.refunds = Int(row.5)
                summary.refundAmount = row.6
                summary.firstInstantPurchases = Int(row.7)
                summary.firstInstantAmount = row.8
                ids.append(row.0)
                summaries.append(summary)
            }
            return CustomerSummaries(customerIDs: ids, summaries: summaries, currency: ids.isEmpty ? nil : currency)
        }
    }

    /// Distinct (customer, period) purchase pairs: SQL maps each purchase to its local day through a temporary
    /// table of the zone's UTC-offset segments (``PeriodCalendar/utcOffsetSegments(covering:)``) and returns
    /// the distinct (customer, local day) pairs; Swift folds days into periods of `unit`.
    ///
    ///     local_day = floor((ts + utc_offset) / 86400), utc_offset from the segment containing ts
    ///
    /// ```swift
    /// let berlin = PeriodCalendar(identifier: "Europe/Berlin")!
    /// let activity = try await store.purchaseActivity(placedIn: .allTime, unit: .month, calendar: berlin)
    /// ```
    ///
    /// - Parameters:
    ///   - range: Half-open interval of instants.
    ///   - unit: The period unit.
    ///   - calendar: The zone whose local days and periods count.
    /// - Returns: The pairs, customers ascending by id bytes.
    /// - Throws: PostgresNIO's errors.
    /// - Complexity: one scan of the range's purchases; one insert of *k* + 1 segments for *k* offset changes.
    public func purchaseActivity(placedIn range: Range<Timestamp>, unit: PeriodUnit, calendar: PeriodCalendar)
        async throws -> PeriodActivity
    {
        var bounds = PostgresBindings()
        bounds.append(range.lowerBound.secondsSince1970)
        bounds.append(range.upperBound.secondsSince1970)
        return try await transaction { connection -> PeriodActivity in
            var builder = PeriodActivity.Builder(unit: unit, timeZoneIdentifier: calendar.identifier)
            var span: (Int64, Int64)?
            for try await row in try await connection.query(
                PostgresQuery(unsafeSQL: sql.purchaseSpan, binds: bounds), logger: logger
            ).decode((Int64?, Int64?).self) {
                if let first = row.0, let last = row.1 { span = (first, last) }
            }
            guard let (first, last) = span else { return builder.build() }
            try await connection.query(PostgresQuery(unsafeSQL: SQL.createZoneOffsets), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: SQL.clearZoneOffsets), logger: logger)
            let segments = calendar.utcOffsetSegments(covering: first..<(last + 1))
            var binds = PostgresBindings()
            binds.append(segments.map(\.instants.lowerBound))
            binds.append(segments.map(\.instants.upperBound))
            binds.append(segments.map(\.utcOffset))
            try await connection.query(PostgresQuery(unsafeSQL: SQL.insertZoneOffsets, binds: binds), logger: logger)
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: sql.purchaseDays, binds: bounds), logger: logger)
            for try await (customer, day) in rows.decode((String, Int64).self) {
                builder.add(customerID: customer, localDay: day)
            }
            return builder.build()
        }
    }

    // MARK: - Helpers

    /// Runs `body` in one transaction on one pooled connection; any error rolls back and is rethrown as is.
    private func transaction<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await client.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                let result = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    private func readCurrency(_ connection: PostgresConnection) async throws -> Currency? {
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql.currency), logger: logger)
        for try await (code, digits) in rows.decode((String, Int32).self) {
            guard (0...4).contains(digits) else {
                throw StoreError(.corruptData, "store_currency holds \(digits) minor-unit digits; expected 0...4")
            }
            return Currency(code, minorUnitDigits: Int(digits))
        }
        return nil
    }

    private static func order(_ row: (String, String, Int64, Int64), currency: Currency) -> Order {
        Order(
            id: row.0, customerID: row.1, timestamp: Timestamp(secondsSince1970: row.2), amount: row.3,
            currency: currency)
    }

    /// Deadlock (40P01) and serialization failure (40001): the transaction rolled back and may simply be retried.
    private static func isRetryable(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40P01" || state == "40001"
    }
}
