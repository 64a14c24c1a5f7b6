// Byte-level parsers for the two fields every order export has: a timestamp and a decimal amount.
//
// Both work on `UnsafeBufferPointer<UInt8>` (the bytes of one field, as a CSV reader hands them over), allocate
// nothing, call no Foundation formatter, and report a typed reason on failure. `String` overloads are provided for
// convenience; they are not meant for hot loops.

// MARK: - Timestamps

/// Why a timestamp could not be parsed.
public struct TimestampParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable reason code.
    public enum Reason: String, Sendable, Hashable, Codable, CaseIterable {
        /// The field is empty.
        case empty
        /// The text is not in one of the accepted shapes (see ``TimestampParser``).
        case malformed
        /// The month is not 01...12.
        case invalidMonth
        /// The day does not exist in that month (2024-02-30) or is 00.
        case invalidDay
        /// The hour is not 00...23 (24:00:00 is rejected).
        case invalidHour
        /// The minute is not 00...59.
        case invalidMinute
        /// The second is not 00...59 (leap seconds are rejected).
        case invalidSecond
        /// The UTC offset is malformed or beyond +-18:00.
        case invalidOffset
        /// Characters follow a complete timestamp.
        case trailingCharacters
    }

    public var reason: Reason
    /// A short explanation, e.g. `day 30 does not exist in February 2024`.
    public var message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { message }

    /// Whether the reason concerns the calendar date (month or day), as opposed to the time or the shape.
    public var isDateReason: Bool { reason == .invalidMonth || reason == .invalidDay }
    /// Whether the reason concerns the time of day.
    public var isTimeReason: Bool { reason == .invalidHour || reason == .invalidMinute || reason == .invalidSecond }
}

