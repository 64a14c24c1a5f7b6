/// Average order value: revenue per purchase.
///
///     value = revenue / orders        (major units: revenue / (orders x 10^minorUnitDigits))
///
/// Orders are purchase rows (amount >= 0); a refund row is never an order. Revenue follows the ``RefundPolicy``:
/// `.net` (the default) subtracts refunds, `.exclude` ignores them. Under `.net` the value can be negative when
/// refunds in the window exceed purchases in it.
///
/// ```swift
/// let aov = try AverageOrderValue(ledger, in: march..<april, refunds: .exclude)   // 3 orders, 76.11 USD
/// aov.revenue   // 7_611 (cents)
/// aov.value     // 25.37 (dollars)
/// ```
public struct AverageOrderValue: Hashable, Sendable, Codable {
    /// Purchases (orders with amount >= 0).
    public let orders: Int
    /// Revenue under the refund policy, minor units.
    public let revenue: Int64
    /// The currency of `revenue`; `nil` only when there were no orders at all.
    public let currency: Currency?
    /// revenue / orders in major units (dollars, not cents); `nil` when there are no orders.
    public let value: Double?

    /// The average order value from totals.
    ///
    ///     value = revenue / (orders x 10^currency.minorUnitDigits)
    ///
    /// ```swift
    /// try AverageOrderValue(orders: 3, revenue: 7_611, currency: .usd).value   // 25.37
    /// ```
    ///
    /// - Parameters:
    ///   - orders: Number of purchases.
    ///   - revenue: Their revenue, minor units.
    ///   - currency: The currency of `revenue`.
    /// - Throws: ``MetricError/Code/negativeCount`` when `orders < 0`.
    /// - Complexity: O(1).
    public init(orders: Int, revenue: Int64, currency: Currency) throws {
        try MetricError.requireNonNegative(["orders": orders])
        self.init(checkedOrders: orders, revenue: revenue, currency: currency)
    }

    /// The average order value of per-customer summaries (the core form).
    ///
    ///     value = Σ revenue(policy) / Σ purchases
    ///
    /// ```swift
    /// try AverageOrderValue(ledger.summaries(in: march..<april)).value   // 25.37
    /// ```
    ///
    /// - Parameters:
    ///   - summaries: One summary per customer, restricted to the window.
    ///   - refunds: How refund rows enter revenue (default `.net`).
    /// - Throws: ``MetricError/Code/missingCurrency`` when there are purchases but no currency,
    ///   ``MetricError/Code/amountOverflow`` when revenue overflows `Int64`.
    /// - Complexity: O(*n*) in the number of summaries.
    public init(_ summaries: CustomerSummaries, refunds: RefundPolicy = .net) throws {
        let totals = summaries.totals(refunds)
        guard !totals.revenueOverflowed else {
            throw MetricError(.amountOverflow, "the summaries' revenue overflows Int64 minor units")
        }
        guard let currency = summaries.currency else {
            guard totals.purchases == 0, totals.revenue == 0 else {
                throw MetricError(.missingCurrency, "summaries have purchases but no currency")
            }
            self.init(checkedOrders: 0, revenue: 0, currency: nil)
            return
        }
        self.init(checkedOrders: totals.purchases, revenue: totals.revenue, currency: currency)
    }

    private init(checkedOrders orders: Int, revenue: Int64, currency: Currency?) {
        self.orders = orders
        self.revenue = revenue
        self.currency = currency
        // One rounding: the product is exact for any realistic order count.
        if let currency, orders > 0 {
            value = Double(revenue) / (Double(orders) * Double(currency.minorUnitsPerMajor))
        } else {
            value = nil
        }
    }

    /// The average order value of `window` from a ledger.
    ///
    /// ```swift
    /// try AverageOrderValue(ledger, in: march..<april, refunds: .exclude).value
    /// ```
    ///
    /// - Parameters:
    ///   - ledger: The order history.
    ///   - window: The half-open window `[start, end)`; `nil` for all orders.
    ///   - refunds: How refund rows enter revenue (default `.net`).
    /// - Throws: Never for a ledger in practice (see ``init(_:refunds:)``).
    /// - Complexity: O(*n*) in the number of orders.
    public init(_ ledger: OrderLedger, in window: Range<Timestamp>?, refunds: RefundPolicy = .net) throws {
        try self.init(ledger.summaries(in: window), refunds: refunds)
    }
}
