/// How much more a repeat purchase is worth than a first purchase (seeds 001 and 003: "existing customers spend
/// 31% more", "loyal customers' basket is 69% higher").
///
///     uplift = AOV(repeat purchases) / AOV(first purchases) - 1
///
/// A customer's first purchases are all their purchases at the instant of their first purchase (usually one);
/// every later purchase is a repeat purchase. Amounts are gross purchase amounts: a refund row cannot be
/// attributed to a first or a repeat purchase, so refunds are left out (there is no ``RefundPolicy`` here).
///
/// ```swift
/// let uplift = SpendUplift(ledger.summaries())   // first purchases average 20.00, repeats 26.20
/// uplift.value                                   // 0.31
/// ```
public struct SpendUplift: Hashable, Sendable, Codable {
    /// First purchases (all purchases at each customer's first purchase instant).
    public let firstPurchases: Int
    /// Their amount, minor units.
    public let firstAmount: Int64
    /// Purchases after each customer's first purchase instant.
    public let repeatPurchases: Int
    /// Their amount, minor units.
    public let repeatAmount: Int64
    /// (repeatAmount / repeatPurchases) / (firstAmount / firstPurchases) - 1; `nil` when either side has no
    /// purchases or first purchases sum to zero.
    public let value: Double?

    /// The uplift of all-time per-customer summaries (the core form).
    ///
    ///     first  = Σ firstInstantPurchases, Σ firstInstantAmount
    ///     repeat = Σ (purchases - firstInstantPurchases), Σ (purchaseAmount - firstInstantAmount)
    ///
    /// ```swift
    /// SpendUplift(ledger.summaries()).value   // 0.31
    /// ```
    ///
    /// - Parameter summaries: One summary per customer over all their orders (a customer's first purchase must
    ///   be in the summarised orders for "first" to mean first ever).
    /// - Complexity: O(*n*) in the number of summaries.
    public init(_ summaries: CustomerSummaries) {
        var first = (purchases: 0, amount: Int64(0))
        var later = (purchases: 0, amount: Int64(0))
        for summary in summaries.summaries where summary.hasPurchases {
            first.purchases += summary.firstInstantPurchases
            first.amount += summary.firstInstantAmount
            later.purchases += summary.purchases - summary.firstInstantPurchases
            later.amount += summary.purchaseAmount - summary.firstInstantAmount
        }
        firstPurchases = first.purchases
        firstAmount = first.amount
        repeatPurchases = later.purchases
        repeatAmount = later.amount
        if first.purchases > 0, later.purchases > 0, first.amount != 0 {
            // (R / r) / (F / f) - 1 = (R x f) / (F x r) - 1, one division.
            let numerator = Double(later.amount) * Double(first.purchases)
            value = numerator / (Double(first.amount) * Double(later.purchases)) - 1
        } else {
            value = nil
        }
    }

    /// The uplift over a ledger's whole history.
    ///
    /// ```swift
    /// SpendUplift(ledger).value
    /// ```
    ///
    /// - Parameter ledger: The order history.
    /// - Complexity: O(*n*) in the number of orders.
    public init(_ ledger: OrderLedger) {
        self.init(ledger.summaries())
    }
}
