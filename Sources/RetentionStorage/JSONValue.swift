/// A JSON document, rendered with sorted keys and two-space indentation so that output is stable: the format of
/// `retention ... --format json` and of the server's answers, byte for byte.
///
///     encode(value)  = the tree JSONEncoder would build, with `null` for every `nil` optional
///     rendered()     = sorted keys, two-space indent, `"key": value`, numbers as Swift prints them
///
/// ```swift
/// let report = try RetentionReport(ledger)
/// print(try JSONValue.encode(report).rendered())   // {"activeCustomers": ..., "averageOrderValue": null, ...}
/// ```
///
/// Every figure of a report is present, defined or not; a non-finite `Double` (which no metric produces) is `null`.
///
/// - Complexity: O(*s* log *s*) for a document of *s* members (keys are sorted per object).
public indirect enum JSONValue: Equatable, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, already formatted (`Double.description` round-trips; integers without `.0`).
    case number(String)
    /// A string, escaped when rendered.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object; keys are sorted when rendered.
    case object([String: JSONValue])

    /// A number, or `null` for `nil` (and for a non-finite value).
    public static func double(_ value: Double?) -> JSONValue {
        guard let value, value.isFinite else { return .null }
        return .number(value.description)
    }

    /// An integer.
    public static func int(_ value: some BinaryInteger) -> JSONValue { .number(String(value)) }

    /// The tree of an encodable value, with `null` for `nil` optionals.
    /// - Throws: whatever the value's `encode(to:)` throws.
    public static func encode(_ value: some Encodable) throws -> JSONValue {
        let node = JSONNode()
        try value.encode(to: TreeEncoder(node: node, codingPath: []))
        return node.value
    }

    /// Pretty-printed text: sorted keys, two-space indent, `"key": value`.
    public func rendered() -> String {
        var out = ""
        render(into: &out, indent: "")
        return out
    }

    private func render(into out: inout String, indent: String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .number(let text): out += text
        case .string(let text): JSONValue.quote(text, into: &out)
        case .array(let items):
            guard !items.isEmpty else {
                out += "[]"
                return
            }
            let inner = indent + "  "
            out += "[\n"
            for (index, item) in items.enumerated() {
                out += inner
                item.render(into: &out, indent: inner)
                out += index == items.count - 1 ? "\n" : ",\n"
            }
            out += indent + "]"
        case .object(let members):
            guard !members.isEmpty else {
                out += "{}"
                return
            }
            let inner = indent + "  "
            out += "{\n"
            let keys = members.keys.sorted()
            for (index, key) in keys.enumerated() {
                out += inner
                JSONValue.quote(key, into: &out)
                out += ": "
                members[key]!.render(into: &out, indent: inner)
                out += index == keys.count - 1 ? "\n" : ",\n"
            }
            out += indent + "}"
        }
    }

    /// Appends `text` as a JSON string literal (quotes, backslashes and control characters escaped).
    public static func quote(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

/// A node of the tree under construction.
private final class JSONNode {
    enum State {
        case empty
        case value(JSONValue)
        case object([String: JSONNode])
        case array([JSONNode])
    }

    var state = State.empty

    var value: JSONValue {
        switch state {
        case .empty: .null
        case .value(let value): value
        case .object(let members): .object(members.mapValues(\.value))
        case .array(let items): .array(items.map(\.value))
        }
    }

    func child(_ key: String) -> JSONNode {
        var members: [String: JSONNode] = [:]
        if case .object(let existing) = state { members = existing }
        let node = JSONNode()
        members[key] = node
        state = .object(members)
        return node
    }

    func appended() -> JSONNode {
        var items: [JSONNode] = []
        if case .array(let existing) = state { items = existing }
        let node = JSONNode()
        items.append(node)
        state = .array(items)
        return node
    }

    var count: Int {
        if case .array(let items) = state { return items.count }
        return 0
    }

    func set(_ value: some Encodable, path: [any CodingKey]) throws {
        switch value {
        case let value as Bool: state = .value(.bool(value))
        case let value as String: state = .value(.string(value))
        case let value as Double: state = .value(.double(value))
        case let value as Float: state = .value(.double(Double(value)))
        case let value as Int: state = .value(.int(value))
        case let value as Int8: state = .value(.int(value))
        case let value as Int16: state = .value(.int(value))
        case let value as Int32: state = .value(.int(value))
        case let value as Int64: state = .value(.int(value))
        case let value as UInt: state = .value(.int(value))
        case let value as UInt8: state = .value(.int(value))
        case let value as UInt16: state = .value(.int(value))
        case let value as UInt32: state = .value(.int(value))
        case let value as UInt64: state = .value(.int(value))
        default: try value.encode(to: TreeEncoder(node: self, codingPath: path))
        }
    }
}

private struct TreeEncoder: Encoder {
    let node: JSONNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.state {} else { node.state = .object([:]) }
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = node.state {} else { node.state = .array([]) }
        return UnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(node: node, codingPath: codingPath)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: JSONNode
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.child(key.stringValue).state = .value(.null) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try node.child(key.stringValue).set(value, path: codingPath + [key])
    }

    // The point of this encoder: nil optionals are written as null rather than left out.
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try put(value, key) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try put(value, key) }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try put(value, key) }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try put(value, key) }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try put(value, key) }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { try put(value, key) }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { try put(value, key) }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { try put(value, key) }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { try put(value, key) }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { try put(value, key) }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { try put(value, key) }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { try put(value, key) }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { try put(value, key) }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { try put(value, key) }

    private mutating func put(_ value: (some Encodable)?, _ key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        TreeEncoder(node: node.child(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        TreeEncoder(node: node.child(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { TreeEncoder(node: node.child("super"), codingPath: codingPath) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        TreeEncoder(node: node.child(key.stringValue), codingPath: codingPath + [key])
    }
}

private struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { String(intValue ?? 0) }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: JSONNode
    let codingPath: [any CodingKey]
    var count: Int { node.count }

    mutating func encodeNil() throws { node.appended().state = .value(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let path = codingPath + [IndexKey(count)]
        try node.appended().set(value, path: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        TreeEncoder(node: node.appended(), codingPath: codingPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        TreeEncoder(node: node.appended(), codingPath: codingPath).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { TreeEncoder(node: node.appended(), codingPath: codingPath) }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let node: JSONNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.state = .value(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws { try node.set(value, path: codingPath) }
}
