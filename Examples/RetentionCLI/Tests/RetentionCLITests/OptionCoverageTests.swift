import Foundation
import Testing

@testable import RetentionCLICore

/// Options and outputs of the reading commands end to end, each with its exact expected result.
struct OptionCoverageTests {
    /// lifetimes' tiny fixture in calendar weeks (Monday..Sunday), as `summary_data_from_transaction_data(...,
    /// freq='W')` gives it: customer 1 buys on Sunday 2015-02-01 (week of 26 Jan) and Friday 2015-02-06 (week of
    /// 2 Feb); customer 3 on Thursday 1 Jan, Friday 2 Jan (one week) and Monday 5 Jan; observation end Saturday
    /// 2015-02-07 (week of 2 Feb).
    @Test func summaryInCalendarWeeks() async {
        let path = fixture(lifetimesTinyFixture)
        let result = await retention("summary", path, "--unit", "week", "--as-of", "2015-02-07")
        #expect(result.code == 0, "\(result.errors)")
        #expect(
            result.output == """
                customer_id,frequency,recency,T,monetary_value
                1,1,1,1,20.0
                2,0,0,5,0.0
                3,1,1,5,3.0

                """)
    }

    @Test func cohortLabelsForWeeksAndQuarters() async {
        let path = fixture(februaryOrders)
        let quarters = await retention("cohorts", path, "--period", "quarter")
        #expect(
            quarters.output == """
                cohort,offset,active,size,retention
                2024-Q1,0,4,4,1.0

                """)
        // alice 2024-W02 (again in W06 and W08), bob and dave 2024-W03 (dave again in W08), carol 2024-W06;
        // the last observed week is W08.
        let weeks = await retention("cohorts", path, "--period", "week")
        #expect(weeks.code == 0, "\(weeks.errors)")
        let lines = weeks.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 17)  // the header, 7 offsets of W02, 6 of W03, 3 of W06
        for line in [
            "2024-W02,0,1,1,1.0", "2024-W02,1,0,1,0.0", "2024-W02,4,1,1,1.0", "2024-W02,6,1,1,1.0",
            "2024-W03,0,2,2,1.0", "2024-W03,5,1,2,0.5", "2024-W06,0,1,1,1.0", "2024-W06,2,0,1,0.0",
        ] {
            #expect(lines.contains(line), "\(line)")
        }
        #expect(!weeks.output.contains("2024-W04"))
    }

    @Test func shopifyAndWooCommercePresets() async {
        let shopify = fixture(
            """
            Name,Email,Financial Status,Created at,Total,Currency,Lineitem name
            #1001,ann@example.com,paid,2024-01-15 10:23:45 -0500,25.50,CAD,Mug
            #1001,ann@example.com,,2024-01-15 10:23:45 -0500,,CAD,Spoon
            #1002,ben@example.com,paid,2024-01-16 09:00:00 -0500,10.00,CAD,Mug
            #1003,ann@example.com,paid,2024-02-01 12:00:00 -0500,4.50,CAD,Tea
            """)
        let report = await retention("report", shopify, "--columns", "shopify", "--format", "json")
        #expect(report.code == 0, "\(report.errors)")
        let figures = jsonObject(report.output)
        #expect(figures["orders"] as? Int == 3)
        #expect(figures["customers"] as? Int == 2)
        #expect(figures["revenue"] as? String == "40.00")
        #expect(figures["currency"] as? String == "CAD")
        #expect(figures["repeatPurchaseRate"] as? Double == 0.5)

        let woo = fixture(
            """
            Order ID,Order Date,Billing Email,Order Total,Order Currency
            501,2024-03-01 08:00:00,cy@example.com,12.00,EUR
            502,2024-03-02 08:00:00,di@example.com,8.00,EUR
            503,2024-03-09 08:00:00,cy@example.com,20.00,EUR
            """)
        let rfm = await retention("rfm", woo, "--columns", "woocommerce", "--bins", "2")
        #expect(rfm.code == 0, "\(rfm.errors)")
        #expect(
            rfm.output == """
                customer_id,recency_days,frequency,monetary,R,F,M,segment
                cy@example.com,0,2,32.00,2,2,2,Loyal Customers
                di@example.com,7,1,8.00,1,1,1,Lost

                """)
    }

    @Test func generateHonoursCustomersStartAndYears() async throws {
        let path = fixture("", name: "generated.csv")
        let result = await retention(
            "generate", "--orders", "400", "--customers", "50", "--seed", "3", "--start", "2020-03-01", "--years", "2",
            "--output", path)
        #expect(result.code == 0, "\(result.errors)")
        let rows = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(rows.count == 400)
        let customers = Set(rows.map { $0.split(separator: ",")[1] })
        #expect(customers.count == 50)
        let days = rows.map { String($0.split(separator: ",")[2].prefix(10)) }
        #expect(days.min()! >= "2020-03-01")
        #expect(days.max()! < "2022-03-01")
    }

    /// CLV = AOV x annual frequency x lifespan x margin: februaryOrders has 7 orders, 170.00, 4 customers over
    /// [2024-01-10, 2024-02-26) (47 days).
    @Test func marginScalesTheLifetimeValue() async throws {
        let path = fixture(februaryOrders)
        let full = await retention("report", path, "--lifespan-years", "2", "--format", "json")
        let half = await retention("report", path, "--lifespan-years", "2", "--margin", "0.5", "--format", "json")
        let clv = try #require(jsonObject(full.output)["customerLifetimeValue"] as? [String: Any])
        let clvHalf = try #require(jsonObject(half.output)["customerLifetimeValue"] as? [String: Any])
        let aov = 170.0 / 7
        let annual = 7.0 / 4 * 365.2425 / 47  // a Gregorian year of 365.2425 days
        #expect(rounded(clv["averageOrderValue"], 9) == rounded(aov, 9))
        #expect(rounded(clv["annualPurchaseFrequency"], 9) == rounded(annual, 9))
        #expect(rounded(clv["value"], 6) == rounded(aov * annual * 2, 6))
        #expect(rounded(clvHalf["value"], 6) == rounded(aov * annual * 2 * 0.5, 6))
        #expect(clvHalf["grossMargin"] as? Double == 0.5)
    }

    @Test func repeatedRowsAreReportedOnStandardError() async {
        let path = fixture(
            """
            order_id,customer_id,timestamp,amount
            1,alice,2024-01-10,10.00
            1,alice,2024-01-10,10.00
            2,bob,2024-01-11,5.00
            2,bob,2024-01-11,5.00
            """)
        let result = await retention("report", path, "--format", "json")
        #expect(result.code == 0)
        #expect(jsonObject(result.output)["orders"] as? Int == 2)
        #expect(
            result.errors
                == "note: 2 rows of \(path) repeated an earlier order exactly (same id and content) and were counted once\n"
        )
    }

    @Test func hugeActiveWithinIsAUsageErrorNotACrash() async {
        let result = await retention("report", fixture(februaryOrders), "--active-within", "200000000000000")
        #expect(result.code != 0)
        #expect(result.errors.contains("--active-within must be between 1 and 36,500,000 days"))
    }

    @Test func pushDownNeedsAStore() async {
        let result = await retention("report", fixture(februaryOrders), "--push-down")
        #expect(result.code != 0)
        #expect(result.errors.contains("--push-down needs --store"))
    }
}
