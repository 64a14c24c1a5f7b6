import Foundation
import RetentionStorage

/// The conformance suite every ``OrderStore`` adapter runs: ours (`InMemoryOrderStore`, `SQLiteOrderStore`) and
/// third parties'. Modelled on swift-configuration's `ProviderCompatTest`, but independent of any test
/// framework: it returns (or throws) failures, so XCTest, Swift Testing or a script can call it.
///
/// Each check asks the factory for a fresh, empty store. A check fails when the store breaks the
/// ``OrderStore`` contract or throws unexpectedly; the failure names the check and says what differed.
///
/// ```swift
/// import RetentionTesting
/// import Testing
///
/// @Test(arguments: OrderStoreConformance.Check.allCases)
/// func conformance(check: OrderStoreConformance.Check) async throws {
///     let suite = OrderStoreConformance { try await MyPostgresOrderStore(url: freshTestDatabase()) }
///     let failures = await suite.run(check)
///     #expect(failures.isEmpty, "\(failures)")
/// }
/// ```
///
/// Or in one call, throwing every failure at once: `try await suite.runAll()`.
public struct OrderStoreConformance: Sendable {
    /// Makes a new, empty store for one check.
    public typealias StoreFactory = @Sendable () async throws -> any OrderStore

    /// One check of the contract.
    public enum Check: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
        /// Every field survives a round trip: unicode, quotes, commas, newlines and SQL-injection-shaped text in
        /// ids, refunds, instants before 1970, a currency with 3 minor digits; an unstored id shaped like a
        /// tautology (`x' OR '1'='1`) or a LIKE wildcard finds nothing.
        case roundTrip
        /// `placedIn: a..<b` holds `a <= t < b`; an empty range holds nothing.
        case halfOpenRanges
        /// Reads come ordered by (timestamp, order id as UTF-8 bytes), whatever the append order.
        case ordering
        /// Re-sending identical orders stores nothing new and reports them as duplicates.
        case idempotentAppend
        /// A batch with one bad order stores nothing.
        case atomicAppend
        /// The same id with different content is `conflictingDuplicate`, naming the id.
        case conflictingDuplicates
        /// A second currency (or the same code with other minor digits) is `mixedCurrency`.
        case mixedCurrency
        /// Empty ids and an amount of `Int64.min` are `invalidOrder`.
        case invalidOrders
        /// 8 concurrent writers lose nothing and duplicate nothing.
        case concurrentWriters
        /// 8 concurrent writers and 4 concurrent readers: every read sees whole batches only, counts never go
        /// down, a paged read returns no order twice, and the final counts are exact.
        case concurrentReadersAndWriters
        /// Range reads page: batches never exceed the batch size and together hold every order once.
        case paging
        /// An empty store answers every read with nothing and `nil` currency.
        case emptyStore
        /// `orders(ofCustomer:)` returns exactly that customer's orders, ordered.
        case customerOrders
        /// Per-customer summaries (pushed down or scanned) equal `OrderLedger.summaries` on generated data.
        case summaries
        /// Per-period purchase activity (pushed down or scanned) equals the Swift computation in several time
        /// zones, including orders on either side of DST changes and local midnights.
        case purchaseActivity

