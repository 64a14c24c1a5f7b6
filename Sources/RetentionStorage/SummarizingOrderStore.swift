/// An ``OrderStore`` that computes per-customer aggregates itself (push-down), so that a database answers with
/// one row per customer instead of shipping every order.
///
/// Both requirements have scanning defaults, so an adapter can push down one and inherit the other. Results
/// must equal what the scan computes (the `OrderStoreConformance` suite checks it):
///
///     customerSummaries(placedIn: r)  ==  OrderLedger(orders in r).summaries(), customers without rows dropped
///     purchaseActivity(placedIn: r, unit: u, calendar: c)
///         ==  distinct (customerID, c.period(u, of: t)) over orders in r with amount >= 0
///
/// ```swift
/// let summaries = try await customerSummaries(from: store, placedIn: .allTime)   // pushes down when it can
/// ```
public protocol SummarizingOrderStore: OrderStore {
    /// One ``CustomerSummary`` per customer with at least one order (purchase or refund) in `range`, customers
    /// ascending by id as UTF-8 bytes; `currency` is `nil` when the range holds no order.
    func customerSummaries(placedIn range: Range<Timestamp>) async throws -> CustomerSummaries

    /// The distinct (customer, period) pairs of the purchases (amount >= 0) placed in `range`, periods of
    /// `unit` local to `calendar`'s time zone.
    func purchaseActivity(placedIn range: Range<Timestamp>, unit: PeriodUnit, calendar: PeriodCalendar) async throws
        -> PeriodActivity
}

extension SummarizingOrderStore {
    /// Default: scans the range (see ``OrderStore/scanCustomerSummaries(placedIn:batchSize:)``).
    public func customerSummaries(placedIn range: Range<Timestamp>) async throws -> CustomerSummaries {
        try await scanCustomerSummaries(placedIn: range)
    }

    /// Default: scans the range (see ``OrderStore/scanPurchaseActivity(placedIn:unit:calendar:batchSize:)``).
    public func purchaseActivity(placedIn range: Range<Timestamp>, unit: PeriodUnit, calendar: PeriodCalendar)
        async throws -> PeriodActivity
    {
        try await scanPurchaseActivity(placedIn: range, unit: unit, calendar: calendar)
    }
}

extension OrderStore {
    /// Per-customer summaries computed in Swift from the orders of `range`, read in batches.
    ///
    ///     summary(customer) = fold CustomerSummary.record over the customer's orders in range
    ///
    /// - Returns: The same value a ``SummarizingOrderStore`` must return: customers with at least one row,
    ///   ascending by id bytes.
    /// - Complexity: O(*n*) for *n* orders in the range; memory O(customers + `batchSize`).
    public func scanCustomerSummaries(placedIn range: Range<Timestamp>, batchSize: Int = 10_000) async throws
        -> CustomerSummaries
    {
        var position: [OrderKey: Int] = [:]
        var ids: [String] = []
        var summaries: [CustomerSummary] = []
        var currency: Currency?
        for try await batch in orders(placedIn: range, batchSize: batchSize) {
            for order in batch {
                currency = currency ?? order.currency
                let key = OrderKey(order.customerID)
                let index: Int
                if let existing = position[key] {
                    index = existing
                } else {
                    index = ids.count
                    position[key] = index
                    ids.append(order.customerID)
                    summaries.append(CustomerSummary())
                }
                summaries[index].record(timestamp: order.timestamp.secondsSince1970, amount: order.amount)
            }
        }
        let order = ids.indices.sorted { ids[$0].utf8.lexicographicallyPrecedes(ids[$1].utf8) }
        return CustomerSummaries(
            customerIDs: order.map { ids[$0] }, summaries: order.map { summaries[$0] }, currency: currency)
    }

