import Foundation
import Hummingbird
import HummingbirdTesting
import RetentionPostgres
import RetentionStorage
import Testing

@testable import RetentionServerCore

/// Hostile requests (Documentation/Reliability.md, "Security"): bodies over the limit however they are sent,
/// malformed JSON of every shape, injection-shaped ids, and no password in what the server logs.
struct RequestHardeningTests {
    /// A body that announces a small `Content-Length` but carries more is still cut at the limit: the route
    /// collects at most `maxBodyBytes`, it does not trust the header.
    @Test func bodyOverTheLimitWithAnUnderstatedLengthIs413() async throws {
        let directory = try TemporaryDirectory()
        let (app, api) = try sqliteApp(directory, maxBodyBytes: 200)
        try await app.test(.router) { client in
            let status = try await client.execute(
                uri: "/orders", method: .post, headers: [.contentLength: "10"],
                body: ByteBuffer(string: workedExample)
            ) { $0.status }
            #expect(status == .contentTooLarge)
        }
        #expect(try await api.store.count() == 0)
    }

    /// One order with the given JSON texts as its id and amount.
    static func order(id: String = #""1""#, amount: String = #""1""#) -> String {
        #"[{"orderId":"# + id + #","customerId":"a","timestamp":"2024-01-01","amount":"# + amount + "}]"
    }

    /// Each malformed body gets a 4xx and stores nothing; none is a 5xx. 400: not JSON, or not an array;
    /// 422: an array whose elements are not orders with string ids and decimal amounts (every problem listed).
    @Test(arguments: [
        ("truncated", String(order().dropLast(3)), 400),
        ("deeply nested", String(repeating: "[", count: 100_000), 400),
        ("nested objects", String(repeating: #"{"a":"#, count: 20_000), 400),
        ("NUL byte outside a string", "[\u{0}]", 400),
        ("trailing garbage", #"[] x"#, 400),
        ("amount a boolean", order(amount: "true"), 422),
        ("amount 1e400", order(amount: "1e400"), 422),
        ("amount beyond Int64", order(amount: "\"" + String(repeating: "9", count: 20) + "\""), 422),
        ("amount an object", order(amount: #"{"$gt":0}"#), 422),
        ("id a number", order(id: "1"), 422),
        ("id an array", order(id: #"["1"]"#), 422),
        ("array of strings", #"["a","b"]"#, 422),
        ("null", "null", 400),
        ("1 MB id, no other fields", #"[{"orderId":""# + String(repeating: "x", count: 1 << 20) + #""}]"#, 422),
    ])
    func malformedBodiesAre4xxAndStoreNothing(name: String, body: String, status: Int) async throws {
        let directory = try TemporaryDirectory()
        let (app, api) = try sqliteApp(directory)
        try await app.test(.router) { client in
            let answer = try await client.call(.post, "/orders", body: body)
            #expect(answer.status.code == status, "\(name): \(answer.status) \(answer.text.prefix(200))")
            // Always a JSON error document.
            let parsed = try JSONSerialization.jsonObject(with: Data(answer.text.utf8)) as? [String: Any]
            #expect(parsed?["error"] != nil || parsed?["errors"] != nil, "\(name): \(answer.text.prefix(200))")
        }
        #expect(try await api.store.count() == 0, "\(name): something was stored")
    }

    /// Bytes that are not UTF-8: outside a string the body is not JSON (400); inside the order id, the id is not
    /// a string (422 naming `orderId`). Nothing is stored either way.
    @Test func invalidUTF8IsRefused() async throws {
        let directory = try TemporaryDirectory()
        let (app, api) = try sqliteApp(directory)
        try await app.test(.router) { client in
            var inID = ByteBuffer(string: #"[{"orderId":""#)
            inID.writeBytes([0xC3, 0x28, 0xFF])
            inID.writeString(#"","customerId":"a","timestamp":"2024-01-01","amount":"1"}]"#)
            let answer = try await client.execute(uri: "/orders", method: .post, body: inID) {
                ($0.status, String(buffer: $0.body))
            }
            #expect(answer.0 == .unprocessableContent)
            let errors = try #require(try object(answer.1)["errors"] as? [[String: Any]], "\(answer.1)")
            #expect(errors.map { $0["field"] as? String } == ["orderId"])
            var outside = ByteBuffer(string: "[")
            outside.writeBytes([0xFF, 0xFE])
            outside.writeString("]")
            let status = try await client.execute(uri: "/orders", method: .post, body: outside) { $0.status }
            #expect(status == .badRequest)
        }
        #expect(try await api.store.count() == 0)
    }

    static let injectionIDs = [
        "'); DROP TABLE orders;--", "' OR '1'='1", "1; DELETE FROM orders WHERE ''='", "\" OR \"\"=\"",
        "$1", "?", ":id", "%", "_", "\\'; --", "../../etc/passwd", "<script>alert(1)</script>",
    ]

    /// Injection-shaped order and customer ids are stored and read back verbatim through the HTTP API; a query
    /// for a customer id shaped like `' OR '1'='1` finds only that customer (or nobody).
    @Test func injectionShapedIdsAreDataNotSQL() async throws {
        let directory = try TemporaryDirectory()
        let (app, api) = try sqliteApp(directory)
        let ids = Self.injectionIDs
        try await app.test(.router) { client in
            let orders = ids.enumerated().map { index, id in
                [
                    "orderId": id, "customerId": id, "timestamp": "2024-01-\(10 + index)T00:00:00Z",
                    "amount": "\(index + 1).00",
                ]
            }
            let body = String(decoding: try JSONSerialization.data(withJSONObject: orders), as: UTF8.self)
            let posted = try await client.call(.post, "/orders", body: body)
            #expect(posted.status == .ok, "\(posted.text)")
            #expect(try object(posted.text)["inserted"] as? Int == ids.count)
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            for (index, id) in ids.enumerated() {
                let path = "/customers/" + id.addingPercentEncoding(withAllowedCharacters: allowed)!
                let answer = try await client.call(.get, path)
                #expect(answer.status == .ok, "\(id): \(answer.text)")
                #expect(try object(answer.text)["revenue"] as? String == "\(index + 1).00", "\(id): \(answer.text)")
            }
            // Not stored: a tautology must not match every customer.
            let unknown = try await client.call(.get, "/customers/x%27%20OR%20%271%27%3D%271")
            #expect(unknown.status == .notFound)
        }
        #expect(try await api.store.count() == ids.count)
        for id in ids {
            #expect(try await api.store.orders(ofCustomer: id).map(\.id) == [id])
        }
    }

    /// The one place the server logs a connection string hides the password, and URL parse errors never
    /// repeat it.
    @Test func noPasswordInLogsOrErrors() {
        let secret = "s3cr3t-P4ss"
        let redacted = RetentionServer.redacted("postgres://shop:\(secret)@db.example:5432/orders")
        #expect(!redacted.contains(secret))
        #expect(redacted.contains("***"))
        #expect(RetentionServer.redacted("postgres://shop@127.0.0.1/orders") == "postgres://shop@127.0.0.1/orders")
        for url in [
            "mysql://shop:\(secret)@db/orders", "postgres://shop:\(secret)@db:99999/orders",
            "postgres://shop:\(secret)@db/orders?sslmode=other", "postgres://:\(secret)@db/orders",
        ] {
            do {
                _ = try PostgresURL.configuration(url)
                Issue.record("\(url) was accepted")
            } catch {
                #expect(!"\(error)".contains(secret), "\(error)")
            }
        }
    }
}
