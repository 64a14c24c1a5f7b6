import Foundation
import Testing

@testable import RetentionMetrics

struct HTMLReportTests {
    /// The four-customer report of ``RetentionReportTests`` over February 2024: every figure is worked there.
    static func februaryReport() throws -> RetentionReport {
        try RetentionReport(RetentionReportTests.ledger(), options: .init(window: RetentionReportTests.february))
    }

    /// The text of the headline card labelled `label`, from its label to the end of its note.
    static func card(_ label: String, in html: String) -> String? {
        guard let start = html.range(of: "<div class=\"label\">\(label)</div>") else { return nil }
        guard let end = html[start.upperBound...].range(of: "</div></div>") else { return nil }
        return String(html[start.lowerBound..<end.upperBound])
    }

    /// The markup of the `<section id="...">`.
    static func section(_ id: String, in html: String) -> String {
        guard let start = html.range(of: "<section id=\"\(id)\">"),
            let end = html[start.upperBound...].range(of: "</section>")
        else { return "" }
        return String(html[start.lowerBound..<end.upperBound])
    }

    static func occurrences(of needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    // MARK: Structure

    @Test func pageHasEverySectionAChartEachAndNoScriptOrURL() throws {
        let html = HTMLReport(try Self.februaryReport()).html
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        #expect(html.hasSuffix("</html>\n"))
        #expect(html.contains("<title>Retention report</title>"))
        for id in ["figures", "cohorts", "curves", "segments", "revenue"] {
            #expect(html.contains("<section id=\"\(id)\">"), "missing section \(id)")
        }
        #expect(Self.occurrences(of: "<svg ", in: html) == 4)
        for id in ["cohorts", "curves", "segments", "revenue"] {
            #expect(Self.occurrences(of: "<svg ", in: Self.section(id, in: html)) == 1, "no chart in \(id)")
        }
        // legends
        #expect(html.contains(">Returning customers</text>"))
        #expect(html.contains(">New customers (first purchase period)</text>"))
        #expect(html.contains(">All cohorts (weighted)</text>"))
        #expect(html.contains("Months after first purchase"))
        // self-contained: nothing fetched, nothing executed
        for forbidden in ["http://", "https://", "<script", "<img", "<link", "url(", "@import", "src=", "href="] {
            #expect(!html.lowercased().contains(forbidden), "found \(forbidden)")
        }
        #expect(html.contains("Window <b>2024-02-01</b> to <b>2024-02-29</b> (whole days)"))
        #expect(html.contains("time zone <b>\(try Self.februaryReport().timeZone)</b>"))
        #expect(html.contains("as of <b>2024-03-20</b>"))
    }

    @Test func headlineCardsShowTheWorkedFigures() throws {
        let html = HTMLReport(try Self.februaryReport()).html
        // RetentionReportTests.februaryWindow: 2 customers, 2 orders, 55.00 revenue, AOV 27.50, CLV 55
        #expect(Self.card("Customers", in: html)?.contains("<div class=\"value\">2</div>") == true)
        #expect(Self.card("Revenue", in: html)?.contains(">55.00 <span class=\"unit\">USD</span><") == true)
        #expect(Self.card("Average order value", in: html)?.contains(">27.50 <span class=\"unit\">USD</span><") == true)
        #expect(Self.card("Purchase frequency", in: html)?.contains(">1.00<") == true)
        #expect(Self.card("Repeat-purchase rate", in: html)?.contains(">0.0%<") == true)
        #expect(Self.card("Returning-customer rate", in: html)?.contains(">50.0%<") == true)
        let retention = try #require(Self.card("Retention rate", in: html))
        #expect(retention.contains(">50.0%<"))
        #expect(retention.contains("(E &minus; N) / S = (2 &minus; 1) / 2"))
        #expect(Self.card("Churn rate", in: html)?.contains(">50.0%<") == true)
        let clv = try #require(Self.card("Customer lifetime value", in: html))
        #expect(clv.contains(">55.00 <span class=\"unit\">USD</span><"))
        // 27.50 x (365.2425 / 29 = 12.59) a year x (2 x 29 / 365.2425 = 0.16) years
        #expect(clv.contains("12.59/year &times; 0.16 years (from churn)"))
        // spend uplift 2000 / 2250 - 1 = -11.1%
        #expect(Self.card("Spend uplift", in: html)?.contains(">-11.1%<") == true)
    }

    @Test func nilFiguresShowNotAvailableWithAReason() throws {
        // The default window covers all the data, so nobody is active at its start: S = 0.
        let report = try RetentionReport(RetentionReportTests.ledger())
        #expect(report.retention.rate == nil)
        #expect(report.customerLifetimeValue.value == nil)
        let html = HTMLReport(report).html
        let reason = "no customer was active at the window&#39;s start (S = 0)"
        for label in ["Retention rate", "Cohort retention", "Churn rate"] {
            let card = try #require(Self.card(label, in: html))
            #expect(card.contains("<div class=\"value na\">n/a</div>"), "\(label)")
            #expect(card.contains(reason), "\(label)")
        }
        let clv = try #require(Self.card("Customer lifetime value", in: html))
        #expect(clv.contains(">n/a<"))
        #expect(clv.contains("no lifespan given and none can be estimated"))
        #expect(Self.card("Returned (existing customers)", in: html)?.contains("no customer bought before") == true)

        var empty = report
        empty.averageOrderValue = nil
        empty.purchaseFrequency = nil
        let emptyHTML = HTMLReport(empty).html
        #expect(Self.card("Average order value", in: emptyHTML)?.contains("no orders in the window") == true)
        #expect(Self.card("Purchase frequency", in: emptyHTML)?.contains("no customers in the window") == true)
    }

    @Test func emptyPartsGiveASentenceNotAnEmptyChart() throws {
        var report = try Self.februaryReport()
        report.cohorts = report.cohorts.filter { $0.offset == 0 }
        var html = HTMLReport(report).html
        #expect(html.contains("No curves yet: no cohort has a month after its first."))
        #expect(Self.occurrences(of: "<svg ", in: html) == 3)
        report.cohorts = []
        report.segments = []
        report.revenueByPeriod = []
        html = HTMLReport(report).html
        #expect(!html.contains("<svg"))
        #expect(html.contains("No cohorts: there are no orders."))
        #expect(html.contains("No customers to segment."))
        #expect(html.contains("No revenue to show."))
    }

    // MARK: Escaping

    @Test func customerControlledStringsAreEscaped() throws {
        var report = try Self.februaryReport()
        report.segments = [
            RFMSegmentSize(name: "<script>alert(1)</script>", customers: 3),
            RFMSegmentSize(name: "Tom & Jerry's \"best\"", customers: 1),
        ]
        report.cohorts[0].cohort = "<img src=x>"
        report.timeZone = "Europe/<b>"
        let html = HTMLReport(report, title: "</title><script>x</script>").html
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("<b>x") && !html.contains("Europe/<b>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains(">Tom &amp; Jerry&#39;s &quot;best&quot;</text>"))
        #expect(html.contains("<title>&lt;/title&gt;&lt;script&gt;x&lt;/script&gt;</title>"))
        #expect(html.contains("&lt;img src=x&gt;"))
        #expect(html.contains("Europe/&lt;b&gt;"))
    }

    @Test(arguments: [
        ("<a href='x'>&</a>", "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"),
        ("say \"hi\"", "say &quot;hi&quot;"),
        ("tab\there\u{7}", "tab\there "),
        ("Café 東京", "Café 東京"),
    ])
    func escape(input: String, expected: String) {
        #expect(HTMLFormat.escape(input) == expected)
    }

    // MARK: Cells and numbers

    @Test func heatmapCellsShowExactPercentagesAndCensoredCellsAreBlank() throws {
        let html = HTMLReport(try Self.februaryReport()).html
        let heatmap = Self.section("cohorts", in: html)
        // cells 2024-01: 2/2, 1/2, 1/2; 2024-02: 1/1, 1/1; 2024-03: 1/1; three censored cells are not drawn
        #expect(Self.occurrences(of: "class=\"cell\"", in: heatmap) == 6)
        #expect(Self.occurrences(of: ">100.0%</text>", in: heatmap) == 4)
        #expect(Self.occurrences(of: ">50.0%</text>", in: heatmap) == 2)
        #expect(heatmap.contains("<title>2024-01 +1: 1 of 2 customers (50.0%)</title>"))
        #expect(heatmap.contains(">2024-02</text>"))
        // the colour scale tops out at the highest later retention, 100%: the darkest class, white text
        #expect(heatmap.contains("fill=\"#08306b\""))
        #expect(heatmap.contains("class=\"cell\" fill=\"#ffffff\">100.0%</text>"))
    }

    @Test(arguments: [
        (1234.5, 2, "1,234.50"), (-0.004, 2, "0.00"), (-1234567.891, 1, "-1,234,567.9"), (0.125, 2, "0.13"),
        (999.995, 2, "1,000.00"), (42, 0, "42"), (Double.nan, 2, "n/a"),
    ])
    func fixed(value: Double, digits: Int, expected: String) {
        #expect(HTMLFormat.fixed(value, digits: digits) == expected)
    }

    @Test func numberFormatsAreFixed() {
        #expect(HTMLFormat.percent(0.5) == "50.0%")
        #expect(HTMLFormat.percent(1.0 / 3) == "33.3%")
        #expect(HTMLFormat.count(1_234_567) == "1,234,567")
        #expect(HTMLFormat.count(-1000) == "-1,000")
        #expect(HTMLFormat.decimal("-1234567.80") == "-1,234,567.80")
        #expect(HTMLFormat.decimal("100") == "100")
        #expect(HTMLFormat.compact(1500) == "1.5k")
        #expect(HTMLFormat.compact(20000) == "20k")
        #expect(HTMLFormat.compact(2_500_000) == "2.5M")
        #expect(HTMLFormat.coordinate(12.50) == "12.5")
        #expect(HTMLFormat.coordinate(-0.001) == "0")
        // raw step 0.273 / 5 = 0.0546 -> 0.1; 9200 / 5 = 1840 -> 2000; 9200 / 4 = 2300 -> 2500
        #expect(HTMLFormat.ticks(upTo: 0.273).map { HTMLFormat.percent($0, digits: 0) } == ["0%", "10%", "20%", "30%"])
        #expect(HTMLFormat.ticks(upTo: 9200, target: 5) == [0, 2000, 4000, 6000, 8000, 10000])
        #expect(HTMLFormat.ticks(upTo: 9200, target: 4) == [0, 2500, 5000, 7500, 10000])
    }

    @Test func cellTextContrastsWithItsColour() {
        // WCAG contrast of the chosen text colour is at least 4.5 everywhere on the scale.
        for step in 0...100 {
            let colour = HTMLFormat.sequential(Double(step) / 100)
            let background = HTMLFormat.luminance(colour)
            let text = HTMLFormat.textColour(on: colour) == "#ffffff" ? 1.0 : 0.0
            let contrast = (max(background, text) + 0.05) / (min(background, text) + 0.05)
            #expect(contrast >= 4.5, "step \(step): \(contrast)")
        }
        #expect(HTMLFormat.textColour(on: HTMLFormat.sequential(0)) == "#000000")
        #expect(HTMLFormat.textColour(on: HTMLFormat.sequential(1)) == "#ffffff")
        #expect(abs(HTMLFormat.pow24(0.5) - 0.18946457081379978) < 1e-15)  // 0.5^2.4
    }

    // MARK: Determinism and layout

    @Test func sameReportSameBytes() throws {
        let report = try Self.februaryReport()
        let first = HTMLReport(report).html
        let decoded = try JSONDecoder().decode(RetentionReport.self, from: JSONEncoder().encode(report))
        #expect(HTMLReport(decoded).html == first)
        #expect(HTMLReport(try Self.februaryReport()).html == first)
        let realistic = try SyntheticShop.report()
        #expect(HTMLReport(realistic).html == HTMLReport(try SyntheticShop.report()).html)
    }

    @Test func sixtyPeriodsDrawAtMostFifteenNonOverlappingLabels() throws {
        var report = try Self.februaryReport()
        report.revenueByPeriod = (0..<60).map { index in
            RetentionReport.PeriodRevenue(
                period: Period(unit: .month, index: 2020 * 12 + Int64(index)).description, newCustomers: 1,
                returningCustomers: 1, newCustomerRevenue: "\(index).00", returningCustomerRevenue: "10.00")
        }
        let revenue = Self.section("revenue", in: HTMLReport(report).html)
        #expect(Self.occurrences(of: "<rect ", in: revenue) == 2 + 2 * 60)  // legend swatches and stacked bars
        // slot 960 / 60 = 16 px; "2020-01" is 7 x 0.58 em + 0.36 em ~ 4.4 em ~ 48.6 px at 11 px; +8 px gap -> every 4th
        let slot = HTMLCharts.revenueSlotWidth(periods: 60)
        #expect(slot == 16)
        let width = HTMLFormat.textWidth("2020-01", fontSize: 11)
        #expect(HTMLFormat.labelStep(slotWidth: slot, labelWidth: width) == 4)
        let labels = revenue.components(separatedBy: "class=\"tick xl\">").dropFirst().map {
            String($0.prefix { $0 != "<" })
        }
        #expect(labels.count == 15)
        #expect(labels.prefix(3) == ["2020-01", "2020-05", "2020-09"])
        // drawn label centres are 4 slots = 64 px apart, more than a label's estimated width
        #expect(4 * slot > width + 8)
        // few periods: every label drawn
        #expect(HTMLFormat.labelStep(slotWidth: 56, labelWidth: width) == 1)
    }

    @Test func longSegmentNamesGetRoomUpToACapThenAnEllipsis() {
        let short = HTMLCharts.segments([RFMSegmentSize(name: "Lost", customers: 1)])
        let long = HTMLCharts.segments([RFMSegmentSize(name: "Customers who bought twice in spring", customers: 1)])
        func width(_ svg: String) -> Double {
            let text = svg.components(separatedBy: "width=\"")[1].prefix { $0 != "\"" }
            return Double(String(text))!
        }
        #expect(width(long) > width(short) + 150)
        let huge = String(repeating: "Very long segment name ", count: 10)
        let capped = HTMLCharts.segments([RFMSegmentSize(name: huge, customers: 1)])
        #expect(capped.contains("…</text>"))
        #expect(capped.contains("<title>\(huge)</title>"))  // the full name as a tooltip
        #expect(width(capped) <= HTMLCharts.maximumSegmentLabelWidth + 16 + 560 + 200)
    }

    // MARK: A realistic shop

    @Test func twoYearsOfASyntheticShop() throws {
        let report = try SyntheticShop.report()
        #expect(report.customers > 1000)
        let html = HTMLReport(report, title: "Example shop: retention 2023-2024").html
        let cohortCount = HTMLCharts.cohortRows(report.cohorts).count
        #expect(cohortCount == 24)
        #expect(html.contains("Showing the 12 most recent of 23 cohorts"))
        let curves = Self.section("curves", in: html)
        #expect(Self.occurrences(of: "class=\"legend\"", in: curves) == 13)
        #expect(curves.contains(">2024-11</text>"))
        #expect(!curves.contains(">2023-11</text>"))
        // the standard RFM table's "Can't Lose Them" is escaped
        #expect(html.contains("Can&#39;t Lose Them"))
        #expect(!html.contains("https://") && !html.contains("<script"))
        if let path = ProcessInfo.processInfo.environment["RETENTION_WRITE_HTML"], !path.isEmpty {
            try html.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }
}

/// Two years of orders of a made-up shop from a fixed seed: customers arrive at a growing rate, most buy once,
/// the rest come back at their own pace until they lapse. Deterministic on every platform.
enum SyntheticShop {
    struct SplitMix64 {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        /// Uniform in (0, 1).
        mutating func unit() -> Double { (Double(next() >> 11) + 0.5) / 9_007_199_254_740_992 }
    }

    static let calendar = PeriodCalendar(identifier: "Europe/Berlin")!

    static func ledger(customers: Int = 3000) throws -> OrderLedger {
        var random = SplitMix64(state: 20_240_101)
        let firstDay = CivilDate(year: 2023, month: 1, day: 1)!
        let days = 731
        var orders: [Order] = []
        for customer in 0..<customers {
            // arrivals grow over time: density proportional to the day
            // arrivals grow over time: half uniform, half with a density rising linearly
            let arrival = random.unit()
            var day = Int(Double(days) * (arrival < 0.5 ? random.unit() : random.unit().squareRoot()))
            let loyal = random.unit() < 0.5
            let meanGap = 20 + 80 * random.unit()
            let basket = 1500 + 6000 * random.unit()
            var number = 0
            while day < days {
                let at = calendar.startOfDay(firstDay.adding(days: Int64(day))).secondsSince1970
                    + Int64(8 * 3600 + Int(random.unit() * 14 * 3600))
                let amount = Int64(basket * (0.6 + 0.8 * random.unit()))
                orders.append(Order(id: "o\(orders.count)", customerID: "c\(customer)",
                    timestamp: Timestamp(secondsSince1970: at), amount: amount, currency: .eur))
                if random.unit() < 0.02 {
                    orders.append(Order(id: "o\(orders.count)", customerID: "c\(customer)",
                        timestamp: Timestamp(secondsSince1970: at + 5 * 86_400), amount: -amount, currency: .eur))
                }
                number += 1
                // one-time buyers stop; loyal ones lapse with a chance that falls as they keep buying
                guard loyal, random.unit() > 0.25 / Double(number) + 0.08 else { break }
                day += 1 + Int(-log(random.unit()) * meanGap)
            }
        }
        return try OrderLedger(orders.filter { $0.timestamp.secondsSince1970 < lastSecond })
    }

    static var lastSecond: Int64 { calendar.startOfDay(CivilDate(year: 2025, month: 1, day: 1)!).secondsSince1970 }

    /// The report over 2024 (the second year), monthly cohorts over both years.
    static func report() throws -> RetentionReport {
        let window = calendar.startOfDay(CivilDate(year: 2024, month: 1, day: 1)!)
            ..< Timestamp(secondsSince1970: lastSecond)
        return try RetentionReport(ledger(), options: .init(calendar: calendar, window: window))
    }
}
