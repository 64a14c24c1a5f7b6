import Foundation
import RetentionMetrics
import Testing

struct RFMTests {
    // MARK: Summary

    /// As of 2024-04-10 in Berlin. a: 2024-03-31T23:30Z is April 1 in Berlin; two orders on April 5; a refund;
    /// an order at 22:30Z on April 10 that is April 11 in Berlin (after the as-of day). b: one order on January 1.
    /// c: a refund only. d: only an order after the as-of day. e: a refund larger than its purchases.
    static let orders: [(String, String, Int64)] = [
        ("a", "2024-03-31T23:30:00Z", 1_000), ("a", "2024-04-05T10:00:00Z", 2_500),
        ("a", "2024-04-05T15:00:00Z", 500), ("a", "2024-04-06T09:00:00Z", -300),
        ("a", "2024-04-10T22:30:00Z", 9_999), ("b", "2024-01-01T12:00:00Z", 1_001),
        ("c", "2024-02-01T12:00:00Z", -100), ("d", "2024-05-01T12:00:00Z", 700),
        ("e", "2024-04-10T21:59:59Z", 2), ("e", "2024-04-09T10:00:00Z", 1), ("e", "2024-04-09T11:00:00Z", -6),
    ]
    static let asOf = RFMTestLedger.date("2024-04-10")

    static func summary(
        _ calendar: PeriodCalendar, frequency: RFMSummary.Frequency = .purchases,
        monetary: RFMSummary.Monetary = .total, refunds: RefundPolicy = .net
    ) -> [String] {
        RFMSummary(
            ledger: RFMTestLedger.ledger(orders), asOf: asOf, calendar: calendar, frequency: frequency,
            monetary: monetary, refunds: refunds
        ).rows.map { "\($0.customerID) \($0.recency) \($0.frequency) \($0.monetary)" }
    }

    @Test func summaryInBerlin() throws {
        let berlin = try #require(PeriodCalendar(identifier: "Europe/Berlin"))
        // a: last purchase April 5 -> 5 days; 3 purchases; 4000 - 300. b: Jan 1 -> Apr 10 is 31 + 29 + 31 + 9.
        #expect(Self.summary(berlin) == ["a 5 3 3700", "b 100 1 1001", "e 0 2 -3"])
        #expect(Self.summary(berlin, refunds: .exclude) == ["a 5 3 4000", "b 100 1 1001", "e 0 2 3"])
        #expect(Self.summary(berlin, frequency: .distinctDays) == ["a 5 2 3700", "b 100 1 1001", "e 0 2 -3"])
        // Means round half away from zero: 3700 / 3 = 1233.3; -3 / 2 = -1.5 -> -2; 3 / 2 = 1.5 -> 2.
        #expect(Self.summary(berlin, monetary: .mean) == ["a 5 3 1233", "b 100 1 1001", "e 0 2 -2"])
        #expect(Self.summary(berlin, monetary: .mean, refunds: .exclude) == ["a 5 3 1333", "b 100 1 1001", "e 0 2 2"])
        let meanPerDay = Self.summary(berlin, frequency: .distinctDays, monetary: .mean)
        #expect(meanPerDay == ["a 5 2 1850", "b 100 1 1001", "e 0 2 -2"])
    }

    @Test func summaryInUTCIncludesTheLateOrder() {
        // In UTC the 22:30Z order is on April 10 itself: recency 0 and a fourth purchase.
        #expect(Self.summary(.utc) == ["a 0 4 13699", "b 100 1 1001", "e 0 2 -3"])
        #expect(Self.summary(.utc, frequency: .distinctDays) == ["a 0 3 13699", "b 100 1 1001", "e 0 2 -3"])
    }

    @Test func summaryFromPushedDownSummaries() throws {
        let berlin = try #require(PeriodCalendar(identifier: "Europe/Berlin"))
        let ledger = RFMTestLedger.ledger(Self.orders)
        let end = berlin.startOfDay(Self.asOf.adding(days: 1))
        let pushed = RFMSummary(
            summaries: ledger.summaries(in: Timestamp(secondsSince1970: .min)..<end), asOf: Self.asOf, calendar: berlin)
        #expect(pushed == RFMSummary(ledger: ledger, asOf: Self.asOf, calendar: berlin))
        #expect(pushed.timeZone == "Europe/Berlin")
    }

    // MARK: Scores

