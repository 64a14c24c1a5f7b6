/// Of the customers who bought before a period, the share who bought again inside it (seed 001's worked example).
///
///     rate = returned / existing
///
/// existing = customers with a purchase before the period start (any time, or within `activeWithin` of it);
/// returned = those of them with a purchase in the period. A first-time buyer inside the period is not in the
/// cohort at all.
///
/// ```swift
/// let returning = try ReturningRate(existing: 2_000, returned: 900)
/// returning.rate   // 0.45
/// ```
public struct ReturningRate: Hashable, Sendable, Codable {
    /// Customers with a purchase before the period (within the activity window).
    public let existing: Int
    /// Of them, customers with a purchase in the period.
    public let returned: Int
    /// returned / existing; `nil` when there are no existing customers.
    public let rate: Double?

    /// The returning rate from counts.
    ///
    ///     rate = returned / existing
    ///
    /// ```swift
    /// try ReturningRate(existing: 2_000, returned: 900).rate   // 0.45
    /// ```
    ///
    /// - Parameters:
    ///   - existing: Customers in the cohort (bought before the period).
    ///   - returned: Of them, those who bought in the period.
    /// - Throws: ``MetricError/Code/negativeCount``, or ``MetricError/Code/partExceedsWhole`` when
    ///   returned > existing.
    /// - Complexity: O(1).
    public init(existing: Int, returned: Int) throws {
        try MetricError.requireNonNegative(["existing": existing, "returned": returned])
        guard returned <= existing else {
            throw MetricError(
                .partExceedsWhole, "returned customers (\(returned)) exceed existing customers (\(existing))")
        }
        self.existing = existing
        self.returned = returned
        self.rate = ratio(returned, existing)
    }

    /// The returning rate from per-customer summaries (the core form).
    ///
    ///     existing = purchasers in `before`, returned = existing ∩ purchasers in `during`
    ///
    /// ```swift
    /// let rate = ReturningRate(before: ledger.summaries(in: .distantPast..<start),
    ///                          during: ledger.summaries(in: start..<end))
    /// ```
    ///
    /// - Parameters:
    ///   - before: Summaries of the orders before the period (in the activity window, e.g. `[start - w, start)`).
    ///   - during: Summaries of the orders in the period `[start, end)`.
    /// - Complexity: O(*n*) in the number of summaries.
    public init(before: CustomerSummaries, during: CustomerSummaries) {
        self.init(ActivityMasks([(before, { $0.hasPurchases }), (during, { $0.hasPurchases })]))
    }

    /// The returning rate over `period` from a ledger, in one pass.
    ///
    /// ```swift
    /// let rate = try ReturningRate(ledger, period: january..<march)            // cohort: anyone before January
    /// let recent = try ReturningRate(ledger, period: january..<march, activeWithin: 365 * 86_400)
    /// ```
    ///
    /// - Parameters:
    ///   - ledger: The order history.
    ///   - period: The half-open period `[start, end)`.
    ///   - activeWithin: Seconds before the start in which the cohort must have bought; `nil` for any time.
    /// - Throws: ``MetricError/Code/invalidActivityWindow`` when `activeWithin <= 0`.
    /// - Complexity: O(*n*) in the number of orders.
    public init(_ ledger: OrderLedger, period: Range<Timestamp>, activeWithin: Int64? = nil) throws {
        let before = try activityWindow(before: period.lowerBound, within: activeWithin)
        self.init(ActivityMasks(ledger, purchasedIn: [before, period]))
    }

    /// Counts from masks with bit 0 = bought before, bit 1 = bought during.
    private init(_ activity: ActivityMasks) {
        existing = activity.count(all: 0b01)
        returned = activity.count(all: 0b11)
        rate = ratio(returned, existing)
    }
}
