import Foundation
import RetentionMetrics
import RetentionSQLite
import RetentionStorage
import Testing

@testable import RetentionCLICore

/// A fresh store path beside a fresh fixture directory, as `kind:path`.
private func storeArgument(_ kind: String) -> String {
    let directory = freshDirectory()
    let file = ["sqlite": "orders.sqlite", "csv": "orders-store.csv", "jsonl": "orders.jsonl"][kind]!
    return kind + ":" + directory.appendingPathComponent(file).path
}

/// The number of orders in a store named `kind:path`, read back through the library (not through the CLI).
private func storedOrders(_ argument: String) async throws -> [Order] {
    let store = try StoreLocation(parsing: argument, option: "--store").open(creating: false)
    var orders: [Order] = []
    for try await batch in store.orders(placedIn: .allTime, batchSize: 100) { orders += batch }
    return orders
}

/// 600 generated orders over 300 customers (interleaved customers, several orders each); with `refunds`, a tenth
/// of the repeat orders are refunds, so that every figure of the report is exercised.
private func generatedFixture(refunds: Bool = true) async -> String {
    let path = fixture("", name: "generated.csv")
    let result = await retention(
        "generate", "--orders", "600", "--customers", "300", "--seed", "11", "--refund-share", refunds ? "0.1" : "0",
        "--output", path)
    precondition(result.code == 0, result.errors)
    return path
}

/// Text with every run of spaces made one space, to test aligned tables without their padding.
private func squeezed(_ text: String) -> String {
    text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
}

private let storeKinds = ["sqlite", "csv", "jsonl"]

struct StoreImportTests {
    @Test(arguments: storeKinds)
    func importThenEveryReadingCommandMatchesTheFile(kind: String) async throws {
        let file = await generatedFixture()
        let store = storeArgument(kind)

        let first = await retention("import", file, "--into", store, "--batch-size", "64", "--format", "json")
        #expect(first.code == 0, "\(first.errors)")
        #expect(first.errors == "")  // no progress line: standard error is not a terminal
        let summary = jsonObject(first.output)
        #expect(summary["rowsRead"] as? Int == 600)
        #expect(summary["inserted"] as? Int == 600)
        #expect(summary["duplicatesIgnored"] as? Int == 0)
        #expect(summary["skippedRows"] as? Int == 0)
        #expect(summary["store"] as? String == store)
        #expect(try await storedOrders(store).count == 600)

        // Same figures, byte for byte, from the file and from the store.
        let commands: [[String]] = [
            ["report", "--format", "json"],
            ["report", "--from", "2021-06-01", "--to", "2022-06-01", "--active-within", "90", "--format", "json"],
            ["report", "--format", "csv", "--time-zone", "America/New_York"],
            ["rfm"], ["rfm", "--bins", "3", "--ties", "split", "--format", "json"],
            ["summary"], ["summary", "--model-input"],
            ["cohorts", "--period", "quarter"], ["cohorts", "--period", "week", "--format", "json"],
        ]
        for command in commands {
            let fromFile = await retention(arguments: [command[0], file] + command.dropFirst())
            let fromStore = await retention(arguments: [command[0], "--store", store] + command.dropFirst())
            #expect(fromFile.code == 0, "\(command): \(fromFile.errors)")
            #expect(fromStore.code == 0, "\(command): \(fromStore.errors)")
            #expect(fromStore.output == fromFile.output, "\(command)")
            #expect(fromStore.output.count > 100, "\(command)")
        }

        // --push-down: the same figures from per-customer rows the store aggregates; only the revenue series,
        // which needs every order's period, is left out.
        let pushDownOptions: [[String]] = [
            ["--format", "json"],
            ["--from", "2021-06-01", "--to", "2022-06-01", "--active-within", "90", "--time-zone", "Europe/Berlin"],
            ["--from", "2021-06-01", "--period", "quarter", "--lifespan-years", "3"],
            ["--to", "2022-01-01", "--as-of", "2021-12-31", "--bins", "3"],
        ]
        for options in pushDownOptions {
            let json = options.contains("--format") ? options : options + ["--format", "json"]
            let fromFile = await retention(arguments: ["report", file] + json)
            let pushed = await retention(arguments: ["report", "--store", store, "--push-down"] + json)
            #expect(pushed.code == 0, "\(options): \(pushed.errors)")
            var expected = jsonObject(fromFile.output)
            #expect((expected["revenueByPeriod"] as? [Any])?.isEmpty == false)
            expected["revenueByPeriod"] = [Any]()
            #expect(NSDictionary(dictionary: jsonObject(pushed.output)).isEqual(to: expected), "\(options)")
            #expect((expected["cohorts"] as? [Any])?.isEmpty == false)
        }

        // Importing the same file again stores nothing new.
        let again = await retention("import", file, "--into", store, "--batch-size", "64", "--format", "json")
        #expect(again.code == 0, "\(again.errors)")
        let repeated = jsonObject(again.output)
        #expect(repeated["rowsRead"] as? Int == 600)
        #expect(repeated["inserted"] as? Int == 0)
        #expect(repeated["duplicatesIgnored"] as? Int == 600)
        #expect(try await storedOrders(store).count == 600)
    }

