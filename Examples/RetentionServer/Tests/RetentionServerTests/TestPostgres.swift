import Foundation
import Logging
import PostgresNIO
import RetentionPostgres
import Synchronization
import Testing

/// The PostgreSQL the tests use: `RETENTION_POSTGRES_URL` (e.g. postgres://retention@127.0.0.1:54329/retention, as
/// printed by Scripts/start-test-postgres.sh). The tests start nothing themselves; without the variable the
/// PostgreSQL tests are skipped with that message.
enum TestPostgres {
    static let url: String? = ProcessInfo.processInfo.environment["RETENTION_POSTGRES_URL"].flatMap {
        $0.isEmpty ? nil : $0
    }

    static let skipMessage: Comment = """
        RETENTION_POSTGRES_URL is not set: start a throwaway server with \
        Examples/RetentionServer/Scripts/start-test-postgres.sh and export the URL it prints
        """

    /// Runs `body` with a running client on ``url``; every schema made by ``freshSchema()`` in it is dropped after.
    static func withClient<T: Sendable>(_ body: @Sendable (PostgresClient, Schemas) async throws -> T) async throws -> T
    {
        guard let url else { throw CancellationError() }
        let client = PostgresClient(configuration: try PostgresURL.configuration(url))
        let schemas = Schemas()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            do {
                let result = try await body(client, schemas)
                try await schemas.dropAll(client)
                return result
            } catch {
                try? await schemas.dropAll(client)
                throw error
            }
        }
    }

    /// Unique schema names for one test, remembered so they can be dropped.
    final class Schemas: Sendable {
        private let names = Mutex<[String]>([])

        func fresh() -> String {
            let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            names.withLock { $0.append(name) }
            return name
        }

        func dropAll(_ client: PostgresClient) async throws {
            let all = names.withLock { $0 }
            for name in all {
                // The name is ours: t_ and 32 hex digits.
                try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(name)\" CASCADE"))
            }
        }
    }
}
