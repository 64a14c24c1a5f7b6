import Foundation
import Testing

@testable import RetentionMetrics

struct PeriodCalendarTests {
    /// The precomputed transition table must agree with Foundation's `secondsFromGMT(for:)` everywhere.
    @Test(arguments: [
        "UTC", "America/New_York", "Europe/London", "Europe/Berlin", "Europe/Moscow", "Asia/Tehran",
        "Australia/Lord_Howe", "America/Sao_Paulo", "Asia/Kolkata", "Pacific/Apia", "America/Havana",
    ])
    func offsetsAgreeWithFoundation(identifier: String) throws {
        let zone = try #require(TimeZone(identifier: identifier))
        let calendar = PeriodCalendar(timeZone: zone)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<5_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            // instants between 1950 and 2060
            let instant = -631_152_000 + Int64(state >> 33) % 3_471_292_800
            let expected = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))))
            #expect(calendar.utcOffset(at: instant) == expected, "\(identifier) at \(instant)")
        }
    }

    @Test func localDayAndPeriodsInNewYork() throws {
        let calendar = try #require(PeriodCalendar(identifier: "America/New_York"))
        // 2024-03-01T04:59:59Z is still 2024-02-29 23:59:59 EST.
        #expect(calendar.localDay(of: Timestamp(secondsSince1970: 1_709_269_199)).description == "2024-02-29")
        #expect(calendar.localDay(of: Timestamp(secondsSince1970: 1_709_269_200)).description == "2024-03-01")
        #expect(calendar.period(.month, of: Timestamp(secondsSince1970: 1_709_269_200)).description == "2024-03")
        #expect(calendar.period(.month, of: Timestamp(secondsSince1970: 1_709_269_199)).description == "2024-02")
        // Midnight local time on the DST day 2024-03-10 is still EST (UTC-5).
        #expect(calendar.startOfDay(CivilDate(year: 2024, month: 3, day: 10)!).secondsSince1970 == 1_710_046_800)
        // and the next day starts 23 hours later.
        #expect(calendar.startOfDay(CivilDate(year: 2024, month: 3, day: 11)!).secondsSince1970 == 1_710_129_600)
        let march = calendar.interval(of: Period(unit: .month, containing: CivilDate(year: 2024, month: 3, day: 5)!))
        #expect(march.lowerBound.secondsSince1970 == 1_709_269_200)
        #expect(march.upperBound.secondsSince1970 == 1_711_944_000)  // 2024-04-01T04:00:00Z (EDT)
    }

    @Test func skippedMidnightStartsAtTheFirstExistingInstant() throws {
        // America/Havana moved clocks from 00:00 to 01:00 on 2019-03-10.
        let calendar = try #require(PeriodCalendar(identifier: "America/Havana"))
        let start = calendar.startOfDay(CivilDate(year: 2019, month: 3, day: 10)!)
        #expect(calendar.localDay(of: start).description == "2019-03-10")
        #expect(calendar.localDay(of: Timestamp(secondsSince1970: start.secondsSince1970 - 1)).description == "2019-03-09")
        #expect(start.secondsSince1970 == 1_552_194_000)  // 05:00Z = 01:00 CDT
    }

    @Test func unknownZoneIsNil() {
        #expect(PeriodCalendar(identifier: "Mars/Olympus_Mons") == nil)
    }
}

struct PeriodTests {
    @Test(arguments: [
        ("2024-12-30", PeriodUnit.week, "2025-W01"), ("2021-01-03", .week, "2020-W53"), ("2024-01-01", .week, "2024-W01"),
        ("2023-01-01", .week, "2022-W52"), ("2024-03-05", .month, "2024-03"), ("2024-12-31", .quarter, "2024-Q4"),
        ("2024-04-01", .quarter, "2024-Q2"), ("1969-12-31", .year, "1969"), ("1969-12-31", .day, "1969-12-31"),
        ("1969-12-28", .week, "1969-W52"), ("1969-12-29", .week, "1970-W01"),
    ])
    func labels(date: String, unit: PeriodUnit, label: String) throws {
        let parts = date.split(separator: "-").map { Int($0)! }
        let day = try #require(CivilDate(year: parts[0], month: parts[1], day: parts[2]))
        #expect(Period(unit: unit, containing: day).description == label)
    }

    @Test func weeksStartOnMonday() throws {
        let wednesday = try #require(CivilDate(year: 2024, month: 3, day: 6))
        let week = Period(unit: .week, containing: wednesday)
        #expect(week.firstDay.description == "2024-03-04")
        #expect(week.firstDay.isoWeekday == 1)
        #expect(week.next.firstDay.description == "2024-03-11")
    }

    @Test func offsetsAreIndexDifferences() throws {
        let january = Period(unit: .month, containing: CivilDate(year: 2023, month: 11, day: 30)!)
        let march = Period(unit: .month, containing: CivilDate(year: 2024, month: 3, day: 1)!)
        #expect(january.offset(to: march) == 4)
        #expect(march.firstDay.description == "2024-03-01")
    }
}

struct CivilDateTests {
    @Test func roundTripsEveryDayOverFourCenturies() {
        var expected = CivilDate(year: 1800, month: 1, day: 1)!
        let first = expected.daysSince1970
        for offset in 0..<(146_097 as Int64) {
            let date = CivilDate(daysSince1970: first + offset)
            #expect(date == expected)
            #expect(date.daysSince1970 == first + offset)
            // advance `expected` by one day by hand
            if expected.day < CivilDate.daysInMonth(year: expected.year, month: expected.month) {
                expected.day += 1
            } else if expected.month < 12 {
                expected = CivilDate(year: expected.year, month: expected.month + 1, day: 1)!
            } else {
                expected = CivilDate(year: expected.year + 1, month: 1, day: 1)!
            }
        }
    }

    @Test func invalidDatesAreNil() {
        #expect(CivilDate(year: 2024, month: 2, day: 30) == nil)
        #expect(CivilDate(year: 2023, month: 2, day: 29) == nil)
        #expect(CivilDate(year: 2000, month: 2, day: 29) != nil)
        #expect(CivilDate(year: 1900, month: 2, day: 29) == nil)
        #expect(CivilDate(year: 2024, month: 13, day: 1) == nil)
        #expect(CivilDate(year: 2024, month: 4, day: 31) == nil)
    }

    @Test func knownDays() {
        #expect(CivilDate(year: 1970, month: 1, day: 1)!.daysSince1970 == 0)
        #expect(CivilDate(year: 2000, month: 3, day: 1)!.daysSince1970 == 11_017)
        #expect(CivilDate(year: 1969, month: 12, day: 31)!.daysSince1970 == -1)
        #expect(CivilDate(year: 2024, month: 3, day: 4)!.isoWeekday == 1)
        #expect(CivilDate(year: 2024, month: 3, day: 10)!.isoWeekday == 7)
    }
}
