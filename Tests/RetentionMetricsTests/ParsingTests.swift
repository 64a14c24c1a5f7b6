import Testing

@testable import RetentionMetrics

// Expected instants cross-checked with Python 3 `datetime.fromisoformat(...).timestamp()` and `zoneinfo`
// (fold = 0 for overlaps and gaps).
struct ParsingTests {
    static let newYork = PeriodCalendar(identifier: "America/New_York")!

    @Test(arguments: [
        ("2024-01-15T10:23:45-05:00", Int64(1_705_332_225)),
        ("2024-01-15T10:23:45-0500", 1_705_332_225),
        ("2024-01-15 10:23:45 -0500", 1_705_332_225),  // Shopify
        ("2024-01-15T15:23:45Z", 1_705_332_225),
        ("2024-01-15t15:23:45z", 1_705_332_225),
        ("2024-03-01T12:00:00Z", 1_709_294_400),
        ("2024-03-01T12:00:00+00:00", 1_709_294_400),
        ("2024-02-29T23:59:59.999Z", 1_709_251_199),  // fraction truncated, leap day
        ("2024-02-29T23:59:59,5Z", 1_709_251_199),
        ("1969-12-31T23:59:59Z", -1),
        ("2024-07-01T00:00:00+05:30", 1_719_772_200),
        ("2024-07-01T00:00:00+05", 1_719_774_000),
        ("2024-01-01T00:00:00+18:00", 1_704_002_400),
        ("2024-01-01T00:00:00-18:00", 1_704_132_000),
        ("2024-01-15 10:23", 1_705_314_180),  // local, UTC calendar
        ("2024-03-01", 1_709_251_200),  // start of day, UTC
    ] as [(String, Int64)])
    func acceptedTimestampsInUTC(text: String, expected: Int64) throws {
        #expect(try TimestampParser.parse(text, in: .utc).secondsSince1970 == expected)
    }

    @Test func localTimesUseTheCalendarsZone() throws {
        let ny = ParsingTests.newYork
        #expect(try TimestampParser.parse("2024-01-15 10:23:45", in: ny).secondsSince1970 == 1_705_332_225)
        #expect(try TimestampParser.parse("2024-03-01", in: ny).secondsSince1970 == 1_709_269_200)
        // An explicit offset wins over the calendar.
        #expect(try TimestampParser.parse("2024-03-01T12:00:00Z", in: ny).secondsSince1970 == 1_709_294_400)
    }

