/// The share of customers who bought at least twice in a window.
///
///     rate = customers with >= 2 purchases / customers with >= 1 purchase
///
/// Purchases are rows with amount >= 0; refund rows never count (a purchase and its refund is one purchase).
///
/// ```swift
/// let repeats = RepeatPurchaseRate(ledger.summaries(in: march..<april))   // 2 of 4 customers bought twice
/// repeats.rate                                                            // 0.5
/// ```
public struct RepeatPurchaseRate: Hashable, Sendable, Codable {
    /// Customers with at least one purchase in the window.
    public let customers: Int
    /// Customers with at least two purchases in the window.
    public let repeatCustomers: Int
    /// repeatCustomers / customers; `nil` when nobody bought in the window.
    public let rate: Double?

    /// The repeat-purchase rate from per-customer summaries (the core form).
    ///
    ///     rate = #{purchases >= 2} / #{purchases >= 1}
    ///
    /// ```swift
    /// RepeatPurchaseRate(ledger.summaries(in: march..<april)).rate   // 0.5
    /// ```
    ///
    /// - Parameter summaries: One summary per customer, restricted to the window.
    /// - Complexity: O(*n*) in the number of summaries.
    public init(_ summaries: CustomerSummaries) {
        var customers = 0
        var repeatCustomers = 0
        for summary in summaries.summaries where summary.purchases >= 1 {
            customers += 1
            if summary.purchases >= 2 { repeatCustomers += 1 }
        }
        self.customers = customers
        self.repeatCustomers = repeatCustomers
        self.rate = ratio(repeatCustomers, customers)
    }

    /// The repeat-purchase rate of `window` from a ledger.
    ///
    /// ```swift
    /// RepeatPurchaseRate(ledger, in: march..<april).rate
    /// ```
    ///
    /// - Parameters:
    ///   - ledger: The order history.
    ///   - window: The half-open window `[start, end)`; `nil` for all orders.
    /// - Complexity: O(*n*) in the number of orders.
    public init(_ ledger: OrderLedger, in window: Range<Timestamp>?) {
        self.init(ledger.summaries(in: window))
    }
}