    /// The models sort their input by customer id, so a store (read by time) and the file (customer by customer)
    /// give the same estimates to the last bit.
    @Test(arguments: storeKinds)
    func modelsFromAStoreEqualTheFile(kind: String) async throws {
        let file = await generatedFixture(refunds: false)
        let store = storeArgument(kind)
        #expect(await retention("import", file, "--into", store).code == 0)
        // Gamma-Gamma fits the repeat buyers only: the summary rows with frequency > 0.
        let summary = await retention("summary", file)
        let repeatBuyers = summary.output.split(separator: "\n").dropFirst()
            .filter { $0.split(separator: ",")[1] != "0" }.count
        #expect(repeatBuyers > 0 && repeatBuyers < 300)
        for (model, customers) in [("bgnbd", 300), ("gammagamma", repeatBuyers)] {
            let fromFile = await retention("fit", file, "--model", model, "--format", "json")
            let fromStore = await retention("fit", "--store", store, "--model", model, "--format", "json")
            #expect(fromFile.code == 0 && fromStore.code == 0, "\(fromFile.errors) \(fromStore.errors)")
            #expect(fromStore.output == fromFile.output)
            let fit = jsonObject(fromStore.output)
            #expect(fit["customers"] as? Int == customers)
            #expect((fit["parameters"] as? [String: Double])?.count ?? 0 >= 3)
        }
        let fromFile = await retention("predict", file, "--horizon-weeks", "26")
        let fromStore = await retention("predict", "--store", store, "--horizon-weeks", "26")
        #expect(fromFile.code == 0 && fromStore.code == 0, "\(fromFile.errors) \(fromStore.errors)")
        #expect(fromStore.output == fromFile.output)
        let ids = fromStore.output.split(separator: "\n").dropFirst().map { String($0.prefix { $0 != "," }) }
        #expect(ids.count == 300)
        #expect(ids == ids.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }

    /// The February example of ReportCommandTests, through each store: the same hand-worked figures.
    @Test(arguments: storeKinds)
    func februaryFiguresFromAStore(kind: String) async throws {
        let store = storeArgument(kind)
        let imported = await retention("import", fixture(februaryOrders), "--into", store)
        #expect(imported.code == 0, "\(imported.errors)")
        #expect(imported.output.hasPrefix("Imported "))
        let text = squeezed(imported.output)
        #expect(text.contains("\nrows read 7\ninserted 7\nduplicates ignored 0\nskipped bad rows 0\nelapsed "))
        let result = await retention(
            "report", "--store", store, "--from", "2024-02-01", "--to", "2024-03-01", "--active-within", "31",
            "--format", "json")
        #expect(result.code == 0, "\(result.errors)")
        let report = jsonObject(result.output)
        #expect(report["customers"] as? Int == 3)
        #expect(report["orders"] as? Int == 4)
        #expect(report["revenue"] as? String == "115.00")
        #expect(report["averageOrderValue"] as? Double == 28.75)
        let rates = try #require(report["retention"] as? [String: Any])
        #expect(rates["start"] as? Int == 3)
        #expect(rates["new"] as? Int == 1)
        #expect(rates["retained"] as? Int == 2)
        // rfm at 2024-02-25: alice 3 orders 60.00, bob 1 order 40.00, carol 1 order 50.00, dave 2 orders 20.00.
        let rfm = await retention("rfm", "--store", store)
        #expect(rfm.code == 0, "\(rfm.errors)")
        let lines = rfm.output.split(separator: "\n").map { $0.split(separator: ",").prefix(4).joined(separator: ",") }
        #expect(
            lines == [
                "customer_id,recency_days,frequency,monetary", "alice,5,3,60.00", "bob,41,1,40.00",
                "carol,15,1,50.00", "dave,0,2,20.00",
            ])
    }

