/// Writes orders as CSV in the library's own format, which ``CSVOrderReader`` reads back to the same orders.
///
///     order_id,customer_id,timestamp,amount,currency
///     1001,alice,2024-03-01T12:00:00Z,25.00,USD
///
/// Fields are quoted when they contain a comma, a quote (doubled), CR, LF, start or end with a space or tab, or
/// start with `#` (so the file reads the same with ``OrderInputOptions/skipsCommitMarkers`` on);
/// amounts are exact decimals with the currency's minor digits (``Money/decimalString``); timestamps are ISO 8601
/// UTC with `Z`. Write-then-read is the identity for orders whose ids are non-empty, whose currency uses its ISO
/// 4217 minor digits, and whose timestamps fall in years 0000...9999.
///
/// ```swift
/// let text = CSVOrderWriter.string(ledger.orders)
/// try CSVOrderWriter.write(ledger.orders, toFile: "orders.csv")
/// ```
public enum CSVOrderWriter {
    /// The header line.
    public static let header = "order_id,customer_id,timestamp,amount,currency"

    /// The CSV text of `orders`, header first, LF line ends.
    ///
    /// ```swift
    /// CSVOrderWriter.string([Order(id: "a,1", customerID: "c", timestamp: t, amount: 1999)])
    /// // "order_id,customer_id,timestamp,amount,currency\n\"a,1\",c,2024-03-01T12:00:00Z,19.99,USD\n"
    /// ```
    ///
    /// - Parameter orders: The orders, written in sequence order.
    /// - Returns: The CSV.
    /// - Complexity: O(*n*) in the output size.
    public static func string(_ orders: some Sequence<Order>) -> String {
        var bytes: [UInt8] = []
        appendHeader(to: &bytes)
        for order in orders { appendRow(order, to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `orders` to the file at `path` (created or truncated), streaming through a 1 MiB buffer.
    ///
    /// ```swift
    /// try CSVOrderWriter.write(orders, toFile: "/tmp/orders.csv")
    /// ```
    ///
    /// - Parameters:
    ///   - orders: The orders.
    ///   - path: The destination.
    /// - Throws: ``InputError/Code/unreadableFile`` when the file cannot be created or written.
    /// - Complexity: O(*n*); memory O(1 MiB).
    public static func write(_ orders: some Sequence<Order>, toFile path: String) throws(InputError) {
        let sink = try ByteSink(path: path)
        var bytes: [UInt8] = []
        appendHeader(to: &bytes)
        for order in orders {
            appendRow(order, to: &bytes)
            if bytes.count >= 64 * 1024 {
                try sink.append(bytes)
                bytes.removeAll(keepingCapacity: true)
            }
        }
        try sink.append(bytes)
        try sink.close()
    }

    /// Appends the header line (with its line end) to `bytes`, for writers that stream to their own sink.
    ///
    /// ```swift
    /// var bytes: [UInt8] = []
    /// CSVOrderWriter.appendHeader(to: &bytes)
    /// for order in orders { CSVOrderWriter.appendRow(order, to: &bytes) }   // == Array(string(orders).utf8)
    /// ```
    ///
    /// - Parameter bytes: The buffer to extend.
    /// - Complexity: O(1).
    public static func appendHeader(to bytes: inout [UInt8]) {
        bytes.append(contentsOf: header.utf8)
        bytes.append(0x0A)
    }

    /// Appends one row (with its line end) to `bytes`, exactly as ``string(_:)`` writes it.
    ///
    /// ```swift
    /// var bytes: [UInt8] = []
    /// CSVOrderWriter.appendRow(order, to: &bytes)   // "1001,alice,2024-03-01T12:00:00Z,25.00,USD\n"
    /// ```
    ///
    /// - Parameters:
    ///   - order: The order.
    ///   - bytes: The buffer to extend.
    /// - Complexity: O(*n*) in the row's length.
    public static func appendRow(_ order: Order, to bytes: inout [UInt8]) {
        appendField(order.id, to: &bytes)
        bytes.append(0x2C)
        appendField(order.customerID, to: &bytes)
        bytes.append(0x2C)
        bytes.append(contentsOf: order.timestamp.description.utf8)
        bytes.append(0x2C)
        bytes.append(contentsOf: Money.decimalString(order.amount, digits: order.currency.minorUnitDigits).utf8)
        bytes.append(0x2C)
        appendField(order.currency.code, to: &bytes)
        bytes.append(0x0A)
    }

    /// Appends `text`, quoted when needed.
    static func appendField(_ text: String, to bytes: inout [UInt8]) {
        let utf8 = text.utf8
        let needsQuotes =
            utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
            || utf8.first == 0x20 || utf8.first == 0x09 || utf8.last == 0x20 || utf8.last == 0x09
            || utf8.first == 0x23
        guard needsQuotes else {
            bytes.append(contentsOf: utf8)
            return
        }
        bytes.append(0x22)
        for byte in utf8 {
            if byte == 0x22 { bytes.append(0x22) }
            bytes.append(byte)
        }
        bytes.append(0x22)
    }
}
