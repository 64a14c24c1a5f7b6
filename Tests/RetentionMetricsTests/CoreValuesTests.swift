import Testing

@testable import RetentionMetrics

struct MoneyTests {
    @Test(arguments: [
        (Int64(123_456), 2, "1234.56"), (-5, 2, "-0.05"), (0, 2, "0.00"), (1200, 0, "1200"), (7, 3, "0.007"),
        (Int64.min, 2, "-92233720368547758.08"), (Int64.max, 2, "92233720368547758.07"), (100, 2, "1.00"),
    ])
    func decimalStrings(minor: Int64, digits: Int, text: String) {
        #expect(Money.decimalString(minor, digits: digits) == text)
    }

    @Test func currencyDigits() {
        #expect(Currency("jpy").minorUnitDigits == 0)
        #expect(Currency("jpy").code == "JPY")
        #expect(Currency("KWD").minorUnitDigits == 3)
        #expect(Currency("EUR").minorUnitsPerMajor == 100)
        #expect(Money(minorUnits: 1999, currency: .eur).description == "19.99 EUR")
    }

    @Test func timestampsPrintAsUTC() {
        #expect(Timestamp(secondsSince1970: 0).description == "1970-01-01T00:00:00Z")
        #expect(Timestamp(secondsSince1970: -1).description == "1969-12-31T23:59:59Z")
        #expect(Timestamp(secondsSince1970: 1_709_269_199).description == "2024-03-01T04:59:59Z")
    }
}

struct OrderLedgerTests {
    func order(_ id: String, _ customer: String, _ seconds: Int64, _ amount: Int64, _ currency: Currency = .usd)
        -> Order
    {
        Order(id: id, customerID: customer, timestamp: Timestamp(secondsSince1970: seconds), amount: amount,
            currency: currency)
    }

