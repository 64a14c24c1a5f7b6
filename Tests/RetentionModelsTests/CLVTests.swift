import Foundation
import RetentionModels
import Testing

struct CLVTests {
    @Test func matchesLifetimesCustomerLifetimeValue() {
        // lifetimes 0.11.3: GammaGammaFitter.customer_lifetime_value(bgf, x, t_x, T, m, time=12, discount_rate=0.01,
        // freq='W') with its CDNOW BG/NBD and Gamma-Gamma fits.
        let bg = BGNBDTests.lifetimesFit
        let repeater = BTYDObservation(frequency: 2, recency: 30.43, T: 38.86, monetaryValue: 30)
        let newcomer = BTYDObservation(frequency: 0, recency: 0, T: 38.86, monetaryValue: 0)
        let a = CLV.customerLifetimeValue(
            transactions: bg, spend: CDNOW.gammaGammaLifetimes, customer: repeater, timeUnit: .weeks)
        let b = CLV.customerLifetimeValue(
            transactions: bg, spend: CDNOW.gammaGammaLifetimes, customer: newcomer, timeUnit: .weeks)
        #expect(close(a, 45.50616927403316, 1e-10))
        #expect(close(b, 8.343995496602151, 1e-10))
    }

    @Test func zeroMonthsAndUndiscountedSum() throws {
        let bg = CDNOW.bgnbdMLE
        let c = BTYDObservation(frequency: 2, recency: 30.43, T: 38.86, monetaryValue: 30)
        let gg = CDNOW.gammaGammaLifetimes
        #expect(CLV.customerLifetimeValue(transactions: bg, spend: gg, customer: c, months: 0, timeUnit: .weeks) == 0)
        // With d = 0 the sum telescopes to E[M] * E[Y(12 * 4.345)].
        let undiscounted = try #require(
            CLV.customerLifetimeValue(
                transactions: bg, spend: gg, customer: c, monthlyDiscountRate: 0, timeUnit: .weeks))
        let expected = try #require(gg.conditionalExpectedAverageValue(frequency: 2, monetaryValue: 30))
            * (try #require(bg.conditionalExpectedPurchases(in: 12 * 4.345, for: c)))
        #expect(abs(undiscounted - expected) < 1e-10)
        #expect(CLV.TimeUnit.weeks.perMonth == 4.345 && CLV.TimeUnit.days.perMonth == 30)
    }
}
