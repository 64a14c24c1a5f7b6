import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import RetentionMetrics
import RetentionPostgres
import RetentionStorage
import RetentionTesting
import Testing

@testable import RetentionServerCore

@Suite(.enabled(if: TestPostgres.url != nil, TestPostgres.skipMessage))
struct PostgresOrderStoreTests {
    @Test(arguments: OrderStoreConformance.Check.allCases)
    func conformance(check: OrderStoreConformance.Check) async throws {
        let failures = try await TestPostgres.withClient { client, schemas in
            await OrderStoreConformance {
                try await PostgresOrderStore(client: client, configuration: .init(schema: schemas.fresh()))
            }.run(check)
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func migratesAFreshSchemaAndReopensIt() async throws {
        try await TestPostgres.withClient { client, schemas in
            let schema = schemas.fresh()
            let store = try await PostgresOrderStore(client: client, configuration: .init(schema: schema))
            #expect(try await store.storedSchemaVersion() == 1)
            #expect(PostgresOrderStore.schemaVersion == 1)
            let order = Order(
                id: "1001", customerID: "alice", timestamp: Timestamp(secondsSince1970: 1_709_251_200), amount: 2_500)
            #expect(try await store.append([order]) == AppendSummary(inserted: 1, duplicatesIgnored: 0))
            // A second store on the same schema migrates nothing and sees the order.
            let again = try await PostgresOrderStore(client: client, configuration: .init(schema: schema))
            #expect(try await again.count() == 1)
            #expect(try await again.orders(ofCustomer: "alice") == [order])
        }
    }

    @Test func refusesASchemaFromANewerVersion() async throws {
        try await TestPostgres.withClient { client, schemas in
            let schema = schemas.fresh()
            _ = try await PostgresOrderStore(client: client, configuration: .init(schema: schema))
            try await client.query(
                PostgresQuery(unsafeSQL: "UPDATE \"\(schema)\".retention_schema SET version = 99 WHERE id = 1"))
            await #expect(throws: StoreError.self) {
                _ = try await PostgresOrderStore(client: client, configuration: .init(schema: schema))
            }
            do {
                _ = try await PostgresOrderStore(client: client, configuration: .init(schema: schema))
            } catch let error as StoreError {
                #expect(error.code == .unsupportedSchemaVersion)
                #expect(error.description.contains("version 99"))
            }
        }
    }

    @Test func concurrentFirstOpensMigrateOnce() async throws {
        try await TestPostgres.withClient { client, schemas in
            let schema = schemas.fresh()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        _ = try await PostgresOrderStore(client: client, configuration: .init(schema: schema))
                    }
                }
                try await group.waitForAll()
            }
            let store = try await PostgresOrderStore(client: client, configuration: .init(schema: schema))
            #expect(try await store.storedSchemaVersion() == 1)
        }
    }

    @Test func pushDownMatchesTheScanOnOneBigCustomer() async throws {
        // Sums beyond Int32 and instants before 1970 go through the BIGINT casts exactly.
        try await TestPostgres.withClient { client, schemas in
            let store = try await PostgresOrderStore(client: client, configuration: .init(schema: schemas.fresh()))
            let orders = [
                Order(
                    id: "a", customerID: "big", timestamp: Timestamp(secondsSince1970: -86_401), amount: 3_000_000_000),
                Order(
                    id: "b", customerID: "big", timestamp: Timestamp(secondsSince1970: -86_401), amount: 4_000_000_000),
                Order(id: "c", customerID: "big", timestamp: Timestamp(secondsSince1970: 5), amount: -1_500_000_000),
            ]
            try await store.append(orders)
            let pushed = try await store.customerSummaries(placedIn: .allTime)
            #expect(pushed.customerIDs == ["big"])
            let summary = pushed.summaries[0]
            #expect(summary.purchases == 2 && summary.purchaseAmount == 7_000_000_000)
            #expect(summary.firstPurchase == -86_401 && summary.lastPurchase == -86_401)
            #expect(summary.firstInstantPurchases == 2 && summary.firstInstantAmount == 7_000_000_000)
            #expect(summary.refunds == 1 && summary.refundAmount == -1_500_000_000)
            #expect(pushed == (try await store.scanCustomerSummaries(placedIn: .allTime)))
            let activity = try await store.purchaseActivity(placedIn: .allTime, unit: .day, calendar: .utc)
            // -86_401 s is 1969-12-30T23:59:59Z: day -2.
            #expect(Array(activity.periods(ofCustomerAt: 0)) == [-2])
        }
    }
}

