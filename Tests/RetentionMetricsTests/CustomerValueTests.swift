import RetentionMetrics
import Testing

struct CustomerValueTests {
    typealias F = MetricsFixture

    @Test func aovTimesFrequency() throws {
        // Gross: 15,000 cents / 6 orders = 25.00; 6 orders / 4 customers = 1.5 per 30 days.
        let value = try CustomerValue(PurchaseFrequencyTests.ledger(), in: PurchaseFrequencyTests.window,
                                      refunds: .exclude)
        #expect(value.averageOrderValue.value == 25)
        #expect(value.frequency.value == 1.5)
        #expect(value.windowValue == 37.5)
        #expect(F.isClose(value.annualValue, 456.553125))  // 25 x 18.262125
    }

    @Test func netOfRefundsIsRevenuePerCustomer() throws {
        // Net: 14,000 cents over 4 customers = 35.00 per window.
        let value = try CustomerValue(PurchaseFrequencyTests.ledger(), in: PurchaseFrequencyTests.window)
        #expect(F.isClose(value.windowValue, 35))
        #expect(F.isClose(value.annualValue, 35 * 365.2425 / 30))  // 426.11625
    }

    @Test func nobodyBoughtIsUndefined() throws {
        let value = try CustomerValue(OrderLedger(), in: PurchaseFrequencyTests.window)
        #expect(value.windowValue == nil)
        #expect(value.annualValue == nil)
    }
}
