/// The customer retention rate of a period from three counts, as seed 001 defines it.
///
///     rate      = (E - N) / S
///     churnRate = 1 - rate
///
/// S = customers at the start of the period, N = new customers acquired during it, E = customers at its end.
/// E - N are the customers at the end who were already there at the start (``retained``).
///
/// ```swift
/// let retention = try RetentionRate(start: 50_000, new: 1_000, end: 40_000)
/// retention.retained    // 39_000
/// retention.rate        // 0.78   (seed 001 prints 81%: it computed 40,000 / 49,000; see the guide)
/// retention.churnRate   // 0.22
/// ```
///
/// From an order history, use ``PeriodRetention``, which also separates reactivated customers from retained ones.
public struct RetentionRate: Hashable, Sendable, Codable {
    /// S: customers at the start of the period.
    public let start: Int
    /// N: customers acquired during the period.
    public let new: Int
    /// E: customers at the end of the period.
    public let end: Int
    /// E - N: customers at the end who were there at the start.
    public let retained: Int
    /// (E - N) / S; `nil` when S = 0.
    public let rate: Double?
    /// 1 - rate, computed as (S - (E - N)) / S so that it is exact to the last bit; `nil` when S = 0.
    public let churnRate: Double?

    /// Computes the retention rate from the three counts.
    ///
    ///     rate = (E - N) / S
    ///
    /// ```swift
    /// try RetentionRate(start: 50_000, new: 1_000, end: 40_000).rate   // 0.78
    /// try RetentionRate(start: 0, new: 10, end: 10).rate               // nil: no customers at the start
    /// ```
    ///
    /// - Parameters:
    ///   - start: S, customers at the start of the period.
    ///   - new: N, customers acquired during the period (all of them still counted in E).
    ///   - end: E, customers at the end of the period.
    /// - Throws: ``MetricError`` ``MetricError/Code/negativeCount`` for a negative count,
    ///   ``MetricError/Code/newExceedsEnd`` when N > E, ``MetricError/Code/retainedExceedsStart`` when E - N > S.
    /// - Complexity: O(1).
    public init(start: Int, new: Int, end: Int) throws {
        try MetricError.requireNonNegative(["start": start, "new": new, "end": end])
        guard new <= end else {
            throw MetricError(.newExceedsEnd, "new customers (\(new)) exceed customers at the end (\(end))")
        }
        guard end - new <= start else {
            throw MetricError(
                .retainedExceedsStart,
                "customers kept (end \(end) - new \(new) = \(end - new)) exceed customers at the start (\(start))")
        }
        self.start = start
        self.new = new
        self.end = end
        self.retained = end - new
        self.rate = ratio(end - new, start)
        // (S - (E - N)) / S rather than 1 - rate: the same value, without the rounding of the subtraction
        // (1 - 0.78 is 0.21999999999999997; 11,000 / 50,000 is 0.22).
        self.churnRate = ratio(start - (end - new), start)
    }
}

/// Retention over a period `[start, end)` measured from orders: who was on the books at the start, who at the
/// end, who was acquired in between.
///
/// A customer is *on the books* (active) at instant t when they have a purchase in `[t - activeWithin, t)`
/// (any time before t when `activeWithin` is `nil`). Refund rows are never purchases.
///
///     S = active at start           E = active at end
///     new         = |E ∩ first purchase ever in [start, end)|
///     retained    = |S ∩ E|         lost = |S \ E|
///     reactivated = |E \ S| - new   (back after lapsing: bought before the window, not in it, then again)
///     rate        = (E - new) / S = (retained + reactivated) / S
///     cohortRate  = retained / S    churnRate = 1 - rate    lostRate = lost / S = 1 - cohortRate
///
/// `rate` is seed 001's (E - N) / S; it counts reactivated customers as kept, so it can exceed `cohortRate` and
/// even 1 (and `churnRate` can then be negative). `cohortRate` follows the customers of S only.
///
/// With `activeWithin == nil` nobody can lapse (a purchase "any time before" stays one), so lost = reactivated = 0
/// and every rate is 1 whenever S > 0: pass a window (for example 365 days) for a meaningful figure, or use
/// ``ReturningRate`` for seed 001's "did the existing customers buy again" question.
///
/// ```swift
/// let retention = try PeriodRetention(ledger, period: january..<april, activeWithin: 90 * 86_400)
/// retention.start, retention.retained, retention.lost   // (4, 2, 2)
/// retention.cohortRate                                   // 0.5
/// ```
public struct PeriodRetention: Hashable, Sendable, Codable {
    /// S: customers active at the period start.
    public let start: Int
    /// N: customers whose first purchase ever is in the period and who are active at the end.
    public let new: Int
    /// Customers whose first purchase ever is in the period, active at the end or not (`new` <= `acquired`;
    /// equal when `activeWithin` is `nil` or at least the period length).
    public let acquired: Int
    /// E: customers active at the period end.
    public let end: Int
    /// |S ∩ E|.
    public let retained: Int
    /// Active at the end, not at the start, and not new.
    public let reactivated: Int
    /// |S \ E|.
    public let lost: Int
    /// (E - N) / S; `nil` when S = 0.
    public let rate: Double?
    /// retained / S; `nil` when S = 0.
    public let cohortRate: Double?
    /// 1 - rate, computed as (S - (E - N)) / S; `nil` when S = 0.
    public let churnRate: Double?
    /// lost / S; `nil` when S = 0.
    public let lostRate: Double?

