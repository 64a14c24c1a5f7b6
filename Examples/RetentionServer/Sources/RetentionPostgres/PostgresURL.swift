import Foundation
import PostgresNIO

/// Reads a libpq-style connection URL into a `PostgresClient.Configuration`.
///
///     postgres[ql]://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]
///
/// ```swift
/// let configuration = try PostgresURL.configuration("postgres://retention@127.0.0.1:54329/retention")
/// let client = PostgresClient(configuration: configuration)
/// ```
///
/// `sslmode` defaults to `disable` for loopback hosts (`localhost`, `127.0.0.1`, `::1`) and to `prefer`
/// elsewhere; `verify-ca` and `verify-full` map to `require` (certificates are always verified then).
public enum PostgresURL {
    /// Why a URL was refused.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// A readable reason; the password is never repeated.
        public var description: String
    }

    /// The client configuration of `url`.
    ///
    /// - Parameter url: A `postgres://` or `postgresql://` URL.
    /// - Returns: Host, port (default 5432), user, password, database (default: the user's name) and TLS mode.
    /// - Throws: ``ParseError`` for another scheme, a missing host or user, a bad port or an unknown `sslmode`.
    public static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url) else {
            throw ParseError(description: "DATABASE_URL is not a URL")
        }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw ParseError(description: "DATABASE_URL must start with postgres:// or postgresql://")
        }
        guard let host = components.host, !host.isEmpty else {
            throw ParseError(description: "DATABASE_URL names no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw ParseError(description: "DATABASE_URL names no user (postgres://USER@host/db)")
        }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else { throw ParseError(description: "DATABASE_URL port \(port)") }
        var database = components.path
        if database.hasPrefix("/") { database.removeFirst() }
        let loopback = ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host)
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? (loopback ? "disable" : "prefer")
        let tls: PostgresClient.Configuration.TLS
        switch mode {
        case "disable": tls = .disable
        case "allow", "prefer": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        default: throw ParseError(description: "DATABASE_URL sslmode \(mode) is not disable, prefer or require")
        }
        return PostgresClient.Configuration(
            host: host, port: port, username: user.removingPercentEncoding ?? user,
            password: components.password.map { $0.removingPercentEncoding ?? $0 },
            database: database.isEmpty ? user : (database.removingPercentEncoding ?? database), tls: tls)
    }
}
