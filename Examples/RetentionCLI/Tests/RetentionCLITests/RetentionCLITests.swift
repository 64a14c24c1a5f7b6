import Foundation
import RetentionMetrics
import RetentionModels
import RetentionStorage
import Testing

@testable import RetentionCLICore

/// Four customers around February 2024 (UTC); figures worked by hand in the tests.
let februaryOrders = """
    order_id,customer_id,timestamp,amount
    1,alice,2024-01-10,10.00
    2,bob,2024-01-15,40.00
    3,dave,2024-01-20,5.00
    4,alice,2024-02-05,20.00
    5,carol,2024-02-10,50.00
    6,alice,2024-02-20,30.00
    7,dave,2024-02-25,15.00
    """

struct RateCommandTests {
    @Test func seedExampleAsJSON() async {
        let result = await retention("rate", "--start", "50000", "--new", "1000", "--end", "40000", "--format", "json")
        #expect(result.code == 0)
        #expect(result.errors == "")
        #expect(
            result.output == """
                {
                  "churnRate": 0.22,
                  "end": 40000,
                  "new": 1000,
                  "retained": 39000,
                  "retentionRate": 0.78,
                  "start": 50000
                }

                """)
    }

    @Test func textAndInvalidCounts() async {
        let text = await retention("rate", "--start", "50000", "--new", "1000", "--end", "40000")
        #expect(text.output.contains("(40000 - 1000) / 50000 = 78.0%"))
        #expect(text.output.contains("22.0%"))
        let bad = await retention("rate", "--start", "5", "--new", "4", "--end", "3")
        #expect(bad.code == 1)
        #expect(bad.errors == "error: new customers (4) exceed customers at the end (3)\n")
    }
}

struct ReportCommandTests {
    @Test func februaryReportAsJSON() async throws {
        let path = fixture(februaryOrders)
        let result = await retention(
            "report", path, "--from", "2024-02-01", "--to", "2024-03-01", "--active-within", "31",
            "--lifespan-years", "2", "--format", "json")
        #expect(result.code == 0, "\(result.errors)")
        let report = jsonObject(result.output)
        // In February: alice twice, carol and dave once; 20 + 30 + 50 + 15 = 115.00.
        #expect(report["customers"] as? Int == 3)
        #expect(report["orders"] as? Int == 4)
        #expect(report["revenue"] as? String == "115.00")
        #expect(report["averageOrderValue"] as? Double == 28.75)
        #expect(report["purchaseFrequency"] as? Double == 4.0 / 3.0)
        #expect(report["repeatPurchaseRate"] as? Double == 1.0 / 3.0)  // alice
        #expect(report["returningCustomerRate"] as? Double == 2.0 / 3.0)  // alice, dave bought before
        // Active within 31 days: S = {alice, bob, dave}, E = {alice, carol, dave}, N = {carol}.
        let retention = try #require(report["retention"] as? [String: Any])
        #expect(retention["start"] as? Int == 3)
        #expect(retention["new"] as? Int == 1)
        #expect(retention["end"] as? Int == 3)
        #expect(retention["retained"] as? Int == 2)
        #expect(retention["rate"] as? Double == 2.0 / 3.0)
        #expect(retention["cohortRate"] as? Double == 2.0 / 3.0)
        #expect(retention["churnRate"] as? Double == 1.0 / 3.0)
        let returning = try #require(report["returning"] as? [String: Any])
        #expect(returning["existing"] as? Int == 3)
        #expect(returning["returned"] as? Int == 2)
        #expect(returning["rate"] as? Double == 2.0 / 3.0)
        // CLV = 28.75 x (4/3 x 365.2425 / 29 days) x 2 years.
        let clv = try #require(report["customerLifetimeValue"] as? [String: Any])
        let annual = 4.0 / 3.0 * 31_556_952 / (29 * 86_400)
        #expect(clv["averageOrderValue"] as? Double == 28.75)
        #expect(abs((clv["annualPurchaseFrequency"] as? Double ?? 0) - annual) < 1e-12)
        #expect(clv["lifespanYears"] as? Double == 2)
        #expect(abs((clv["value"] as? Double ?? 0) - 28.75 * annual * 2) < 1e-9)
        // Cohorts to the last order day: January {alice, bob, dave}, 2 of them back in February; February {carol}.
        let cohorts = try #require(report["cohorts"] as? [[String: Any]])
        #expect(cohorts.map { $0["cohort"] as? String } == ["2024-01", "2024-01", "2024-02"])
        #expect(cohorts.map { $0["active"] as? Int } == [3, 2, 1])
        #expect(cohorts.map { $0["size"] as? Int } == [3, 3, 1])
        #expect(cohorts.map { $0["retention"] as? Double } == [1, 2.0 / 3.0, 1])
        let segments = try #require(report["segments"] as? [[String: Any]])
        #expect(segments.reduce(0) { $0 + ($1["customers"] as? Int ?? 0) } == 4)
        // Stable output: sorted keys.
        #expect(result.output.hasPrefix("{\n  \"asOf\": \"2024-02-25\",\n  \"averageOrderValue\": 28.75,\n"))
    }