    /// Rows 2-3 and 4-5 are the first two batches of 2; line 6 is bad, so its batch (lines 6-7) is not stored.
    @Test(arguments: storeKinds)
    func badRowStopsTheImportAndStoresNothingOfItsBatch(kind: String) async throws {
        let file = fixture(
            """
            order_id,customer_id,timestamp,amount
            1,alice,2024-01-10,10.00
            2,bob,2024-01-15,40.00
            3,dave,2024-01-20,5.00
            4,alice,2024-02-05,20.00
            5,carol,2024-02-10,fifty
            6,alice,2024-02-20,30.00
            7,dave,2024-02-25,15.00
            """)
        let store = storeArgument(kind)
        let failed = await retention("import", file, "--into", store, "--batch-size", "2")
        #expect(failed.code == 1)
        #expect(failed.output == "")
        #expect(failed.errors.hasPrefix("error: \(file): line 6, column amount: 'fifty' "), "\(failed.errors)")
        #expect(failed.errors.contains("nothing of its batch was stored; the 4 orders of the earlier batches are"))
        #expect(try await storedOrders(store).map(\.id) == ["1", "2", "3", "4"])

        // One batch holding the bad row: nothing at all is stored.
        let whole = storeArgument(kind)
        let wholeFailed = await retention("import", file, "--into", whole)
        #expect(wholeFailed.code == 1)
        #expect(wholeFailed.errors.hasSuffix("; nothing was stored\n"), "\(wholeFailed.errors)")
        #expect(try await storedOrders(whole).isEmpty)

        // --skip-bad-rows stores every valid row and lists the skipped one; a rerun then completes the first store.
        let skipped = await retention(
            "import", file, "--into", store, "--batch-size", "2", "--skip-bad-rows", "--format", "json")
        #expect(skipped.code == 0, "\(skipped.errors)")
        let summary = jsonObject(skipped.output)
        #expect(summary["rowsRead"] as? Int == 7)
        #expect(summary["inserted"] as? Int == 2)  // orders 6 and 7
        #expect(summary["duplicatesIgnored"] as? Int == 4)
        #expect(summary["skippedRows"] as? Int == 1)
        let errors = try #require(summary["errors"] as? [String])
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("line 6, column amount: 'fifty' ") == true)
        #expect(try await storedOrders(store).map(\.id) == ["1", "2", "3", "4", "6", "7"])

        let text = await retention("import", file, "--into", whole, "--skip-bad-rows")
        #expect(text.code == 0)
        #expect(squeezed(text.output).contains("\nrows read 7\ninserted 6\nduplicates ignored 0\nskipped bad rows 1\n"))
        #expect(text.output.contains("Skipped rows (all):\n  line 6, column amount: 'fifty' "))
        #expect(try await storedOrders(whole).count == 6)
    }

    @Test(arguments: storeKinds)
    func conflictingOrderIsRefusedWithTheStoreError(kind: String) async throws {
        let store = storeArgument(kind)
        #expect(await retention("import", fixture(februaryOrders), "--into", store).code == 0)
        let changed = februaryOrders.replacingOccurrences(of: "2,bob,2024-01-15,40.00", with: "2,bob,2024-01-15,41.00")
        let result = await retention("import", fixture(changed), "--into", store)
        #expect(result.code == 1)
        #expect(result.errors.contains("order id 2 is already stored with different content"), "\(result.errors)")
        #expect(result.errors.contains("nothing was stored"))
        let amounts = try await storedOrders(store).map(\.amount)
        #expect(amounts == [1_000, 4_000, 500, 2_000, 5_000, 3_000, 1_500])
    }

    @Test func storeCurrencyAndColumnOptionsApplyToTheImport() async throws {
        let file = fixture(
            """
            Name,Email,Created at,Total
            #1001,a@example.com,2024-03-01 10:00:00,1200
            #1002,b@example.com,2024-03-02 11:00:00,800
            """)
        let store = storeArgument("sqlite")
        let result = await retention(
            "import", file, "--into", store,
            "--columns", "order_id=Name,customer_id=Email,timestamp=Created at,amount=Total",
            "--currency", "JPY", "--time-zone", "Asia/Tokyo", "--format", "json")
        #expect(result.code == 0, "\(result.errors)")
        let orders = try await storedOrders(store)
        #expect(orders.map(\.id) == ["#1001", "#1002"])
        #expect(orders.map(\.currency) == [Currency("JPY"), Currency("JPY")])
        #expect(orders.map(\.amount) == [1_200, 800])
        // 2024-03-01 10:00 in Tokyo (UTC+9) is 01:00 UTC.
        #expect(orders[0].timestamp.secondsSince1970 == 1_709_254_800)
    }
}

