import Foundation
import Testing

@testable import RetentionMetrics

/// The fused report kernel equals the reference composition of the public metrics, on generated and adversarial
/// ledgers, in time zones with DST, for every cohort unit, refund policy, window and as-of choice.
struct ReportKernelTests {
    static let zones = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"]

    static func expectFusedEqualsReference(
        _ ledger: OrderLedger, _ options: RetentionReport.Options, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let reference = try RetentionReport(reference: ledger, options: options)
        let fused = try #require(
            try RetentionReport.fused(OrderColumns(ledger), options: options), sourceLocation: sourceLocation)
        #expect(fused == reference, sourceLocation: sourceLocation)
        #expect(try RetentionReport(ledger, options: options) == reference, sourceLocation: sourceLocation)
        // The same kernel customer by customer over the grouped rows.
        let grouped = try #require(
            try RetentionReport.fused(ledger.groupedByCustomer(), options: options), sourceLocation: sourceLocation)
        #expect(grouped == reference, sourceLocation: sourceLocation)
    }

    @Test(arguments: zones, PeriodUnit.allCases)
    func generatedLedgerEveryZoneAndUnit(zone: String, unit: PeriodUnit) throws {
        let ledger = KernelFixture.ledger(count: 3_000, seed: 7, years: 2, refundShare: 0.1)
        let calendar = try #require(PeriodCalendar(identifier: zone))
        for refunds in RefundPolicy.allCases {
            try Self.expectFusedEqualsReference(
                ledger, .init(calendar: calendar, cohortUnit: unit, refunds: refunds))
        }
    }

    /// Zones whose offset changes at local midnight (Havana, Sao Paulo until 2019), by half an hour (Lord Howe), or
    /// by a whole day (Apia skipped 2011-12-30): rows every 20 minutes (and at the changes' own seconds) around
    /// their changes, for every unit. The kernel maps a row to its period through a per-UTC-day table of "the
    /// period before and after the one change in the day" (``DayPeriods``) and falls back to the local day on
    /// days with two changes; both must agree with the calendar.
    @Test(arguments: ["America/Havana", "America/Sao_Paulo", "Australia/Lord_Howe", "Pacific/Apia", "Europe/Berlin"])
    func rowsAroundOffsetChangesMapToTheirLocalPeriods(zone: String) throws {
        let calendar = try #require(PeriodCalendar(identifier: zone))
        // 2011-12-28 to 2012-01-02 (Apia's skipped day), 2018-11-03 to 2018-11-06 (Sao Paulo, midnight),
        // 2024-03-08 to 2024-03-12, 2024-03-30 to 2024-04-09 and 2024-10-31 to 2024-11-04 (Havana's, Berlin's and
        // Lord Howe's changes fall in these windows or the ones after): one ledger each.
        for (first, days) in [(15_336, 6), (17_838, 4), (19_790, 5), (19_812, 11), (20_027, 5)] {
            var instants = (0..<(days * 72)).map { Int64(first) * 86_400 + Int64($0) * 1_200 + 7 }
            // Each second at which the offset changes, and the seconds on either side.
            for (low, high) in zip(instants, instants.dropFirst())
            where calendar.utcOffset(at: low) != calendar.utcOffset(at: high) {
                var (a, b) = (low, high)
                while b - a > 1 {
                    let middle = (a + b) / 2
                    if calendar.utcOffset(at: middle) == calendar.utcOffset(at: low) { a = middle } else { b = middle }
                }
                instants += [a - 1, a, b, b + 1]
            }
            var ledger = OrderLedger()
            for (index, instant) in instants.enumerated() {
                try ledger.append(
                    Order(
                        id: "o\(index)", customerID: "c\(index % 97)", timestamp: Timestamp(secondsSince1970: instant),
                        amount: index % 11 == 0 ? -250 : 1_000 + Int64(index % 13)))
            }
            for unit in PeriodUnit.allCases {
                try Self.expectFusedEqualsReference(ledger, .init(calendar: calendar, cohortUnit: unit))
            }
        }
    }

    /// The instant range of a column from 2^20 values on is found by two workers, one per half: the extremes in
    /// either half, at the halves' edges, and a column of one repeated value.
    @Test func instantRangeOfLargeColumns() {
        let count = (1 << 20) + 3
        var values = (0..<count).map { Int64($0 % 1_000) * 86_400 + 1_700_000_000 }
        for (low, high) in [(count - 1, 0), (0, count - 1), (count / 2, count / 2 - 1), (count / 2 - 1, count / 2)] {
            var column = values
            column[low] = -5
            column[high] = 4_000_000_000
            #expect(column.withUnsafeBufferPointer { instantRange($0) } == -5...4_000_000_000)
        }
        values = [Int64](repeating: 42, count: count)
        #expect(values.withUnsafeBufferPointer { instantRange($0) } == 42...42)
        #expect([Int64(7), 3, 9].withUnsafeBufferPointer { instantRange($0) } == 3...9)
    }

    /// Refunds met before their customer's first purchase period (in row order) are kept aside by the row pass and
    /// placed once every first period is final (``KernelEarlyRefund``): in the final first period they are new
    /// revenue, before it (or without purchases) left out, after it returning revenue. Figures worked by hand.
    @Test func refundsBeforeTheFirstPurchasePeriodInRowOrder() throws {
        // (customer, month of 2024, amount) in row order.
        let rows: [(String, Int, Int64)] = [
            ("a", 3, -500), ("a", 4, 1_000), ("a", 3, 2_000),  // first moves to March: the refund is new revenue
            ("b", 2, -300), ("b", 4, 1_000), ("b", 3, 700),  // first March: the February refund is left out
            ("c", 3, -200), ("c", 4, 400), ("c", 1, 600),  // first January: the March refund is returning
            ("d", 2, -100), ("d", 3, -50),  // refunds only: left out
            ("e", 3, 900), ("e", 3, -100), ("e", 2, 400),  // a refund in the first period, then an earlier purchase
            ("f", 4, -10), ("f", 4, -20), ("f", 4, 300),  // two refunds before the first purchase, same month
            ("g", 1, 100), ("g", 2, 100),
        ]
        var ledger = OrderLedger()
        for (index, (customer, month, amount)) in rows.enumerated() {
            let day = try #require(CivilDate(year: 2024, month: month, day: 15)).daysSince1970
            try ledger.append(
                Order(
                    id: "o\(index)", customerID: customer,
                    timestamp: Timestamp(secondsSince1970: day * 86_400 + 43_200 + Int64(index)), amount: amount))
        }
        let report = try RetentionReport(ledger, options: .init(refunds: .net))
        let split = report.revenueByPeriod.map { [$0.period, $0.newCustomerRevenue, $0.returningCustomerRevenue] }
        #expect(
            split == [
                ["2024-01", "7.00", "0.00"], ["2024-02", "4.00", "1.00"], ["2024-03", "22.00", "6.00"],
                ["2024-04", "2.70", "24.00"],
            ])
        for zone in ["UTC", "Europe/Berlin"] {
            let calendar = try #require(PeriodCalendar(identifier: zone))
            for refunds in RefundPolicy.allCases {
                try Self.expectFusedEqualsReference(ledger, .init(calendar: calendar, refunds: refunds))
            }
        }
    }

    /// The kernel's period and local day of an instant (``relativePeriod(_:_:)``, ``localDayIndex(_:_:)``: per-UTC-day
    /// ``DayWord``s, the value before the day's one change and the step at it) equal the calendar's, for every
    /// minute of every UTC day on which the offset changes and six instants of every other day (its edges, the
    /// seconds either side of its local midnight), 2000-2030, in zones with unusual changes: at local midnight, one
    /// minute after it (St. John's until 2011: a fall-back across midnight gives days with two changes, which take
    /// the offsets), by 30 minutes, by a whole day, negative DST.
    @Test(arguments: [
        "America/St_Johns", "America/Havana", "America/Sao_Paulo", "America/Santiago", "Asia/Gaza", "Africa/Casablanca",
        "Australia/Lord_Howe", "Pacific/Apia", "Pacific/Chatham", "Europe/Dublin", "Antarctica/Troll", "Asia/Tehran",
        "Europe/Berlin",
    ])
    func periodTableMatchesTheCalendar(zone: String) throws {
        let calendar = try #require(PeriodCalendar(identifier: zone))
        let first: Int64 = 10_957 * 86_400  // 2000-01-01
        let last: Int64 = 22_280 * 86_400  // 2031-01-01
        var mismatches = 0
        var twoChangeDays = 0
        var twoChangeLocalDays = 0
        for unit in [PeriodUnit.day, .month] {
            let mapper = try #require(PeriodMapper(range: first...last, unit: unit, calendar: calendar))
            if mapper.uniformOffset == nil {
                twoChangeDays += mapper.periodWords.filter { $0 == DayWord.twoChanges }.count
                twoChangeLocalDays += mapper.localDayWords.filter { $0 == DayWord.twoChanges }.count
            }
            mapper.withUnsafeMapper { map in
                for day in stride(from: first, to: last, by: 86_400) {
                    let changes = calendar.utcOffset(at: day) != calendar.utcOffset(at: day + 86_399)
                    // A day without a change: its edges, and the seconds either side of its local midnight.
                    let offset = Int64(calendar.utcOffset(at: day))
                    let midnight = (floorDiv(day + offset, 86_400) + 1) * 86_400 - offset
                    let instants =
                        changes
                        ? Array(stride(from: day, to: day + 86_400, by: 60))
                        : [day, day + 21_600, day + 43_200, day + 86_399, midnight - 1, midnight]
                    for instant in instants {
                        let local = calendar.localDayNumber(of: instant)
                        let expected = Period.index(unit: unit, daysSince1970: local)
                        if Int64(relativePeriod(instant, map)) + mapper.periodBase != expected { mismatches += 1 }
                        if Int64(localDayIndex(instant, map)) + map.localBase != local { mismatches += 1 }
                    }
                }
            }
        }
        #expect(mismatches == 0)
        if zone == "America/St_Johns" {
            #expect(twoChangeDays > 0)
            #expect(twoChangeLocalDays > 0)
        }
    }

    /// The day words on made-up offsets that no zone in the tests has: a jump from -0:30 to +1:00 at 00:15 UTC
    /// crosses local midnight away from any midnight (the period changes at the transition itself), a fall-back
    /// across midnight gives a day with two changes (its rows take the offsets), and a jump of two local days (a
    /// skipped day, as Apia's) is one change with a step of 2.
    @Test func dayWordsOnMadeUpTransitions() {
        let start: Int64 = 10 * 86_400
        /// (value before, second of the change, step) of a word other than `twoChanges`.
        func fields(_ word: UInt64) -> (Int32, Int, Int) {
            (Int32(truncatingIfNeeded: word), Int((word >> 32) & 0x3_FFFF), Int(Int64(bitPattern: word) >> 56))
        }
        // Periods of local days 8, 9, ...: a period starts on local day 10 (index 2) and lasts.
        let jump = PeriodMapper.dayWords(
            utcBase: 10, localBase: 8, days: [DayOffsets(transition: start + 900, before: -1_800, after: 3_600)]
        ) { [0, 0, 1, 1, 1, 1, 1, 1][$0] }
        #expect(jump.count == 1)
        #expect(fields(jump[0]) == (0, 900, 1))
        #expect(DayWord.value(jump[0], second: 899) == 0 && DayWord.value(jump[0], second: 900) == 1)
        // Local day i (from local day 8) is value i.
        let localDay: (Int) -> Int32 = { Int32($0) }
        // +1:00 until 00:30 UTC (local 01:30), then -1:00 (local 23:30 the day before): the local day goes back at
        // 00:30 and forward again at 01:00 UTC (-1:00's midnight), two changes in the day.
        let back = PeriodMapper.dayWords(
            utcBase: 10, localBase: 8, days: [DayOffsets(transition: start + 1_800, before: 3_600, after: -3_600)],
            value: localDay)
        #expect(back == [DayWord.twoChanges])
        // No change: +2:00 all day has its local midnight at 22:00 UTC.
        let plain = PeriodMapper.dayWords(
            utcBase: 10, localBase: 8, days: [DayOffsets(transition: .max, before: 7_200, after: 7_200)],
            value: localDay)
        #expect(fields(plain[0]) == (2, 79_200, 1))
        // -10:00 until 10:00 UTC (local 00:00), then +14:00 (local 00:00 two days on): one change, a step of 2.
        let skip = PeriodMapper.dayWords(
            utcBase: 10, localBase: 8, days: [DayOffsets(transition: start + 36_000, before: -36_000, after: 50_400)],
            value: localDay)
        #expect(fields(skip[0]) == (1, 36_000, 2))
        #expect(DayWord.value(skip[0], second: 35_999) == 1 && DayWord.value(skip[0], second: 36_000) == 3)
        // A fall-back late in the day: +1:00 to -1:00 at 23:30 UTC (local 00:30 the next day, then 22:30 the same
        // day again), a change at +1:00's midnight and one back: two changes.
        let fallBack = PeriodMapper.dayWords(
            utcBase: 10, localBase: 8, days: [DayOffsets(transition: start + 84_600, before: 3_600, after: -3_600)],
            value: localDay)
        #expect(fallBack == [DayWord.twoChanges])
        // A step back as the words hold it (no zone within +-24:00 makes one alone in a UTC day): the sign is kept.
        let down = DayWord.pack(-7, step: -1, second: 100)
        #expect(fields(down) == (-7, 100, -1))
        #expect(DayWord.value(down, second: 99) == -7 && DayWord.value(down, second: 100) == -8)
        // A constant value: no change (second 86,400, never reached).
        let constant = PeriodMapper.dayWords(
            utcBase: 10, localBase: 8, days: [DayOffsets(transition: .max, before: 0, after: 0)], value: { _ in 5 })
        #expect(fields(constant[0]) == (5, 86_400, 0))
        #expect(DayWord.value(constant[0], second: 86_399) == 5)
    }

    @Test(arguments: zones)
    func windowsAsOfAndActivityWindows(zone: String) throws {
        let ledger = KernelFixture.ledger(count: 4_000, seed: 11, years: 3, refundShare: 0.05)
        let calendar = try #require(PeriodCalendar(identifier: zone))
        let instants = ledger.timestampColumn
        // Window bounds exactly at order instants, an as-of day in the middle of the data (later orders exist),
        // an as-of day after the data, and activity windows shorter than the window.
        let low = Timestamp(secondsSince1970: instants[1_000])
        let high = Timestamp(secondsSince1970: instants[3_000])
        let middle = calendar.localDay(of: Timestamp(secondsSince1970: instants[2_500]))
        let options: [RetentionReport.Options] = [
            .init(calendar: calendar, window: low..<high),
            .init(calendar: calendar, window: low..<high, activeWithin: 90 * 86_400, cohortUnit: .week),
            .init(calendar: calendar, asOf: middle),
            .init(calendar: calendar, window: low..<high, cohortUnit: .quarter, asOf: middle, refunds: .exclude),
            .init(calendar: calendar, cohortUnit: .month, asOf: middle.adding(days: 400)),
            .init(calendar: calendar, asOf: CivilDate(year: 1999, month: 1, day: 1)!),
            .init(calendar: calendar, lifespanYears: 2, grossMargin: 0.4, annualDiscountRate: 0.1, bins: 3),
            .init(calendar: calendar, bins: 1),
            .init(calendar: calendar, bins: 7, segmentation: RFMSegmentation(rules: [], otherName: "All")),
        ]
        for option in options { try Self.expectFusedEqualsReference(ledger, option) }
    }

    /// Above 131,072 customers the customer pass and the segment count are split between two workers (and the row
    /// pass above 262,144 orders); customers with at least 4,096 purchases leave the frequency table. Both with
    /// the reference.
    @Test(arguments: ["UTC", "Australia/Lord_Howe"])
    func twoWorkersAndHeavyCustomers(zone: String) throws {
        var orders = KernelFixture.orders(count: 420_000, seed: 31, years: 2, refundShare: 0.03)
        let start = orders[0].timestamp.secondsSince1970
        // Three heavy buyers: 5,000 and 4,096 purchases, and 4,095 (the last count the table holds).
        for (customer, purchases) in [("heavy-a", 5_000), ("heavy-b", 4_096), ("heavy-c", 4_095)] {
            for index in 0..<purchases {
                orders.append(
                    Order(
                        id: "\(customer)-\(index)", customerID: customer,
                        timestamp: Timestamp(secondsSince1970: start + Int64(index) * 9_000),
                        amount: Int64(500 + index % 97), currency: .usd))
            }
        }
        var ledger = OrderLedger()
        for order in orders { try ledger.append(order) }
        #expect(ledger.customerCount > 131_072)
        let calendar = try #require(PeriodCalendar(identifier: zone))
        try Self.expectFusedEqualsReference(ledger, .init(calendar: calendar))
        try Self.expectFusedEqualsReference(ledger, .init(calendar: calendar, cohortUnit: .week, refunds: .exclude))
    }

    @Test func adversarialRows() throws {
        let day: Int64 = 86_400
        let t0: Int64 = 1_711_846_800  // 2024-03-31T01:00:00Z, Berlin's DST change
        var orders: [Order] = []
        func add(_ customer: String, _ instant: Int64, _ amount: Int64) {
            orders.append(
                Order(
                    id: "o\(orders.count)", customerID: customer, timestamp: Timestamp(secondsSince1970: instant),
                    amount: amount))
        }
        add("refundOnly", t0 - 40 * day, -500)
        add("refundOnly", t0 + 10 * day, -700)
        add("refundFirst", t0 - 60 * day, -300)  // a refund before any purchase, then purchases
        add("refundFirst", t0 - 3 * day, 1_000)
        add("refundFirst", t0 - 3 * day, 200)  // same instant: two first purchases
        add("refundFirst", t0 + 45 * day, -100)
        add("late", t0 + 90 * day, 5_000)
        add("late", t0 - 1, 0)  // a zero purchase
        add("early", t0 - 400 * day, 2_000)
        add("early", t0, 3_000)
        add("early", t0 + 1, -3_000)
        for k in 0..<30 { add("many\(k % 7)", t0 + Int64(k) * 5 * day + Int64(k) * 3_607, Int64(100 * k)) }
        let ledger = try OrderLedger(orders)
        for zone in Self.zones {
            let calendar = try #require(PeriodCalendar(identifier: zone))
            let window = Timestamp(secondsSince1970: t0)..<Timestamp(secondsSince1970: t0 + 90 * day)
            for unit in PeriodUnit.allCases {
                for refunds in RefundPolicy.allCases {
                    try Self.expectFusedEqualsReference(
                        ledger, .init(calendar: calendar, cohortUnit: unit, refunds: refunds))
                    try Self.expectFusedEqualsReference(
                        ledger, .init(calendar: calendar, window: window, cohortUnit: unit, refunds: refunds))
                    try Self.expectFusedEqualsReference(
                        ledger,
                        .init(
                            calendar: calendar, window: window, activeWithin: 30 * day, cohortUnit: unit,
                            asOf: calendar.localDay(of: Timestamp(secondsSince1970: t0 + 20 * day)), refunds: refunds))
                }
            }
        }
    }

    @Test func onlyRefundsAndEmpty() throws {
        let refunds = try OrderLedger([
            Order(id: "r1", customerID: "a", timestamp: Timestamp(secondsSince1970: 1_700_000_000), amount: -10),
            Order(id: "r2", customerID: "b", timestamp: Timestamp(secondsSince1970: 1_700_090_000), amount: -20),
        ])
        try Self.expectFusedEqualsReference(refunds, .init())
        let empty = OrderLedger()
        #expect(try RetentionReport.fused(OrderColumns(empty), options: .init()) == nil)
        // The default window of no data is empty: both paths refuse it with the same typed error.
        #expect(throws: MetricError.self) { try RetentionReport(empty) }
        #expect(throws: MetricError.self) { try RetentionReport(reference: empty, options: .init()) }
    }

    @Test func invalidOptionsThrowTheSameErrors() throws {
        let ledger = KernelFixture.ledger(count: 200, seed: 3)
        let instant = Timestamp(secondsSince1970: ledger.timestampColumn[10])
        let bad: [RetentionReport.Options] = [
            .init(window: instant..<instant),
            .init(activeWithin: 0),
            .init(lifespanYears: 2, grossMargin: 1.5),
        ]
        for options in bad {
            #expect(throws: MetricError.self) { try RetentionReport.fused(OrderColumns(ledger), options: options) }
            #expect(throws: MetricError.self) { try RetentionReport(reference: ledger, options: options) }
        }
    }

    @Test func splitBinningUsesTheReference() throws {
        let ledger = KernelFixture.ledger(count: 500, seed: 5)
        let options = RetentionReport.Options(binning: .split)
        #expect(try RetentionReport.fused(OrderColumns(ledger), options: options) == nil)
        #expect(try RetentionReport(ledger, options: options) == RetentionReport(reference: ledger, options: options))
    }

    /// Integer thresholds score exactly as the `Double` comparison, also where `Double` rounds (beyond 2^53 and
    /// near 2^63) and for cuts that are integers, halves, or not representable.
    @Test func integerThresholdsAgreeWithDoubleComparison() {
        let big: Int64 = 1 << 53
        var values: [Int64] = [.min, .min + 1, -big - 3, -1_001, -1, 0, 1, 2, 499, 500, 501, big - 1, big, big + 1]
        values += [big + 2, big + 3, (1 << 62) + 511, (1 << 62) + 512, (1 << 62) + 513, .max - 1_024, .max - 1, .max]
        var cuts: [Double] = [-0x1p63, -9.5e15, -1_000.5, -0.5, 0, 0.25, 0.5, 1, 1.5, 499.999, 500, 500.5]
        cuts += [Double(big), Double(big) + 2, Double(big + 3), 0x1p62 + 512, 0x1p62 + 1_024, 0x1p63 - 1_024, 0x1p63]
        let thresholds = integerThresholds(cuts)
        var disagreements = 0
        for value in values {
            for (cut, threshold) in zip(cuts, thresholds) where (Double(value) > cut) != (value > threshold) {
                disagreements += 1
            }
        }
        #expect(disagreements == 0)
        #expect(integerThresholds([2.5, 3, -2.5]) == [2, 3, -3])
    }

    @Test(arguments: [1, 2, 5, 33, 1_000])
    func orderStatisticsEqualSorting(count: Int) {
        var random = KernelFixture.Generator(state: UInt64(count))
        let values = (0..<count).map { _ in Int64(random.below(17)) - 8 }
        let sorted = values.sorted()
        let ranks = [0, count / 3, count / 2, count - 1]
        let statistics = orderStatistics(values, ranks: ranks)
        for rank in ranks { #expect(statistics[rank] == sorted[rank]) }
        for bins in 1...6 {
            let cuts = shareCuts(values, bins: bins)
            let expected = (1..<bins).map { typeSevenQuantile(sorted.map(Double.init), Double($0) / Double(bins)) }
            #expect(cuts == expected)
        }
    }

    @Test(arguments: zones)
    func periodMapperEqualsTheCalendar(zone: String) throws {
        let calendar = try #require(PeriodCalendar(identifier: zone))
        let range: ClosedRange<Int64> = 1_672_531_200...1_735_689_600  // 2023 ... 2025
        for unit in PeriodUnit.allCases {
            let mapper = try #require(PeriodMapper(range: range, unit: unit, calendar: calendar))
            mapper.withUnsafeMapper { map in
                var instant = range.lowerBound
                while instant <= range.upperBound {
                    let expected = calendar.period(unit, of: Timestamp(secondsSince1970: instant)).index
                    let day = Int(floorDiv(instant, 86_400) - map.utcBase)
                    let offsets = map.days[day]
                    let offset = Int64(instant < offsets.transition ? offsets.before : offsets.after)
                    let local = Int(floorDiv(instant + offset, 86_400) - map.localBase)
                    #expect(Int64(map.periodOfLocal[local]) + mapper.periodBase == expected)
                    // The kernels' own look-up, which skips the offset table when one offset holds throughout.
                    #expect(Int64(relativePeriod(instant, map)) + mapper.periodBase == expected)
                    instant += 1_799
                }
            }
        }
    }

    /// The one-offset shortcut of ``localDayIndex(_:_:)``: taken for UTC, a fixed-offset zone and a DST zone's
    /// range without a transition, not across one; where taken it gives the calendar's local day at every instant
    /// tried, including the first and last seconds of local days.
    @Test func uniformOffsetShortcut() throws {
        let summer: ClosedRange<Int64> = 1_688_169_600...1_693_526_399  // 2023-07-01 ... 2023-08-31 UTC
        let year: ClosedRange<Int64> = 1_672_531_200...1_704_067_199  // 2023
        let cases: [(zone: String, range: ClosedRange<Int64>, offset: Int32?)] = [
            ("UTC", year, 0), ("Asia/Kolkata", year, 19_800), ("Europe/Berlin", summer, 7_200),
            ("America/New_York", summer, -14_400), ("Europe/Berlin", year, nil), ("Australia/Lord_Howe", year, nil),
        ]
        for (zone, range, offset) in cases {
            let calendar = try #require(PeriodCalendar(identifier: zone))
            let mapper = try #require(PeriodMapper(range: range, unit: .day, calendar: calendar))
            #expect(mapper.uniformOffset == offset, "\(zone) \(range)")
            mapper.withUnsafeMapper { map in
                #expect(map.uniform == (offset != nil))
                var instant = range.lowerBound
                while instant <= range.upperBound {
                    let midnight = calendar.startOfDay(calendar.localDay(of: Timestamp(secondsSince1970: instant)))
                    let edges = [instant, midnight.secondsSince1970, midnight.secondsSince1970 - 1]
                    for probe in edges where range.contains(probe) {
                        let expected = calendar.localDay(of: Timestamp(secondsSince1970: probe))
                        let local = CivilDate(daysSince1970: map.localBase + Int64(localDayIndex(probe, map)))
                        #expect(local == expected, "\(zone) \(probe)")
                    }
                    instant += 86_400 + 3_599
                }
            }
        }
    }
}