    @Test func withoutFromNobodyIsActiveBeforeTheWindow() async throws {
        let path = fixture(februaryOrders)
        let json = await retention("report", path, "--format", "json")
        let figures = try #require(jsonObject(json.output)["retention"] as? [String: Any])
        #expect(figures["start"] as? Int == 0)
        #expect(figures["rate"] is NSNull)  // null, not missing
        #expect(figures["churnRate"] is NSNull)
        let text = await retention("report", path)
        #expect(text.code == 0)
        #expect(text.output.contains("n/a: no customer was active before the window; pass --from"))
        #expect(text.output.contains("Revenue"))
        #expect(text.output.contains("170.00 USD"))
        #expect(text.output.contains("2024-01     3  100.0%  66.7%"))
        #expect(text.output.hasPrefix("Window    [2024-01-10T00:00:00Z, 2024-02-26T00:00:00Z) in UTC\n"))
    }
}

struct TableCommandTests {
    @Test func summaryInDaysOnLifetimesTinyFixture() async {
        let path = fixture(lifetimesTinyFixture)
        let result = await retention("summary", path, "--unit", "day", "--as-of", "2015-02-07")
        #expect(result.code == 0)
        #expect(
            result.output == """
                customer_id,frequency,recency,T,monetary_value
                1,1,5,6,20.0
                2,0,0,37,0.0
                3,2,4,37,2.5

                """)
        let weeks = await retention("summary", path, "--model-input", "--as-of", "2015-02-07")
        #expect(weeks.output.contains("\n1,1,\(5.0 / 7),\(6.0 / 7),20.0\n"))
    }

    @Test func rfmOnTenCustomersWithValuesOneToTen() async {
        // Customer k (1...10) buys k times for 1.00 each, the last time 10 - k days before the as-of day.
        var csv = "order_id,customer_id,timestamp,amount\n"
        var id = 0
        for k in 1...10 {
            for j in 0..<k {
                id += 1
                let day = 21 + k - j
                csv += "\(id),c\(k < 10 ? "0" : "")\(k),2024-01-\(day),1.00\n"
            }
        }
        let result = await retention("rfm", fixture(csv))
        #expect(result.code == 0, "\(result.errors)")
        #expect(
            result.output == """
                customer_id,recency_days,frequency,monetary,R,F,M,segment
                c01,9,1,1.00,1,1,1,Lost
                c02,8,2,2.00,1,1,1,Lost
                c03,7,3,3.00,2,2,2,Loyal Customers
                c04,6,4,4.00,2,2,2,Loyal Customers
                c05,5,5,5.00,3,3,3,Potential Loyalist
                c06,4,6,6.00,3,3,3,Potential Loyalist
                c07,3,7,7.00,4,4,4,Potential Loyalist
                c08,2,8,8.00,4,4,4,Potential Loyalist
                c09,1,9,9.00,5,5,5,Champions
                c10,0,10,10.00,5,5,5,Champions

                """)
        let split = await retention("rfm", fixture(csv), "--bins", "2", "--ties", "split", "--format", "json")
        #expect(
            split.output.contains(
                #"{"customer_id": "c05", "recency_days": 5, "frequency": 5, "monetary": "5.00", "R": 1"#))
    }

    @Test func cohortsAsCSVAndTriangle() async {
        let path = fixture(februaryOrders)
        let csv = await retention("cohorts", path)
        #expect(
            csv.output == """
                cohort,offset,active,size,retention
                2024-01,0,3,3,1.0
                2024-01,1,2,3,0.6666666666666666
                2024-02,0,1,1,1.0

                """)
        let text = await retention("cohorts", path, "--format", "text")
        #expect(
            text.output == """
                month    size      +0     +1
                2024-01     3  100.0%  66.7%
                2024-02     1  100.0%       

                """)
    }
}