    @Test func springForwardGapMovesForwardByTheGap() throws {
        // 2024-03-10 02:30 does not exist in New York; read with EST it is 07:30Z = 03:30 EDT.
        #expect(try TimestampParser.parse("2024-03-10T02:30:00", in: ParsingTests.newYork).secondsSince1970
            == 1_710_055_800)
    }

    @Test func fallBackOverlapTakesTheEarlierInstant() throws {
        // 2024-11-03 01:30 occurs at 05:30Z (EDT) and 06:30Z (EST).
        #expect(try TimestampParser.parse("2024-11-03 01:30:00", in: ParsingTests.newYork).secondsSince1970
            == 1_730_611_800)
    }

    @Test func plainDateWhoseMidnightIsSkipped() throws {
        // Sao Paulo skipped 2018-11-04 00:00 -> 01:00; the day starts at 01:00 -02 = 03:00Z.
        let saoPaulo = PeriodCalendar(identifier: "America/Sao_Paulo")!
        #expect(try TimestampParser.parse("2018-11-04", in: saoPaulo).secondsSince1970 == 1_541_300_400)
    }

    @Test(arguments: [
        ("", TimestampParseError.Reason.empty, "the timestamp is empty"),
        ("2024-02-30T00:00:00Z", .invalidDay, "day 30 does not exist in February 2024"),
        ("2023-02-29", .invalidDay, "day 29 does not exist in February 2023"),
        ("2024-04-00", .invalidDay, "day 00 does not exist in April 2024"),
        ("2024-13-01", .invalidMonth, "month 13 is not 01...12"),
        ("2024-01-15T24:00:00Z", .invalidHour, "hour 24 is not 00...23"),
        ("2024-01-15T10:60:00Z", .invalidMinute, "minute 60 is not 00...59"),
        ("2024-01-15T10:59:60Z", .invalidSecond, "second 60 is not 00...59"),
        ("2024-01-15T10:00:00+19:00", .invalidOffset, "offset +19:00 is beyond +-18:00"),
        ("2024-01-15T10:00:00-18:30", .invalidOffset, "offset -18:30 is beyond +-18:00"),
        ("2024-01-15T10:00:00+05:60", .invalidOffset, "expected a UTC offset +HH:MM, +HHMM or Z"),
        ("2024-01-15T10:00:00Zjunk", .trailingCharacters, "unexpected characters after the UTC offset"),
        ("2024-01-15T10:00:00 PST", .trailingCharacters, "unexpected characters after the time"),
        ("2024-01-15x", .trailingCharacters, "unexpected characters after the date"),
        ("15/01/2024", .malformed, "expected YYYY-MM-DD[THH:MM[:SS[.fff]][Z|+HH:MM]]"),
        ("24-01-15", .malformed, "expected YYYY-MM-DD[THH:MM[:SS[.fff]][Z|+HH:MM]]"),
        ("2024-01-15T10", .malformed, "expected YYYY-MM-DD[THH:MM[:SS[.fff]][Z|+HH:MM]]"),
        ("2024-01-15T10:00:00.Z", .malformed, "expected YYYY-MM-DD[THH:MM[:SS[.fff]][Z|+HH:MM]]"),
    ] as [(String, TimestampParseError.Reason, String)])
    func rejectedTimestamps(text: String, reason: TimestampParseError.Reason, message: String) {
        #expect(throws: TimestampParseError(reason, message)) { try TimestampParser.parse(text, in: .utc) }
    }

    @Test func parsesFromARawBufferWithoutAString() throws {
        let bytes = Array("2024-03-01T12:00:00Z".utf8)
        let seconds = try bytes.withUnsafeBufferPointer { buffer throws(TimestampParseError) in
            try TimestampParser.parse(buffer, in: .utc)
        }
        #expect(seconds == 1_709_294_400)
    }

    @Test(arguments: [
        ("0", 2, Int64(0)), ("12", 2, 1200), ("12.3", 2, 1230), ("12.34", 2, 1234), ("-0.05", 2, -5),
        ("+7.5", 2, 750), (".5", 2, 50), ("5.", 2, 500), ("12.3400", 2, 1234), ("0001.10", 2, 110),
        ("1200", 0, 1200), ("1200.000", 0, 1200), ("1.234", 3, 1234), ("-1.5", 4, -15_000),
        ("92233720368547758.07", 2, Int64.max), ("-92233720368547758.08", 2, Int64.min),
    ] as [(String, Int, Int64)])
    func acceptedAmounts(text: String, digits: Int, expected: Int64) throws {
        #expect(try AmountParser.minorUnits(text, minorUnitDigits: digits) == expected)
    }

    @Test(arguments: [
        ("", AmountParseError.Reason.empty), ("1,234.00", .thousandsSeparator), ("12,50", .thousandsSeparator),
        ("1 234", .thousandsSeparator), ("1e3", .exponent), ("2.5E-2", .exponent), ("NaN", .notANumber),
        ("-nan", .notANumber), ("Infinity", .notANumber), ("+inf", .notANumber), ("12.345", .tooManyDecimals),
        ("0.001", .tooManyDecimals), ("92233720368547758.08", .overflow), ("-92233720368547758.09", .overflow),
        ("99999999999999999999999", .overflow), ("$12.00", .malformed), ("12 USD", .malformed),
        ("-", .malformed), (".", .malformed), ("1.2.3", .malformed), ("abc", .malformed), ("--1", .malformed),
    ] as [(String, AmountParseError.Reason)])
    func rejectedAmounts(text: String, reason: AmountParseError.Reason) {
        do {
            let value = try AmountParser.minorUnits(text, minorUnitDigits: 2)
            Issue.record("'\(text)' parsed as \(value)")
        } catch {
            #expect(error.reason == reason, "'\(text)': \(error.message)")
        }
    }

    @Test func tooManyDecimalsNamesTheCounts() {
        #expect(throws: AmountParseError(.tooManyDecimals, "3 decimal digits but the currency has 2")) {
            try AmountParser.minorUnits("1.999", minorUnitDigits: 2)
        }
    }

    @Test func moneyParsingUsesTheCurrencysDigits() throws {
        #expect(try Money(parsing: "1200", currency: Currency("JPY")).minorUnits == 1200)
        #expect(try Money(parsing: "1.234", currency: Currency("KWD")).minorUnits == 1234)
        #expect(throws: AmountParseError.self) { try Money(parsing: "12.5", currency: Currency("JPY")) }
    }
}
