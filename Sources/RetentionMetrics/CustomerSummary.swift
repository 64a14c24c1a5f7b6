/// What the metrics need to know about one customer over some set of orders, in constant space, and mergeable:
/// summaries of disjoint sets of the same customer's orders (shards, chunks, a database `GROUP BY`) combine with
/// ``merging(_:)`` into the summary of their union.
///
/// Purchases are rows with amount >= 0; refunds (amount < 0) are tracked apart and never count as purchases
/// (see ``RefundPolicy``).
public struct CustomerSummary: Hashable, Sendable, Codable {
    /// Number of purchases (orders with amount >= 0).
    public var purchases: Int = 0
    /// Sum of purchase amounts, minor units.
    public var purchaseAmount: Int64 = 0
    /// Instant of the first purchase (seconds since 1970); `nil` without purchases.
    public var firstPurchase: Int64?
    /// Instant of the last purchase; `nil` without purchases.
    public var lastPurchase: Int64?
    /// Purchases placed at the ``firstPurchase`` instant (usually 1).
    public var firstInstantPurchases: Int = 0
    /// Sum of the amounts of the purchases at the ``firstPurchase`` instant.
    public var firstInstantAmount: Int64 = 0
    /// Number of refund rows.
    public var refunds: Int = 0
    /// Sum of refund amounts (<= 0), minor units.
    public var refundAmount: Int64 = 0

    public init() {}

    /// Whether the customer made at least one purchase.
    public var hasPurchases: Bool { purchases > 0 }

    /// The customer's money under `policy`: purchases plus refunds (`.net`) or purchases only (`.exclude`).
    public func revenue(_ policy: RefundPolicy = .net) -> Int64 {
        policy == .net ? purchaseAmount + refundAmount : purchaseAmount
    }

    /// Adds one order row.
    @inline(__always)
    public mutating func record(timestamp: Int64, amount: Int64) {
        if amount < 0 {
            refunds += 1
            refundAmount += amount
            return
        }
        purchases += 1
        purchaseAmount += amount
        if let first = firstPurchase, first <= timestamp {
            if first == timestamp {
                firstInstantPurchases += 1
                firstInstantAmount += amount
            }
        } else {
            firstPurchase = timestamp
            firstInstantPurchases = 1
            firstInstantAmount = amount
        }
        if let last = lastPurchase, last >= timestamp {} else { lastPurchase = timestamp }
    }

    /// The summary of the union of the two summarised order sets (which must be disjoint).
    ///
    /// Merging is associative and commutative, with `CustomerSummary()` as identity.
    public func merging(_ other: CustomerSummary) -> CustomerSummary {
        var result = self
        result.purchases += other.purchases
        result.purchaseAmount += other.purchaseAmount
        result.refunds += other.refunds
        result.refundAmount += other.refundAmount
        switch (firstPurchase, other.firstPurchase) {
        case (nil, _):
            result.firstPurchase = other.firstPurchase
            result.firstInstantPurchases = other.firstInstantPurchases
            result.firstInstantAmount = other.firstInstantAmount
        case (_, nil): break
        case (let mine?, let theirs?):
            if theirs < mine {
                result.firstPurchase = theirs
                result.firstInstantPurchases = other.firstInstantPurchases
                result.firstInstantAmount = other.firstInstantAmount
            } else if theirs == mine {
                result.firstInstantPurchases += other.firstInstantPurchases
                result.firstInstantAmount += other.firstInstantAmount
            }
        }
        if let theirs = other.lastPurchase, theirs > (lastPurchase ?? .min) { result.lastPurchase = theirs }
        return result
    }
}

/// Per-customer summaries, one per customer id, in a fixed customer order.
public struct CustomerSummaries: Sendable, Codable, Hashable {
    /// Customer identifiers; `summaries[i]` belongs to `customerIDs[i]`.
    public var customerIDs: [String]
    public var summaries: [CustomerSummary]
    /// The currency of the amounts; `nil` when there were no orders.
    public var currency: Currency?

    public init(customerIDs: [String], summaries: [CustomerSummary], currency: Currency?) {
        precondition(customerIDs.count == summaries.count, "one summary per customer id")
        self.customerIDs = customerIDs
        self.summaries = summaries
        self.currency = currency
    }

    public var count: Int { summaries.count }

    /// Summaries of customers with at least one purchase, with their ids.
    public var purchasers: [(customerID: String, summary: CustomerSummary)] {
        zip(customerIDs, summaries).filter { $0.1.hasPurchases }.map { ($0.0, $0.1) }
    }

    /// Merges summaries of disjoint order sets (shards) by customer id. Customers keep the order in which they
    /// first appear (`self`'s first, then `other`'s new ones).
    /// - Precondition: both have the same currency, or one has none.
    public func merging(_ other: CustomerSummaries) -> CustomerSummaries {
        precondition(currency == nil || other.currency == nil || currency == other.currency, "mixed currencies")
        var ids = customerIDs
        var merged = summaries
        var position = [String: Int](minimumCapacity: ids.count)
        for (index, id) in ids.enumerated() { position[id] = index }
        for (id, summary) in zip(other.customerIDs, other.summaries) {
            if let index = position[id] {
                merged[index] = merged[index].merging(summary)
            } else {
                position[id] = ids.count
                ids.append(id)
                merged.append(summary)
            }
        }
        return CustomerSummaries(customerIDs: ids, summaries: merged, currency: currency ?? other.currency)
    }
}