struct ModelCommandTests {
    @Test func bgnbdOnCDNOWMatchesThePaper() async {
        let result = await retention(
            "fit", cdnowPath, "--model", "bgnbd", "--unit", "week", "--calibration-end", "1997-09-30", "--format",
            "json")
        #expect(result.code == 0, "\(result.errors)")
        let fit = jsonObject(result.output)
        let parameters = fit["parameters"] as? [String: Any] ?? [:]
        #expect(rounded(parameters["r"], 3) == 0.243)
        #expect(rounded(parameters["alpha"], 3) == 4.414)
        #expect(rounded(parameters["a"], 3) == 0.793)
        #expect(rounded(parameters["b"], 3) == 2.426)
        #expect(rounded(fit["logLikelihood"], 2) == -9582.43)
        #expect(fit["model"] as? String == "bgnbd")
        #expect(fit["converged"] as? Bool == true)
        #expect(fit["customers"] as? Int == 2357)
        #expect((fit["standardErrors"] as? [String: Any])?.count == 4)
    }

    @Test func predictGivesEveryCalibrationCustomerAndTheLibrarysFigures() async throws {
        let result = await retention(
            "predict", cdnowPath, "--unit", "week", "--calibration-end", "1997-09-30", "--horizon-weeks", "39")
        #expect(result.code == 0, "\(result.errors)")
        let lines = result.output.split(separator: "\n")
        #expect(lines.first == "customer_id,p_alive,expected_purchases,expected_value,clv")
        #expect(lines.count == 1 + 2357)
        // Customer 1 computed with the library directly.
        let (split, bgnbd, gammaGamma) = try cdnowCalibrationFits()
        let customer = try #require(split.rows.first { $0.customer == "1" }).calibration
        #expect(customer.frequency == 2)
        let clv = try #require(
            CLV.customerLifetimeValue(
                transactions: bgnbd, spend: gammaGamma, customer: customer, months: 9, monthlyDiscountRate: 0.01,
                timeUnit: .weeks))
        let expected = [
            "1", "\(bgnbd.probabilityAlive(customer))",
            "\(bgnbd.conditionalExpectedPurchases(in: 39, for: customer)!)",
            "\(gammaGamma.conditionalExpectedAverageValue(frequency: 2, monetaryValue: customer.monetaryValue)!)",
            "\(clv)",
        ].joined(separator: ",")
        #expect(lines.contains(Substring(expected)))
        // The field guide's 1.226 for x = 2, t_x = 30.43, T = 38.86 (customer 1).
        #expect(lines[1].hasPrefix("1,") && rounded(Double(lines[1].split(separator: ",")[2]), 3) == 1.226)
        // A customer without repeat purchases gets Gamma-Gamma's population mean.
        let mean = gammaGamma.gamma * gammaGamma.p / (gammaGamma.q - 1)
        let once = try #require(split.rows.first { $0.calibration.frequency == 0 })
        #expect(lines.contains { $0.hasPrefix("\(once.customer),") && $0.contains(",\(mean),") })
        #expect(PredictCommand.months(horizonWeeks: 39, unit: .week) == 9)
    }
}

struct BadInputTests {
    @Test func missingFile() async {
        let result = await retention("rfm", "/nonexistent/orders.csv")
        #expect(result.code == 1)
        #expect(result.errors == "error: '/nonexistent/orders.csv' cannot be opened: No such file or directory\n")
        #expect(result.output == "")
    }