        public var description: String { rawValue }
    }

    private let makeStore: StoreFactory
    private let generatedOrders: Int

    /// A suite over stores made by `makeStore`.
    ///
    /// - Parameters:
    ///   - generatedOrders: Size of the synthetic data set of the summary and activity checks (default 3,000).
    ///   - makeStore: Returns a new, empty store each time it is called.
    public init(generatedOrders: Int = 3_000, makeStore: @escaping StoreFactory) {
        precondition(generatedOrders >= 100, "generatedOrders must be at least 100")
        self.generatedOrders = generatedOrders
        self.makeStore = makeStore
    }

    /// Runs every check and returns all failures (empty when the store conforms).
    public func run() async -> [ConformanceFailure] {
        var failures: [ConformanceFailure] = []
        for check in Check.allCases { failures += await run(check) }
        return failures
    }

    /// Runs every check and throws ``ConformanceFailures`` if any failed.
    public func runAll() async throws {
        let failures = await run()
        if !failures.isEmpty { throw ConformanceFailures(failures: failures) }
    }

    /// Runs one check and returns its failures (empty when it passed).
    public func run(_ check: Check) async -> [ConformanceFailure] {
        let recorder = Recorder(check: check)
        do {
            let store = try await makeStore()
            switch check {
            case .roundTrip: try await roundTrip(store, recorder)
            case .halfOpenRanges: try await halfOpenRanges(store, recorder)
            case .ordering: try await ordering(store, recorder)
            case .idempotentAppend: try await idempotentAppend(store, recorder)
            case .atomicAppend: try await atomicAppend(store, recorder)
            case .conflictingDuplicates: try await conflictingDuplicates(store, recorder)
            case .mixedCurrency: try await mixedCurrency(store, recorder)
            case .invalidOrders: try await invalidOrders(store, recorder)
            case .concurrentWriters: try await concurrentWriters(store, recorder)
            case .concurrentReadersAndWriters: try await concurrentReadersAndWriters(store, recorder)
            case .paging: try await paging(store, recorder)
            case .emptyStore: try await emptyStore(store, recorder)
            case .customerOrders: try await customerOrders(store, recorder)
            case .summaries: try await summaries(store, recorder)
            case .purchaseActivity: try await purchaseActivity(store, recorder)
            }
        } catch {
            recorder.fail("unexpected error: \(String(reflecting: error))")
        }
        return recorder.failures
    }

    // MARK: - Checks

    private func roundTrip(_ store: any OrderStore, _ r: Recorder) async throws {
        let currency = Currency("XTS", minorUnitDigits: 3)
        let tricky = [
            "'); DROP TABLE orders;--", "a,b", "line\nbreak", "tab\there", "quote\"d", "it's", "caf\u{E9}",
            "cafe\u{301}", "\u{1F6D2} cart", "\u{5E7}\u{5E0}\u{5D9}\u{5D4}", "\u{62E}\u{631}\u{6CC}\u{62F}",
            "  spaced  ", "%_*?", "\\backslash", "null", "NULL", "' OR '1'='1", "1; DELETE FROM orders; --",
            "\" OR \"\"=\"", "$1", "?", ":id", "\\'; SELECT 1; --",
        ]
        var orders: [Order] = []
        for (index, text) in tricky.enumerated() {
            orders.append(
                Order(
                    id: text, customerID: tricky[(index + 3) % tricky.count],
                    timestamp: Timestamp(secondsSince1970: Int64(index) * 1_000_003 - 4_000_000),
                    amount: index % 4 == 3 ? -Int64(index) * 101 : Int64(index) * 1_234_567_891, currency: currency))
        }
        orders.append(
            Order(
                id: "max", customerID: "big", timestamp: Timestamp(secondsSince1970: 32_503_680_000),
                amount: Int64.max, currency: currency))
        orders.append(
            Order(
                id: "min", customerID: "big", timestamp: Timestamp(secondsSince1970: -62_135_596_800),
                amount: Int64.min + 1, currency: currency))
        let summary = try await store.append(orders)
        r.expect(
            summary == AppendSummary(inserted: orders.count, duplicatesIgnored: 0),
            "append reported \(summary), expected \(orders.count) inserted")
        let expected = orders.sorted(by: OrderBatchRules.precedes)
        let read = try await readAll(store, batchSize: 5)
        r.expectSameOrders(read, expected, "orders(placedIn: .allTime)")
        for customer in Set(orders.map(\.customerID)) {
            let mine = try await store.orders(ofCustomer: customer)
            r.expectSameOrders(
                mine, expected.filter { $0.customerID.utf8.elementsEqual(customer.utf8) },
                "orders(ofCustomer: \(customer.debugDescription))")
        }
        // Bound parameters, not spliced text: a tautology-shaped id that is not stored matches nothing.
        for probe in ["x' OR '1'='1", "x\" OR \"1\"=\"1", "%", "_"] {
            let none = try await store.orders(ofCustomer: probe)
            r.expect(none.isEmpty, "orders(ofCustomer: \(probe.debugDescription)) returned \(none.count) orders")
        }
        let storedCurrency = try await store.currency()
        r.expect(storedCurrency == currency, "currency() is \(String(describing: storedCurrency)), expected XTS/3")
        let count = try await store.count()
        r.expect(count == orders.count, "count() is \(count), expected \(orders.count)")
    }

    private func halfOpenRanges(_ store: any OrderStore, _ r: Recorder) async throws {
        let instants: [Int64] = [99, 100, 150, 199, 200, 201]
        try await store.append(instants.map { order("at\($0)", "c", $0, 100) })
        let cases: [(Range<Int64>, [Int64])] = [
            (100..<200, [100, 150, 199]), (200..<201, [200]), (100..<100, []), (0..<99, []),
            (-1_000..<1_000, instants), (201..<202, [201]), (202..<10_000, []),
        ]
        for (range, want) in cases {
            for batchSize in [1, 2, 100] {
                let got = try await readAll(store, range: timestamps(range), batchSize: batchSize)
                r.expect(
                    got.map(\.timestamp.secondsSince1970) == want,
                    "placedIn: \(range) with batchSize \(batchSize) gave \(got.map(\.timestamp.secondsSince1970)), "
                        + "expected \(want)")
            }
        }
    }

    private func ordering(_ store: any OrderStore, _ r: Recorder) async throws {
        // Bytes: "B" 0x42 < "a" 0x61 < "a1" < "b" 0x62 < "z" < "\u{E4}" 0xC3 0xA4 < "\u{1F600}" 0xF0...
        let ids = ["z", "\u{1F600}", "b", "a", "\u{E4}", "B", "a1"]
        var batch: [Order] = []
        for (index, id) in ids.enumerated() { batch.append(order(id, "c\(index)", 500, 1)) }
        batch.append(order("early", "c", 400, 1))
        batch.append(order("late", "c", 600, 1))
        try await store.append(Array(batch.prefix(4)))
        try await store.append(Array(batch.dropFirst(4)))
        let want = ["early", "B", "a", "a1", "b", "z", "\u{E4}", "\u{1F600}", "late"]
        for batchSize in [1, 2, 3, 1_000] {
            let got = try await readAll(store, batchSize: batchSize).map(\.id)
            r.expect(got == want, "batchSize \(batchSize): order \(got.map(\.debugDescription)), expected \(want)")
        }
    }

    private func idempotentAppend(_ store: any OrderStore, _ r: Recorder) async throws {
        let batch = [order("1", "alice", 10, 500), order("2", "bob", 20, 700), order("3", "alice", 30, -500)]
        let first = try await store.append(batch)
        r.expect(first == AppendSummary(inserted: 3, duplicatesIgnored: 0), "first append reported \(first)")
        let again = try await store.append(batch)
        r.expect(again == AppendSummary(inserted: 0, duplicatesIgnored: 3), "re-append reported \(again)")
        let repeated = try await store.append([order("4", "carol", 40, 100), order("4", "carol", 40, 100)])
        r.expect(repeated == AppendSummary(inserted: 1, duplicatesIgnored: 1), "in-batch repeat reported \(repeated)")
        let mixed = try await store.append([order("2", "bob", 20, 700), order("5", "dave", 50, 100)])
        r.expect(mixed == AppendSummary(inserted: 1, duplicatesIgnored: 1), "old + new reported \(mixed)")
        let empty = try await store.append([])
        r.expect(empty == AppendSummary(inserted: 0, duplicatesIgnored: 0), "empty batch reported \(empty)")
        let count = try await store.count()
        r.expect(count == 5, "count() is \(count) after idempotent appends, expected 5")
        let ids = try await readAll(store, batchSize: 10).map(\.id)
        r.expect(ids == ["1", "2", "3", "4", "5"], "stored ids \(ids), expected 1...5")
    }

    private func atomicAppend(_ store: any OrderStore, _ r: Recorder) async throws {
        let existing = order("keep", "alice", 10, 500)
        try await store.append([existing])
        await r.expectStoreError(.invalidOrder, "batch with an empty customer id") {
            try await store.append([self.order("new1", "bob", 20, 100), self.order("bad", "", 30, 100)])
        }
        await r.expectStoreError(.conflictingDuplicate, "batch conflicting with a stored order") {
            try await store.append([self.order("new2", "bob", 20, 100), self.order("keep", "alice", 10, 999)])
        }
        await r.expectStoreError(.mixedCurrency, "batch whose last order has another currency") {
            try await store.append([
                self.order("new3", "bob", 20, 100),
                Order(
                    id: "eur", customerID: "bob", timestamp: Timestamp(secondsSince1970: 1), amount: 1,
                    currency: .eur),
            ])
        }
        let stored = try await readAll(store, batchSize: 10)
        r.expectSameOrders(stored, [existing], "store after three failed batches")
        let leaked = try await store.orders(ofCustomer: "bob")
        r.expect(leaked.isEmpty, "customer bob has \(leaked.count) orders after failed batches, expected 0")
    }

    private func conflictingDuplicates(_ store: any OrderStore, _ r: Recorder) async throws {
        let original = order("42", "alice", 1_000, 2_500)
        try await store.append([original])
        let variants = [
            ("amount", order("42", "alice", 1_000, 2_501)), ("customer", order("42", "bob", 1_000, 2_500)),
            ("timestamp", order("42", "alice", 1_001, 2_500)),
            (
                "currency digits",
                Order(
                    id: "42", customerID: "alice", timestamp: Timestamp(secondsSince1970: 1_000),
                    amount: 2_500, currency: Currency("USD", minorUnitDigits: 3))
            ),
        ]
        for (field, variant) in variants {
            let error = await r.expectStoreError(
                [.conflictingDuplicate, .mixedCurrency], "same id, different \(field)"
            ) { try await store.append([variant]) }
            if let error, error.code == .conflictingDuplicate {
                r.expect(error.orderID == "42", "error names order \(String(describing: error.orderID)), expected 42")
            }
        }
        await r.expectStoreError(.conflictingDuplicate, "the same id twice in one batch with different amounts") {
            try await store.append([self.order("7", "c", 1, 1), self.order("7", "c", 1, 2)])
        }
        let stored = try await readAll(store, batchSize: 10)
        r.expectSameOrders(stored, [original], "store after conflicting duplicates")
    }

    private func mixedCurrency(_ store: any OrderStore, _ r: Recorder) async throws {
        func priced(_ id: String, _ currency: Currency) -> Order {
            Order(id: id, customerID: "c", timestamp: Timestamp(secondsSince1970: 5), amount: 100, currency: currency)
        }
        await r.expectStoreError(.mixedCurrency, "one batch in USD and EUR on an empty store") {
            try await store.append([priced("1", .usd), priced("2", .eur)])
        }
        let afterFailure = try await store.currency()
        r.expect(afterFailure == nil, "currency() is \(String(describing: afterFailure)) after a failed first batch")
        try await store.append([priced("1", .eur)])
        await r.expectStoreError(.mixedCurrency, "USD into a EUR store") { try await store.append([priced("2", .usd)]) }
        await r.expectStoreError(.mixedCurrency, "EUR with 3 minor digits into a EUR (2 digits) store") {
            try await store.append([priced("3", Currency("EUR", minorUnitDigits: 3))])
        }
        let count = try await store.count()
        r.expect(count == 1, "count() is \(count), expected 1")
    }

    private func invalidOrders(_ store: any OrderStore, _ r: Recorder) async throws {
        await r.expectStoreError(.invalidOrder, "empty order id") {
            try await store.append([self.order("", "c", 1, 1)])
        }
        await r.expectStoreError(.invalidOrder, "empty customer id") {
            try await store.append([self.order("1", "", 1, 1)])
        }
        await r.expectStoreError(.invalidOrder, "amount Int64.min") {
            try await store.append([self.order("1", "c", 1, .min)])
        }
        let count = try await store.count()
        r.expect(count == 0, "count() is \(count) after invalid orders, expected 0")
    }

    private func concurrentWriters(_ store: any OrderStore, _ r: Recorder) async throws {
        let shared = (0..<10).map { order("shared-\($0)", "everyone", Int64($0), 100) }
        let summaries = try await withThrowingTaskGroup(of: AppendSummary.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    var total = AppendSummary(inserted: 0, duplicatesIgnored: 0)
                    for batch in 0..<20 {
                        let orders = (0..<5).map { item in
                            self.order(
                                "w\(writer)-\(batch)-\(item)", "writer\(writer)", Int64(batch * 5 + item),
                                Int64(writer * 1_000 + batch * 5 + item))
                        }
                        let summary = try await store.append(batch == 10 ? orders + shared : orders)
                        total.inserted += summary.inserted
                        total.duplicatesIgnored += summary.duplicatesIgnored
                    }
                    return total
                }
            }
            var all: [AppendSummary] = []
            for try await summary in group { all.append(summary) }
            return all
        }
        let inserted = summaries.reduce(0) { $0 + $1.inserted }
        let ignored = summaries.reduce(0) { $0 + $1.duplicatesIgnored }
        r.expect(
            inserted == 810 && ignored == 70,
            "writers reported \(inserted) inserted, \(ignored) ignored; "
                + "expected 810 and 70")
        let count = try await store.count()
        r.expect(count == 810, "count() is \(count) after 8 concurrent writers, expected 810")
        let all = try await readAll(store, batchSize: 64)
        r.expect(Set(all.map(\.id)).count == 810 && all.count == 810, "read \(all.count) orders, expected 810 distinct")
        for writer in 0..<8 {
            let mine = try await store.orders(ofCustomer: "writer\(writer)")
            let amounts = mine.map(\.amount)
            r.expect(
                amounts == (0..<100).map { Int64(writer * 1_000 + $0) },
                "writer \(writer)'s orders came back as \(mine.count) orders with wrong amounts or order")
        }
    }

    /// Writer w appends 20 batches of 5 orders for customer "rw<w>", one after the other (amounts w * 1000 + i,
    /// timestamps i, so each writer's orders sort by amount). Readers run meanwhile and check what any snapshot
    /// must satisfy: `count()` a multiple of 5 that never decreases; a customer's orders a whole number of
    /// batches, and a prefix of that writer's sequence; a paged read with no order twice, holding at least the
    /// orders counted before it started and at most those counted after it ended.
    private func concurrentReadersAndWriters(_ store: any OrderStore, _ r: Recorder) async throws {
        let writers = 8
        let batches = 20
        let total = writers * batches * 5
        enum Result: Sendable {
            case wrote(AppendSummary)
            case read(rounds: Int, problems: [String])
        }
        let results = try await withThrowingTaskGroup(of: Result.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var sum = AppendSummary(inserted: 0, duplicatesIgnored: 0)
                    for batch in 0..<batches {
                        let orders = (0..<5).map { item in
                            let index = batch * 5 + item
                            return self.order(
                                "rw\(writer)-\(index)", "rw\(writer)", Int64(index), Int64(writer * 1_000 + index))
                        }
                        let summary = try await store.append(orders)
                        sum.inserted += summary.inserted
                        sum.duplicatesIgnored += summary.duplicatesIgnored
                        // Let readers in between batches, even on a store that never suspends.
                        await Task.yield()
                    }
                    return .wrote(sum)
                }
            }
            for reader in 0..<4 {
                group.addTask {
                    var problems: [String] = []
                    var rounds = 0
                    var lastCount = 0
                    // Until the writers are done (bounded, so that a store that loses orders cannot hang it).
                    while lastCount < total, rounds < 2_000, problems.count < 5 {
                        rounds += 1
                        let before = try await store.count()
                        if before % 5 != 0 || before < lastCount || before > total {
                            problems.append("count() \(before) after \(lastCount): not whole batches or went down")
                        }
                        let writer = (reader + rounds) % writers
                        let amounts = try await store.orders(ofCustomer: "rw\(writer)").map(\.amount)
                        if amounts.count % 5 != 0
                            || amounts != (0..<amounts.count).map({ Int64(writer * 1_000 + $0) })
                        {
                            problems.append(
                                "customer rw\(writer): \(amounts.count) orders, not a prefix of whole batches")
                        }
                        if rounds % 4 == 0 {
                            var ids = Set<String>()
                            var read = 0
                            for try await page in store.orders(placedIn: .allTime, batchSize: 64) {
                                read += page.count
                                ids.formUnion(page.map(\.id))
                            }
                            let after = try await store.count()
                            if ids.count != read || read < before || read > after {
                                problems.append(
                                    "paged read of \(read) orders (\(ids.count) distinct) between counts \(before) "
                                        + "and \(after)")
                            }
                        }
                        lastCount = before
                    }
                    return .read(rounds: rounds, problems: problems)
                }
            }
            var all: [Result] = []
            for try await result in group { all.append(result) }
            return all
        }
        var inserted = 0
        var ignored = 0
        var rounds: [Int] = []
        for result in results {
            switch result {
            case .wrote(let summary):
                inserted += summary.inserted
                ignored += summary.duplicatesIgnored
            case .read(let count, let problems):
                rounds.append(count)
                for problem in problems { r.fail("reader: \(problem)") }
            }
        }
        r.expect(
            inserted == total && ignored == 0,
            "writers reported \(inserted) inserted, \(ignored) ignored; expected \(total), 0")
        r.expect(rounds.count == 4 && rounds.allSatisfy { $0 >= 1 }, "reader rounds \(rounds)")
        let count = try await store.count()
        r.expect(count == total, "count() is \(count) after the writers, expected \(total)")
        let all = try await readAll(store, batchSize: 100)
        r.expect(
            all.count == total && Set(all.map(\.id)).count == total,
            "read \(all.count) orders, expected \(total) distinct")
        for writer in 0..<writers {
            let amounts = try await store.orders(ofCustomer: "rw\(writer)").map(\.amount)
            r.expect(
                amounts == (0..<(batches * 5)).map { Int64(writer * 1_000 + $0) },
                "writer \(writer)'s orders came back as \(amounts.count) orders with wrong amounts or order")
        }
    }

    private func paging(_ store: any OrderStore, _ r: Recorder) async throws {
        // 25 orders; several share an instant so pages break inside a run of equal timestamps.
        let orders = (0..<25).map { (n: Int) -> Order in
            let id = (n < 10 ? "p0" : "p") + String(n)
            return order(id, "c\(n % 3)", Int64(n / 4), Int64(n))
        }
        try await store.append(orders.reversed())
        let expectations: [(Int, [Int])] = [
            (4, [4, 4, 4, 4, 4, 4, 1]), (5, [5, 5, 5, 5, 5]), (25, [25]), (100, [25]),
        ]
        for (batchSize, sizes) in expectations {
            var got: [[Order]] = []
            for try await batch in store.orders(placedIn: .allTime, batchSize: batchSize) { got.append(batch) }
            r.expect(
                got.map(\.count) == sizes, "batchSize \(batchSize): batch sizes \(got.map(\.count)), expected \(sizes)")
            r.expectSameOrders(got.flatMap { $0 }, orders, "batchSize \(batchSize) concatenated")
        }
        let page = try await store.orders(
            placedIn: .allTime, after: OrderCursor(timestamp: Timestamp(secondsSince1970: 1), orderID: "p05"), limit: 4)
        r.expect(
            page.map(\.id) == ["p06", "p07", "p08", "p09"],
            "page after (1, p05) limit 4 is \(page.map(\.id)), expected p06...p09")
        let tail = try await store.orders(
            placedIn: timestamps(0..<2), after: OrderCursor(timestamp: Timestamp(secondsSince1970: 1), orderID: "p06"),
            limit: 10)
        r.expect(tail.map(\.id) == ["p07"], "page inside 0..<2 after (1, p06) is \(tail.map(\.id)), expected [p07]")
    }

    private func emptyStore(_ store: any OrderStore, _ r: Recorder) async throws {
        let count = try await store.count()
        r.expect(count == 0, "count() of an empty store is \(count)")
        let currency = try await store.currency()
        r.expect(currency == nil, "currency() of an empty store is \(String(describing: currency))")
        var batches = 0
        for try await _ in store.orders(placedIn: .allTime, batchSize: 10) { batches += 1 }
        r.expect(batches == 0, "an empty store yielded \(batches) batches")
        let page = try await store.orders(placedIn: .allTime, after: nil, limit: 10)
        r.expect(page.isEmpty, "an empty store returned a page of \(page.count)")
        let mine = try await store.orders(ofCustomer: "nobody")
        r.expect(mine.isEmpty, "an empty store returned \(mine.count) orders of a customer")
        let summaries = try await RetentionStorage.customerSummaries(from: store, placedIn: .allTime)
        r.expect(
            summaries.count == 0 && summaries.currency == nil,
            "an empty store's summaries have \(summaries.count) customers, "
                + "currency \(String(describing: summaries.currency))"
        )
        let activity = try await RetentionStorage.purchaseActivity(from: store, unit: .month, calendar: .utc)
        r.expect(
            activity.customerCount == 0 && activity.pairCount == 0,
            "an empty store's activity has \(activity.customerCount) customers")
    }

    private func customerOrders(_ store: any OrderStore, _ r: Recorder) async throws {
        let orders = [
            order("3", "alice", 30, 1), order("1", "alice", 10, 1), order("2", "bob", 10, 1),
            order("0", "alice", 30, -1), order("4", "Alice", 5, 1), order("5", "alice ", 5, 1),
        ]
        try await store.append(orders)
        let alice = try await store.orders(ofCustomer: "alice")
        r.expect(alice.map(\.id) == ["1", "0", "3"], "alice's orders are \(alice.map(\.id)), expected [1, 0, 3]")
        let unknown = try await store.orders(ofCustomer: "zed")
        r.expect(unknown.isEmpty, "an unknown customer has \(unknown.count) orders")
    }

    private func summaries(_ store: any OrderStore, _ r: Recorder) async throws {
        let orders = dataSet()
        try await store.append(contentsOf: orders, batchSize: 500)
        let ledger = try OrderLedger(orders)
        let year2022 = timestamps(1_640_995_200..<1_672_531_200)
        for (name, range) in [("allTime", Range<Timestamp>.allTime), ("2022", year2022), ("empty", timestamps(5..<5))] {
            let got = try await RetentionStorage.customerSummaries(from: store, placedIn: range)
            let reference = ledger.summaries(in: range)
            var want: [String: CustomerSummary] = [:]
            for (id, summary) in zip(reference.customerIDs, reference.summaries)
            where summary.purchases + summary.refunds > 0 {
                want[id] = summary
            }
            let gotByID = Dictionary(zip(got.customerIDs, got.summaries), uniquingKeysWith: { a, _ in a })
            r.expect(got.count == want.count, "\(name): \(got.count) customers, expected \(want.count)")
            var mismatches = 0
            for (id, summary) in want where gotByID[id] != summary {
                mismatches += 1
                if mismatches <= 3 {
                    r.fail("\(name): customer \(id) summary \(String(describing: gotByID[id])), expected \(summary)")
                }
            }
            if mismatches > 3 { r.fail("\(name): \(mismatches) customers differ in total") }
            r.expect(isAscendingByBytes(got.customerIDs), "\(name): customer ids are not ascending by UTF-8 bytes")
            let wantCurrency: Currency? = want.isEmpty ? nil : .usd
            r.expect(got.currency == wantCurrency, "\(name): currency \(String(describing: got.currency))")
        }
    }

    private func purchaseActivity(_ store: any OrderStore, _ r: Recorder) async throws {
        let orders = dataSet()
        try await store.append(contentsOf: orders, batchSize: 500)
        let zones = ["UTC", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham"]
        let ranges = [("allTime", Range<Timestamp>.allTime), ("2022", timestamps(1_640_995_200..<1_672_531_200))]
        for zone in zones {
            guard let calendar = PeriodCalendar(identifier: zone) else {
                r.fail("time zone \(zone) is unknown to Foundation on this platform")
                continue
            }
            for unit in [PeriodUnit.day, .week, .month] {
                for (name, range) in ranges {
                    var want: [String: Set<Int64>] = [:]
                    for order in orders where order.amount >= 0 && range.contains(order.timestamp) {
                        want[order.customerID, default: []].insert(calendar.period(unit, of: order.timestamp).index)
                    }
                    let got = try await RetentionStorage.purchaseActivity(
                        from: store, placedIn: range, unit: unit, calendar: calendar)
                    let label = "\(zone) \(unit) \(name)"
                    r.expect(
                        got.unit == unit && got.timeZoneIdentifier == calendar.identifier,
                        "\(label): result labelled \(got.unit) \(got.timeZoneIdentifier)")
                    r.expect(isAscendingByBytes(got.customerIDs), "\(label): customer ids not ascending by bytes")
                    var mismatches = 0
                    for (index, id) in got.customerIDs.enumerated() {
                        let periods = Array(got.periods(ofCustomerAt: index))
                        if periods != want[id]?.sorted() { mismatches += 1 }
                    }
                    mismatches += abs(got.customerCount - want.count)
                    r.expect(
                        mismatches == 0,
                        "\(label): \(mismatches) customers' periods differ "
                            + "(\(got.customerCount) customers, expected \(want.count))")
                }
            }
        }
    }

    // MARK: - Data

    /// Synthetic orders with refunds plus hand-made edge rows: purchases sharing the first instant, a refund at
    /// the first instant, a refund-only customer, and orders one second either side of local midnights and
    /// DST changes in the zones the activity check uses.
    private func dataSet() -> [Order] {
        var orders = Array(
            SyntheticOrders(count: generatedOrders, customers: generatedOrders / 4, seed: 2_024, refundShare: 0.05))
        let firstInstant: Int64 = 1_650_000_000
        orders += [
            order("tie-1", "tie", firstInstant, 1_000), order("tie-2", "tie", firstInstant, 2_000),
            order("tie-r", "tie", firstInstant, -500), order("tie-3", "tie", firstInstant + 86_400, 4_000),
            order("refund-only", "refunder", 1_660_000_000, -700),
        ]
        // 2024-03-10 07:00:00Z is 03:00 EDT (New York's spring forward); 2024-11-03 06:00:00Z is 01:00 EST;
        // 2024-01-01 05:00:00Z is midnight EST; 18:15Z is midnight in Kathmandu (+05:45); 2024-04-06 15:00Z is
        // Lord Howe's fall back (+11 to +10:30); 2024-09-28 14:00Z is 03:45 CHADT (Chatham springs forward).
        let edges: [Int64] = [
            1_710_054_000, 1_710_053_999, 1_730_613_600, 1_730_613_599, 1_704_085_200, 1_704_085_199,
            1_704_046_500, 1_704_046_499, 1_712_415_600, 1_712_415_599, 1_727_532_000, 1_727_531_999,
        ]
        for (index, instant) in edges.enumerated() {
            orders.append(order("edge-\(index)", "edge\(index % 3)", instant, 100 + Int64(index)))
        }
        return orders
    }

    private func order(_ id: String, _ customer: String, _ instant: Int64, _ amount: Int64) -> Order {
        Order(id: id, customerID: customer, timestamp: Timestamp(secondsSince1970: instant), amount: amount)
    }

    private func timestamps(_ range: Range<Int64>) -> Range<Timestamp> {
        Timestamp(secondsSince1970: range.lowerBound)..<Timestamp(secondsSince1970: range.upperBound)
    }

    private func readAll(_ store: any OrderStore, range: Range<Timestamp> = .allTime, batchSize: Int) async throws
        -> [Order]
    {
        var result: [Order] = []
        for try await batch in store.orders(placedIn: range, batchSize: batchSize) {
            if batch.count > batchSize {
                throw ConformanceFailure(check: "paging", message: "a batch exceeded its size")
            }
            result += batch
        }
        return result
    }

    private func isAscendingByBytes(_ ids: [String]) -> Bool {
        zip(ids, ids.dropFirst()).allSatisfy { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}

/// One failed expectation of the conformance suite.
public struct ConformanceFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The check's name (an ``OrderStoreConformance/Check`` raw value).
    public var check: String
    /// What differed.
    public var message: String

    public init(check: String, message: String) {
        self.check = check
        self.message = message
    }

    public var description: String { "[\(check)] \(message)" }
}

/// All failures of a run, thrown by ``OrderStoreConformance/runAll()``.
public struct ConformanceFailures: Error, Sendable, CustomStringConvertible {
    public var failures: [ConformanceFailure]

    public var description: String {
        "\(failures.count) conformance failure(s):\n" + failures.map { "  " + $0.description }.joined(separator: "\n")
    }
}

/// Collects the failures of one check. Used by one task at a time.
private final class Recorder {
    let check: OrderStoreConformance.Check
    var failures: [ConformanceFailure] = []

    init(check: OrderStoreConformance.Check) { self.check = check }

    func fail(_ message: String) { failures.append(ConformanceFailure(check: check.rawValue, message: message)) }

    func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fail(message()) }
    }

    func expectSameOrders(_ got: [Order], _ want: [Order], _ context: String) {
        guard got.count == want.count else {
            fail("\(context): \(got.count) orders, expected \(want.count)")
            return
        }
        for (index, (a, b)) in zip(got, want).enumerated() where !OrderBatchRules.identical(a, b) {
            fail("\(context): order \(index) is \(a), expected \(b)")
            return
        }
    }

    @discardableResult
    func expectStoreError(
        _ codes: Set<StoreError.Code>, _ what: String, _ body: () async throws -> Void
    ) async -> StoreError? {
        do {
            try await body()
            fail("\(what): no error, expected \(codes.map(\.rawValue).sorted().joined(separator: " or "))")
        } catch let error as StoreError {
            if codes.contains(error.code) { return error }
            fail("\(what): StoreError \(error.code), expected \(codes.map(\.rawValue).sorted())")
        } catch {
            fail("\(what): \(String(reflecting: error)), expected a StoreError")
        }
        return nil
    }

    @discardableResult
    func expectStoreError(_ code: StoreError.Code, _ what: String, _ body: () async throws -> Void) async
        -> StoreError?
    {
        await expectStoreError([code], what, body)
    }
}
