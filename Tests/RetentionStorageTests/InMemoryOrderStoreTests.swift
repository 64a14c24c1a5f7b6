import RetentionStorage
import RetentionTesting
import Testing

struct InMemoryOrderStoreTests {
    @Test(arguments: OrderStoreConformance.Check.allCases)
    func conformance(check: OrderStoreConformance.Check) async {
        let suite = OrderStoreConformance { InMemoryOrderStore() }
        let failures = await suite.run(check)
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func initialiserAppliesTheBatchRules() async throws {
        let t = Timestamp(secondsSince1970: 0)
        let store = try InMemoryOrderStore([
            Order(id: "1", customerID: "a", timestamp: t, amount: 5),
            Order(id: "1", customerID: "a", timestamp: t, amount: 5),
        ])
        #expect(try await store.count() == 1)
        #expect(throws: StoreError.self) {
            try InMemoryOrderStore([Order(id: "", customerID: "a", timestamp: t, amount: 5)])
        }
    }

    /// The worked example of the protocol's documentation, checked by hand: alice buys 25.00 then 12.00,
    /// refunds 5.00; bob buys 10.00 twice in the same second.
    @Test func summariesOfAWorkedExample() async throws {
        let store = InMemoryOrderStore()
        func order(_ id: String, _ customer: String, _ t: Int64, _ amount: Int64) -> Order {
            Order(id: id, customerID: customer, timestamp: Timestamp(secondsSince1970: t), amount: amount)
        }
        try await store.append([
            order("1", "alice", 100, 2_500), order("2", "alice", 200, 1_200), order("3", "alice", 300, -500),
            order("4", "bob", 150, 1_000), order("5", "bob", 150, 1_000),
        ])
        let summaries = try await store.customerSummaries(placedIn: .allTime)
        #expect(summaries.customerIDs == ["alice", "bob"])
        let alice = summaries.summaries[0]
        #expect(
            alice.purchases == 2 && alice.purchaseAmount == 3_700 && alice.refunds == 1 && alice.refundAmount == -500)
        #expect(alice.firstPurchase == 100 && alice.lastPurchase == 200 && alice.firstInstantAmount == 2_500)
        let bob = summaries.summaries[1]
        #expect(bob.purchases == 2 && bob.firstInstantPurchases == 2 && bob.firstInstantAmount == 2_000)
        let window = try await store.customerSummaries(
            placedIn: Timestamp(secondsSince1970: 150)..<Timestamp(secondsSince1970: 300))
        #expect(window.customerIDs == ["alice", "bob"])
        #expect(window.summaries[0].purchases == 1 && window.summaries[0].refunds == 0)
    }

    @Test func loadLedgerStreamsEveryOrderInStoreOrder() async throws {
        let orders = Array(SyntheticOrders(count: 1_000, seed: 5))
        let store = InMemoryOrderStore()
        try await store.append(contentsOf: orders.shuffled(), batchSize: 97)
        let ledger = try await loadLedger(from: store, batchSize: 64)
        #expect(ledger.count == 1_000)
        #expect(ledger.orders == orders.sorted(by: OrderBatchRules.precedes))
        let scanned = try await store.scanCustomerSummaries(placedIn: .allTime, batchSize: 33)
        let pushed = try await store.customerSummaries(placedIn: .allTime)
        #expect(scanned == pushed)
    }

    @Test func activityAndCohortCountsOfAWorkedExample() async throws {
        // Berlin is UTC+1 in January: 2024-01-31T23:30Z is already 2024-02-01 locally.
        let berlin = try #require(PeriodCalendar(identifier: "Europe/Berlin"))
        let store = InMemoryOrderStore()
        func order(_ id: String, _ customer: String, _ t: Int64, _ amount: Int64) -> Order {
            Order(id: id, customerID: customer, timestamp: Timestamp(secondsSince1970: t), amount: amount)
        }
        let jan15: Int64 = 1_705_320_000  // 2024-01-15T12:00Z
        let lateJan31: Int64 = 1_706_743_800  // 2024-01-31T23:30Z = 2024-02-01T00:30 Berlin
        let mar10: Int64 = 1_710_072_000  // 2024-03-10T12:00Z
        try await store.append([
            order("1", "a", jan15, 100), order("2", "a", lateJan31, 100), order("3", "b", lateJan31, 100),
            order("4", "b", mar10, -100), order("5", "c", mar10, 100),
        ])
        let activity = try await store.purchaseActivity(placedIn: .allTime, unit: .month, calendar: berlin)
        let label = activity.periodsByCustomer.mapValues { $0.map(\.description) }
        #expect(label == ["a": ["2024-01", "2024-02"], "b": ["2024-02"], "c": ["2024-03"]])
        let utc = try await store.purchaseActivity(placedIn: .allTime, unit: .month, calendar: .utc)
        #expect(
            utc.periodsByCustomer.mapValues { $0.map(\.description) } == [
                "a": ["2024-01"], "b": ["2024-01"], "c": ["2024-03"],
            ])
        let cells = activity.cohortCounts().map { "\($0.cohort) +\($0.offset): \($0.customers)" }
        #expect(cells == ["2024-01 +0: 1", "2024-01 +1: 1", "2024-02 +0: 1", "2024-03 +0: 1"])
    }

    @Test func offsetSegmentsOfBerlin2024() throws {
        let berlin = try #require(PeriodCalendar(identifier: "Europe/Berlin"))
        // 2024-03-31T01:00Z and 2024-10-27T01:00Z are Berlin's DST changes.
        let segments = berlin.utcOffsetSegments(covering: 1_704_067_200..<1_735_689_600)
        #expect(
            segments == [
                UTCOffsetSegment(instants: 1_704_067_200..<1_711_846_800, utcOffset: 3_600),
                UTCOffsetSegment(instants: 1_711_846_800..<1_729_990_800, utcOffset: 7_200),
                UTCOffsetSegment(instants: 1_729_990_800..<1_735_689_600, utcOffset: 3_600),
            ])
        #expect(
            PeriodCalendar.utc.utcOffsetSegments(covering: 0..<100) == [
                UTCOffsetSegment(instants: 0..<100, utcOffset: 0)
            ])
        #expect(PeriodCalendar.utc.utcOffsetSegments(covering: 5..<5).isEmpty)
    }

    @Test func pagingRejectsANonPositiveLimit() async {
        await #expect(throws: StoreError.self) {
            try await InMemoryOrderStore().orders(placedIn: .allTime, after: nil, limit: 0)
        }
    }
}