    @Test func badRowNamesLineAndColumn() async {
        let path = fixture(
            "order_id,customer_id,timestamp,amount\n1,a,2024-01-01,5\n2,b,2024-01-02,5\n3,c,2024-02-30,5\n")
        let result = await retention("cohorts", path)
        #expect(result.code == 1)
        #expect(
            result.errors
                == "error: line 4, column timestamp: '2024-02-30' is not a valid date (day 30 does not exist in "
                + "February 2024)\n")
        let skipped = await retention("cohorts", path, "--skip-bad-rows")
        #expect(skipped.code == 0)
        #expect(skipped.errors.hasPrefix("skipped 1 bad row of 3 in \(path):\n  line 4, column timestamp:"))
        #expect(skipped.output.hasPrefix("cohort,offset,active,size,retention\n2024-01,0,2,2,1.0\n"))
    }

    @Test func unknownTimeZoneIsAUsageError() async {
        let result = await retention("summary", fixture(februaryOrders), "--time-zone", "Mars/Olympus_Mons")
        #expect(result.code == 64)
        #expect(result.errors == "error: unknown time zone 'Mars/Olympus_Mons' (use an IANA name such as UTC or "
            + "Europe/Berlin)\n")
    }

    @Test func fromNotBeforeToIsAUsageError() async {
        let result = await retention("report", fixture(februaryOrders), "--from", "2024-03-01", "--to", "2024-02-01")
        #expect(result.code == 64)
        #expect(result.errors == "error: --from 2024-03-01 must be before --to 2024-02-01 (the window is [from, to))\n")
    }

    @Test func timeZoneMovesOrdersBetweenDays() async {
        // 2024-01-31T23:30Z is 2024-02-01 in Berlin: a February cohort there, January in UTC.
        let path = fixture("order_id,customer_id,timestamp,amount\n1,a,2024-01-31T23:30:00Z,5\n")
        #expect(await retention("cohorts", path).output.contains("\n2024-01,0,1,1,1.0\n"))
        let berlin = await retention("cohorts", path, "--time-zone", "Europe/Berlin")
        #expect(berlin.output.contains("\n2024-02,0,1,1,1.0\n"))
    }
}

struct BufferedWriterTests {
    final class CountingSink: OutputSink, @unchecked Sendable {
        var writes: [Int] = []
        func write(_ bytes: UnsafeRawBufferPointer) { writes.append(bytes.count) }
    }

    @Test func writesInChunksOf64KiB() {
        let sink = CountingSink()
        let writer = BufferedWriter(sink)
        let line = String(repeating: "x", count: 99)  // 100 bytes with the newline
        for _ in 0..<10_000 { writer.line(line) }
        writer.flush()
        #expect(sink.writes.reduce(0, +) == 1_000_000)
        #expect(sink.writes.count == 16)  // 15 chunks of 655 lines (65,500 bytes), then the rest
        #expect(sink.writes.dropLast().allSatisfy { $0 == 65_500 })
    }
}

struct GenerateCommandTests {
    @Test func writesTheLibrarysSyntheticOrdersDeterministically() async throws {
        let first = await retention("generate", "--orders", "1000", "--seed", "7")
        let second = await retention("generate", "--orders", "1000", "--seed", "7")
        #expect(first.code == 0)
        #expect(first.output == second.output)
        let lines = first.output.split(separator: "\n")
        #expect(lines.count == 1001)
        #expect(lines[0] == "order_id,customer_id,timestamp,amount,currency")
        let (ledger, report) = try CSVOrderReader.loadLedger(bytes: Array(first.output.utf8))
        #expect(report.ordersLoaded == 1000)
        #expect(ledger.orders == Array(SyntheticOrders(count: 1000, seed: 7)))
        #expect(ledger.customerCount == 333)
        // --output writes the same bytes to a file.
        let path = fixture("", name: "generated.csv")
        let toFile = await retention("generate", "--orders", "1000", "--seed", "7", "--output", path)
        #expect(toFile.code == 0 && toFile.output == "")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == first.output)
        let different = await retention("generate", "--orders", "1000", "--seed", "8")
        #expect(different.output != first.output)
    }

    @Test func impossibleCustomerCountIsAUsageError() async {
        let result = await retention("generate", "--orders", "10", "--customers", "20")
        #expect(result.code == 64)
        #expect(result.errors == "error: --customers must be in 1...10 (every customer has at least one order)\n")
    }
}