/// Parses the timestamps found in shop exports into seconds since 1970 (UTC), exactly and without Foundation.
///
/// Accepted shapes (`T` may be `t` or a single space; the fraction may use `.` or `,`):
///
///     YYYY-MM-DDTHH:MM:SS[.fraction](Z | +HH:MM | +HHMM | +HH)   an instant; the fraction is truncated
///     YYYY-MM-DD HH:MM:SS -0500                                  Shopify / WooCommerce (space before offset)
///     YYYY-MM-DD HH:MM[:SS[.fraction]]                           local time in the calendar's zone
///     YYYY-MM-DD                                                 start of that local day in the calendar's zone
///
/// A local date-time (no offset) is resolved with ``PeriodCalendar/instant(localSecondsSince1970:)``: in a
/// fall-back overlap the earlier instant wins; in a spring-forward gap the time is moved forward by the gap's
/// length (02:30 on a day New York jumps 02:00 -> 03:00 becomes 03:30 EDT), as `java.time` and Python's
/// `zoneinfo` (fold = 0) do.
///
/// ```swift
/// try TimestampParser.parse("2024-01-15 10:23:45 -0500", in: .utc)       // 2024-01-15T15:23:45Z
/// try TimestampParser.parse("2024-02-30T00:00:00Z", in: .utc)            // throws .invalidDay
/// ```
///
/// Rejected: impossible dates (2024-02-30, month 13), 24:00:00, minute or second 60, offsets beyond +-18:00,
/// years not written with exactly four digits, and anything after a complete timestamp.
public enum TimestampParser {
    /// Parses one timestamp field.
    ///
    ///     seconds = days(date) x 86400 + HH x 3600 + MM x 60 + SS - offset
    ///
    /// ```swift
    /// let seconds = try bytes.withUnsafeBufferPointer { try TimestampParser.parse($0, in: calendar) }
    /// ```
    ///
    /// - Parameters:
    ///   - bytes: The field's bytes (ASCII); no surrounding whitespace.
    ///   - calendar: The zone used for timestamps without an offset and for plain dates.
    /// - Returns: Seconds since 1970-01-01T00:00:00Z.
    /// - Throws: ``TimestampParseError`` with the reason.
    /// - Complexity: O(*n*) in the field length, plus O(log *k*) zone lookups for local times.
    public static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, in calendar: PeriodCalendar
    ) throws(TimestampParseError) -> Int64 {
        let n = bytes.count
        guard n > 0 else { throw TimestampParseError(.empty, "the timestamp is empty") }
        guard n >= 10, isDigit(bytes[0]), isDigit(bytes[1]), isDigit(bytes[2]), isDigit(bytes[3]),
            bytes[4] == dash, bytes[7] == dash
        else { throw malformed }
        let year = Int(bytes[0] &- zero) * 1000 + Int(bytes[1] &- zero) * 100 + Int(bytes[2] &- zero) * 10
            + Int(bytes[3] &- zero)
        let month = twoDigits(bytes, 5)
        let day = twoDigits(bytes, 8)
        guard month >= 0, day >= 0 else { throw malformed }
        guard (1...12).contains(month) else {
            throw TimestampParseError(.invalidMonth, "month \(pad2(month)) is not 01...12")
        }
        guard day >= 1, day <= CivilDate.daysInMonth(year: year, month: month) else {
            throw TimestampParseError(
                .invalidDay, "day \(pad2(day)) does not exist in \(monthNames[month - 1]) \(year)")
        }
        let date = CivilDate(year: year, month: month, day: day)!
        if n == 10 { return calendar.startOfDay(date).secondsSince1970 }

        // Time of day.
        let separator = bytes[10]
        guard separator == 0x54 || separator == 0x74 || separator == space else {
            throw TimestampParseError(.trailingCharacters, "unexpected characters after the date")
        }
        guard n >= 16, bytes[13] == colon else { throw malformed }
        let hour = twoDigits(bytes, 11)
        let minute = twoDigits(bytes, 14)
        guard hour >= 0, minute >= 0 else { throw malformed }
        var i = 16
        var second = 0
        if i < n, bytes[i] == colon {
            guard i + 3 <= n else { throw malformed }
            second = twoDigits(bytes, i + 1)
            guard second >= 0 else { throw malformed }
            i += 3
            if i < n, bytes[i] == dot || bytes[i] == comma {
                i += 1
                let fractionStart = i
                while i < n, isDigit(bytes[i]) { i += 1 }
                guard i > fractionStart else { throw malformed }
            }
        }
        guard hour < 24 else { throw TimestampParseError(.invalidHour, "hour \(pad2(hour)) is not 00...23") }
        guard minute < 60 else {
            throw TimestampParseError(.invalidMinute, "minute \(pad2(minute)) is not 00...59")
        }
        guard second < 60 else {
            throw TimestampParseError(.invalidSecond, "second \(pad2(second)) is not 00...59")
        }
        let local = date.daysSince1970 * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        if i == n { return calendar.instant(localSecondsSince1970: local) }

        // Zone designator, optionally after one space (`10:23:45 -0500`).
        if bytes[i] == space {
            i += 1
            guard i < n, bytes[i] == plus || bytes[i] == dash || bytes[i] == 0x5A || bytes[i] == 0x7A else {
                throw TimestampParseError(.trailingCharacters, "unexpected characters after the time")
            }
        }
        let offset: Int64
        switch bytes[i] {
        case 0x5A, 0x7A:  // Z z
            offset = 0
            i += 1
        case plus, dash:
            let negative = bytes[i] == dash
            guard i + 3 <= n else { throw invalidOffset }
            let offsetHours = twoDigits(bytes, i + 1)
            guard offsetHours >= 0 else { throw invalidOffset }
            i += 3
            var offsetMinutes = 0
            if i < n, bytes[i] == colon {
                guard i + 3 <= n else { throw invalidOffset }
                offsetMinutes = twoDigits(bytes, i + 1)
                i += 3
            } else if i + 2 <= n, isDigit(bytes[i]) {
                offsetMinutes = twoDigits(bytes, i)
                i += 2
            }
            guard offsetMinutes >= 0, offsetMinutes < 60 else { throw invalidOffset }
            let magnitude = offsetHours * 60 + offsetMinutes
            guard magnitude <= 18 * 60 else {
                throw TimestampParseError(
                    .invalidOffset,
                    "offset \(negative ? "-" : "+")\(pad2(offsetHours)):\(pad2(offsetMinutes)) is beyond +-18:00")
            }
            offset = Int64(negative ? -magnitude : magnitude) * 60
        default:
            throw TimestampParseError(.trailingCharacters, "unexpected characters after the time")
        }
        guard i == n else {
            throw TimestampParseError(.trailingCharacters, "unexpected characters after the UTC offset")
        }
        return local - offset
    }

    /// Parses a timestamp given as a `String`; see ``parse(_:in:)-(UnsafeBufferPointer<UInt8>,_)``.
    ///
    /// ```swift
    /// try TimestampParser.parse("2024-03-01", in: .utc).secondsSince1970   // 1_709_251_200
    /// ```
    ///
    /// - Parameters:
    ///   - text: The timestamp.
    ///   - calendar: The zone used for timestamps without an offset and for plain dates.
    /// - Returns: The instant.
    /// - Throws: ``TimestampParseError``.
    /// - Complexity: O(*n*).
    public static func parse(_ text: String, in calendar: PeriodCalendar) throws(TimestampParseError) -> Timestamp {
        var copy = text
        let result: Result<Int64, TimestampParseError> = copy.withUTF8 { bytes in
            do throws(TimestampParseError) { return .success(try parse(bytes, in: calendar)) } catch {
                return .failure(error)
            }
        }
        return Timestamp(secondsSince1970: try result.get())
    }

    private static let malformed = TimestampParseError(
        .malformed, "expected YYYY-MM-DD[THH:MM[:SS[.fff]][Z|+HH:MM]]")
    private static let invalidOffset = TimestampParseError(.invalidOffset, "expected a UTC offset +HH:MM, +HHMM or Z")
    private static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ]
}

