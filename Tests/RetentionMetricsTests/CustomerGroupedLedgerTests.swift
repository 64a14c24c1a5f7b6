import Testing

@testable import RetentionMetrics

/// The customer-grouped index holds exactly the ledger's rows, customer by customer in ledger order, and its
/// report equals the ledger's (the kernel cases themselves run in `ReportKernelTests`, which checks the grouped
/// pass on every ledger it builds).
struct CustomerGroupedLedgerTests {
    @Test func rowsAreTheLedgerRowsGroupedStably() throws {
        let t: Int64 = 1_700_000_000
        let ledger = try OrderLedger([
            Order(id: "1", customerID: "b", timestamp: Timestamp(secondsSince1970: t + 30), amount: 300),
            Order(id: "2", customerID: "a", timestamp: Timestamp(secondsSince1970: t + 10), amount: 100),
            Order(id: "3", customerID: "b", timestamp: Timestamp(secondsSince1970: t + 5), amount: -50),
            Order(id: "4", customerID: "c", timestamp: Timestamp(secondsSince1970: t + 99), amount: 900),
            Order(id: "5", customerID: "a", timestamp: Timestamp(secondsSince1970: t + 1), amount: 110),
            Order(id: "6", customerID: "b", timestamp: Timestamp(secondsSince1970: t + 7), amount: 70),
        ])
        let grouped = ledger.groupedByCustomer()
        // Customer numbers follow first appearance: b = 0, a = 1, c = 2.
        #expect(grouped.customerCount == 3)
        #expect(grouped.count == 6)
        #expect(grouped.rowStarts == [0, 3, 5, 6])
        #expect(grouped.rows(ofCustomer: 0) == 0..<3)
        #expect(grouped.rows(ofCustomer: 2) == 5..<6)
        #expect(grouped.timestampColumn == [t + 30, t + 5, t + 7, t + 10, t + 1, t + 99])
        #expect(grouped.amountColumn == [300, -50, 70, 100, 110, 900])
        #expect(grouped.timestampRange == (t + 1)...(t + 99))
        #expect(grouped.timestampRange == ledger.timestampRange)
    }

    @Test func everyCustomersRowsOnAGeneratedLedger() throws {
        let ledger = KernelFixture.ledger(count: 20_000, seed: 19, years: 2, refundShare: 0.1)
        let grouped = CustomerGroupedLedger(ledger)
        #expect(grouped.customerCount == ledger.customerCount)
        var expected = [[(Int64, Int64)]](repeating: [], count: ledger.customerCount)
        for row in 0..<ledger.count {
            expected[Int(ledger.customerColumn[row])].append((ledger.timestampColumn[row], ledger.amountColumn[row]))
        }
        var mismatches = 0
        for customer in 0..<ledger.customerCount {
            let rows = grouped.rows(ofCustomer: Int32(customer))
            let actual = rows.map { (grouped.timestampColumn[$0], grouped.amountColumn[$0]) }
            if actual.count != expected[customer].count || !zip(actual, expected[customer]).allSatisfy({ $0 == $1 }) {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
        #expect(grouped.rowStarts.last == ledger.count)
    }

    @Test func emptyLedger() throws {
        let grouped = OrderLedger().groupedByCustomer()
        #expect(grouped.count == 0)
        #expect(grouped.customerCount == 0)
        #expect(grouped.rowStarts == [0])
        #expect(grouped.timestampRange == nil)
        #expect(try RetentionReport.fused(grouped, options: .init()) == nil)
        // As for the ledger: the default window of no data is empty.
        #expect(throws: MetricError.self) { try RetentionReport(grouped) }
    }

    @Test func theIndexIsASnapshot() throws {
        var ledger = KernelFixture.ledger(count: 300, seed: 4)
        let grouped = ledger.groupedByCustomer()
        let before = try RetentionReport(ledger)
        try ledger.append(
            Order(
                id: "new", customerID: "someone new", timestamp: Timestamp(secondsSince1970: 1_800_000_000), amount: 1))
        #expect(grouped.count == 300)
        #expect(try RetentionReport(grouped) == before)
        #expect(try RetentionReport(ledger.groupedByCustomer()) == RetentionReport(ledger))
        #expect(try RetentionReport(grouped) != RetentionReport(ledger))
    }

    @Test func optionsTheKernelDeclinesAndInvalidOptions() throws {
        let ledger = KernelFixture.ledger(count: 600, seed: 8, refundShare: 0.1)
        let grouped = ledger.groupedByCustomer()
        let split = RetentionReport.Options(binning: .split)
        #expect(try RetentionReport.fused(grouped, options: split) == nil)
        #expect(try RetentionReport(grouped, options: split) == RetentionReport(reference: ledger, options: split))
        let instant = Timestamp(secondsSince1970: ledger.timestampColumn[10])
        let bad: [RetentionReport.Options] = [
            .init(window: instant..<instant), .init(activeWithin: 0), .init(lifespanYears: 2, grossMargin: 1.5),
        ]
        for options in bad {
            #expect(throws: MetricError.self) { try RetentionReport(grouped, options: options) }
        }
    }
}