    /// Customers c01...c10 with recency, frequency and monetary (x100) equal to 1...10.
    static let oneToTen = RFMSummary(
        rows: (1...10).map {
            RFMSummary.Row(
                customerID: "c" + ($0 < 10 ? "0\($0)" : "\($0)"), recency: $0, frequency: $0, monetary: Int64($0 * 100))
        }, asOf: asOf)

    @Test(arguments: RFMBinning.allCases)
    func oneToTenInFiveBins(binning: RFMBinning) {
        let scores = RFMScores(Self.oneToTen, bins: 5, binning: binning)
        #expect(scores.rows.map(\.frequencyScore) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
        #expect(scores.rows.map(\.monetaryScore) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
        #expect(scores.rows.map(\.recencyScore) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1])
        #expect(scores.rows.map(\.code).first == "511")
        // numpy: np.quantile(range(1, 11), [0.2, 0.4, 0.6, 0.8])
        #expect(scores.frequencyCuts == [2.8, 4.6, 6.3999999999999995, 8.2])
        #expect(scores.monetaryCuts == [280, 460, 640, 820])
    }

    /// Frequencies 1,1,1,1,1,1,1,2,3,5: the cut points are 1, 1, 1, 2.2, so under `.share` scores 2 and 3 stay
    /// empty (seven equal customers cannot be split without breaking the tie); `.split` fills every score.
    @Test func heavyTiesLeaveScoresEmptyUnderShare() {
        let frequencies = [1, 1, 1, 1, 1, 1, 1, 2, 3, 5]
        let summary = RFMSummary(
            rows: frequencies.enumerated().map {
                RFMSummary.Row(customerID: "c\($0.offset)", recency: 0, frequency: $0.element, monetary: 0)
            }, asOf: Self.asOf)
        let shared = RFMScores(summary)
        #expect(shared.frequencyCuts == [1, 1, 1, 2.2])
        #expect(shared.rows.map(\.frequencyScore) == [1, 1, 1, 1, 1, 1, 1, 4, 5, 5])
        #expect(Set(shared.rows.map(\.frequencyScore)) == [1, 4, 5])
        // Everyone has recency 0 and monetary 0: every cut is 0, nobody is above it.
        #expect(shared.rows.allSatisfy { $0.recencyScore == 5 && $0.monetaryScore == 1 })
        let split = RFMScores(summary, binning: .split)
        #expect(split.rows.map(\.frequencyScore) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    }

    @Test func splitBreaksRecencyTiesByCustomerID() {
        let summary = RFMSummary(
            rows: [0, 0, 0, 0, 10].enumerated().map {
                RFMSummary.Row(customerID: ["a", "b", "c", "d", "e"][$0.offset], recency: $0.element, frequency: 1,
                    monetary: 1)
            }, asOf: Self.asOf)
        // Sorted worst first: e (10), then a, b, c, d; NTILE(5) gives 1...5.
        #expect(RFMScores(summary, binning: .split).rows.map(\.recencyScore) == [2, 3, 4, 5, 1])
        // Cuts 0, 0, 0, 2 (numpy prints 2.0000000000000018: h = 4 x 0.8 = 3.2 in binary floating point):
        // recency 0 is above none (score 5), 10 is above all four (score 1).
        let shared = RFMScores(summary)
        #expect(shared.recencyCuts == [0, 0, 0, 2.0000000000000018])
        #expect(shared.rows.map(\.recencyScore) == [5, 5, 5, 5, 1])
    }

    @Test(arguments: RFMBinning.allCases)
    func unevenNTILE(binning: RFMBinning) {
        // 7 customers in 3 bins: NTILE sizes 3, 2, 2. Values 3,0,14,2,9,30,2 for s1...s7.
        let summary = RFMSummary(
            rows: [3, 0, 14, 2, 9, 30, 2].enumerated().map {
                RFMSummary.Row(customerID: "s\($0.offset + 1)", recency: 0, frequency: $0.element, monetary: 0)
            }, asOf: Self.asOf)
        let scores = RFMScores(summary, bins: 3, binning: binning)
        #expect(scores.rows.map(\.frequencyScore) == [2, 1, 3, 1, 2, 3, 1])
        #expect(scores.frequencyCuts == [2, 9])
    }

    /// Cut points checked against numpy 1.26.4: `np.quantile(np.array(v, dtype=float), [k / b for k in 1..<b])`,
    /// printed with `repr`.
    @Test(arguments: [
        ([1, 1, 1, 1, 1, 1, 1, 2, 3, 5], 4, [1.0, 1.0, 1.75]),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 4, [3.25, 5.5, 7.75]),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3, [4.0, 7.0]),
        (
            [1250, 99, 1250, 40000, 777, 5, 31415, 2718, 1250, 12], 5,
            [81.60000000000001, 1060.8, 1250.0, 8457.400000000005]
        ),
        ([1250, 99, 1250, 40000, 777, 5, 31415, 2718, 1250, 12], 4, [268.5, 1250.0, 2351.0]),
        ([3, 0, 14, 2, 9, 30, 2], 5, [2.0, 2.4000000000000004, 6.599999999999998, 13.000000000000004]),
        ([3, 0, 14, 2, 9, 30, 2], 4, [2.0, 3.0, 11.5]),
    ])
    func cutPointsMatchNumpy(values: [Int64], bins: Int, numpy: [Double]) {
        let summary = RFMSummary(
            rows: values.enumerated().map {
                RFMSummary.Row(customerID: "c\($0.offset)", recency: 0, frequency: 0, monetary: $0.element)
            }, asOf: Self.asOf)
        #expect(RFMScores(summary, bins: bins).monetaryCuts == numpy)
    }

    @Test func oneBinAndNoCustomers() {
        let one = RFMScores(Self.oneToTen, bins: 1)
        #expect(one.rows.allSatisfy { $0.code == "111" } && one.frequencyCuts.isEmpty)
        let none = RFMScores(RFMSummary(rows: [], asOf: Self.asOf), binning: .split)
        #expect(none.rows.isEmpty && none.recencyCuts.isEmpty)
    }

    // MARK: Segments

    @Test(arguments: [
        (5, 5, 5, "Champions"), (5, 5, 4, "Potential Loyalist"), (2, 2, 2, "Loyal Customers"), (3, 1, 3, "Promising"),
        (5, 1, 1, "New Customers"), (1, 4, 5, "Can't Lose Them"), (1, 5, 5, "At Risk"), (1, 3, 3, "Need Attention"),
        (2, 1, 1, "About To Sleep"), (1, 1, 1, "Lost"), (2, 1, 5, "Other"), (3, 5, 3, "Potential Loyalist"),
    ])
    func standardSegments(r: Int, f: Int, m: Int, name: String) {
        #expect(RFMSegmentation.standard.segment(recency: r, frequency: f, monetary: m) == name)
    }

    @Test func standardTableIsTheFieldGuideTable() {
        let table = RFMSegmentation.standard.rules.map {
            "\($0.name) \($0.recency.lowerBound)-\($0.recency.upperBound)/\($0.frequency.lowerBound)-"
                + "\($0.frequency.upperBound)/\($0.monetary.lowerBound)-\($0.monetary.upperBound)"
        }
        #expect(
            table == [
                "Champions 5-5/5-5/5-5", "Potential Loyalist 3-5/3-5/2-5", "Loyal Customers 2-4/2-4/2-4",
                "Promising 3-4/1-3/3-5", "New Customers 4-5/1-3/1-5", "Can't Lose Them 1-2/3-4/4-5",
                "At Risk 1-2/2-5/4-5", "Need Attention 1-3/3-5/3-5", "About To Sleep 2-3/1-3/1-4", "Lost 1-1/1-5/1-5",
            ])
    }

    @Test func segmentSizesAndACustomTable() throws {
        let scores = RFMScores(Self.oneToTen)
        let sizes = RFMSegmentation.standard.sizes(of: scores).map { "\($0.name)=\($0.customers)" }
        #expect(
            sizes == [
                "Champions=0", "Potential Loyalist=2", "Loyal Customers=4", "Promising=0", "New Customers=2",
                "Can't Lose Them=0", "At Risk=2", "Need Attention=0", "About To Sleep=0", "Lost=0", "Other=0",
            ])
        let custom = RFMSegmentation(
            rules: [RFMSegmentRule("Recent", recency: 4...5, frequency: 1...5, monetary: 1...5)], otherName: "Rest")
        #expect(custom.segments(of: scores) == ["Recent"] * 4 + ["Rest"] * 6)
        #expect(custom.sizes(of: scores) == [RFMSegmentSize(name: "Recent", customers: 4),
            RFMSegmentSize(name: "Rest", customers: 6)])
        let decoded = try JSONDecoder().decode(RFMSegmentation.self, from: JSONEncoder().encode(custom))
        #expect(decoded == custom)
    }
}

private func * (lhs: [String], rhs: Int) -> [String] { Array((0..<rhs).flatMap { _ in lhs }) }
