import RetentionMetrics
import Testing

struct CustomerLifetimeValueTests {
    typealias F = MetricsFixture

    @Test func undiscountedIsValueTimesMarginTimesLifespan() throws {
        let clv = try CustomerLifetimeValue(annualCustomerValue: 100, lifespanYears: 2.5, grossMargin: 0.5)
        #expect(clv.value == 125)
        #expect(try CustomerLifetimeValue(annualCustomerValue: 456, lifespanYears: 3).value == 1_368)
    }

    @Test func discountedByHand() throws {
        // 50 x (1/1.1 + 1/1.1^2 + 0.5/1.1^3) = 50 x 2,810 / 1,331 = 140,500 / 1,331
        let clv = try CustomerLifetimeValue(
            annualCustomerValue: 100, lifespanYears: 2.5, grossMargin: 0.5, annualDiscountRate: 0.1)
        #expect(F.isClose(clv.value, 140_500.0 / 1_331.0))
        #expect(F.isClose(clv.value, 105.55972952667167))
        // Whole years: 1,331 x (1/1.1 + 1/1.21 + 1/1.331) = 1,210 + 1,100 + 1,000.
        #expect(F.isClose(try CustomerLifetimeValue(
            annualCustomerValue: 1_331, lifespanYears: 3, annualDiscountRate: 0.1).value, 3_310))
        // Less than a year: the fraction discounted as year 1.
        #expect(F.isClose(try CustomerLifetimeValue(
            annualCustomerValue: 110, lifespanYears: 0.5, annualDiscountRate: 0.1).value, 50))
        #expect(
            try CustomerLifetimeValue(annualCustomerValue: 110, lifespanYears: 0, annualDiscountRate: 0.1).value == 0)
    }

    @Test func lifespanFromChurn() throws {
        // Q1 2024 is 91 days; churn 0.25 per quarter -> 4 quarters = 364 days.
        let q1 = F.instant(2024, 1, 1)..<F.instant(2024, 4, 1)
        let years = CustomerLifetimeValue.estimatedLifespanYears(churnPerPeriod: 0.25, period: q1)
        #expect(F.isClose(years, 364 / 365.2425))
        #expect(F.isClose(years, 0.9965981505438167))
        #expect(CustomerLifetimeValue.estimatedLifespanYears(churnPerPeriod: 0, period: q1) == nil)
        #expect(CustomerLifetimeValue.estimatedLifespanYears(churnPerPeriod: nil, period: q1) == nil)
        #expect(CustomerLifetimeValue.estimatedLifespanYears(churnPerPeriod: -0.2, period: q1) == nil)
        #expect(CustomerLifetimeValue.estimatedLifespanYears(churnPerPeriod: .nan, period: q1) == nil)
        let empty = q1.lowerBound..<q1.lowerBound
        #expect(CustomerLifetimeValue.estimatedLifespanYears(churnPerPeriod: 0.5, period: empty) == nil)
    }

    @Test func endToEndFromALedger() throws {
        // Annual value 456.553125 (see CustomerValueTests), lifespan 2 years, margin 40%.
        let value = try CustomerValue(PurchaseFrequencyTests.ledger(), in: PurchaseFrequencyTests.window,
                                      refunds: .exclude)
        let annual = try #require(value.annualValue)
        let clv = try CustomerLifetimeValue(annualCustomerValue: annual, lifespanYears: 2, grossMargin: 0.4)
        #expect(F.isClose(clv.value, 365.2425))  // 456.553125 x 2 x 0.4
    }

    @Test(arguments: [
        (Double.nan, 1.0, 1.0, 0.0), (100, -1, 1, 0), (100, .infinity, 1, 0), (100, 1, 1.5, 0), (100, 1, -0.1, 0),
        (100, 1, 1, -1), (100, 1, 1, .nan),
    ])
    func parametersOutOfRangeThrow(value: Double, years: Double, margin: Double, discount: Double) {
        #expect {
            try CustomerLifetimeValue(
                annualCustomerValue: value, lifespanYears: years, grossMargin: margin, annualDiscountRate: discount)
        } throws: { ($0 as? MetricError)?.code == .parameterOutOfRange }
    }
}