    @Test func orderIDsStayExactThroughEveryStorageForm() throws {
        var ledger = OrderLedger()
        var store = OrderIDStore()
        // Sequential (no storage), then increasing with a gap, then out of order, then a non-canonical string.
        let ids = ["1", "2", "3", "10", "5", "007", "x-1", "0"]
        var kinds: [OrderIDStore.Kind] = []
        for (k, id) in ids.enumerated() {
            try ledger.append(order(id, "c\(k % 3)", Int64(k), 100))
            store.append(id)
            kinds.append(store.kind)
            for earlier in ids[...k] { #expect(ledger.row(ofOrderID: earlier) == ids.firstIndex(of: earlier)) }
            #expect(ledger.row(ofOrderID: "7") == nil && ledger.row(ofOrderID: "01") == nil)
        }
        #expect(kinds == [.affine, .affine, .affine, .sortedIntegers, .integers, .strings, .strings, .strings])
        #expect(ledger.orders.map(\.id) == ids && (0..<ids.count).map { ledger.orderID(at: $0) } == ids)
        // Every form still tells a re-sent order from a conflicting one.
        #expect(try ledger.append(order("10", "c0", 3, 100)) == .duplicateIgnored)
        #expect(throws: LedgerError.self) { try ledger.append(order("007", "c0", 5, 101)) }
        #expect(ledger.count == ids.count && ledger.duplicatesIgnored == 1)
        #expect(ledger.customerNumber(of: "c2") == 2 && ledger.customerNumber(of: "c3") == nil)
    }

    @Test func customerIndexSurvivesGrowth() throws {
        var ledger = OrderLedger()
        for k in 0..<5000 { try ledger.append(order("\(k * 7 % 5003)", "customer-\(k % 1700)", Int64(k), 1)) }
        #expect(ledger.customerCount == 1700)
        #expect((0..<1700).allSatisfy { ledger.customerNumber(of: "customer-\($0)") == Int32($0) })
        #expect((0..<5000).allSatisfy { ledger.row(ofOrderID: "\($0 * 7 % 5003)") == $0 })
    }

    @Test func internsCustomersAndKeepsColumns() throws {
        let ledger = try OrderLedger([
            order("1", "alice", 100, 2500), order("2", "bob", 50, 1000), order("3", "alice", 300, -500),
        ])
        #expect(ledger.count == 3)
        #expect(ledger.customerCount == 2)
        #expect(ledger.customerIDs == ["alice", "bob"])
        #expect(ledger.customerColumn == [0, 1, 0])
        #expect(ledger.timestampColumn == [100, 50, 300])
        #expect(ledger.amountColumn == [2500, 1000, -500])
        #expect(ledger.timestampRange == 50...300)
        #expect(ledger[2] == order("3", "alice", 300, -500))
    }

    @Test func identicalDuplicateIsIgnoredConflictingOneThrows() throws {
        var ledger = OrderLedger()
        #expect(try ledger.append(order("1", "alice", 100, 2500)) == .appended)
        #expect(try ledger.append(order("1", "alice", 100, 2500)) == .duplicateIgnored)
        #expect(ledger.duplicatesIgnored == 1)
        #expect(ledger.count == 1)
        let error = #expect(throws: LedgerError.self) { try ledger.append(order("1", "alice", 100, 2600)) }
        #expect(error?.code == .conflictingDuplicate)
        #expect(error?.orderID == "1")
        #expect(ledger.count == 1)
    }

    @Test func mixedCurrencyAndOverflowAreRejectedWithoutChange() throws {
        var ledger = try OrderLedger([order("1", "a", 1, Int64.max - 10)])
        let overflow = #expect(throws: LedgerError.self) { try ledger.append(order("2", "b", 2, 11)) }
        #expect(overflow?.code == .amountOverflow)
        let mixed = #expect(throws: LedgerError.self) { try ledger.append(order("3", "b", 2, 1, .eur)) }
        #expect(mixed?.code == .mixedCurrency)
        #expect(ledger.count == 1)
        #expect(ledger.customerCount == 1)
    }

    @Test func summariesRespectTheHalfOpenWindow() throws {
        let ledger = try OrderLedger([
            order("1", "a", 100, 2500), order("2", "a", 200, 1000), order("3", "a", 200, 500),
            order("4", "b", 300, 700), order("5", "a", 250, -300),
        ])
        let all = ledger.summaries()
        let a = all.summaries[0]
        #expect(a.purchases == 3)
        #expect(a.purchaseAmount == 4000)
        #expect(a.refunds == 1)
        #expect(a.refundAmount == -300)
        #expect(a.revenue(.net) == 3700)
        #expect(a.revenue(.exclude) == 4000)
        #expect(a.firstPurchase == 100)
        #expect(a.lastPurchase == 200)
        #expect(a.firstInstantPurchases == 1)
        #expect(a.firstInstantAmount == 2500)

        let window = ledger.summaries(in: Timestamp(secondsSince1970: 200)..<Timestamp(secondsSince1970: 300))
        #expect(window.summaries[0].purchases == 2)
        #expect(window.summaries[0].firstInstantPurchases == 2)
        #expect(window.summaries[0].firstInstantAmount == 1500)
        #expect(window.summaries[1] == CustomerSummary())  // 300 is outside [200, 300)
        #expect(window.purchasers.map(\.customerID) == ["a"])
    }

    @Test func mergingShardsEqualsOnePass() throws {
        var state: UInt64 = 42
        var orders: [Order] = []
        for index in 0..<2_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let customer = "c\(state >> 58)"
            let seconds = Int64((state >> 20) % 1_000)
            let amount = Int64((state >> 40) % 5_000) - 500
            orders.append(order("o\(index)", customer, seconds, amount))
        }
        let whole = try OrderLedger(orders).summaries()
        var merged = CustomerSummaries(customerIDs: [], summaries: [], currency: nil)
        for shard in 0..<4 {
            let part = try OrderLedger(orders.enumerated().filter { $0.offset % 4 == shard }.map(\.element))
            merged = merged.merging(part.summaries())
        }
        let expected = Dictionary(uniqueKeysWithValues: zip(whole.customerIDs, whole.summaries))
        let actual = Dictionary(uniqueKeysWithValues: zip(merged.customerIDs, merged.summaries))
        #expect(actual == expected)
        #expect(merged.currency == .usd)
    }
}
