/// An error an ``OrderStore`` reports for a request it refuses: a bad order, a batch that would break the store's
/// rules, or a store file it cannot use.
///
/// The ``code`` is stable and meant for programs; ``description`` is for people.
///
/// ```swift
/// do {
///     try await store.append([Order(id: "1001", customerID: "alice", timestamp: t, amount: 999)])
/// } catch let error as StoreError where error.code == .conflictingDuplicate {
///     print(error.orderID ?? "?")   // "1001"
/// }
/// ```
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable error code.
    public struct Code: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// An order that no store accepts: an empty order id or customer id, or an amount of `Int64.min`
        /// (whose magnitude does not fit in `Int64`).
        public static let invalidOrder = Code(rawValue: "invalidOrder")
        /// An order whose currency differs from the store's (or from the rest of its batch).
        public static let mixedCurrency = Code(rawValue: "mixedCurrency")
        /// An order id already stored (or repeated in the batch) with different content.
        public static let conflictingDuplicate = Code(rawValue: "conflictingDuplicate")
        /// The store's schema is newer than this version of the library understands.
        public static let unsupportedSchemaVersion = Code(rawValue: "unsupportedSchemaVersion")
        /// The stored data is not something the store could have written (e.g. a negative minor-unit digit
        /// count); the store was modified by another program.
        public static let corruptData = Code(rawValue: "corruptData")
        /// The store's file could not be opened, read, written, synced or truncated; the description carries the
        /// system's message. A failed append stores nothing.
        public static let ioError = Code(rawValue: "ioError")
        /// A parameter outside its domain, e.g. a page size below 1.
        public static let invalidArgument = Code(rawValue: "invalidArgument")
    }

    public var code: Code
    /// The order concerned, when there is one.
    public var orderID: String?
    /// A readable explanation, naming the order and the rule it breaks.
    public var description: String

    public init(_ code: Code, orderID: String? = nil, _ description: String) {
        self.code = code
        self.orderID = orderID
        self.description = description
    }
}