    /// The windows whose per-customer summaries the summaries initializer needs, for pushing the aggregation
    /// down to a database: purchases in `atStart` make a customer active at the start, in `atEnd` at the end.
    ///
    ///     atStart = [start - activeWithin, start)     atEnd = [end - activeWithin, end)
    ///
    /// With `activeWithin == nil` the windows start at the earliest representable instant.
    /// - Throws: ``MetricError/Code/invalidActivityWindow`` when `activeWithin <= 0`.
    /// - Complexity: O(1).
    public static func summaryWindows(
        period: Range<Timestamp>, activeWithin: Int64?
    ) throws -> (atStart: Range<Timestamp>, atEnd: Range<Timestamp>) {
        (
            try activityWindow(before: period.lowerBound, within: activeWithin),
            try activityWindow(before: period.upperBound, within: activeWithin)
        )
    }

    /// Retention over `period` from per-customer summaries (the core form; a database can compute the summaries).
    ///
    ///     S = customers with a purchase in atStart, E = with a purchase in atEnd,
    ///     acquired = customers whose allTime.firstPurchase is in period
    ///
    /// ```swift
    /// let (atStart, atEnd) = try PeriodRetention.summaryWindows(period: period, activeWithin: 90 * 86_400)
    /// let retention = PeriodRetention(
    ///     period: period, atStart: ledger.summaries(in: atStart), atEnd: ledger.summaries(in: atEnd),
    ///     allTime: ledger.summaries())
    /// ```
    ///
    /// - Parameters:
    ///   - period: The half-open period `[start, end)`.
    ///   - atStart: Summaries of the orders in the start window (see ``summaryWindows(period:activeWithin:)``).
    ///   - atEnd: Summaries of the orders in the end window.
    ///   - allTime: Summaries of all orders (at least all before `period.upperBound`), for first purchases.
    /// - Complexity: O(*n*) in the number of summaries.
    public init(
        period: Range<Timestamp>, atStart: CustomerSummaries, atEnd: CustomerSummaries, allTime: CustomerSummaries
    ) {
        let firstIn = period.lowerBound.secondsSince1970..<period.upperBound.secondsSince1970
        self.init(
            ActivityMasks([
                (atStart, { $0.hasPurchases }),
                (atEnd, { $0.hasPurchases }),
                (allTime, { $0.firstPurchase.map(firstIn.contains) ?? false }),
            ]))
    }

    /// Retention over `period` from a ledger, in one pass over its rows.
    ///
    /// ```swift
    /// let retention = try PeriodRetention(ledger, period: period, activeWithin: 365 * 86_400)
    /// ```
    ///
    /// - Parameters:
    ///   - ledger: The order history.
    ///   - period: The half-open period `[start, end)`.
    ///   - activeWithin: Seconds of the activity window, or `nil` for "any time before".
    /// - Throws: ``MetricError/Code/invalidActivityWindow`` when `activeWithin <= 0`.
    /// - Complexity: O(*n*) in the number of orders.
    public init(_ ledger: OrderLedger, period: Range<Timestamp>, activeWithin: Int64?) throws {
        let (atStart, atEnd) = try PeriodRetention.summaryWindows(period: period, activeWithin: activeWithin)
        var activity = ActivityMasks(ledger, purchasedIn: [atStart, atEnd, period, .distantPast..<period.lowerBound])
        // bit 2: first purchase in the period = a purchase in it (4) and none before it (8).
        for index in activity.masks.indices {
            let mask = activity.masks[index]
            activity.masks[index] = mask & 0b11 | (mask & 0b1100 == 0b0100 ? 0b100 : 0)
        }
        self.init(activity)
    }

    /// Counts from masks with bit 0 = active at start, bit 1 = active at end, bit 2 = first purchase in period.
    private init(_ activity: ActivityMasks) {
        let (atStart, atEnd, acquired): (UInt32, UInt32, UInt32) = (0b001, 0b010, 0b100)
        start = activity.count(all: atStart)
        end = activity.count(all: atEnd)
        self.acquired = activity.count(all: acquired, none: atStart)
        new = activity.count(all: atEnd | acquired, none: atStart)
        retained = activity.count(all: atStart | atEnd)
        lost = activity.count(all: atStart, none: atEnd)
        reactivated = activity.count(all: atEnd, none: atStart | acquired)
        rate = ratio(end - new, start)
        cohortRate = ratio(retained, start)
        churnRate = ratio(start - (end - new), start)
        lostRate = ratio(lost, start)
    }
}
