/// A live order history that answers a ``RetentionReport`` at any moment: record orders one at a time or in
/// batches as they arrive, ask for the report whenever needed.
///
///     report(options) == RetentionReport(OrderLedger(every order recorded so far), options: options)
///
/// ```swift
/// var tracker = RetentionTracker()
/// try tracker.record(Order(id: "1001", customerID: "alice", timestamp: t0, amount: 2_500))
/// try tracker.record(contentsOf: todaysOrders)
/// let report = try tracker.report(options: .init(calendar: .utc))
/// report.repeatPurchaseRate
/// ```
///
/// The tracker applies the ledger's rules (one currency, exact deduplication by order id, totals that fit in
/// `Int64`) and keeps the orders in columns with customers interned to dense numbers, so a report is one pass of
/// the fused kernel over the columns, with no copy and no re-interning.
///
/// - Complexity: ``record(_:)`` O(1) amortised (two hash look-ups); ``report(options:)`` O(*n* + *c*) for *n*
///   orders and *c* customers.
public struct RetentionTracker: Sendable {
    /// The currency of the recorded orders; `nil` while none is recorded.
    public private(set) var currency: Currency?
    /// Identical orders recorded again and ignored.
    public private(set) var duplicatesIgnored = 0

    private var customerIDs: [String] = []
    private var customerNumbers: [String: Int32] = [:]
    private var customerColumn: [Int32] = []
    private var timestampColumn: [Int64] = []
    private var amountColumn: [Int64] = []
    private var orderIDColumn: [String] = []
    private var rowOfOrderID: [String: Int32] = [:]
    private var absoluteTotal: Int64 = 0

    public init() {}

    /// Orders recorded (refund rows included, duplicates not).
    public var count: Int { timestampColumn.count }
    /// Distinct customers recorded.
    public var customerCount: Int { customerIDs.count }

    /// Records one order.
    ///
    ///     state' = state + order     (an identical order id recorded again is ignored)
    ///
    /// ```swift
    /// try tracker.record(order)            // .appended
    /// try tracker.record(order)            // .duplicateIgnored
    /// ```
    ///
    /// - Parameter order: The order or refund.
    /// - Returns: `.duplicateIgnored` when an identical order with the same id was already recorded.
    /// - Throws: ``LedgerError`` (`mixedCurrency`, `conflictingDuplicate`, `amountOverflow`), exactly as
    ///   ``OrderLedger/append(_:)``; the tracker is then unchanged.
    /// - Complexity: O(1) amortised.
    @discardableResult
    public mutating func record(_ order: Order) throws -> OrderLedger.AppendOutcome {
        if let currency, currency != order.currency {
            throw LedgerError(
                .mixedCurrency, orderID: order.id,
                "order \(order.id) is in \(order.currency.code) but the ledger is in \(currency.code)")
        }
        if let row = rowOfOrderID[order.id] {
            let index = Int(row)
            if customerIDs[Int(customerColumn[index])] == order.customerID,
                timestampColumn[index] == order.timestamp.secondsSince1970, amountColumn[index] == order.amount
            {
                duplicatesIgnored += 1
                return .duplicateIgnored
            }
            throw LedgerError(
                .conflictingDuplicate, orderID: order.id, "order id \(order.id) appears twice with different content")
        }
        let (total, overflow) = absoluteTotal.addingReportingOverflow(Int64(clamping: order.amount.magnitude))
        if overflow || order.amount == .min {
            throw LedgerError(
                .amountOverflow, orderID: order.id,
                "order \(order.id): the ledger's total amount would overflow Int64 minor units")
        }
        absoluteTotal = total
        currency = order.currency
        let number: Int32
        if let existing = customerNumbers[order.customerID] {
            number = existing
        } else {
            number = Int32(customerIDs.count)
            customerIDs.append(order.customerID)
            customerNumbers[order.customerID] = number
        }
        rowOfOrderID[order.id] = Int32(timestampColumn.count)
        orderIDColumn.append(order.id)
        customerColumn.append(number)
        timestampColumn.append(order.timestamp.secondsSince1970)
        amountColumn.append(order.amount)
        return .appended
    }

    /// Records a batch of orders in order; stops at the first error (orders before it stay recorded).
    ///
    /// ```swift
    /// try tracker.record(contentsOf: batch)
    /// ```
    ///
    /// - Parameter orders: The orders.
    /// - Throws: The first ``LedgerError`` of ``record(_:)``.
    /// - Complexity: O(*m*) amortised for *m* orders.
    public mutating func record(contentsOf orders: some Sequence<Order>) throws {
        let estimate = orders.underestimatedCount
        if estimate > 0 {
            customerColumn.reserveCapacity(count + estimate)
            timestampColumn.reserveCapacity(count + estimate)
            amountColumn.reserveCapacity(count + estimate)
            orderIDColumn.reserveCapacity(count + estimate)
        }
        for order in orders { try record(order) }
    }

    /// The report over every order recorded so far.
    ///
    ///     report(options) == RetentionReport(OrderLedger(recorded orders), options: options)
    ///
    /// ```swift
    /// let report = try tracker.report(options: .init(calendar: PeriodCalendar(identifier: "Europe/Berlin")!))
    /// ```
    ///
    /// - Parameter options: What to compute (time zone, window, cohort unit, RFM bins...).
    /// - Returns: The same value ``RetentionReport/init(_:options:)`` returns for a ledger of the same orders.
    /// - Throws: ``MetricError`` for invalid options, as ``RetentionReport/init(_:options:)``.
    /// - Complexity: O(*n* + *c*): one pass over the orders, one over the customers.
    public func report(options: RetentionReport.Options = .init()) throws -> RetentionReport {
        let columns = OrderColumns(
            customers: customerColumn, timestamps: timestampColumn, amounts: amountColumn,
            customerCount: customerIDs.count, currency: currency)
        if let report = try RetentionReport.fused(columns, options: options) { return report }
        return try RetentionReport(reference: ledger, options: options)
    }

    /// The recorded orders as an ``OrderLedger`` (in recording order).
    ///
    /// ```swift
    /// tracker.ledger.count == tracker.count   // true
    /// ```
    ///
    /// - Complexity: O(*n*).
    public var ledger: OrderLedger {
        var ledger = OrderLedger()
        let currency = currency ?? .usd
        for row in 0..<count {
            try! ledger.append(
                Order(
                    id: orderIDColumn[row], customerID: customerIDs[Int(customerColumn[row])],
                    timestamp: Timestamp(secondsSince1970: timestampColumn[row]), amount: amountColumn[row],
                    currency: currency))
        }
        return ledger
    }
}
