/// A calendar period length. Weeks are ISO weeks, starting on Monday.
public enum PeriodUnit: String, Sendable, Codable, CaseIterable {
    case day, week, month, quarter, year
}

/// One calendar period of a ``PeriodUnit``, identified by an integer index that increases by one from one
/// period to the next (so offsets between periods are subtractions).
///
/// Indices: day = days since 1970-01-01; week = ISO weeks since the week of 1970-01-01 (Monday 1969-12-29 is
/// week 0); month = year x 12 + month - 1; quarter = year x 4 + quarter - 1; year = the year.
public struct Period: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var unit: PeriodUnit
    public var index: Int64

    public init(unit: PeriodUnit, index: Int64) {
        self.unit = unit
        self.index = index
    }

    /// The period of `unit` containing the civil date.
    public init(unit: PeriodUnit, containing date: CivilDate) {
        self.unit = unit
        self.index = Period.index(unit: unit, daysSince1970: date.daysSince1970)
    }

    /// The period index containing the day `day` (days since 1970-01-01).
    @inline(__always)
    public static func index(unit: PeriodUnit, daysSince1970 day: Int64) -> Int64 {
        switch unit {
        case .day: return day
        case .week: return floorDiv(day + 3, 7)
        case .month, .quarter, .year:
            let civil = CivilDate(daysSince1970: day)
            switch unit {
            case .month: return Int64(civil.year) * 12 + Int64(civil.month - 1)
            case .quarter: return Int64(civil.year) * 4 + Int64((civil.month - 1) / 3)
            default: return Int64(civil.year)
            }
        }
    }

    /// The first civil day of the period.
    public var firstDay: CivilDate {
        switch unit {
        case .day: return CivilDate(daysSince1970: index)
        case .week: return CivilDate(daysSince1970: index * 7 - 3)
        case .month:
            let year = Int(floorDiv(index, 12))
            return CivilDate(year: year, month: Int(index - Int64(year) * 12) + 1, day: 1)!
        case .quarter:
            let year = Int(floorDiv(index, 4))
            return CivilDate(year: year, month: Int(index - Int64(year) * 4) * 3 + 1, day: 1)!
        case .year: return CivilDate(year: Int(index), month: 1, day: 1)!
        }
    }

    /// The period after this one.
    public var next: Period { Period(unit: unit, index: index + 1) }

    /// Periods from this one to `other` (positive when `other` is later).
    public func offset(to other: Period) -> Int64 {
        precondition(unit == other.unit, "periods of different units")
        return other.index - index
    }

    /// A label: `2024-03-05` (day), `2024-W09` (ISO week, with the ISO week-year), `2024-03` (month),
    /// `2024-Q1` (quarter), `2024` (year).
    public var description: String {
        let first = firstDay
        switch unit {
        case .day: return first.description
        case .week:
            // The ISO week-year is the year of the week's Thursday.
            let thursday = first.adding(days: 3)
            let weekOfYear = (Int64(thursday.daysSince1970) - CivilDate(year: thursday.year, month: 1, day: 1)!
                .daysSince1970) / 7 + 1
            return yearText(thursday.year) + "-W" + pad2(Int(weekOfYear))
        case .month: return yearText(first.year) + "-" + pad2(first.month)
        case .quarter: return yearText(first.year) + "-Q" + String((first.month - 1) / 3 + 1)
        case .year: return yearText(first.year)
        }
    }

    public static func < (lhs: Period, rhs: Period) -> Bool {
        precondition(lhs.unit == rhs.unit, "periods of different units")
        return lhs.index < rhs.index
    }

    private func yearText(_ year: Int) -> String {
        (0..<1000).contains(year) ? String(repeating: "0", count: 4 - String(year).count) + String(year) : String(year)
    }
}