    /// Purchase activity computed in Swift from the orders of `range`, read in batches.
    ///
    /// - Returns: The same value a ``SummarizingOrderStore`` must return.
    /// - Complexity: O(*n* + *p* log *p*) for *n* orders and *p* distinct (customer, period) pairs.
    public func scanPurchaseActivity(
        placedIn range: Range<Timestamp>, unit: PeriodUnit, calendar: PeriodCalendar, batchSize: Int = 10_000
    ) async throws -> PeriodActivity {
        var periods: [OrderKey: Set<Int64>] = [:]
        for try await batch in orders(placedIn: range, batchSize: batchSize) {
            for order in batch where order.amount >= 0 {
                periods[OrderKey(order.customerID), default: []].insert(
                    calendar.period(unit, of: order.timestamp).index)
            }
        }
        var builder = PeriodActivity.Builder(unit: unit, timeZoneIdentifier: calendar.identifier)
        for (customer, set) in periods.sorted(by: { $0.key < $1.key }) {
            for period in set.sorted() { builder.add(customerID: customer.value, periodIndex: period) }
        }
        return builder.build()
    }
}

/// Streams the orders of `range` from `store` into an ``OrderLedger``, one batch at a time.
///
/// ```swift
/// let ledger = try await loadLedger(from: store, placedIn: .allTime)
/// ledger.count   // every order of the store
/// ```
///
/// - Parameters:
///   - store: Any order store.
///   - range: Half-open interval of instants; every order by default.
///   - batchSize: Orders per read.
/// - Returns: A ledger of the range's orders, in store order (timestamp, then order id).
/// - Throws: The store's read errors, or ``LedgerError`` (e.g. two ids that differ as bytes but are
///   canonically equivalent Swift strings with different content).
/// - Complexity: O(*n*) for *n* orders; memory O(*n*) for the ledger plus one batch.
public func loadLedger(
    from store: some OrderStore, placedIn range: Range<Timestamp> = .allTime, batchSize: Int = 10_000
) async throws -> OrderLedger {
    var ledger = OrderLedger()
    for try await batch in store.orders(placedIn: range, batchSize: batchSize) {
        try ledger.append(contentsOf: batch)
    }
    return ledger
}

/// Per-customer summaries of the orders in `range`: pushed down to the store when it is a
/// ``SummarizingOrderStore``, computed by a scan otherwise.
///
/// - Returns: One summary per customer with a row in the range, ascending by customer id bytes.
/// - Complexity: the store's query, or O(*n*) reads.
public func customerSummaries(from store: some OrderStore, placedIn range: Range<Timestamp> = .allTime) async throws
    -> CustomerSummaries
{
    if let summarizing = store as? any SummarizingOrderStore {
        return try await summarizing.customerSummaries(placedIn: range)
    }
    return try await store.scanCustomerSummaries(placedIn: range)
}

/// Distinct (customer, period) purchase pairs of `range`: pushed down when the store can, scanned otherwise.
public func purchaseActivity(
    from store: some OrderStore, placedIn range: Range<Timestamp> = .allTime, unit: PeriodUnit,
    calendar: PeriodCalendar
) async throws -> PeriodActivity {
    if let summarizing = store as? any SummarizingOrderStore {
        return try await summarizing.purchaseActivity(placedIn: range, unit: unit, calendar: calendar)
    }
    return try await store.scanPurchaseActivity(placedIn: range, unit: unit, calendar: calendar)
}

