import Foundation
import Hummingbird
import HummingbirdTesting
import RetentionMetrics
import RetentionSQLite
import RetentionStorage
import Testing

@testable import RetentionServerCore

struct RetentionAPITests {
    // MARK: - /health and unknown routes

    @Test func healthReportsTheStoreAndItsCount() async throws {
        let directory = try TemporaryDirectory()
        let (app, _) = try sqliteApp(directory)
        try await app.test(.router) { client in
            let empty = try await client.call(.get, "/health")
            #expect(empty.status == .ok)
            #expect(empty.contentType == "application/json; charset=utf-8")
            let health = try object(empty.text)
            #expect(health["status"] as? String == "ok")
            #expect(health["store"] as? String == "sqlite")
            #expect(health["orders"] as? Int == 0)
            _ = try await client.call(.post, "/orders", body: workedExample)
            #expect(try object(try await client.call(.get, "/health").text)["orders"] as? Int == 5)
        }
    }

    @Test func unknownRoutesAndMethodsAnswerJSON() async throws {
        let directory = try TemporaryDirectory()
        let (app, _) = try sqliteApp(directory)
        try await app.test(.router) { client in
            let missing = try await client.call(.get, "/nope")
            #expect(missing.status == .notFound)
            #expect(try errorMessage(missing.text) == "no such route")
            let method = try await client.call(.delete, "/orders")
            #expect(method.status.code / 100 == 4)
            #expect(!(try errorMessage(method.text)).isEmpty)
        }
    }

    // MARK: - POST /orders