/// The tracker's report equals the ledger's report of the same orders.
struct RetentionTrackerTests {
    @Test(arguments: ReportKernelTests.zones)
    func reportEqualsTheLedgerReport(zone: String) throws {
        let orders = KernelFixture.orders(count: 3_000, seed: 21, years: 2, refundShare: 0.05)
        var tracker = RetentionTracker()
        var ledger = OrderLedger()
        for (index, order) in orders.enumerated() {
            if index % 2 == 0 { try tracker.record(order) } else { try tracker.record(contentsOf: [order]) }
            try ledger.append(order)
            if index == 1_500 {
                #expect(try tracker.report() == RetentionReport(ledger))
            }
        }
        let calendar = try #require(PeriodCalendar(identifier: zone))
        let window =
            Timestamp(
                secondsSince1970: orders[500].timestamp.secondsSince1970)..<Timestamp(
                secondsSince1970: orders[2_000].timestamp.secondsSince1970)
        for options in [
            RetentionReport.Options(calendar: calendar),
            .init(calendar: calendar, window: window, activeWithin: 60 * 86_400, cohortUnit: .week),
            .init(calendar: calendar, cohortUnit: .day, refunds: .exclude, binning: .split),
        ] {
            #expect(try tracker.report(options: options) == RetentionReport(ledger, options: options))
        }
        #expect(tracker.count == ledger.count)
        #expect(tracker.customerCount == ledger.customerCount)
    }

    @Test func duplicatesAndErrorsFollowTheLedger() throws {
        let order = Order(id: "1", customerID: "a", timestamp: Timestamp(secondsSince1970: 100), amount: 10)
        var tracker = RetentionTracker()
        #expect(try tracker.record(order) == .appended)
        #expect(try tracker.record(order) == .duplicateIgnored)
        #expect(tracker.duplicatesIgnored == 1)
        var changed = order
        changed.amount = 11
        #expect(throws: LedgerError.self) { try tracker.record(changed) }
        var euro = order
        euro.id = "2"
        euro.currency = .eur
        let error = #expect(throws: LedgerError.self) { try tracker.record(euro) }
        #expect(error?.code == .mixedCurrency)
        var huge = order
        huge.id = "3"
        huge.amount = .max
        let overflow = #expect(throws: LedgerError.self) { try tracker.record(huge) }
        #expect(overflow?.code == .amountOverflow)
        #expect(tracker.count == 1)
        #expect(try tracker.report() == RetentionReport(OrderLedger([order])))
        #expect(throws: MetricError.self) { try RetentionTracker().report() }
    }
}
