// The one place that decides which customers are "active" in which windows. Every set-based metric (retention,
// returning rates) asks these helpers, from a ledger (one pass over the rows) or from summaries (one pass per
// summary), and then only counts bits.

/// For each customer, one bit per condition: bit `i` is set when the customer meets condition `i`.
struct ActivityMasks {
    /// One mask per customer; customers meeting no condition may be missing or have a zero mask.
    var masks: [UInt32]

    /// Number of customers whose mask has every bit of `all` set and no bit of `none`.
    func count(all: UInt32, none: UInt32 = 0) -> Int {
        var total = 0
        for mask in masks where mask & (all | none) == all { total += 1 }
        return total
    }

    /// Masks from per-customer summaries: bit `i` is set when the customer's summary in `conditions[i].summaries`
    /// satisfies `conditions[i].test`. Customers are matched by id across the summaries.
    /// - Complexity: O(*n*) in the total number of summaries (hashing ids, unless all share one id array).
    init(_ conditions: [(summaries: CustomerSummaries, test: (CustomerSummary) -> Bool)]) {
        precondition(conditions.count <= 32, "at most 32 conditions")
        if let ids = conditions.first?.summaries.customerIDs,
            conditions.allSatisfy({ $0.summaries.customerIDs == ids })
        {
            // Summaries from one ledger share the ledger's id array: match by position.
            var masks = [UInt32](repeating: 0, count: ids.count)
            for (bit, condition) in conditions.enumerated() {
                for (index, summary) in condition.summaries.summaries.enumerated() where condition.test(summary) {
                    masks[index] |= 1 << UInt32(bit)
                }
            }
            self.masks = masks
            return
        }
        var byID: [String: UInt32] = [:]
        for (bit, condition) in conditions.enumerated() {
            for (id, summary) in zip(condition.summaries.customerIDs, condition.summaries.summaries)
            where condition.test(summary) {
                byID[id, default: 0] |= 1 << UInt32(bit)
            }
        }
        self.masks = Array(byID.values)
    }

    /// Masks from a ledger in one pass: bit `i` is set when the customer has a purchase (amount >= 0) whose
    /// instant lies in `windows[i]`. Refund rows never set a bit.
    /// - Complexity: O(*n* x *k*) for *n* rows and *k* windows.
    init(_ ledger: OrderLedger, purchasedIn windows: [Range<Timestamp>]) {
        precondition(windows.count <= 32, "at most 32 windows")
        let bounds = windows.map { ($0.lowerBound.secondsSince1970, $0.upperBound.secondsSince1970) }
        var masks = [UInt32](repeating: 0, count: ledger.customerCount)
        for row in 0..<ledger.count where ledger.amountColumn[row] >= 0 {
            let instant = ledger.timestampColumn[row]
            var bits: UInt32 = 0
            for (bit, (low, high)) in bounds.enumerated() where instant >= low && instant < high {
                bits |= 1 << UInt32(bit)
            }
            masks[Int(ledger.customerColumn[row])] |= bits
        }
        self.masks = masks
    }
}

extension Timestamp {
    /// The earliest representable instant, the start of "any time before": `.distantPast..<start`.
    public static let distantPast = Timestamp(secondsSince1970: .min)
}

/// The activity window of instant `t`: `[t - activeWithin, t)`, or every instant before `t` when `activeWithin` is
/// `nil`. A customer is *active at t* when they have a purchase in this window.
/// - Throws: ``MetricError/Code/invalidActivityWindow`` when `activeWithin <= 0`.
func activityWindow(before instant: Timestamp, within activeWithin: Int64?) throws -> Range<Timestamp> {
    guard let activeWithin else { return Timestamp.distantPast..<instant }
    guard activeWithin > 0 else {
        throw MetricError(.invalidActivityWindow, "activeWithin must be positive seconds, got \(activeWithin)")
    }
    let (low, overflow) = instant.secondsSince1970.subtractingReportingOverflow(activeWithin)
    return Timestamp(secondsSince1970: overflow ? .min : low)..<instant
}

/// `part / whole`, or `nil` when `whole` is zero.
func ratio(_ part: Int, _ whole: Int) -> Double? {
    whole == 0 ? nil : Double(part) / Double(whole)
}

/// Purchases, purchasers and money summed over customers.
struct PurchaseTotals {
    /// Purchase rows (amount >= 0).
    var purchases = 0
    /// Customers with at least one purchase.
    var purchasers = 0
    /// Purchase amounts plus, under ``RefundPolicy/net``, refund amounts; minor units.
    var revenue: Int64 = 0
    /// Whether `revenue` overflowed `Int64` (never for summaries of an ``OrderLedger``, whose absolute total
    /// fits); `revenue` is then meaningless.
    var revenueOverflowed = false
}

extension CustomerSummaries {
    /// Totals over all customers, with money under `policy`.
    func totals(_ policy: RefundPolicy) -> PurchaseTotals {
        var totals = PurchaseTotals()
        for summary in summaries {
            totals.purchases += summary.purchases
            if summary.hasPurchases { totals.purchasers += 1 }
            let (sum, overflow) = totals.revenue.addingReportingOverflow(summary.revenue(policy))
            totals.revenue = sum
            totals.revenueOverflowed = totals.revenueOverflowed || overflow
        }
        return totals
    }
}
