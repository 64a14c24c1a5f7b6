import Foundation
import RetentionMetrics
import RetentionModels
import Testing

struct LedgerInputTests {
    /// The CDNOW fixture as an order ledger: one order per row, ids = row numbers, UTC midnight, exact cents.
    static let cdnowLedger: OrderLedger = {
        let url = Bundle.module.url(forResource: "CDNOW_sample", withExtension: "txt", subdirectory: "Fixtures")!
        let text = try! String(contentsOf: url, encoding: .utf8)
        var ledger = OrderLedger()
        for (row, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let f = line.split(whereSeparator: \.isWhitespace)
            guard f.count == 5, let id = Int(f[1]), let ymd = Int(f[2]) else { continue }
            let date = CivilDate(year: ymd / 10000, month: ymd / 100 % 100, day: ymd % 100)!
            let cents = try! AmountParser.minorUnits(String(f[4]), minorUnitDigits: 2)
            try! ledger.append(
                Order(
                    id: String(row + 1), customerID: String(id),
                    timestamp: PeriodCalendar.utc.startOfDay(date), amount: cents))
        }
        return ledger
    }()

    static let calibrationEnd = CivilDate(year: 1997, month: 9, day: 30)!
    static let observationEnd = CivilDate(year: 1998, month: 6, day: 30)!

    @Test func cdnowSplitMatchesTheModelsOwnLoader() throws {
        let split = try LedgerInput.calibrationHoldout(
            Self.cdnowLedger, calendar: .utc, calibrationEnd: Self.calibrationEnd,
            observationEnd: Self.observationEnd, unit: .week)
        #expect(split.rows.count == 2357)
        #expect(split.observations.count { $0.frequency == 0 } == 1411)
        #expect(split.holdoutDuration == 39)
        #expect(split.rows.map(\.customer) == CDNOW.split.rows.map { String($0.customer) })
        for (ours, theirs) in zip(split.rows, CDNOW.split.rows) {
            #expect(ours.calibration.frequency == theirs.calibration.frequency)
            #expect(ours.calibration.recency == theirs.calibration.recency)
            #expect(ours.calibration.T == theirs.calibration.T)
            #expect(ours.holdoutFrequency == theirs.holdoutFrequency)
            #expect(ours.holdoutDayOffsets == theirs.holdoutDayOffsets)
            // Ours sums exact cents; the loader sums Doubles of the dollar values: equal to 1e-12 relative.
            #expect(abs(ours.calibration.monetaryValue - theirs.calibration.monetaryValue) <= 1e-12 * 100)
            #expect(abs(ours.holdoutMonetaryValue - theirs.holdoutMonetaryValue) <= 1e-12 * 100)
        }
        // The paper's fit follows from the bridged data.
        let fit = BGNBDModel.fit(try BTYDData(split.observations))
        #expect(rounded(fit.model.r, 3) == 0.243)
        #expect(rounded(fit.diagnostics.logLikelihood, 2) == -9582.43)
    }

    @Test func observationsInDaysMatchLifetimesTinyFixture() throws {
        // lifetimes' test: (1, 5, 6), (0, 0, 37), (2, 4, 37) in days, observation end 2015-02-07.
        let orders: [(String, String)] = [
            ("1", "2015-02-01"), ("1", "2015-02-06"), ("2", "2015-01-01"), ("3", "2015-01-01"),
            ("3", "2015-01-02"), ("3", "2015-01-05"),
        ]
        let ledger = try OrderLedger(
            orders.enumerated().map { index, order in
                Order(
                    id: String(index), customerID: order.0, timestamp: try TimestampParser.parse(order.1, in: .utc),
                    amount: 100)
            })
        let rows = LedgerInput.observations(
            ledger, calendar: .utc, observationEnd: CivilDate(year: 2015, month: 2, day: 7)!, unit: .day)
        #expect(rows.map(\.customer) == ["1", "2", "3"])
        #expect(rows.map { [$0.observation.frequency, $0.observation.recency, $0.observation.T] }
            == [[1, 5, 6], [0, 0, 37], [2, 4, 37]])
        #expect(rows.map(\.observation.monetaryValue) == [1, 0, 1])
    }

    @Test func daysAreLocalAndRefundsNetIntoTheirPurchaseDay() throws {
        let tokyo = PeriodCalendar(identifier: "Asia/Tokyo")!
        func order(_ id: String, _ time: String, _ cents: Int64) throws -> Order {
            Order(id: id, customerID: "a", timestamp: try TimestampParser.parse(time, in: .utc), amount: cents)
        }
        // 2024-03-01T15:30Z is 2024-03-02 00:30 in Tokyo: same local day as the 10:00Z order of 03-02.
        let ledger = try OrderLedger([
            try order("1", "2024-03-01T01:00:00Z", 1_000),
            try order("2", "2024-03-01T15:30:00Z", 2_000),
            try order("3", "2024-03-02T10:00:00Z", 3_005),
            try order("4", "2024-03-04T10:00:00Z", -1_000),  // refund two days later: nets into 03-02
            try order("5", "2024-02-01T10:00:00Z", -700),  // refund before the first purchase: ignored
        ])
        let net = LedgerInput.purchases(ledger, calendar: tokyo)
        #expect(net.map(\.day) == [CivilDate(year: 2024, month: 3, day: 1)!.daysSince1970,
                                   CivilDate(year: 2024, month: 3, day: 2)!.daysSince1970])
        #expect(net.map(\.amount) == [10, 40.05])
        let excluded = LedgerInput.purchases(ledger, calendar: tokyo, refunds: .exclude)
        #expect(excluded.map(\.amount) == [10, 50.05])
        // In UTC the three purchases fall on 03-01, 03-01 and 03-02.
        let utc = LedgerInput.purchases(ledger, calendar: .utc)
        #expect(utc.map(\.amount) == [30, 20.05])
        // A refund after the calibration end is not carried back into the calibration period.
        let split = LedgerInput.purchases(
            ledger, calendar: tokyo, calibrationEnd: CivilDate(year: 2024, month: 3, day: 3)!)
        #expect(split.map(\.amount) == [10, 50.05])
    }
}
