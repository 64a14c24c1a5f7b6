import RetentionStorage

extension PostgresOrderStore {
    /// The SQL texts a store runs, verbatim, for one schema. Placeholders are `$1`, `$2`, ...; values are always
    /// bound. The push-down queries (``customerSummaries``, ``purchaseSpan``, ``purchaseDays``) are
    /// `SQLiteOrderStore.SQL`'s with `$n` placeholders, schema-qualified tables and `CAST(SUM(...) AS BIGINT)`:
    /// plain SQL that Citus, DuckDB, BigQuery or Snowflake run as well (see Documentation/Scaling.md).
    public struct SQL: Sendable, Hashable {
        /// The schema name, double-quoted (`"public"`).
        public let quotedSchema: String

        /// The texts for `schema`.
        /// - Throws: ``StoreError`` with ``StoreError/Code/invalidArgument`` unless `schema` matches
        ///   `[a-z_][a-z0-9_]*` (at most 63 bytes): the name is spliced into the texts, so it is checked, never
        ///   taken as given.
        public init(schema: String) throws {
            let bytes = Array(schema.utf8)
            let valid =
                !bytes.isEmpty && bytes.count <= 63
                && bytes.enumerated().allSatisfy { index, byte in
                    byte == 0x5F || (0x61...0x7A).contains(byte) || (index > 0 && (0x30...0x39).contains(byte))
                }
            guard valid else {
                throw StoreError(
                    .invalidArgument, "schema name \"\(schema)\" is not [a-z_][a-z0-9_]* of at most 63 characters")
            }
            quotedSchema = "\"\(schema)\""
        }

        private var orders: String { "\(quotedSchema).orders" }
        private var storeCurrency: String { "\(quotedSchema).store_currency" }

        /// Serialises migrations of one schema across processes. Parameter: the quoted schema name.
        public static let advisoryLock = "SELECT pg_advisory_xact_lock(hashtext('retention_schema:' || $1))"
        public var createSchema: String { "CREATE SCHEMA IF NOT EXISTS \(quotedSchema)" }
        public var createVersionTable: String {
            """
            CREATE TABLE IF NOT EXISTS \(quotedSchema).retention_schema (
                id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
                version INTEGER NOT NULL
            )
            """
        }
        public var schemaVersion: String { "SELECT version FROM \(quotedSchema).retention_schema WHERE id = 1" }
        /// Parameter: the new version.
        public var setSchemaVersion: String {
            """
            INSERT INTO \(quotedSchema).retention_schema (id, version) VALUES (1, $1)
            ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version
            """
        }

