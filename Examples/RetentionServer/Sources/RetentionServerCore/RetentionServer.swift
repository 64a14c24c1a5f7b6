import Foundation
import Hummingbird
import Logging
import PostgresNIO
import RetentionMetrics
import RetentionPostgres
import RetentionSQLite
import RetentionStorage

/// Where the server listens and which store it opens.
public struct ServerConfiguration: Sendable {
    /// Listening address (default 127.0.0.1: loopback only).
    public var host: String
    /// Listening port (default 8080).
    public var port: Int
    /// The SQLite file used when ``databaseURL`` is `nil` (default `retention.sqlite`).
    public var sqlitePath: String
    /// A PostgreSQL URL (`DATABASE_URL`); when set, the server uses ``PostgresOrderStore`` instead of SQLite.
    public var databaseURL: String?
    /// A CSV file of orders loaded into an empty store at start-up; `nil` to start empty.
    public var seedFile: String?
    /// The largest request body accepted, in bytes (default 8 MiB).
    public var maxBodyBytes: Int

    public init(
        host: String = "127.0.0.1", port: Int = 8080, sqlitePath: String = "retention.sqlite",
        databaseURL: String? = nil, seedFile: String? = nil, maxBodyBytes: Int = 8 << 20
    ) {
        self.host = host
        self.port = port
        self.sqlitePath = sqlitePath
        self.databaseURL = databaseURL
        self.seedFile = seedFile
        self.maxBodyBytes = maxBodyBytes
    }
}

/// Opens the configured store, seeds it, and runs the HTTP server until it is stopped (SIGINT / SIGTERM).
public enum RetentionServer {
    /// Runs the server described by `configuration`.
    ///
    /// - Throws: Store opening and seeding errors, or the server's own (e.g. the port is taken).
    public static func run(_ configuration: ServerConfiguration, logger: Logger) async throws {
        if let url = configuration.databaseURL {
            let client = PostgresClient(
                configuration: try PostgresURL.configuration(url), backgroundLogger: logger)
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await client.run() }
                let store = try await PostgresOrderStore(client: client)
                logger.info("store: PostgreSQL at \(redacted(url))")
                try await serve(store: store, storeName: "postgres", configuration, logger: logger)
                group.cancelAll()
            }
        } else {
            let store = try SQLiteOrderStore(path: configuration.sqlitePath)
            logger.info("store: SQLite at \(configuration.sqlitePath)")
            try await serve(store: store, storeName: "sqlite", configuration, logger: logger)
        }
    }

    static func serve(
        store: any OrderStore, storeName: String, _ configuration: ServerConfiguration, logger: Logger
    ) async throws {
        if let seed = configuration.seedFile {
            let loaded = try await RetentionServer.seed(store, from: seed)
            logger.info("seed: \(loaded.map { "\($0) orders from \(seed)" } ?? "store not empty, \(seed) not read")")
        }
        let api = RetentionAPI(store: store, storeName: storeName, maxBodyBytes: configuration.maxBodyBytes)
        let app = Application(
            router: api.router(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
            logger: logger)
        try await app.runService()
    }

    /// Loads the orders of the CSV file at `path` into `store` when the store is empty, in one atomic batch
    /// (meant for demo-sized files; load production history with `append(contentsOf:batchSize:)`).
    ///
    /// - Returns: The number of orders stored, or `nil` when the store already held orders (nothing is read).
    /// - Throws: ``InputError`` for an unreadable file or a bad row; the store's errors.
    @discardableResult
    public static func seed(_ store: any OrderStore, from path: String) async throws -> Int? {
        guard try await store.count() == 0 else { return nil }
        let (ledger, _) = try CSVOrderReader.loadLedger(path: path)
        // One atomic batch: a seed interrupted half-way (Ctrl-C during start-up) leaves the store empty, so the
        // next start seeds again instead of finding a partial store "not empty".
        return try await store.append(ledger.orders).inserted
    }

    /// `url` without its password.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "(unparsable URL)" }
        if components.password != nil { components.password = "***" }
        return components.string ?? "(unparsable URL)"
    }
}
