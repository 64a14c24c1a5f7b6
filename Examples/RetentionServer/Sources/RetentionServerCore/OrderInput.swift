import Foundation
import RetentionMetrics

/// One problem with one order of a `POST /orders` body.
public struct OrderProblem: Codable, Sendable, Hashable {
    /// The order's position in the posted array, from 0.
    public var index: Int
    /// The JSON field at fault (`orderId`, `customerId`, `timestamp`, `amount`, `currency`, or `order` for
    /// the whole element).
    public var field: String
    /// What is wrong, for people.
    public var reason: String

    public init(index: Int, field: String, reason: String) {
        self.index = index
        self.field = field
        self.reason = reason
    }
}

/// An order as posted: every field optional and loosely typed, so that each problem can be reported by field
/// instead of failing the whole body on the first one.
struct IncomingOrder: Decodable, Sendable {
    var orderID: String?
    var customerID: String?
    var timestamp: String?
    /// The amount as decimal text: a JSON string as given, or a JSON number's exact digits.
    var amount: String?
    var currency: String?
    /// (field, reason) pairs found while decoding.
    var problems: [(String, String)] = []

    private enum Keys: String, CodingKey {
        case orderId, customerId, timestamp, amount, currency
    }

    init(from decoder: any Decoder) throws {
        guard let container = try? decoder.container(keyedBy: Keys.self) else {
            problems.append(("order", "each order must be a JSON object"))
            return
        }
        orderID = Self.text(container, .orderId, &problems)
        customerID = Self.text(container, .customerId, &problems)
        timestamp = Self.text(container, .timestamp, &problems)
        if container.contains(.currency), (try? container.decodeNil(forKey: .currency)) != true {
            currency = Self.text(container, .currency, &problems)
        }
        if !container.contains(.amount) || (try? container.decodeNil(forKey: .amount)) == true {
            problems.append(("amount", "required: a decimal string such as \"19.99\" or a JSON number"))
        } else if let text = try? container.decode(String.self, forKey: .amount) {
            amount = text
        } else if let number = try? container.decode(Decimal.self, forKey: .amount) {
            amount = number.description
        } else {
            problems.append(("amount", "must be a decimal string such as \"19.99\" or a JSON number"))
        }
    }

    private static func text(
        _ container: KeyedDecodingContainer<Keys>, _ key: Keys, _ problems: inout [(String, String)]
    ) -> String? {
        guard container.contains(key), (try? container.decodeNil(forKey: key)) != true else {
            problems.append((key.rawValue, "required"))
            return nil
        }
        guard let value = try? container.decode(String.self, forKey: key) else {
            problems.append((key.rawValue, "must be a string"))
            return nil
        }
        return value
    }
}

/// Turns posted orders into ``Order`` values, collecting every problem of every order.
enum OrderInput {
    /// The largest amount one order may carry, in minor units (10^13 major units of a two-digit currency). The
    /// ledger requires the sum of all absolute amounts to fit `Int64` (about 9.2 x 10^18): with this bound the
    /// store can hold over nine thousand maximal orders before a total could overflow, instead of two.
    static let maximumMinorUnits: UInt64 = 1_000_000_000_000_000
    /// Validates and converts `incoming`.
    ///
    ///     orderId, customerId: non-empty strings; timestamp: ISO 8601 (no offset: read in `calendar`);
    ///     amount: exact in the currency's minor units; currency: 3 letters, one per batch and store
    ///
    /// - Parameters:
    ///   - incoming: The decoded body.
    ///   - calendar: The zone of timestamps written without an offset.
    ///   - storeCurrency: The store's currency, `nil` while it is empty; the default of orders without one.
    /// - Returns: The orders, or every problem found (never both).
    static func validate(_ incoming: [IncomingOrder], calendar: PeriodCalendar, storeCurrency: Currency?)
        -> Result<[Order], ProblemList>
    {
        var problems: [OrderProblem] = []
        var orders: [Order] = []
        orders.reserveCapacity(incoming.count)
        var batchCurrency: Currency?
        for (index, raw) in incoming.enumerated() {
            var failed = false
            func fail(_ field: String, _ reason: String) {
                problems.append(OrderProblem(index: index, field: field, reason: reason))
                failed = true
            }
            for (field, reason) in raw.problems { fail(field, reason) }
            if let id = raw.orderID, id.isEmpty { fail("orderId", "must not be empty") }
            if let id = raw.customerID, id.isEmpty { fail("customerId", "must not be empty") }
            if let id = raw.orderID, id.utf8.contains(0) { fail("orderId", "must not contain NUL characters") }
            if let id = raw.customerID, id.utf8.contains(0) { fail("customerId", "must not contain NUL characters") }

            var currency = storeCurrency ?? batchCurrency ?? .usd
            var currencyValid = true
            if let code = raw.currency {
                if code.utf8.count == 3, code.utf8.allSatisfy({ (0x41...0x5A).contains($0 & ~0x20) }) {
                    currency = Currency(code)
                } else {
                    fail("currency", "must be a three-letter ISO 4217 code such as \"USD\"")
                    currencyValid = false
                }
            }
            if currencyValid {
                if let store = storeCurrency, store != currency {
                    fail("currency", "the store holds \(store.code) orders; one store holds one currency")
                } else if let batch = batchCurrency, batch != currency {
                    fail("currency", "\(currency.code) differs from the batch's \(batch.code)")
                }
                batchCurrency = batchCurrency ?? currency
            }

            var instant: Timestamp?
            if let text = raw.timestamp {
                do throws(TimestampParseError) {
                    instant = try TimestampParser.parse(text, in: calendar)
                } catch {
                    fail("timestamp", "not an ISO 8601 timestamp: \(error.message)")
                }
            }
            var minorUnits: Int64?
            if let text = raw.amount {
                do throws(AmountParseError) {
                    let value = try AmountParser.minorUnits(text, minorUnitDigits: currency.minorUnitDigits)
                    if value.magnitude > OrderInput.maximumMinorUnits {
                        fail("amount", "out of range: at most 10^15 minor units (\"\(text)\" in \(currency.code))")
                    } else {
                        minorUnits = value
                    }
                } catch {
                    fail("amount", "\(error.message) (\"\(text)\" in \(currency.code))")
                }
            }
            guard !failed, let id = raw.orderID, let customer = raw.customerID, let instant, let minorUnits else {
                continue
            }
            orders.append(
                Order(id: id, customerID: customer, timestamp: instant, amount: minorUnits, currency: currency))
        }
        return problems.isEmpty ? .success(orders) : .failure(ProblemList(errors: problems))
    }
}

/// The body of a 422 answer to `POST /orders`.
public struct ProblemList: Error, Codable, Sendable, Hashable {
    public var errors: [OrderProblem]
}