extension PeriodCalendar {
    /// The instant whose local wall-clock time in this zone is `local` (seconds since 1970 of the local
    /// date-time read as if it were UTC).
    ///
    ///     instant = local - offset, where offset is the zone's UTC offset in force at instant
    ///
    /// When the local time occurs twice (a fall-back overlap) the earlier instant is returned. When it does not
    /// occur (a spring-forward gap) it is shifted forward by the length of the gap: it is read with the offset in
    /// force before the transition, so New York's non-existent 2024-03-10 02:30 becomes 07:30Z = 03:30 EDT.
    ///
    /// ```swift
    /// let newYork = PeriodCalendar(identifier: "America/New_York")!
    /// newYork.instant(localSecondsSince1970: 1_705_314_225)   // 2024-01-15 10:23:45 local -> 15:23:45Z
    /// ```
    ///
    /// - Parameter local: The local date-time as seconds since 1970-01-01T00:00 local.
    /// - Returns: Seconds since 1970-01-01T00:00:00Z.
    /// - Complexity: O(log *k*) for *k* zone transitions.
    public func instant(localSecondsSince1970 local: Int64) -> Int64 {
        let before = utcOffset(at: local - 86_400)
        let early = local - before
        if utcOffset(at: early) == before { return early }
        let after = utcOffset(at: local + 86_400)
        let late = local - after
        if utcOffset(at: late) == after { return late }
        return early
    }
}

// MARK: - Amounts

/// Why a decimal amount could not be parsed.
public struct AmountParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable reason code.
    public enum Reason: String, Sendable, Hashable, Codable, CaseIterable {
        /// The field is empty.
        case empty
        /// Not a plain decimal number (a currency symbol, letters, a lone sign or point, ...).
        case malformed
        /// A thousands separator or decimal comma (`1,234.00`, `1 234`, `12,50`).
        case thousandsSeparator
        /// Scientific notation (`1e3`).
        case exponent
        /// `NaN` or `Infinity`.
        case notANumber
        /// More decimal digits than the currency's minor unit, and the extra ones are not all zero.
        case tooManyDecimals
        /// The amount in minor units does not fit in `Int64`.
        case overflow
    }

    public var reason: Reason
    /// A short explanation, e.g. `3 decimal digits but the currency has 2`.
    public var message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { message }
}

