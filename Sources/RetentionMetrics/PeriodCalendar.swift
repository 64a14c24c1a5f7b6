import Foundation

/// Maps instants to local calendar days and periods in one explicit time zone, fast.
///
/// Every period computation in the library goes through a `PeriodCalendar`, so the time zone is never implicit.
/// The calendar precomputes the zone's UTC-offset transitions (from 1900 to 2200) once; mapping an instant to
/// its local day is then a binary search over a few hundred transitions (usually none: UTC) plus integer
/// arithmetic, with no Foundation `Calendar` call per order.
///
/// ```swift
/// let calendar = PeriodCalendar(timeZone: TimeZone(identifier: "America/New_York")!)
/// calendar.localDay(of: Timestamp(secondsSince1970: 1_709_272_800))   // 2024-03-01 (05:00Z is midnight EST)
/// calendar.period(.month, of: someTimestamp).description              // "2024-03"
/// ```
///
/// - Complexity: creation O(*k*) Foundation calls for *k* transitions in 1900...2200; ``localDay(of:)`` and
///   ``period(_:of:)`` O(log *k*).
public struct PeriodCalendar: Sendable {
    public let timeZone: TimeZone
    /// The zone's name as the caller gave it (`"UTC"`, `"Europe/Berlin"`); Foundation may report an alias.
    public let identifier: String
    /// Instants (seconds) at which the UTC offset changes, ascending.
    private let transitions: [Int64]
    /// `offsets[i]` is the offset in force from `transitions[i - 1]` (or the beginning) up to `transitions[i]`.
    private let offsets: [Int64]
    private let fixedOffset: Int64?

    /// The range of instants for which transitions were precomputed; outside it Foundation is asked directly.
    private static let coverage: Range<Int64> = -2_208_988_800..<7_258_118_400  // 1900-01-01 ..< 2200-01-01

    /// A calendar for `timeZone`.
    public init(timeZone: TimeZone) {
        self.init(timeZone: timeZone, identifier: timeZone.identifier)
    }

    private init(timeZone: TimeZone, identifier: String) {
        self.timeZone = timeZone
        self.identifier = identifier
        var transitions: [Int64] = []
        var offsets: [Int64] = []
        var cursor = Date(timeIntervalSince1970: TimeInterval(PeriodCalendar.coverage.lowerBound))
        offsets.append(Int64(timeZone.secondsFromGMT(for: cursor)))
        while let next = timeZone.nextDaylightSavingTimeTransition(after: cursor),
            next.timeIntervalSince1970 < TimeInterval(PeriodCalendar.coverage.upperBound)
        {
            let instant = Int64(next.timeIntervalSince1970.rounded(.down))
            let offset = Int64(timeZone.secondsFromGMT(for: next))
            if offset != offsets.last! {
                transitions.append(instant)
                offsets.append(offset)
            }
            cursor = next
        }
        self.transitions = transitions
        self.offsets = offsets
        self.fixedOffset = transitions.isEmpty ? offsets[0] : nil
    }

    /// UTC.
    public static let utc = PeriodCalendar(identifier: "UTC")!

    /// The calendar of a time zone named by its IANA identifier (`"Europe/Berlin"`), or `nil` if unknown.
    public init?(identifier: String) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        self.init(timeZone: zone, identifier: identifier)
    }

    /// Seconds east of UTC in force at `instant`.
    @inline(__always)
    public func utcOffset(at instant: Int64) -> Int64 {
        if let fixedOffset { return fixedOffset }
        guard PeriodCalendar.coverage.contains(instant) else {
            return Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))))
        }
        // number of transitions <= instant
        var low = 0
        var high = transitions.count
        while low < high {
            let mid = (low + high) >> 1
            if transitions[mid] <= instant { low = mid + 1 } else { high = mid }
        }
        return offsets[low]
    }

    /// The local day (days since 1970-01-01 in this zone) containing `instant` (seconds since 1970).
    @inline(__always)
    public func localDayNumber(of instant: Int64) -> Int64 {
        floorDiv(instant + utcOffset(at: instant), 86_400)
    }

    /// The local calendar date containing `timestamp`.
    public func localDay(of timestamp: Timestamp) -> CivilDate {
        CivilDate(daysSince1970: localDayNumber(of: timestamp.secondsSince1970))
    }

    /// The period of `unit` containing `timestamp` in this zone.
    public func period(_ unit: PeriodUnit, of timestamp: Timestamp) -> Period {
        Period(unit: unit, index: Period.index(unit: unit, daysSince1970: localDayNumber(of: timestamp.secondsSince1970)))
    }

    /// The first instant of the local day `date`: local midnight, or the first instant after it when a
    /// transition skips midnight (e.g. a DST change at 00:00).
    public func startOfDay(_ date: CivilDate) -> Timestamp {
        let day = date.daysSince1970
        // smallest instant t with localDay(t) >= day; offsets lie within +-18 hours.
        var low = day * 86_400 - 18 * 3600 - 1
        var high = day * 86_400 + 18 * 3600 + 1
        while low + 1 < high {
            let mid = low + (high - low) / 2
            if localDayNumber(of: mid) >= day { high = mid } else { low = mid }
        }
        return Timestamp(secondsSince1970: high)
    }

    /// The half-open interval of instants `[start, end)` covered by `period` in this zone.
    public func interval(of period: Period) -> Range<Timestamp> {
        startOfDay(period.firstDay)..<startOfDay(period.next.firstDay)
    }
}
