/// A compact, columnar, in-memory order history: customers interned to dense integers, timestamps and amounts
/// as `Int64` columns. The ledger is where every metric starts.
///
/// ```swift
/// var ledger = OrderLedger()
/// try ledger.append(Order(id: "1001", customerID: "alice", timestamp: t0, amount: 2_500))
/// try ledger.append(Order(id: "1002", customerID: "alice", timestamp: t1, amount: 1_200))
/// ledger.count            // 2
/// ledger.customerCount    // 1
/// ```
///
/// Rules, enforced on append:
/// - One currency per ledger (``LedgerError/Code/mixedCurrency``).
/// - Order ids are unique: re-appending an identical order is ignored and counted in ``duplicatesIgnored``;
///   a different order under an existing id is ``LedgerError/Code/conflictingDuplicate``.
/// - The sum of absolute amounts fits in `Int64`, so no total computed from the ledger can overflow
///   (``LedgerError/Code/amountOverflow``).
///
/// A failed append leaves the ledger unchanged.
public struct OrderLedger: Sendable {
    /// The ledger's currency; `nil` while it is empty.
    public private(set) var currency: Currency?
    /// Customer identifiers, indexed by the dense customer number used in ``customerColumn``.
    public private(set) var customerIDs: [String] = []
    /// Per order: the customer number (index into ``customerIDs``).
    public private(set) var customerColumn: [Int32] = []
    /// Per order: seconds since 1970.
    public private(set) var timestampColumn: [Int64] = []
    /// Per order: amount in minor units (negative for refunds).
    public private(set) var amountColumn: [Int64] = []
    /// Identical orders appended again and ignored.
    public private(set) var duplicatesIgnored: Int = 0

    /// Customer numbers by customer id: an open-addressing table of `number + 1`, keyed by ``IDHash``.
    private var customerIndex = IDHashTable()
    /// When every customer id follows one ``DigitPattern`` (`C0001234`), a bulk loader may hand over a direct
    /// table by integer key instead; ``customerIndex`` is then unused until an id breaks the pattern.
    private var numericCustomers: NumericIDIndex?
    /// Order ids by row: integers without a table when they arrive in order, otherwise hashed.
    private var orderIDs = OrderIDStore()
    private var absoluteTotal: Int64 = 0

    public init() {}

    /// A ledger of `orders`.
    /// - Throws: ``LedgerError`` for the first order that cannot be appended.
    public init(_ orders: some Sequence<Order>) throws {
        self.init()
        for order in orders { try append(order) }
    }

    /// Assembles a ledger from columns a bulk loader built (no validation beyond sizes; the loader has checked
    /// ids, currency and totals). `customerIndex` must have been built with ``IDHash`` over the customer ids'
    /// UTF-8 bytes, holding `number + 1`; `nil` builds it here.
    package init(
        currency: Currency?, customerIDs: [String], customerColumn: [Int32], timestampColumn: [Int64],
        amountColumn: [Int64], orderIDs: OrderIDStore, customerIndex: IDHashTable?, duplicatesIgnored: Int,
        absoluteTotal: Int64, numericCustomerIndex: NumericIDIndex? = nil
    ) {
        precondition(
            customerColumn.count == timestampColumn.count && amountColumn.count == timestampColumn.count
                && orderIDs.count == timestampColumn.count, "ledger columns must have equal lengths")
        self.currency = currency
        self.customerIDs = customerIDs
        self.customerColumn = customerColumn
        self.timestampColumn = timestampColumn
        self.amountColumn = amountColumn
        self.orderIDs = orderIDs
        self.duplicatesIgnored = duplicatesIgnored
        self.absoluteTotal = absoluteTotal
        if let numericCustomerIndex {
            precondition(numericCustomerIndex.count == customerIDs.count, "numeric index must hold every customer")
            numericCustomers = numericCustomerIndex
        } else if let customerIndex {
            self.customerIndex = customerIndex
        } else {
            var index = IDHashTable(minimumCapacity: customerIDs.count)
            for number in customerIDs.indices {
                index.insert(hash: IDHash.hash(customerIDs[number]), value: Int32(number))
            }
            self.customerIndex = index
        }
    }

    /// Number of orders (including refund rows).
    public var count: Int { timestampColumn.count }
    /// Number of distinct customers.
    public var customerCount: Int { customerIDs.count }
    public var isEmpty: Bool { timestampColumn.isEmpty }

    /// The customer number of `customerID`, if the ledger has it.
    public func customerNumber(of customerID: String) -> Int32? {
        if let numericCustomers {
            return numericCustomers.pattern.key(customerID).flatMap { numericCustomers.find(key: $0) }
        }
        return customerIndex.find(hash: IDHash.hash(customerID)) { customerIDs[Int($0)] == customerID }
    }

    /// The order id of `row`.
    public func orderID(at row: Int) -> String { orderIDs.string(at: row) }

    /// The row holding order id `id`, if the ledger has it.
    public func row(ofOrderID id: String) -> Int? { orderIDs.row(of: id) }

    /// Sum of the absolute amounts (what the overflow rule bounds).
    package var absoluteAmountTotal: Int64 { absoluteTotal }