/// Parses decimal amounts into exact `Int64` minor units.
///
///     minorUnits = sign x (integer digits . decimal digits) x 10^minorUnitDigits
///
/// Grammar: optional `+` or `-`, digits, optional `.` and decimal digits (at least one digit overall: `.5` and `5.`
/// are accepted). At most `minorUnitDigits` decimals, unless the extra ones are zeros (`12.3400` is 1234 cents).
/// Rejected, each with its own ``AmountParseError/Reason``: empty, thousands separators and decimal commas,
/// exponents, NaN and Infinity, excess non-zero decimals, and results outside `Int64`.
public enum AmountParser {
    /// Parses one amount field into minor units.
    ///
    ///     "1234.5", 2 digits -> 123450        "-0.05", 2 -> -5        "1200", 0 -> 1200
    ///
    /// ```swift
    /// let cents = try bytes.withUnsafeBufferPointer { try AmountParser.minorUnits($0, minorUnitDigits: 2) }
    /// ```
    ///
    /// - Parameters:
    ///   - bytes: The field's bytes; no surrounding whitespace.
    ///   - minorUnitDigits: The currency's minor digits (0...4; 2 for USD).
    /// - Returns: The exact amount in minor units; negative for refunds.
    /// - Throws: ``AmountParseError`` with the reason.
    /// - Complexity: O(*n*) in the field length.
    public static func minorUnits(
        _ bytes: UnsafeBufferPointer<UInt8>, minorUnitDigits: Int
    ) throws(AmountParseError) -> Int64 {
        precondition((0...18).contains(minorUnitDigits), "minorUnitDigits must be in 0...18")
        let n = bytes.count
        guard n > 0 else { throw AmountParseError(.empty, "the amount is empty") }
        var i = 0
        var negative = false
        if bytes[0] == plus || bytes[0] == dash {
            negative = bytes[0] == dash
            i = 1
        }
        if isNotANumber(bytes, from: i) { throw AmountParseError(.notANumber, "NaN and Infinity are not amounts") }
        var magnitude: UInt64 = 0
        var digitCount = 0
        var decimals = 0
        var inFraction = false
        var excessNonZero = false
        while i < n {
            let byte = bytes[i]
            if isDigit(byte) {
                digitCount += 1
                if inFraction {
                    decimals += 1
                    if decimals > minorUnitDigits {
                        if byte != zero { excessNonZero = true }
                        i += 1
                        continue
                    }
                }
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(byte &- zero))
                if o1 || o2 { throw overflow }
                magnitude = sum
            } else if byte == dot {
                if inFraction { throw AmountParseError(.malformed, "more than one decimal point") }
                inFraction = true
            } else if (byte == comma || byte == space || byte == apostrophe || byte == underscore)
                && (i + 1 == n || isDigit(bytes[i + 1]))
            {
                throw AmountParseError(
                    .thousandsSeparator,
                    "'\(Character(Unicode.Scalar(byte)))' is a thousands separator or decimal comma; "
                        + "write plain digits with '.' as the decimal point")
            } else if (byte == 0x65 || byte == 0x45) && digitCount > 0 {
                throw AmountParseError(.exponent, "scientific notation is not accepted")
            } else {
                throw AmountParseError(.malformed, "unexpected character in an amount")
            }
            i += 1
        }
        guard digitCount > 0 else { throw AmountParseError(.malformed, "no digits") }
        if excessNonZero {
            throw AmountParseError(
                .tooManyDecimals, "\(decimals) decimal digits but the currency has \(minorUnitDigits)")
        }
        var scale = min(decimals, minorUnitDigits)
        while scale < minorUnitDigits {
            let (times10, o) = magnitude.multipliedReportingOverflow(by: 10)
            if o { throw overflow }
            magnitude = times10
            scale += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw overflow }
            return Int64(truncatingIfNeeded: 0 &- magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw overflow }
        return Int64(magnitude)
    }

    /// Parses an amount given as a `String`; see ``minorUnits(_:minorUnitDigits:)-(UnsafeBufferPointer<UInt8>,_)``.
    ///
    /// ```swift
    /// try AmountParser.minorUnits("19.99", minorUnitDigits: 2)   // 1999
    /// ```
    ///
    /// - Parameters:
    ///   - text: The amount.
    ///   - minorUnitDigits: The currency's minor digits.
    /// - Returns: Minor units.
    /// - Throws: ``AmountParseError``.
    /// - Complexity: O(*n*).
    public static func minorUnits(_ text: String, minorUnitDigits: Int) throws(AmountParseError) -> Int64 {
        var copy = text
        let result: Result<Int64, AmountParseError> = copy.withUTF8 { bytes in
            do throws(AmountParseError) {
                return .success(try minorUnits(bytes, minorUnitDigits: minorUnitDigits))
            } catch { return .failure(error) }
        }
        return try result.get()
    }

    private static let overflow = AmountParseError(.overflow, "the amount does not fit in Int64 minor units")

    /// `nan`, `inf` or `infinity`, case-insensitive, from `start` to the end.
    private static func isNotANumber(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Bool {
        let length = bytes.count - start
        guard length == 3 || length == 8 else { return false }
        let first = bytes[start] | 0x20
        guard first == 0x6E || first == 0x69 else { return false }
        let word = length == 3 ? (bytes[start] | 0x20 == 0x6E ? "nan" : "inf") : "infinity"
        var k = start
        for expected in word.utf8 {
            if bytes[k] | 0x20 != expected { return false }
            k += 1
        }
        return true
    }
}

extension Money {
    /// Parses a decimal string into exact money of `currency`, using ``AmountParser``.
    ///
    /// ```swift
    /// try Money(parsing: "12.30", currency: .usd).minorUnits   // 1230
    /// ```
    ///
    /// - Parameters:
    ///   - text: The amount, e.g. `"-0.05"`.
    ///   - currency: The currency, whose minor digits bound the decimals.
    /// - Throws: ``AmountParseError``.
    /// - Complexity: O(*n*).
    public init(parsing text: String, currency: Currency) throws(AmountParseError) {
        self.init(
            minorUnits: try AmountParser.minorUnits(text, minorUnitDigits: currency.minorUnitDigits),
            currency: currency)
    }
}

// MARK: - Byte helpers

private let zero: UInt8 = 0x30
private let dash: UInt8 = 0x2D
private let plus: UInt8 = 0x2B
private let colon: UInt8 = 0x3A
private let dot: UInt8 = 0x2E
private let comma: UInt8 = 0x2C
private let space: UInt8 = 0x20
private let apostrophe: UInt8 = 0x27
private let underscore: UInt8 = 0x5F

@inline(__always)
private func isDigit(_ byte: UInt8) -> Bool { byte &- zero < 10 }

/// The two-digit number at `index`, or -1 when either byte is not a digit (or out of bounds).
@inline(__always)
private func twoDigits(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> Int {
    guard index + 1 < bytes.count, isDigit(bytes[index]), isDigit(bytes[index + 1]) else { return -1 }
    return Int(bytes[index] &- zero) * 10 + Int(bytes[index + 1] &- zero)
}
