import RetentionMetrics
import Testing

struct AverageOrderValueTests {
    typealias F = MetricsFixture

    static let march = F.instant(2024, 3, 1)..<F.instant(2024, 4, 1)

    static func marchLedger() throws -> OrderLedger {
        try F.ledger([
            ("x", F.instant(2024, 3, 1), 2_000), ("y", F.instant(2024, 3, 5), 3_111),
            ("x", F.instant(2024, 3, 31, plus: F.day - 1), 2_500),
            ("y", F.instant(2024, 3, 20), -500),  // refund: not an order
            ("z", F.instant(2024, 2, 29), 9_999), ("z", F.instant(2024, 4, 1), 9_999),  // outside
        ])
    }

    @Test func majorUnitsExactly() throws {
        let aov = try AverageOrderValue(Self.marchLedger(), in: Self.march, refunds: .exclude)
        #expect(aov.orders == 3)
        #expect(aov.revenue == 7_611)
        #expect(aov.currency == .usd)
        #expect(aov.value == 25.37)
    }

    @Test func netRevenueSubtractsRefundsButNotOrders() throws {
        let aov = try AverageOrderValue(Self.marchLedger(), in: Self.march)
        #expect(aov.orders == 3)
        #expect(aov.revenue == 7_111)
        #expect(aov.value == 7_111.0 / 300.0)  // 23.7033...
    }

    @Test func countsFormAndZeroDigitCurrency() throws {
        #expect(try AverageOrderValue(orders: 3, revenue: 7_611, currency: .usd).value == 25.37)
        #expect(try AverageOrderValue(orders: 2, revenue: 1_500, currency: Currency("JPY")).value == 750)
        #expect(try AverageOrderValue(orders: 4, revenue: 10_000, currency: Currency("KWD")).value == 2.5)
        #expect(try AverageOrderValue(orders: 0, revenue: 0, currency: .usd).value == nil)
        #expect { try AverageOrderValue(orders: -1, revenue: 0, currency: .usd) } throws: {
            ($0 as? MetricError)?.code == .negativeCount
        }
    }

    @Test func emptyLedgerAndRefundOnlyWindow() throws {
        let empty = try AverageOrderValue(OrderLedger(), in: nil)
        #expect(empty.orders == 0 && empty.revenue == 0 && empty.currency == nil && empty.value == nil)
        let refunds = try F.ledger([("g", F.instant(2024, 3, 2), -500)])
        let aov = try AverageOrderValue(refunds, in: Self.march)
        #expect(aov.orders == 0)
        #expect(aov.revenue == -500)
        #expect(aov.value == nil)
    }

    @Test func summariesWithoutCurrencyThrow() throws {
        var summary = CustomerSummary()
        summary.record(timestamp: 0, amount: 1_000)
        let summaries = CustomerSummaries(customerIDs: ["x"], summaries: [summary], currency: nil)
        #expect { try AverageOrderValue(summaries) } throws: { ($0 as? MetricError)?.code == .missingCurrency }
    }

    @Test func revenueOverflowThrows() throws {
        var summary = CustomerSummary()
        summary.record(timestamp: 0, amount: .max)
        let summaries = CustomerSummaries(customerIDs: ["x", "y"], summaries: [summary, summary], currency: .usd)
        #expect { try AverageOrderValue(summaries) } throws: { ($0 as? MetricError)?.code == .amountOverflow }
    }
}
