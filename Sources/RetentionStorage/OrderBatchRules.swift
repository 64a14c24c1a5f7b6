/// The rules every ``OrderStore`` applies to an appended batch, shared so adapters agree on them.
///
/// Identity is byte identity: order ids and customer ids are compared as UTF-8 byte strings, the way SQL
/// databases compare `TEXT` under a binary collation. Swift's `String ==` uses canonical equivalence instead
/// (`"caf\u{E9}" == "cafe\u{301}"`), so two ids that Swift calls equal can be two orders in a store. Normalise
/// ids (e.g. to NFC) before they reach a store if your sources disagree on normalisation.
public enum OrderBatchRules {
    /// Validates `orders` and removes exact repeats inside the batch, before anything is written.
    ///
    ///     for each order: id != "", customerID != "", amount != Int64.min
    ///     all currencies equal (and equal to storeCurrency when the store has one)
    ///     an id repeated in the batch: identical content -> kept once; different content -> error
    ///
    /// ```swift
    /// let batch = try OrderBatchRules.prepare([a, a, b], storeCurrency: .usd)   // [a, b]
    /// ```
    ///
    /// - Parameters:
    ///   - orders: The batch, in the caller's order.
    ///   - storeCurrency: The currency of the orders already stored; `nil` for an empty store.
    /// - Returns: The batch without in-batch repeats, first occurrences in their original order.
    /// - Throws: ``StoreError`` with code ``StoreError/Code/invalidOrder``, ``StoreError/Code/mixedCurrency`` or
    ///   ``StoreError/Code/conflictingDuplicate`` for the first offending order.
    /// - Complexity: O(*n*) expected, in the batch size.
    public static func prepare(_ orders: [Order], storeCurrency: Currency?) throws(StoreError) -> [Order] {
        var currency = storeCurrency
        var seen: [OrderKey: Int] = [:]
        var result: [Order] = []
        result.reserveCapacity(orders.count)
        for order in orders {
            if order.id.isEmpty {
                throw StoreError(.invalidOrder, orderID: order.id, "an order has an empty order id")
            }
            if order.customerID.isEmpty {
                throw StoreError(.invalidOrder, orderID: order.id, "order \(order.id) has an empty customer id")
            }
            if order.amount == .min {
                throw StoreError(
                    .invalidOrder, orderID: order.id, "order \(order.id): amount Int64.min has no Int64 magnitude")
            }
            if let currency, currency != order.currency {
                throw StoreError(
                    .mixedCurrency, orderID: order.id,
                    "order \(order.id) is in \(describe(order.currency)) but the store is in \(describe(currency))")
            }
            currency = order.currency
            let key = OrderKey(order.id)
            if let index = seen[key] {
                guard identical(result[index], order) else {
                    throw StoreError(
                        .conflictingDuplicate, orderID: order.id,
                        "order id \(order.id) appears twice in the batch with different content")
                }
                continue
            }
            seen[key] = result.count
            result.append(order)
        }
        return result
    }

    /// Whether two orders are the same order: byte-identical ids and customer ids, equal timestamps, amounts
    /// and currencies (code and minor-unit digits).
    public static func identical(_ a: Order, _ b: Order) -> Bool {
        a.timestamp == b.timestamp && a.amount == b.amount && a.currency.code.utf8.elementsEqual(b.currency.code.utf8)
            && a.currency.minorUnitDigits == b.currency.minorUnitDigits && a.id.utf8.elementsEqual(b.id.utf8)
            && a.customerID.utf8.elementsEqual(b.customerID.utf8)
    }

    /// The store order of orders: by timestamp, then by order id as UTF-8 bytes.
    public static func precedes(_ a: Order, _ b: Order) -> Bool {
        if a.timestamp != b.timestamp { return a.timestamp < b.timestamp }
        return a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
    }

    /// Whether `order` comes strictly after `cursor` in store order.
    public static func isAfter(_ order: Order, _ cursor: OrderCursor) -> Bool {
        if order.timestamp != cursor.timestamp { return order.timestamp > cursor.timestamp }
        return cursor.orderID.utf8.lexicographicallyPrecedes(order.id.utf8)
    }

    static func describe(_ currency: Currency) -> String {
        "\(currency.code) (\(currency.minorUnitDigits) minor digits)"
    }
}

/// A string compared, hashed and ordered by its UTF-8 bytes (not by Swift's canonical equivalence), so that
/// in-memory identity matches a database's binary collation.
struct OrderKey: Hashable, Comparable, Sendable {
    let value: String

    init(_ value: String) { self.value = value }

    static func == (lhs: OrderKey, rhs: OrderKey) -> Bool { lhs.value.utf8.elementsEqual(rhs.value.utf8) }

    static func < (lhs: OrderKey, rhs: OrderKey) -> Bool { lhs.value.utf8.lexicographicallyPrecedes(rhs.value.utf8) }

    func hash(into hasher: inout Hasher) {
        var copy = value
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