    /// The order at `row`.
    public subscript(row: Int) -> Order {
        Order(
            id: orderIDs.string(at: row), customerID: customerIDs[Int(customerColumn[row])],
            timestamp: Timestamp(secondsSince1970: timestampColumn[row]), amount: amountColumn[row],
            currency: currency ?? .usd)
    }

    /// All orders in append order.
    public var orders: [Order] { (0..<count).map { self[$0] } }

    /// Earliest and latest order instants; `nil` when empty.
    public var timestampRange: ClosedRange<Int64>? {
        timestampColumn.withUnsafeBufferPointer { $0.isEmpty ? nil : instantRange($0) }
    }

    /// What an append did.
    public enum AppendOutcome: Sendable, Equatable {
        case appended
        case duplicateIgnored
    }

    /// Appends one order.
    /// - Returns: `.duplicateIgnored` when an identical order with the same id is already present.
    /// - Throws: ``LedgerError`` (mixed currency, conflicting duplicate, amount overflow); the ledger is unchanged.
    @discardableResult
    public mutating func append(_ order: Order) throws -> AppendOutcome {
        if let currency, currency != order.currency {
            throw LedgerError(
                .mixedCurrency, orderID: order.id,
                "order \(order.id) is in \(order.currency.code) but the ledger is in \(currency.code)")
        }
        if let row = orderIDs.row(of: order.id) {
            if self[row] == order {
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
        if var numeric = numericCustomers {
            if let key = numeric.pattern.key(order.customerID) {
                let number: Int32
                if let existing = numeric.find(key: key) {
                    number = existing
                } else {
                    number = Int32(customerIDs.count)
                    numericCustomers = nil  // keep `numeric` uniquely referenced while it grows
                    var id = order.customerID
                    if id.withUTF8({ numeric.insert(key: key, number: number, spelledBy: $0) }) {
                        customerIDs.append(order.customerID)
                    } else {
                        numeric = NumericIDIndex(pattern: numeric.pattern, limit: 0)
                    }
                }
                if numeric.limit > 0 {
                    numericCustomers = numeric
                    appendColumns(order, customer: number)
                    return .appended
                }
            }
            // The id breaks the pattern: index every customer by hash from now on.
            numericCustomers = nil
            var index = IDHashTable(minimumCapacity: customerIDs.count + 1)
            for number in customerIDs.indices {
                index.insert(hash: IDHash.hash(customerIDs[number]), value: Int32(number))
            }
            customerIndex = index
        }
        let hash = IDHash.hash(order.customerID)
        let number: Int32
        if let existing = customerIndex.find(hash: hash, where: { customerIDs[Int($0)] == order.customerID }) {
            number = existing
        } else {
            number = Int32(customerIDs.count)
            customerIDs.append(order.customerID)
            customerIndex.insert(hash: hash, value: number) { IDHash.hash(customerIDs[Int($0)]) }
        }
        appendColumns(order, customer: number)
        return .appended
    }

    private mutating func appendColumns(_ order: Order, customer number: Int32) {
        orderIDs.append(order.id)
        customerColumn.append(number)
        timestampColumn.append(order.timestamp.secondsSince1970)
        amountColumn.append(order.amount)
    }

    /// Appends orders one by one; stops at the first error (orders before it stay appended).
    public mutating func append(contentsOf orders: some Sequence<Order>) throws {
        for order in orders { try append(order) }
    }

    /// Per-customer summaries of the orders placed in `window` (all orders when `nil`).
    ///
    /// The result has one entry per ledger customer (index = customer number), empty for customers with no
    /// row in the window.
    /// - Complexity: O(*n*) in the number of orders.
    public func summaries(in window: Range<Timestamp>? = nil) -> CustomerSummaries {
        var result = [CustomerSummary](repeating: CustomerSummary(), count: customerIDs.count)
        let low = window?.lowerBound.secondsSince1970 ?? .min
        let high = window?.upperBound.secondsSince1970 ?? .max
        result.withUnsafeMutableBufferPointer { summaries in
            for row in 0..<timestampColumn.count {
                let instant = timestampColumn[row]
                guard instant >= low, instant < high else { continue }
                summaries[Int(customerColumn[row])].record(timestamp: instant, amount: amountColumn[row])
            }
        }
        return CustomerSummaries(customerIDs: customerIDs, summaries: result, currency: currency)
    }
}

/// An error appending to an ``OrderLedger``.
public struct LedgerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable error code.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
        /// The order's currency differs from the ledger's.
        public static let mixedCurrency = Code(rawValue: "mixedCurrency")
        /// An order id already present with different content.
        public static let conflictingDuplicate = Code(rawValue: "conflictingDuplicate")
        /// Totals would overflow `Int64` minor units.
        public static let amountOverflow = Code(rawValue: "amountOverflow")
    }

    public var code: Code
    /// The order that could not be appended.
    public var orderID: String
    public var description: String

    public init(_ code: Code, orderID: String, _ description: String) {
        self.code = code
        self.orderID = orderID
        self.description = description
    }
}
