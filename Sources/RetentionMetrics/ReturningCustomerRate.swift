/// Of the customers who bought in a window, the share who had also bought any time before it (Shopify's
/// "returning customer rate").
///
///     rate = returning / customers
///
/// customers = customers with a purchase in the window; returning = those of them with a purchase before the
/// window start. Compare ``ReturningRate``, whose denominator is the customers *before* the window.
///
/// ```swift
/// let returning = try ReturningCustomerRate(customers: 40, returning: 10)
/// returning.rate   // 0.25
/// ```
public struct ReturningCustomerRate: Hashable, Sendable, Codable {
    /// Customers with a purchase in the window.
    public let customers: Int
    /// Of them, customers with a purchase before the window.
    public let returning: Int
    /// returning / customers; `nil` when nobody bought in the window.
    public let rate: Double?

    /// The returning-customer rate from counts.
    ///
    ///     rate = returning / customers
    ///
    /// ```swift
    /// try ReturningCustomerRate(customers: 40, returning: 10).rate   // 0.25
    /// ```
    ///
    /// - Parameters:
    ///   - customers: Customers with a purchase in the window.
    ///   - returning: Of them, those with a purchase before it.
    /// - Throws: ``MetricError/Code/negativeCount``, or ``MetricError/Code/partExceedsWhole`` when
    ///   returning > customers.
    /// - Complexity: O(1).
    public init(customers: Int, returning: Int) throws {
        try MetricError.requireNonNegative(["customers": customers, "returning": returning])
        guard returning <= customers else {
            throw MetricError(
                .partExceedsWhole, "returning customers (\(returning)) exceed customers (\(customers))")
        }
        self.customers = customers
        self.returning = returning
        self.rate = ratio(returning, customers)
    }

    /// The returning-customer rate from per-customer summaries (the core form).
    ///
    ///     customers = purchasers in `during`, returning = customers ∩ purchasers in `before`
    ///
    /// ```swift
    /// let rate = ReturningCustomerRate(before: ledger.summaries(in: .distantPast..<start),
    ///                                  during: ledger.summaries(in: start..<end))
    /// ```
    ///
    /// - Parameters:
    ///   - before: Summaries of all orders before the window start.
    ///   - during: Summaries of the orders in the window.
    /// - Complexity: O(*n*) in the number of summaries.
    public init(before: CustomerSummaries, during: CustomerSummaries) {
        self.init(ActivityMasks([(before, { $0.hasPurchases }), (during, { $0.hasPurchases })]))
    }

    /// The returning-customer rate of `window` from a ledger, in one pass.
    ///
    /// ```swift
    /// let rate = ReturningCustomerRate(ledger, in: march..<april)
    /// ```
    ///
    /// - Parameters:
    ///   - ledger: The order history.
    ///   - window: The half-open window `[start, end)`.
    /// - Complexity: O(*n*) in the number of orders.
    public init(_ ledger: OrderLedger, in window: Range<Timestamp>) {
        self.init(ActivityMasks(ledger, purchasedIn: [.distantPast..<window.lowerBound, window]))
    }

    /// Counts from masks with bit 0 = bought before, bit 1 = bought during.
    private init(_ activity: ActivityMasks) {
        customers = activity.count(all: 0b10)
        returning = activity.count(all: 0b11)
        rate = ratio(returning, customers)
    }
}