    @Test func postStoresOrdersAtomicallyAndIdempotently() async throws {
        let directory = try TemporaryDirectory()
        let (app, api) = try sqliteApp(directory)
        try await app.test(.router) { client in
            let first = try await client.call(.post, "/orders", body: workedExample)
            #expect(first.status == .ok)
            let summary = try object(first.text)
            #expect(summary["inserted"] as? Int == 5)
            #expect(summary["duplicatesIgnored"] as? Int == 0)
            let again = try object(try await client.call(.post, "/orders", body: workedExample).text)
            #expect(again["inserted"] as? Int == 0)
            #expect(again["duplicatesIgnored"] as? Int == 5)
            let empty = try object(try await client.call(.post, "/orders", body: "[]").text)
            #expect(empty["inserted"] as? Int == 0 && empty["duplicatesIgnored"] as? Int == 0)
        }
        // Exact minor units, the +01:00 offset applied, the JSON number 19.99 read as 1999 cents.
        let stored = try await loadLedger(from: api.store).orders
        #expect(
            stored.map(\.amount) == [1_000, 500, 1_999, 750, -250]
                && stored.map(\.timestamp.secondsSince1970) == [
                    1_704_448_800, 1_705_752_000, 1_707_557_400, 1_708_016_400, 1_708_416_000,
                ])
        #expect(stored.allSatisfy { $0.currency == .usd })
    }

    @Test func postReportsEveryBadFieldAndStoresNothing() async throws {
        let directory = try TemporaryDirectory()
        let (app, api) = try sqliteApp(directory)
        let body = """
            [
              {"orderId": "ok", "customerId": "alice", "timestamp": "2024-01-05T10:00:00Z", "amount": "10.00"},
              {"orderId": "", "customerId": 7, "timestamp": "2024-02-30", "amount": "1,000.00"},
              {"customerId": "bob", "timestamp": "yesterday", "amount": "0.001", "currency": "dollars"},
              "not an order",
              {"orderId": "eur", "customerId": "carol", "timestamp": "2024-01-05", "amount": 1e400, "currency": "EUR"}
            ]
            """
        try await app.test(.router) { client in
            let answer = try await client.call(.post, "/orders", body: body)
            #expect(answer.status == .unprocessableContent)
            let errors = try #require(try object(answer.text)["errors"] as? [[String: Any]])
            let found = errors.map { "\($0["index"] as? Int ?? -1) \($0["field"] as? String ?? "?")" }
            #expect(
                found == [
                    "1 customerId", "1 orderId", "1 timestamp", "1 amount", "2 orderId", "2 currency",
                    "2 timestamp", "2 amount", "3 order", "4 amount", "4 currency",
                ])
            #expect(errors.allSatisfy { !(($0["reason"] as? String) ?? "").isEmpty })
            let reasons = errors.compactMap { $0["reason"] as? String }
            #expect(reasons[2].contains("February"))
            #expect(reasons[3].contains("thousands separator"))
        }
        #expect(try await api.store.count() == 0)
    }

    /// Two amounts near `Int64.max` would each be valid alone but make the ledger's total overflow, so that every
    /// metrics route would fail afterwards: an order above 10^15 minor units is refused up front.
    @Test func postRefusesAmountsAboveTheBound() async throws {
        let directory = try TemporaryDirectory()
        let (app, api) = try sqliteApp(directory)
        try await app.test(.router) { client in
            let answer = try await client.call(
                .post, "/orders",
                body: """
                    [{"orderId":"big1","customerId":"x","timestamp":"2024-03-01","amount":"10000000000000.00"},
                     {"orderId":"big2","customerId":"y","timestamp":"2024-03-01","amount":"10000000000000.01"},
                     {"orderId":"big3","customerId":"z","timestamp":"2024-03-01","amount":"-92233720368547758.07"}]
                    """)
            #expect(answer.status == .unprocessableContent)
            let errors = try #require(try object(answer.text)["errors"] as? [[String: Any]])
            #expect(errors.map { $0["index"] as? Int } == [1, 2])
            #expect(errors.allSatisfy { $0["field"] as? String == "amount" })
            #expect((errors.first?["reason"] as? String)?.contains("at most 10^15 minor units") == true)
        }
        #expect(try await api.store.count() == 0)
    }

    @Test func postRefusesAnotherCurrencyThanTheStoresAndConflictingDuplicates() async throws {
        let directory = try TemporaryDirectory()
        let (app, api) = try sqliteApp(directory)
        try await app.test(.router) { client in
            _ = try await client.call(.post, "/orders", body: workedExample)
            let euro = try await client.call(
                .post, "/orders",
                body: #"[{"orderId":"e1","customerId":"dan","timestamp":"2024-03-01","amount":"1","currency":"EUR"}]"#)
            #expect(euro.status == .unprocessableContent)
            let problem = try #require((try object(euro.text)["errors"] as? [[String: Any]])?.first)
            #expect(problem["index"] as? Int == 0 && problem["field"] as? String == "currency")

            let conflict = try await client.call(
                .post, "/orders",
                body: """
                    [{"orderId":"new","customerId":"dan","timestamp":"2024-03-01","amount":"1"},
                     {"orderId":"a1","customerId":"alice","timestamp":"2024-01-05T10:00:00Z","amount":"10.01"}]
                    """)
            #expect(conflict.status == .conflict)
            let body = try object(conflict.text)
            #expect(body["orderId"] as? String == "a1")
            #expect(body["code"] as? String == "conflictingDuplicate")
            #expect((body["error"] as? String)?.contains("a1") == true)
        }
        #expect(try await api.store.count() == 5)
        #expect(try await api.store.orders(ofCustomer: "dan").isEmpty)
    }

    @Test(arguments: [
        ("{", "the body is not valid JSON"), ("", "the body is not valid JSON"),
        (#"{"orderId": "1"}"#, "the body must be a JSON array of orders"),
        ("42", "the body must be a JSON array of orders"),
    ])
    func postRefusesBodiesThatAreNotAnArray(body: String, message: String) async throws {
        let directory = try TemporaryDirectory()
        let (app, _) = try sqliteApp(directory)
        try await app.test(.router) { client in
            let answer = try await client.call(.post, "/orders", body: body)
            #expect(answer.status == .badRequest)
            #expect(try errorMessage(answer.text) == message)
        }
    }

    @Test func postRefusesBodiesOverTheLimit() async throws {
        let directory = try TemporaryDirectory()
        let (app, api) = try sqliteApp(directory, maxBodyBytes: 200)
        try await app.test(.router) { client in
            let answer = try await client.call(.post, "/orders", body: workedExample)
            #expect(answer.status == .contentTooLarge)
            #expect(try errorMessage(answer.text).contains("limit is 200"))
            let small = try await client.call(
                .post, "/orders", body: #"[{"orderId":"1","customerId":"a","timestamp":"2024-01-01","amount":1}]"#)
            #expect(small.status == .ok)
        }
        #expect(try await api.store.count() == 1)
    }

    @Test func postReadsOffsetlessTimestampsInTheGivenZone() async throws {
        let directory = try TemporaryDirectory()
        let (app, api) = try sqliteApp(directory)
        try await app.test(.router) { client in
            let answer = try await client.call(
                .post, "/orders?tz=Asia/Tokyo",
                body: """
                    [{"orderId": "1", "customerId": "a", "timestamp": "2024-01-01T09:00:00",
                      "amount": "1200", "currency": "JPY"}]
                    """)
            #expect(answer.status == .ok)
        }
        let order = try #require(try await api.store.orders(ofCustomer: "a").first)
        #expect(order.timestamp.secondsSince1970 == 1_704_067_200)  // 2024-01-01T00:00:00Z
        #expect(order.amount == 1_200 && order.currency == Currency("JPY"))
    }

    // MARK: - GET /metrics/report

    @Test func reportIsTheLibrarysReportOfTheStore() async throws {
        let directory = try TemporaryDirectory()
        let (app, api) = try sqliteApp(directory)
        try await app.test(.router) { client in
            _ = try await client.call(.post, "/orders", body: workedExample)
            let answer = try await client.call(.get, "/metrics/report")
            #expect(answer.status == .ok)
            let report = try object(answer.text)
            #expect(report["customers"] as? Int == 3)
            #expect(report["orders"] as? Int == 4)
            #expect(report["revenue"] as? String == "39.99")
            #expect(report["revenueMinorUnits"] as? Int == 3_999)
            #expect(report["repeatPurchaseRate"] as? Double == 1.0 / 3.0)
            #expect(report["from"] as? String == "2024-01-05T00:00:00Z")
            #expect(report["to"] as? String == "2024-02-21T00:00:00Z")
            #expect(report["currency"] as? String == "USD")
            // Undefined figures are present as null, as in `retention report --format json`.
            let retention = try #require(report["retention"] as? [String: Any])
            #expect(retention["rate"] is NSNull)
            // The whole document is the library's report of the same orders, byte for byte.
            let ledger = try await loadLedger(from: api.store)
            let expected = try JSONValue.encode(RetentionReport(ledger)).rendered() + "\n"
            #expect(answer.text == expected)
        }
    }

    @Test func reportWindowFromTo() async throws {
        let directory = try TemporaryDirectory()
        let (app, _) = try sqliteApp(directory)
        try await app.test(.router) { client in
            _ = try await client.call(.post, "/orders", body: workedExample)
            let answer = try await client.call(
                .get, "/metrics/report?from=2024-02-01&to=2024-03-01&tz=UTC&activeWithin=30&lifespanYears=2")
            #expect(answer.status == .ok)
            let report = try object(answer.text)
            #expect(report["customers"] as? Int == 2)
            #expect(report["orders"] as? Int == 2)
            #expect(report["revenue"] as? String == "24.99")
            #expect(report["from"] as? String == "2024-02-01T00:00:00Z")
            #expect(report["to"] as? String == "2024-03-01T00:00:00Z")
            let retention = try #require(report["retention"] as? [String: Any])
            #expect(retention["activeWithinDays"] as? Double == 30)
            let clv = try #require(report["customerLifetimeValue"] as? [String: Any])
            #expect(clv["lifespanYears"] as? Double == 2)
            #expect(clv["lifespanSource"] as? String == "given")
            // In Berlin the window starts an hour earlier.
            let berlin = try object(
                try await client.call(.get, "/metrics/report?from=2024-02-01&to=2024-03-01&tz=Europe/Berlin").text)
            #expect(berlin["from"] as? String == "2024-01-31T23:00:00Z")
            #expect(berlin["timeZone"] as? String == "Europe/Berlin")
        }
    }

    @Test(arguments: [
        ("/metrics/report?from=2024-03-01&to=2024-02-01", "must be before"),
        ("/metrics/report?from=2024-02-01&to=2024-02-01", "must be before"),
        ("/metrics/report?tz=Mars/Olympus", "unknown time zone"),
        ("/metrics/report?from=2024-02-30", "YYYY-MM-DD"), ("/metrics/report?from=yesterday", "YYYY-MM-DD"),
        ("/metrics/report?activeWithin=0", "activeWithin"), ("/metrics/report?activeWithin=ten", "activeWithin"),
        ("/metrics/report?lifespanYears=-1", "lifespanYears"), ("/metrics/report?lifespanYears=nan", "lifespanYears"),
        ("/metrics/report?period=day", "period"), ("/metrics/report?tz=UTC&tz=UTC", "twice"),
        ("/metrics/report?from=2030-01-01", "empty"),
        ("/metrics/cohorts?period=fortnight", "period"), ("/metrics/cohorts?tz=Nowhere", "unknown time zone"),
        ("/metrics/rfm?bins=0", "bins"), ("/metrics/rfm?bins=101", "bins"), ("/metrics/rfm?ties=random", "ties"),
        ("/metrics/rfm?limit=0", "limit"), ("/metrics/rfm?offset=-1", "offset"),
        ("/customers/alice?bins=-3", "bins"),
    ])
    func badQueriesAre400(uri: String, fragment: String) async throws {
        let directory = try TemporaryDirectory()
        let (app, _) = try sqliteApp(directory)
        try await app.test(.router) { client in
            _ = try await client.call(.post, "/orders", body: workedExample)
            let answer = try await client.call(.get, uri)
            #expect(answer.status == .badRequest, "\(uri): \(answer.text)")
            #expect(try errorMessage(answer.text).contains(fragment), "\(uri): \(answer.text)")
        }
    }

    @Test func reportOfAnEmptyStoreIsAnError() async throws {
        let directory = try TemporaryDirectory()
        let (app, _) = try sqliteApp(directory)
        try await app.test(.router) { client in
            let answer = try await client.call(.get, "/metrics/report")
            #expect(answer.status == .unprocessableContent)
            #expect(try object(answer.text)["code"] as? String == "emptyWindow")
        }
    }

    // MARK: - GET / and /report.html

    @Test(arguments: ["/", "/report.html"])
    func htmlReportIsTheLibrarysPage(uri: String) async throws {
        let directory = try TemporaryDirectory()
        let (app, api) = try sqliteApp(directory)
        try await app.test(.router) { client in
            _ = try await client.call(.post, "/orders", body: workedExample)
            let answer = try await client.call(.get, uri + "?from=2024-02-01&to=2024-03-01&tz=Europe/Berlin")
            #expect(answer.status == .ok)
            #expect(answer.contentType == "text/html; charset=utf-8")
            let ledger = try await loadLedger(from: api.store)
            let calendar = try #require(PeriodCalendar(identifier: "Europe/Berlin"))
            let window =
                calendar.startOfDay(
                    CivilDate(year: 2024, month: 2, day: 1)!)..<calendar.startOfDay(
                    CivilDate(year: 2024, month: 3, day: 1)!)
            let report = try RetentionReport(ledger, options: .init(calendar: calendar, window: window))
            #expect(answer.text == HTMLReport(report).html)
            #expect(answer.text.contains("24.99"))
            let bad = try await client.call(.get, uri + "?tz=Mars/Olympus")
            #expect(bad.status == .badRequest)
            #expect(bad.contentType == "application/json; charset=utf-8")
        }
    }

    // MARK: - GET /metrics/cohorts

    @Test func cohortsByMonth() async throws {
        let directory = try TemporaryDirectory()
        let (app, _) = try sqliteApp(directory)
        try await app.test(.router) { client in
            _ = try await client.call(.post, "/orders", body: workedExample)
            let answer = try await client.call(.get, "/metrics/cohorts?period=month&tz=UTC")
            #expect(answer.status == .ok)
            let table = try object(answer.text)
            #expect(table["period"] as? String == "month")
            #expect(table["lastObservedPeriod"] as? String == "2024-02")
            let cells = try #require(table["cohorts"] as? [[String: Any]])
            let rows = cells.map {
                "\($0["cohort"] as? String ?? "?") +\($0["offset"] as? Int ?? -1) "
                    + "\($0["active"] as? Int ?? -1)/\($0["size"] as? Int ?? -1) \($0["retention"] as? Double ?? -1)"
            }
            // January: alice and bob; alice bought again in February. February: carol (her refund is no purchase).
            #expect(rows == ["2024-01 +0 2/2 1.0", "2024-01 +1 1/2 0.5", "2024-02 +0 1/1 1.0"])
        }
    }

    // MARK: - GET /metrics/rfm and /customers/{id}

    @Test func rfmScoresSegmentsAndPages() async throws {
        let directory = try TemporaryDirectory()
        let (app, _) = try sqliteApp(directory)
        try await app.test(.router) { client in
            _ = try await client.call(.post, "/orders", body: workedExample)
            let answer = try await client.call(.get, "/metrics/rfm?bins=2&ties=share")
            #expect(answer.status == .ok)
            let page = try object(answer.text)
            #expect(page["asOf"] as? String == "2024-02-20")
            #expect(page["total"] as? Int == 3)
            #expect(page["bins"] as? Int == 2)
            let customers = try #require(page["customers"] as? [[String: Any]])
            let rows = customers.map {
                "\($0["customerId"] as? String ?? "?") \($0["recencyDays"] as? Int ?? -1) "
                    + "\($0["frequency"] as? Int ?? -1) \($0["monetary"] as? String ?? "?") "
                    + "\($0["code"] as? String ?? "?") \($0["segment"] as? String ?? "?")"
            }
            // Medians: recency 10, frequency 1, monetary 5.00; R = 2 - [r > 10], F, M = 1 + [v > median].
            #expect(
                rows == [
                    "alice 10 2 29.99 222 Loyal Customers", "bob 31 1 5.00 111 Lost",
                    "carol 5 1 5.00 211 About To Sleep",
                ])
            let sizes = try #require(page["segments"] as? [[String: Any]])
            #expect(sizes.reduce(0) { $0 + ($1["customers"] as? Int ?? 0) } == 3)

            let second = try object(try await client.call(.get, "/metrics/rfm?bins=2&limit=2&offset=2").text)
            #expect((second["customers"] as? [[String: Any]])?.map { $0["customerId"] as? String } == ["carol"])
            let beyond = try object(try await client.call(.get, "/metrics/rfm?offset=10").text)
            #expect((beyond["customers"] as? [Any])?.isEmpty == true)
            #expect(beyond["total"] as? Int == 3)
        }
    }

    @Test func customerSummaryAndScores() async throws {
        let directory = try TemporaryDirectory()
        let (app, _) = try sqliteApp(directory)
        try await app.test(.router) { client in
            _ = try await client.call(.post, "/orders", body: workedExample)
            let answer = try await client.call(.get, "/customers/carol?bins=2")
            #expect(answer.status == .ok)
            let carol = try object(answer.text)
            #expect(carol["customerId"] as? String == "carol")
            #expect(carol["orders"] as? Int == 2)
            #expect(carol["purchases"] as? Int == 1)
            #expect(carol["refunds"] as? Int == 1)
            #expect(carol["revenue"] as? String == "5.00")
            #expect(carol["purchaseAmount"] as? String == "7.50")
            #expect(carol["refundAmount"] as? String == "-2.50")
            #expect(carol["firstPurchase"] as? String == "2024-02-15T17:00:00Z")
            #expect(carol["lastOrder"] as? String == "2024-02-20T08:00:00Z")
            let rfm = try #require(carol["rfm"] as? [String: Any])
            #expect(rfm["code"] as? String == "211")
            #expect(rfm["segment"] as? String == "About To Sleep")

            let missing = try await client.call(.get, "/customers/zed")
            #expect(missing.status == .notFound)
            #expect(try errorMessage(missing.text) == "no customer zed")
        }
    }

    @Test func customerIdsArePercentDecodedAndCompareAsBytes() async throws {
        let directory = try TemporaryDirectory()
        let (app, _) = try sqliteApp(directory)
        try await app.test(.router) { client in
            let body = """
                [{"orderId":"1","customerId":"caf\\u00e9 au lait","timestamp":"2024-01-01","amount":"3"},
                 {"orderId":"2","customerId":"cafe\\u0301 au lait","timestamp":"2024-01-02","amount":"4"}]
                """
            #expect(try await client.call(.post, "/orders", body: body).status == .ok)
            let composed = try object(try await client.call(.get, "/customers/caf%C3%A9%20au%20lait").text)
            #expect(composed["revenue"] as? String == "3.00")
            let decomposed = try object(try await client.call(.get, "/customers/cafe%CC%81%20au%20lait").text)
            #expect(decomposed["revenue"] as? String == "4.00")
            let bad = try await client.call(.get, "/customers/%ZZ")
            #expect(bad.status == .badRequest)
        }
    }

    // MARK: - The cached ledger

    @Test func theLedgerIsReloadedOnlyWhenTheStoreChanges() async throws {
        let directory = try TemporaryDirectory()
        let (app, api) = try sqliteApp(directory)
        try await app.test(.router) { client in
            _ = try await client.call(.post, "/orders", body: workedExample)
            _ = try await client.call(.get, "/metrics/report")
            _ = try await client.call(.get, "/metrics/rfm")
            _ = try await client.call(.get, "/metrics/cohorts")
            #expect(await api.ledgers.loads == 1)
            // Another writer (a second server, a batch job) appends behind this server's back.
            try await api.store.append([
                Order(id: "d1", customerID: "dan", timestamp: Timestamp(secondsSince1970: 1_708_500_000), amount: 100)
            ])
            let report = try object(try await client.call(.get, "/metrics/report").text)
            #expect(report["customers"] as? Int == 4)
            #expect(await api.ledgers.loads == 2)
        }
    }

    // MARK: - Seeding

    @Test func seedsAnEmptyStoreFromCSVOnce() async throws {
        let directory = try TemporaryDirectory()
        let csv = directory.path("seed.csv")
        try "order_id,customer_id,timestamp,amount\n1,alice,2024-01-01,10.00\n2,bob,2024-01-02,5.00\n"
            .write(toFile: csv, atomically: true, encoding: .utf8)
        let store = try SQLiteOrderStore(path: directory.path("orders.sqlite"))
        #expect(try await RetentionServer.seed(store, from: csv) == 2)
        #expect(try await RetentionServer.seed(store, from: csv) == nil)
        #expect(try await store.count() == 2)
    }
}
