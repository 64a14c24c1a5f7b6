import ArgumentParser
import Foundation
import Logging
import RetentionServerCore

/// `retention-server`: the retention metrics HTTP API over SQLite (default) or PostgreSQL (`DATABASE_URL`).
@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention-server",
        abstract: "Serve retention metrics over HTTP from a SQLite file or a PostgreSQL database.",
        discussion: """
            Flags win over environment variables: RETENTION_HOST, RETENTION_PORT, RETENTION_SQLITE, \
            RETENTION_SEED_FILE, RETENTION_MAX_BODY_BYTES. With DATABASE_URL=postgres://user@host:port/db the \
            server stores orders in PostgreSQL instead of SQLite. An empty store is seeded from --seed-file \
            (default Examples/Data/sample-orders.csv when that file exists) unless --no-seed is given.
            """)

    @Option(help: "Listening address (env RETENTION_HOST, default 127.0.0.1).") var host: String?
    @Option(help: "Listening port (env RETENTION_PORT, default 8080).") var port: Int?
    @Option(help: "SQLite file when DATABASE_URL is unset (env RETENTION_SQLITE, default retention.sqlite).")
    var sqlite: String?
    @Option(name: .customLong("seed-file"), help: "CSV of orders loaded into an empty store (env RETENTION_SEED_FILE).")
    var seedFile: String?
    @Flag(name: .customLong("no-seed"), help: "Start with an empty store; load no CSV.") var noSeed = false
    @Option(name: .customLong("max-body-bytes"), help: "Largest request body (env RETENTION_MAX_BODY_BYTES, 8 MiB).")
    var maxBodyBytes: Int?
    @Option(name: .customLong("log-level"), help: "trace, debug, info (default), notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        let environment = ProcessInfo.processInfo.environment
        if port == nil, let text = environment["RETENTION_PORT"], Int(text) == nil {
            throw ValidationError("RETENTION_PORT must be an integer, got \(text)")
        }
        if let port = resolvedPort, !(1...65_535).contains(port) {
            throw ValidationError("--port must be in 1...65535")
        }
        if let bytes = resolvedMaxBodyBytes, bytes < 1 { throw ValidationError("--max-body-bytes must be at least 1") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    private var resolvedPort: Int? { port ?? ProcessInfo.processInfo.environment["RETENTION_PORT"].flatMap { Int($0) } }
    private var resolvedMaxBodyBytes: Int? {
        maxBodyBytes ?? ProcessInfo.processInfo.environment["RETENTION_MAX_BODY_BYTES"].flatMap { Int($0) }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var configuration = ServerConfiguration()
        configuration.host = host ?? environment["RETENTION_HOST"] ?? configuration.host
        configuration.port = resolvedPort ?? configuration.port
        configuration.sqlitePath = sqlite ?? environment["RETENTION_SQLITE"] ?? configuration.sqlitePath
        configuration.databaseURL = environment["DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.maxBodyBytes = resolvedMaxBodyBytes ?? configuration.maxBodyBytes
        if !noSeed {
            if let file = seedFile ?? environment["RETENTION_SEED_FILE"] {
                guard FileManager.default.fileExists(atPath: file) else {
                    throw ValidationError("--seed-file \(file) does not exist")
                }
                configuration.seedFile = file
            } else {
                configuration.seedFile = Self.defaultSeedFile()
            }
        }
        var logger = Logger(label: "retention-server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        if !noSeed, configuration.seedFile == nil {
            logger.notice(
                """
                no seed file: Examples/Data/sample-orders.csv is not in the working directory or above it; starting \
                with the store as it is (--seed-file PATH or RETENTION_SEED_FILE to seed)
                """)
        }
        try await RetentionServer.run(configuration, logger: logger)
    }

    /// `Examples/Data/sample-orders.csv` of the repository, looked for from the working directory upwards
    /// (so it is found from the repository root and from Examples/RetentionServer alike); `nil` if absent.
    static func defaultSeedFile() -> String? {
        var directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("Examples/Data/sample-orders.csv").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }
}
