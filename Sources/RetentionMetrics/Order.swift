/// One order (or refund) of one customer.
///
/// The amount is exact: `Int64` minor units of ``currency``. A negative amount is a refund; see ``RefundPolicy``
/// for how refunds enter the metrics.
public struct Order: Hashable, Sendable, Codable {
    /// The shop's order identifier; unique within a ledger or store.
    public var id: String
    /// The shop's customer identifier.
    public var customerID: String
    /// When the order was placed.
    public var timestamp: Timestamp
    /// The amount in minor units of `currency`; negative for a refund.
    public var amount: Int64
    public var currency: Currency

    public init(id: String, customerID: String, timestamp: Timestamp, amount: Int64, currency: Currency = .usd) {
        self.id = id
        self.customerID = customerID
        self.timestamp = timestamp
        self.amount = amount
        self.currency = currency
    }

    /// The amount as ``Money``.
    public var money: Money { Money(minorUnits: amount, currency: currency) }

    /// Whether this row is a refund (negative amount) rather than a purchase.
    public var isRefund: Bool { amount < 0 }
}

/// How rows with a negative amount (refunds) enter the metrics.
///
/// A refund is never a purchase: it does not count as an order, does not make a customer active, and does not
/// start a cohort. The policy only decides what it does to money.
public enum RefundPolicy: String, Sendable, Codable, CaseIterable {
    /// Refunds reduce revenue and the customer's monetary value (net revenue). The default.
    case net
    /// Refunds are ignored entirely (gross revenue).
    case exclude
}
