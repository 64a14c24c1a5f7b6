/// Invalid input to a metric: counts that contradict each other, a window that is not a window, a parameter out
/// of range.
///
/// An *undefined* metric (an empty cohort, a zero denominator) is not an error: it is `nil`. `MetricError` is for
/// inputs no correct computation could have produced, such as more new customers than customers at the end.
///
/// ```swift
/// do {
///     _ = try RetentionRate(start: 10, new: 5, end: 3)
/// } catch let error as MetricError {
///     error.code          // .newExceedsEnd
///     error.description   // "new customers (5) exceed customers at the end (3)"
/// }
/// ```
public struct MetricError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable error code, safe to match on and to log.
    public struct Code: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A count (customers, orders) is negative.
        public static let negativeCount = Code(rawValue: "negativeCount")
        /// Retention counts: N > E (more new customers than customers at the end).
        public static let newExceedsEnd = Code(rawValue: "newExceedsEnd")
        /// Retention counts: E - N > S (more kept customers than there were at the start).
        public static let retainedExceedsStart = Code(rawValue: "retainedExceedsStart")
        /// A part exceeds its whole: returned > existing, lost > start, retained > total, repeat > customers.
        public static let partExceedsWhole = Code(rawValue: "partExceedsWhole")
        /// An activity window length (`activeWithin`) is zero or negative.
        public static let invalidActivityWindow = Code(rawValue: "invalidActivityWindow")
        /// A measurement window is empty (zero length), so nothing can be annualised over it.
        public static let emptyWindow = Code(rawValue: "emptyWindow")
        /// Summaries with purchases but no currency: minor units cannot be turned into major units.
        public static let missingCurrency = Code(rawValue: "missingCurrency")
        /// A sum of amounts overflows `Int64` minor units (summaries built outside an ``OrderLedger``).
        public static let amountOverflow = Code(rawValue: "amountOverflow")
        /// A comparison group has no members.
        public static let emptyGroup = Code(rawValue: "emptyGroup")
        /// A numeric parameter is out of its range (not finite, negative lifespan, margin outside 0...1,
        /// discount rate <= -1).
        public static let parameterOutOfRange = Code(rawValue: "parameterOutOfRange")
    }

    public var code: Code
    /// What was wrong, with the offending values.
    public var description: String

    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// Throws ``Code/negativeCount`` when any of the named counts is negative.
    static func requireNonNegative(_ counts: KeyValuePairs<String, Int>) throws {
        for (name, value) in counts where value < 0 {
            throw MetricError(.negativeCount, "\(name) is negative (\(value))")
        }
    }
}