/// URL parsing needs no database.
struct PostgresURLTests {
    @Test func readsEveryPart() throws {
        let configuration = try PostgresURL.configuration("postgres://shop:s%40cret@db.example:6543/orders")
        #expect(configuration.host == "db.example")
        #expect(configuration.port == 6543)
        #expect(configuration.username == "shop")
        #expect(configuration.password == "s@cret")
        #expect(configuration.database == "orders")
    }

    @Test func defaultsPortAndDatabase() throws {
        let configuration = try PostgresURL.configuration("postgresql://retention@127.0.0.1")
        #expect(configuration.port == 5432)
        #expect(configuration.database == "retention")
        #expect(configuration.password == nil)
    }

    @Test(arguments: [
        "mysql://u@h/db", "postgres://h/db", "postgres:///db", "postgres://u@h/db?sslmode=sometimes", "not a url",
    ])
    func refuses(url: String) {
        #expect(throws: PostgresURL.ParseError.self) { try PostgresURL.configuration(url) }
    }

    @Test func refusesSchemaNamesThatWouldNeedQuoting() {
        for name in ["", "Public", "a-b", "1abc", "x\"; DROP TABLE orders; --", String(repeating: "a", count: 64)] {
            #expect(throws: StoreError.self) { try PostgresOrderStore.SQL(schema: name) }
        }
        #expect(throws: Never.self) { try PostgresOrderStore.SQL(schema: "retention_2024") }
    }
}

/// The server's routes over PostgreSQL answer exactly as over SQLite.
@Suite(.enabled(if: TestPostgres.url != nil, TestPostgres.skipMessage))
struct PostgresAppTests {
    @Test func everyRouteAnswersAsOverSQLite() async throws {
        let directory = try TemporaryDirectory()
        let (sqlite, _) = try sqliteApp(directory)
        let uris = [
            "/metrics/report", "/metrics/report?from=2024-02-01&to=2024-03-01&tz=Europe/Berlin&activeWithin=30",
            "/metrics/cohorts?period=week&tz=America/New_York", "/metrics/rfm?bins=2", "/customers/carol",
            "/customers/zed",
        ]
        let expected = try await sqlite.test(.router) { client in
            _ = try await client.call(.post, "/orders", body: workedExample)
            var answers: [String] = []
            for uri in uris { answers.append(try await client.call(.get, uri).text) }
            return answers
        }
        try await TestPostgres.withClient { client, schemas in
            let store = try await PostgresOrderStore(client: client, configuration: .init(schema: schemas.fresh()))
            let api = RetentionAPI(store: store, storeName: "postgres")
            try await Application(router: api.router()).test(.router) { http in
                let health = try object(try await http.call(.get, "/health").text)
                #expect(health["store"] as? String == "postgres" && health["orders"] as? Int == 0)
                let first = try object(try await http.call(.post, "/orders", body: workedExample).text)
                #expect(first["inserted"] as? Int == 5)
                let again = try object(try await http.call(.post, "/orders", body: workedExample).text)
                #expect(again["duplicatesIgnored"] as? Int == 5)
                for (uri, want) in zip(uris, expected) {
                    let got = try await http.call(.get, uri).text
                    #expect(got == want, "\(uri)")
                }
                let conflict = try await http.call(
                    .post, "/orders",
                    body: #"[{"orderId":"a1","customerId":"alice","timestamp":"2024-01-05T10:00:00Z","amount":"9"}]"#)
                #expect(conflict.status == .conflict)
                let euro = try await http.call(
                    .post, "/orders",
                    body: #"[{"orderId":"e","customerId":"e","timestamp":"2024-01-05","amount":"9","currency":"EUR"}]"#)
                #expect(euro.status == .unprocessableContent)
                #expect(try await store.count() == 5)
            }
        }
    }
}
