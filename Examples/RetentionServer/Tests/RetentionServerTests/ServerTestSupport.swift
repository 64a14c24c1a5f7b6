import Foundation
import Hummingbird
import HummingbirdTesting
import RetentionSQLite
import RetentionStorage
import Testing

@testable import RetentionServerCore

/// A fresh temporary directory per test, removed when the value goes away.
final class TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("retention-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// The five orders of the worked example (Documentation/Server.md):
///
///     a1 alice 2024-01-05T10:00Z   10.00      a2 alice 2024-02-10T09:30Z  19.99 (a JSON number)
///     b1 bob   2024-01-20T12:00Z    5         c1 carol 2024-02-15T18:00+01:00  7.50
///     c2 carol 2024-02-20T08:00Z   -2.50 (a refund)
let workedExample = """
    [
      {"orderId": "a1", "customerId": "alice", "timestamp": "2024-01-05T10:00:00Z", "amount": "10.00"},
      {"orderId": "b1", "customerId": "bob", "timestamp": "2024-01-20T12:00:00Z", "amount": "5", "currency": "USD"},
      {"orderId": "a2", "customerId": "alice", "timestamp": "2024-02-10T09:30:00Z", "amount": 19.99},
      {"orderId": "c1", "customerId": "carol", "timestamp": "2024-02-15T18:00:00+01:00", "amount": "7.50"},
      {"orderId": "c2", "customerId": "carol", "timestamp": "2024-02-20T08:00:00Z", "amount": "-2.50"}
    ]
    """

/// An application over a new SQLite file.
func sqliteApp(_ directory: TemporaryDirectory, maxBodyBytes: Int = 8 << 20) throws
    -> (Application<RouterResponder<BasicRequestContext>>, RetentionAPI)
{
    let store = try SQLiteOrderStore(path: directory.path("orders.sqlite"))
    let api = RetentionAPI(store: store, storeName: "sqlite", maxBodyBytes: maxBodyBytes)
    return (Application(router: api.router()), api)
}

extension TestClientProtocol {
    /// Sends `method uri` with an optional body and returns the status and body text.
    func call(_ method: HTTPRequest.Method, _ uri: String, body: String? = nil) async throws
        -> (status: HTTPResponse.Status, text: String, contentType: String?)
    {
        try await execute(uri: uri, method: method, body: body.map { ByteBuffer(string: $0) }) { response in
            (response.status, String(buffer: response.body), response.headers[.contentType])
        }
    }
}

/// The parsed JSON object of an answer.
func object(_ text: String) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    return try #require(value as? [String: Any], "not a JSON object: \(text)")
}

/// The `{"error": "..."}` message of an answer.
func errorMessage(_ text: String) throws -> String {
    try #require(try object(text)["error"] as? String, "no error message in \(text)")
}
