/// The share of the customers on the books at the start of a period who are gone at its end.
///
/// Two forms, both kept:
///
///     direct:     rate = lost / S                  (lost = active at start, not active at end)
///     complement: retentionComplement = 1 - (E - N) / S
///
/// The direct form lies in 0...1 and equals 1 - ``PeriodRetention/cohortRate``. The complement of seed 001's
/// retention rate nets reactivated customers against lost ones, so it is smaller, and negative when more
/// lapsed customers came back than active ones left. Both are equal when nobody was reactivated.
///
/// ```swift
/// let churn = try ChurnRate(start: 200, lost: 30)
/// churn.rate                                                   // 0.15
/// ChurnRate.complement(of: try RetentionRate(start: 50_000, new: 1_000, end: 40_000))   // 0.22
/// ```
public struct ChurnRate: Hashable, Sendable, Codable {
    /// S: customers active at the start.
    public let start: Int
    /// Customers active at the start and not at the end.
    public let lost: Int
    /// lost / S; `nil` when S = 0.
    public let rate: Double?
    /// 1 - (E - N) / S when the churn was measured from orders (``init(_:)``); `nil` when S = 0 or when only
    /// `start` and `lost` were given.
    public let retentionComplement: Double?

    /// The direct churn rate from counts.
    ///
    ///     rate = lost / start
    ///
    /// ```swift
    /// try ChurnRate(start: 200, lost: 30).rate   // 0.15
    /// ```
    ///
    /// - Parameters:
    ///   - start: Customers active at the start.
    ///   - lost: Of them, those not active at the end.
    /// - Throws: ``MetricError/Code/negativeCount``, or ``MetricError/Code/partExceedsWhole`` when lost > start.
    /// - Complexity: O(1).
    public init(start: Int, lost: Int) throws {
        try MetricError.requireNonNegative(["start": start, "lost": lost])
        guard lost <= start else {
            throw MetricError(.partExceedsWhole, "lost customers (\(lost)) exceed customers at the start (\(start))")
        }
        self.start = start
        self.lost = lost
        self.rate = ratio(lost, start)
        self.retentionComplement = nil
    }

    /// Both forms from a retention measured on orders.
    ///
    ///     rate = retention.lostRate      retentionComplement = retention.churnRate
    ///
    /// ```swift
    /// let churn = ChurnRate(try PeriodRetention(ledger, period: q1, activeWithin: 90 * 86_400))
    /// ```
    ///
    /// - Parameter retention: The period's retention.
    /// - Complexity: O(1).
    public init(_ retention: PeriodRetention) {
        start = retention.start
        lost = retention.lost
        rate = retention.lostRate
        retentionComplement = retention.churnRate
    }

    /// Both forms over `period` from a ledger: ``PeriodRetention`` then ``init(_:)``.
    ///
    /// ```swift
    /// let churn = try ChurnRate(ledger, period: q1, activeWithin: 90 * 86_400)
    /// ```
    ///
    /// - Parameters:
    ///   - ledger: The order history.
    ///   - period: The half-open period `[start, end)`.
    ///   - activeWithin: Seconds of the activity window, or `nil` for "any time before" (then churn is 0).
    /// - Throws: ``MetricError/Code/invalidActivityWindow`` when `activeWithin <= 0`.
    /// - Complexity: O(*n*) in the number of orders.
    public init(_ ledger: OrderLedger, period: Range<Timestamp>, activeWithin: Int64?) throws {
        self.init(try PeriodRetention(ledger, period: period, activeWithin: activeWithin))
    }

    /// The complement form from counts: 1 - (E - N) / S.
    ///
    ///     complement = 1 - retention.rate
    ///
    /// ```swift
    /// ChurnRate.complement(of: try RetentionRate(start: 50_000, new: 1_000, end: 40_000))   // 0.22
    /// ```
    ///
    /// - Parameter retention: The retention rate from counts.
    /// - Returns: `retention.churnRate`; `nil` when S = 0.
    /// - Complexity: O(1).
    public static func complement(of retention: RetentionRate) -> Double? { retention.churnRate }
}
