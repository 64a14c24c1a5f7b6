import Foundation

/// An instant, in whole seconds since 1970-01-01T00:00:00Z (Unix time, leap seconds ignored).
///
/// Orders are timestamped to the second; finer parts of an input timestamp are truncated toward the past.
public struct Timestamp: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var secondsSince1970: Int64

    public init(secondsSince1970: Int64) { self.secondsSince1970 = secondsSince1970 }

    /// The instant of a Foundation `Date`, truncated toward the past to whole seconds.
    public init(_ date: Date) {
        self.secondsSince1970 = Int64((date.timeIntervalSince1970).rounded(.down))
    }

    public var date: Date { Date(timeIntervalSince1970: TimeInterval(secondsSince1970)) }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.secondsSince1970 < rhs.secondsSince1970 }

    /// ISO 8601 in UTC, e.g. `2024-03-01T12:00:00Z`.
    public var description: String {
        let day = floorDiv(secondsSince1970, 86_400)
        let second = secondsSince1970 - day * 86_400
        let civil = CivilDate(daysSince1970: day)
        return civil.description + "T" + pad2(Int(second / 3600)) + ":" + pad2(Int(second / 60 % 60)) + ":"
            + pad2(Int(second % 60)) + "Z"
    }

    public init(from decoder: any Decoder) throws {
        self.secondsSince1970 = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(secondsSince1970)
    }
}

@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q
}

func pad2(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