struct StoreUsageTests {
    static let readers: [[String]] = [
        ["report"], ["summary"], ["rfm"], ["cohorts"], ["fit", "--model", "bgnbd"],
        ["predict", "--horizon-weeks", "4"],
    ]

    @Test(arguments: readers)
    func exactlyOneOfFileAndStore(command: [String]) async {
        let neither = await retention(arguments: command)
        #expect(neither.code == 64)
        #expect(neither.errors == "error: give the order file or --store sqlite:PATH, csv:PATH or jsonl:PATH\n")
        let both = await retention(arguments: command + [fixture(februaryOrders), "--store", "sqlite:x.sqlite"])
        #expect(both.code == 64)
        #expect(both.errors == "error: give the order file or --store, not both\n")
        let scheme = await retention(arguments: command + ["--store", "postgres://localhost/shop"])
        #expect(scheme.code == 64)
        #expect(
            scheme.errors
                == "error: unknown store scheme 'postgres' in --store 'postgres://localhost/shop'; "
                + "use sqlite:PATH, csv:PATH or jsonl:PATH\n")
        let bare = await retention(arguments: command + ["--store", "orders.sqlite"])
        #expect(bare.code == 64)
        #expect(
            bare.errors == "error: --store 'orders.sqlite' has no scheme; use sqlite:PATH, csv:PATH or jsonl:PATH\n")
    }

    @Test func importUsageErrors() async {
        let file = fixture(februaryOrders)
        let scheme = await retention("import", file, "--into", "mysql:orders")
        #expect(scheme.code == 64)
        #expect(scheme.errors.contains("unknown store scheme 'mysql' in --into 'mysql:orders'"))
        let noPath = await retention("import", file, "--into", "sqlite:")
        #expect(noPath.code == 64)
        #expect(noPath.errors == "error: --into 'sqlite:' has no path after 'sqlite:'\n")
        let batch = await retention("import", file, "--into", storeArgument("csv"), "--batch-size", "0")
        #expect(batch.code == 64)
        #expect(batch.errors == "error: --batch-size must be at least 1\n")
        let missing = await retention("import", "--into", storeArgument("csv"))
        #expect(missing.code == 64)
    }

    @Test(arguments: storeKinds)
    func readingAMissingStoreFailsWithoutCreatingIt(kind: String) async {
        let store = storeArgument(kind)
        let path = String(store.drop { $0 != ":" }.dropFirst())
        let result = await retention("report", "--store", store)
        #expect(result.code == 1)
        #expect(
            result.errors == "error: no store at \(path) (create one with `retention import FILE --into \(store)`)\n")
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func unreadableFileLeavesNoStoreBehind() async {
        let store = storeArgument("sqlite")
        let result = await retention("import", "/nonexistent/orders.csv", "--into", store)
        #expect(result.code == 1)
        #expect(result.errors.hasPrefix("error: /nonexistent/orders.csv: "))
        #expect(!FileManager.default.fileExists(atPath: String(store.dropFirst("sqlite:".count))))
    }
}

/// A sink that claims to be a terminal.
private final class TerminalSink: OutputSink, @unchecked Sendable {
    let memory = MemorySink()
    var isTerminal: Bool { true }
    func write(_ bytes: UnsafeRawBufferPointer) { memory.write(bytes) }
}

struct ProgressLineTests {
    @Test func drawsOnATerminalAtMostTwiceASecondAndClearsAtTheEnd() async throws {
        let sink = TerminalSink()
        var progress = ProgressLine(verb: "imported", sink: sink)
        progress.update(10)
        #expect(sink.memory.text == "")  // less than 0.5 s since the start
        try await Task.sleep(for: .milliseconds(600))
        progress.update(1_230_000)
        let text = sink.memory.text
        #expect(text.hasPrefix("\r imported 1,230,000 orders ("))
        #expect(text.hasSuffix("/s)\u{1B}[K"))
        progress.update(1_230_001)
        #expect(sink.memory.text == text)  // redrawn only after another 0.5 s
        progress.finish()
        #expect(sink.memory.text == text + "\r\u{1B}[K")
    }

    @Test func quietWhenNotATerminal() async throws {
        let sink = MemorySink()
        var progress = ProgressLine(verb: "imported", sink: sink)
        try await Task.sleep(for: .milliseconds(600))
        progress.update(5)
        progress.finish()
        #expect(sink.text == "")
    }

    @Test(arguments: [
        (0, "0"), (7, "7"), (999, "999"), (1_000, "1,000"), (1_230_000, "1,230,000"), (-12_345, "-12,345"),
    ])
    func thousandsSeparators(value: Int, text: String) {
        #expect(grouped(value) == text)
    }
}