        /// Parameters: order ids, customer ids, instants, amounts, currency codes, as five arrays of one length.
        public var insert: String {
            """
            INSERT INTO \(orders) (order_id, customer_id, ts, amount, currency)
            SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[])
            ON CONFLICT (order_id) DO NOTHING
            RETURNING order_id
            """
        }
        /// Parameter: an array of order ids.
        public var ordersByID: String {
            "SELECT order_id, customer_id, ts, amount FROM \(orders) WHERE order_id = ANY($1::text[])"
        }
        public var currency: String { "SELECT code, minor_unit_digits FROM \(storeCurrency) WHERE id = 1" }
        /// Parameters: code, minor-unit digits.
        public var claimCurrency: String {
            """
            INSERT INTO \(storeCurrency) (id, code, minor_unit_digits) VALUES (1, $1, $2)
            ON CONFLICT (id) DO NOTHING
            """
        }
        public var count: String { "SELECT COUNT(*) FROM \(orders)" }
        /// Parameters: range start, range end, limit.
        public var firstPage: String {
            """
            SELECT order_id, customer_id, ts, amount FROM \(orders)
            WHERE ts >= $1 AND ts < $2
            ORDER BY ts, order_id COLLATE "C" LIMIT $3
            """
        }
        /// Parameters: range start, range end, cursor ts, cursor order id, limit. The row comparison seeks the
        /// (ts, order_id) index at the cursor.
        public var pageAfter: String {
            """
            SELECT order_id, customer_id, ts, amount FROM \(orders)
            WHERE ts >= $1 AND ts < $2 AND (ts, order_id) > ($3, $4 COLLATE "C")
            ORDER BY ts, order_id COLLATE "C" LIMIT $5
            """
        }
        /// Parameter: customer id.
        public var ordersOfCustomer: String {
            """
            SELECT order_id, customer_id, ts, amount FROM \(orders) WHERE customer_id = $1
            ORDER BY ts, order_id COLLATE "C"
            """
        }
        /// Parameters: range start, range end.
        public var customerSummaries: String {
            """
            WITH per_customer AS (
                SELECT customer_id,
                       SUM(CASE WHEN amount >= 0 THEN 1 ELSE 0 END) AS purchases,
                       CAST(SUM(CASE WHEN amount >= 0 THEN amount ELSE 0 END) AS BIGINT) AS purchase_amount,
                       MIN(CASE WHEN amount >= 0 THEN ts END) AS first_purchase,
                       MAX(CASE WHEN amount >= 0 THEN ts END) AS last_purchase,
                       SUM(CASE WHEN amount < 0 THEN 1 ELSE 0 END) AS refunds,
                       CAST(SUM(CASE WHEN amount < 0 THEN amount ELSE 0 END) AS BIGINT) AS refund_amount
                FROM \(orders)
                WHERE ts >= $1 AND ts < $2
                GROUP BY customer_id
            ),
            first_instant AS (
                SELECT o.customer_id, COUNT(*) AS purchases, CAST(SUM(o.amount) AS BIGINT) AS amount
                FROM \(orders) o
                JOIN per_customer p ON o.customer_id = p.customer_id AND o.ts = p.first_purchase
                WHERE o.amount >= 0
                GROUP BY o.customer_id
            )
            SELECT p.customer_id, CAST(p.purchases AS BIGINT), p.purchase_amount, p.first_purchase,
                   p.last_purchase, CAST(p.refunds AS BIGINT), p.refund_amount,
                   COALESCE(f.purchases, 0), COALESCE(f.amount, 0)
            FROM per_customer p
            LEFT JOIN first_instant f ON f.customer_id = p.customer_id
            ORDER BY p.customer_id COLLATE "C"
            """
        }
        /// Parameters: range start, range end.
        public var purchaseSpan: String {
            "SELECT MIN(ts), MAX(ts) FROM \(orders) WHERE ts >= $1 AND ts < $2 AND amount >= 0"
        }
        /// A session-local table (one per pooled connection), emptied before each use inside the transaction.
        public static let createZoneOffsets = """
            CREATE TEMP TABLE IF NOT EXISTS zone_offsets (
                starts BIGINT NOT NULL, ends BIGINT NOT NULL, utc_offset BIGINT NOT NULL)
            """
        public static let clearZoneOffsets = "DELETE FROM zone_offsets"
        /// Parameters: segment starts, ends and offsets, as three arrays of one length.
        public static let insertZoneOffsets = """
            INSERT INTO zone_offsets (starts, ends, utc_offset)
            SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])
            """
        /// Parameters: range start, range end. `%` truncates toward zero in PostgreSQL as in SQLite, so the
        /// floor is spelled out for instants before 1970.
        public var purchaseDays: String {
            """
            SELECT DISTINCT o.customer_id,
                   (o.ts + z.utc_offset - (((o.ts + z.utc_offset) % 86400) + 86400) % 86400) / 86400 AS local_day
            FROM \(orders) o
            JOIN zone_offsets z ON o.ts >= z.starts AND o.ts < z.ends
            WHERE o.ts >= $1 AND o.ts < $2 AND o.amount >= 0
            ORDER BY o.customer_id, local_day
            """
        }
    }
}
