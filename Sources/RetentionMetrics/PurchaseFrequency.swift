/// Purchase frequency: purchases per purchasing customer in a window, and the same rate over a year.
///
///     value      = orders / customers
///     annualized = value x 365.2425 / windowDays       windowDays = window length in seconds / 86,400
///
/// Orders are purchase rows (amount >= 0); customers are those with at least one purchase in the window, so
/// `value >= 1` whenever it is defined. The window length is measured in elapsed seconds (a 23-hour DST day
/// counts as 23/24 of a day); 365.2425 is the mean Gregorian year.
///
/// ```swift
/// let frequency = try PurchaseFrequency(orders: 6, customers: 4, window: march1..<march31)   // 30 days
/// frequency.value        // 1.5
/// frequency.annualized   // 18.262125 = 1.5 x 365.2425 / 30
/// ```
public struct PurchaseFrequency: Hashable, Sendable, Codable {
    /// Purchases in the window.
    public let orders: Int
    /// Customers with at least one purchase in the window.
    public let customers: Int
    /// The window length in days of 86,400 seconds.
    public let windowDays: Double
    /// orders / customers; `nil` when nobody bought.
    public let value: Double?
    /// value x 365.2425 / windowDays; `nil` when nobody bought.
    public let annualized: Double?

    /// The purchase frequency from counts.
    ///
    ///     value = orders / customers      annualized = value x 365.2425 / windowDays
    ///
    /// ```swift
    /// try PurchaseFrequency(orders: 6, customers: 4, window: march1..<march31).annualized   // 18.262125
    /// ```
    ///
    /// - Parameters:
    ///   - orders: Purchases in the window.
    ///   - customers: Customers with at least one purchase in the window.
    ///   - window: The half-open window `[start, end)` the counts were taken over.
    /// - Throws: ``MetricError/Code/negativeCount``; ``MetricError/Code/partExceedsWhole`` when there are
    ///   fewer orders than customers; ``MetricError/Code/emptyWindow`` when the window has zero length.
    /// - Complexity: O(1).
    public init(orders: Int, customers: Int, window: Range<Timestamp>) throws {
        try MetricError.requireNonNegative(["orders": orders, "customers": customers])
        guard orders >= customers else {
            throw MetricError(.partExceedsWhole, "customers (\(customers)) exceed their orders (\(orders))")
        }
        guard !window.isEmpty else {
            throw MetricError(.emptyWindow, "cannot annualise over the empty window at \(window.lowerBound)")
        }
        let seconds = Double(window.upperBound.secondsSince1970) - Double(window.lowerBound.secondsSince1970)
        self.orders = orders
        self.customers = customers
        self.windowDays = seconds / 86_400
        self.value = ratio(orders, customers)
        // 365.2425 days x 86,400 s = 31,556,952 s, the mean Gregorian year.
        self.annualized = value.map { $0 * 31_556_952 / seconds }
    }

    /// The purchase frequency of per-customer summaries taken over `window` (the core form).
    ///
    /// ```swift
    /// try PurchaseFrequency(ledger.summaries(in: window), window: window).value
    /// ```
    ///
    /// - Parameters:
    ///   - summaries: One summary per customer, restricted to `window`.
    ///   - window: The half-open window the summaries cover.
    /// - Throws: ``MetricError/Code/emptyWindow`` when the window has zero length.
    /// - Complexity: O(*n*) in the number of summaries.
    public init(_ summaries: CustomerSummaries, window: Range<Timestamp>) throws {
        let totals = summaries.totals(.exclude)
        try self.init(orders: totals.purchases, customers: totals.purchasers, window: window)
    }

    /// The purchase frequency of `window` from a ledger.
    ///
    /// ```swift
    /// try PurchaseFrequency(ledger, in: year2024).annualized
    /// ```
    ///
    /// - Parameters:
    ///   - ledger: The order history.
    ///   - window: The half-open window `[start, end)`.
    /// - Throws: ``MetricError/Code/emptyWindow`` when the window has zero length.
    /// - Complexity: O(*n*) in the number of orders.
    public init(_ ledger: OrderLedger, in window: Range<Timestamp>) throws {
        try self.init(ledger.summaries(in: window), window: window)
    }
}
