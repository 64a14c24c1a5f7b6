/// Customer value: what an average purchasing customer spends per window and per year (seed 002's CV).
///
///     windowValue = AOV x f              (= revenue / customers over the window)
///     annualValue = AOV x f_annualized   (major units per customer per year)
///
/// ```swift
/// let value = try CustomerValue(ledger, in: march1..<march31)   // AOV 25.00, 6 orders by 4 customers
/// value.windowValue   // 37.5     = 25 x 1.5
/// value.annualValue   // 456.553125 = 25 x 18.262125
/// ```
public struct CustomerValue: Hashable, Sendable, Codable {
    /// The average order value over the window.
    public let averageOrderValue: AverageOrderValue
    /// The purchase frequency over the same window.
    public let frequency: PurchaseFrequency
    /// AOV x f, major units per customer per window; `nil` when nobody bought.
    public let windowValue: Double?
    /// AOV x annualized f, major units per customer per year; `nil` when nobody bought.
    public let annualValue: Double?

    /// Customer value from an average order value and a frequency over the same window.
    ///
    ///     windowValue = aov.value x frequency.value     annualValue = aov.value x frequency.annualized
    ///
    /// ```swift
    /// CustomerValue(averageOrderValue: aov, frequency: frequency).annualValue
    /// ```
    ///
    /// - Parameters:
    ///   - averageOrderValue: AOV over the window.
    ///   - frequency: Purchase frequency over the same window.
    /// - Complexity: O(1).
    public init(averageOrderValue: AverageOrderValue, frequency: PurchaseFrequency) {
        self.averageOrderValue = averageOrderValue
        self.frequency = frequency
        windowValue = averageOrderValue.value.flatMap { aov in frequency.value.map { aov * $0 } }
        annualValue = averageOrderValue.value.flatMap { aov in frequency.annualized.map { aov * $0 } }
    }

    /// Customer value of per-customer summaries taken over `window` (the core form).
    ///
    /// ```swift
    /// try CustomerValue(ledger.summaries(in: window), window: window).annualValue
    /// ```
    ///
    /// - Parameters:
    ///   - summaries: One summary per customer, restricted to `window`.
    ///   - window: The half-open window the summaries cover.
    ///   - refunds: How refund rows enter revenue (default `.net`).
    /// - Throws: The errors of ``AverageOrderValue/init(_:refunds:)`` and
    ///   ``PurchaseFrequency/init(_:window:)``.
    /// - Complexity: O(*n*) in the number of summaries.
    public init(_ summaries: CustomerSummaries, window: Range<Timestamp>, refunds: RefundPolicy = .net) throws {
        self.init(
            averageOrderValue: try AverageOrderValue(summaries, refunds: refunds),
            frequency: try PurchaseFrequency(summaries, window: window))
    }

    /// Customer value of `window` from a ledger.
    ///
    /// ```swift
    /// try CustomerValue(ledger, in: year2024).annualValue
    /// ```
    ///
    /// - Parameters:
    ///   - ledger: The order history.
    ///   - window: The half-open window `[start, end)`.
    ///   - refunds: How refund rows enter revenue (default `.net`).
    /// - Throws: ``MetricError/Code/emptyWindow`` when the window has zero length.
    /// - Complexity: O(*n*) in the number of orders.
    public init(_ ledger: OrderLedger, in window: Range<Timestamp>, refunds: RefundPolicy = .net) throws {
        try self.init(ledger.summaries(in: window), window: window, refunds: refunds)
    }
}