extension RetentionReport {
    /// The report of a store's orders from per-customer rows: up to six summary queries (a range holding every
    /// order or none needs none) and one activity query, each
    /// pushed down to the store when it is a ``SummarizingOrderStore`` (one row per customer crosses over instead
    /// of one per order), scanned otherwise, plus two small reads for the first and last order instants.
    ///
    /// Equal to `RetentionReport(ledger of the store's orders, options:)` in every field except
    /// ``RetentionReport/revenueByPeriod``, which needs every order's period and is empty here (the tests compare
    /// the two on generated data in several time zones, windows and as-of days).
    ///
    /// ```swift
    /// let store = try SQLiteOrderStore(path: "shop.sqlite")
    /// let report = try await RetentionReport.pushedDown(from: store, options: .init(calendar: .utc))
    /// report.repeatPurchaseRate   // as from the ledger
    /// ```
    ///
    /// - Parameters:
    ///   - store: Any store.
    ///   - options: The report's options.
    /// - Throws: The store's errors; ``MetricError`` for invalid options (an empty window, as for an empty store).
    /// - Complexity: seven aggregate queries; memory O(customers), never O(orders).
    public static func pushedDown(from store: some OrderStore, options: Options = Options()) async throws
        -> RetentionReport
    {
        let allTime = try await customerSummaries(from: store, placedIn: .allTime)
        let dataRange = try await orderInstantRange(of: store, allTime: allTime)
        let (window, activeWithin, asOf, cohortEnd) = try pushDownRanges(dataRange: dataRange, options: options)
        let (startWindow, endWindow) = try PeriodRetention.summaryWindows(period: window, activeWithin: activeWithin)
        let beginning = Range<Timestamp>.allTime.lowerBound
        let calendar = options.calendar
        // A range holding every order has the all-time summaries, one holding none has none: no query for either.
        func summaries(_ range: Range<Timestamp>) async throws -> CustomerSummaries {
            guard let dataRange else { return allTime }
            let (low, high) = (range.lowerBound.secondsSince1970, range.upperBound.secondsSince1970)
            if low <= dataRange.lowerBound && high > dataRange.upperBound { return allTime }
            if high <= dataRange.lowerBound || low > dataRange.upperBound {
                return CustomerSummaries(customerIDs: [], summaries: [], currency: nil)
            }
            return try await customerSummaries(from: store, placedIn: range)
        }
        var upToAsOf = CustomerSummaries(customerIDs: [], summaries: [], currency: allTime.currency)
        var cohortActivity: [CohortActivity] = []
        if let asOf, let cohortEnd {
            upToAsOf = try await summaries(beginning..<calendar.startOfDay(asOf.adding(days: 1)))
            let activity = try await purchaseActivity(
                from: store, placedIn: beginning..<cohortEnd, unit: options.cohortUnit, calendar: calendar)
            cohortActivity.reserveCapacity(activity.pairCount)
            for (index, id) in activity.customerIDs.enumerated() {
                for period in activity.periods(ofCustomerAt: index) {
                    cohortActivity.append(
                        CohortActivity(customerID: id, period: Period(unit: activity.unit, index: period)))
                }
            }
        }
        let inputs = PushDownInputs(
            window: window, activeWithin: activeWithin, asOf: asOf, allTime: allTime,
            beforeWindow: try await summaries(beginning..<window.lowerBound),
            inWindow: try await summaries(window), atStart: try await summaries(startWindow),
            atEnd: try await summaries(endWindow),
            upToAsOf: upToAsOf, cohortActivity: cohortActivity)
        return try RetentionReport(pushedDown: inputs, options: options)
    }
}

/// The first and last order instants of a store, refund rows included; `nil` for an empty store.
///
/// Reads the first row in store order, the all-time summaries (pass them as `allTime` when you have them), and the
/// rows after the last purchase (only refunds can lie there): never every order.
///
/// - Complexity: one summary query plus the rows after the last purchase.
public func orderInstantRange(of store: some OrderStore, allTime: CustomerSummaries? = nil) async throws
    -> ClosedRange<Int64>?
{
    guard let first = try await store.orders(placedIn: .allTime, after: nil, limit: 1).first else { return nil }
    let summaries: CustomerSummaries
    if let allTime {
        summaries = allTime
    } else {
        summaries = try await customerSummaries(from: store, placedIn: .allTime)
    }
    var last = summaries.summaries.compactMap(\.lastPurchase).max() ?? first.timestamp.secondsSince1970
    let tail = Timestamp(secondsSince1970: last + 1)..<Range<Timestamp>.allTime.upperBound
    for try await batch in store.orders(placedIn: tail, batchSize: 10_000) {
        for order in batch { last = max(last, order.timestamp.secondsSince1970) }
    }
    return first.timestamp.secondsSince1970...last
}
