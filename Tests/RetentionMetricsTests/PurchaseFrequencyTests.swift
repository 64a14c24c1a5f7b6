import RetentionMetrics
import Testing

struct PurchaseFrequencyTests {
    typealias F = MetricsFixture

    /// 30 days: [2024-03-01, 2024-03-31).
    static let window = F.instant(2024, 3, 1)..<F.instant(2024, 3, 31)

    /// 6 purchases by 4 customers in the window, 25.00 each on average (15,000 cents), plus rows that must not
    /// count: a refund, an order exactly at the end, an order the day before the start.
    static func ledger() throws -> OrderLedger {
        try F.ledger([
            ("p", F.instant(2024, 3, 1), 2_000), ("p", F.instant(2024, 3, 15), 3_000),
            ("q", F.instant(2024, 3, 2), 2_500), ("q", F.instant(2024, 3, 30, plus: F.day - 1), 2_500),
            ("r", F.instant(2024, 3, 3), 2_500), ("s", F.instant(2024, 3, 4), 2_500),
            ("p", F.instant(2024, 3, 10), -1_000),
            ("t", F.instant(2024, 3, 31), 5_000), ("p", F.instant(2024, 2, 29), 5_000),
        ])
    }

    @Test func perWindowAndAnnualized() throws {
        let frequency = try PurchaseFrequency(Self.ledger(), in: Self.window)
        #expect(frequency.orders == 6)
        #expect(frequency.customers == 4)
        #expect(frequency.windowDays == 30)
        #expect(frequency.value == 1.5)
        #expect(frequency.annualized == 18.262125)  // 1.5 x 365.2425 / 30
    }

    @Test func countsForm() throws {
        let year2023 = F.instant(2023, 1, 1)..<F.instant(2024, 1, 1)
        let frequency = try PurchaseFrequency(orders: 730, customers: 100, window: year2023)
        #expect(frequency.windowDays == 365)
        #expect(frequency.value == 7.3)
        #expect(F.isClose(frequency.annualized, 7.3 * 365.2425 / 365))  // 7.304850
        #expect(F.isClose(frequency.annualized, 7.30485))
    }

    @Test func noCustomersIsUndefined() throws {
        let frequency = try PurchaseFrequency(OrderLedger(), in: Self.window)
        #expect(frequency.value == nil)
        #expect(frequency.annualized == nil)
        #expect(frequency.windowDays == 30)
    }

    @Test func invalidInputsThrow() throws {
        let t = F.instant(2024, 3, 1)
        #expect { try PurchaseFrequency(orders: 1, customers: 1, window: t..<t) } throws: {
            ($0 as? MetricError)?.code == .emptyWindow
        }
        #expect { try PurchaseFrequency(orders: 1, customers: 2, window: Self.window) } throws: {
            ($0 as? MetricError)?.code == .partExceedsWhole
        }
        #expect { try PurchaseFrequency(orders: -1, customers: 0, window: Self.window) } throws: {
            ($0 as? MetricError)?.code == .negativeCount
        }
    }
}
