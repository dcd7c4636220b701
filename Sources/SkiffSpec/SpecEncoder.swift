// Codable encoding to JSONValue.

/// Encodes Encodable types to JSON text. Object members appear in the order `encode` was called
/// (declaration order for synthesized conformances, like Go struct fields), nil optionals are
/// omitted (synthesized `encodeIfPresent`), integers are exact, and `[String: V]` dictionaries
/// are written with their keys sorted bytewise, as Go writes maps.
public struct SpecEncoder {
    /// JSON text of `value`: compact when `indent` is nil, else indented by `indent` spaces per
    /// level with `"key": value` members (Go's `json.MarshalIndent`). No trailing newline.
    ///
    /// The encoder itself never fails; a value whose own `encode(to:)` throws is a programming
    /// error and stops the program. Use `encodeValue(_:)` to handle such errors.
    public static func encode<T: Encodable>(_ value: T, indent: Int? = nil) -> String {
        encode(value, indentString: indent.map { String(repeating: " ", count: $0) })
    }

    /// The documents skiff prints on every call, converted directly: the generic route asks
    /// `DirectCoding` by comparing metatypes, and each comparison instantiates a type such as
    /// `[String: String]` (a scan of the runtime's conformance records).
    public static func encode(_ value: OCIState, indent: Int? = nil) -> String {
        value.json.serialized(indentString: indent.map { String(repeating: " ", count: $0) })
    }

    public static func encode(_ value: [OCIState], indent: Int? = nil) -> String {
        CollectionEncoding.array(value) { $0.json }.serialized(indentString: indent.map { String(repeating: " ", count: $0) })
    }

    /// Like `encode(_:indent:)` with an arbitrary indent unit (`runc spec` indents with "\t").
    public static func encode<T: Encodable>(_ value: T, indentString: String?) -> String {
        do {
            return try encodeValue(value).serialized(indentString: indentString)
        } catch {
            preconditionFailure("encoding \(T.self) failed: \(error)")
        }
    }

    /// The JSON document for `value`. Throws only what `value.encode(to:)` itself throws.
    public static func encodeValue<T: Encodable>(_ value: T) throws -> JSONValue {
        try encodeValue(value, viaCodable: false)
    }

    /// `viaCodable`: only through the types' Codable conformances, never SpecCoding.swift's
    /// direct conversions (the reference the tests compare those with).
    static func encodeValue<T: Encodable>(_ value: T, viaCodable: Bool) throws -> JSONValue {
        let root = Slot()
        try encodeValue(value, into: root, codingPath: [], viaCodable: viaCodable)
        return root.finish()
    }
}

// MARK: - Building blocks

/// One value under construction. Containers hand out slots and fill them later, so nested
/// containers can be written after their parent has moved on.
private final class Slot {
    enum Content {
        case empty
        case value(JSONValue)
        case object(ObjectBuilder)
        case array(ArrayBuilder)
    }

    var content = Content.empty

    var objectBuilder: ObjectBuilder {
        if case .object(let builder) = content { return builder }
        let builder = ObjectBuilder()
        content = .object(builder)
        return builder
    }

    var arrayBuilder: ArrayBuilder {
        if case .array(let builder) = content { return builder }
        let builder = ArrayBuilder()
        content = .array(builder)
        return builder
    }

    func finish() -> JSONValue {
        switch content {
        case .empty: .object(JSONObject())  // a type that encoded nothing, as Foundation does
        case .value(let value): value
        case .object(let builder): .object(JSONObject(uniqueKeys: builder.keys, values: builder.slots.map { $0.finish() }))
        case .array(let builder): .array(builder.slots.map { $0.finish() })
        }
    }
}

private final class ObjectBuilder {
    var keys: [String] = []
    var slots: [Slot] = []

    /// The slot for `key`; encoding a key twice replaces the first value in place.
    func slot(for key: String) -> Slot {
        if let i = keys.firstIndex(of: key) {
            slots[i] = Slot()
            return slots[i]
        }
        let slot = Slot()
        keys.append(key)
        slots.append(slot)
        return slot
    }
}

private final class ArrayBuilder {
    var slots: [Slot] = []

    func append() -> Slot {
        let slot = Slot()
        slots.append(slot)
        return slot
    }
}

/// `[String: V]` dictionaries, written with sorted keys instead of hash order.
private protocol StringKeyedDictionary {
    func encodeSorted(into slot: Slot, codingPath: [any CodingKey], viaCodable: Bool) throws
}

extension Dictionary: StringKeyedDictionary where Key == String, Value: Encodable {
    fileprivate func encodeSorted(into slot: Slot, codingPath: [any CodingKey], viaCodable: Bool) throws {
        let builder = slot.objectBuilder
        for key in keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            try SpecEncoder.encodeValue(self[key]!, into: builder.slot(for: key), codingPath: codingPath + [StringKey(key)],
                                        viaCodable: viaCodable)
        }
    }
}

extension SpecEncoder {
    /// The one place nested values are encoded. The types DirectCoding knows skip their
    /// Codable conformance.
    fileprivate static func encodeValue<T: Encodable>(_ value: T, into slot: Slot, codingPath: [any CodingKey], viaCodable: Bool) throws {
        if !viaCodable, let direct = DirectCoding.encode(value) {
            slot.content = .value(direct)
        } else if let dictionary = value as? any StringKeyedDictionary {
            try dictionary.encodeSorted(into: slot, codingPath: codingPath, viaCodable: viaCodable)
        } else {
            try value.encode(to: ValueEncoder(slot: slot, codingPath: codingPath, viaCodable: viaCodable))
        }
    }
}

private func number<T: BinaryInteger>(_ value: T) -> JSONValue { .number(JSONNumber(value)) }
private func number(_ value: Double) -> JSONValue { .number(JSONNumber(value)) }

// MARK: - Encoder

private struct ValueEncoder: Encoder, SingleValueEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]
    let viaCodable: Bool

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedContainer<Key>(builder: slot.objectBuilder, codingPath: codingPath, viaCodable: viaCodable))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        UnkeyedContainer(builder: slot.arrayBuilder, codingPath: codingPath, viaCodable: viaCodable)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    // SingleValueEncodingContainer

    func encodeNil() { slot.content = .value(.null) }
    func encode(_ value: Bool) { slot.content = .value(.bool(value)) }
    func encode(_ value: String) { slot.content = .value(.string(value)) }
    func encode(_ value: Double) { slot.content = .value(number(value)) }
    func encode(_ value: Float) { slot.content = .value(number(Double(value))) }
    func encode(_ value: Int) { slot.content = .value(number(value)) }
    func encode(_ value: Int8) { slot.content = .value(number(value)) }
    func encode(_ value: Int16) { slot.content = .value(number(value)) }
    func encode(_ value: Int32) { slot.content = .value(number(value)) }
    func encode(_ value: Int64) { slot.content = .value(number(value)) }
    func encode(_ value: UInt) { slot.content = .value(number(value)) }
    func encode(_ value: UInt8) { slot.content = .value(number(value)) }
    func encode(_ value: UInt16) { slot.content = .value(number(value)) }
    func encode(_ value: UInt32) { slot.content = .value(number(value)) }
    func encode(_ value: UInt64) { slot.content = .value(number(value)) }

    func encode<T: Encodable>(_ value: T) throws {
        slot.content = .empty
        try SpecEncoder.encodeValue(value, into: slot, codingPath: codingPath, viaCodable: viaCodable)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let builder: ObjectBuilder
    let codingPath: [any CodingKey]
    let viaCodable: Bool

    private func set(_ value: JSONValue, _ key: Key) { builder.slot(for: key.stringValue).content = .value(value) }

    mutating func encodeNil(forKey key: Key) { set(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) { set(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) { set(number(value), key) }
    mutating func encode(_ value: Float, forKey key: Key) { set(number(Double(value)), key) }
    mutating func encode(_ value: Int, forKey key: Key) { set(number(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) { set(number(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) { set(number(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) { set(number(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) { set(number(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) { set(number(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) { set(number(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) { set(number(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) { set(number(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) { set(number(value), key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try SpecEncoder.encodeValue(value, into: builder.slot(for: key.stringValue), codingPath: codingPath + [key], viaCodable: viaCodable)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let slot = builder.slot(for: key.stringValue)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(builder: slot.objectBuilder, codingPath: codingPath + [key], viaCodable: viaCodable))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let slot = builder.slot(for: key.stringValue)
        return UnkeyedContainer(builder: slot.arrayBuilder, codingPath: codingPath + [key], viaCodable: viaCodable)
    }

    mutating func superEncoder() -> any Encoder {
        ValueEncoder(slot: builder.slot(for: "super"), codingPath: codingPath + [StringKey("super")], viaCodable: viaCodable)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        ValueEncoder(slot: builder.slot(for: key.stringValue), codingPath: codingPath + [key], viaCodable: viaCodable)
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let builder: ArrayBuilder
    let codingPath: [any CodingKey]
    let viaCodable: Bool

    var count: Int { builder.slots.count }

    private func append(_ value: JSONValue) { builder.append().content = .value(value) }

    mutating func encodeNil() { append(.null) }
    mutating func encode(_ value: Bool) { append(.bool(value)) }
    mutating func encode(_ value: String) { append(.string(value)) }
    mutating func encode(_ value: Double) { append(number(value)) }
    mutating func encode(_ value: Float) { append(number(Double(value))) }
    mutating func encode(_ value: Int) { append(number(value)) }
    mutating func encode(_ value: Int8) { append(number(value)) }
    mutating func encode(_ value: Int16) { append(number(value)) }
    mutating func encode(_ value: Int32) { append(number(value)) }
    mutating func encode(_ value: Int64) { append(number(value)) }
    mutating func encode(_ value: UInt) { append(number(value)) }
    mutating func encode(_ value: UInt8) { append(number(value)) }
    mutating func encode(_ value: UInt16) { append(number(value)) }
    mutating func encode(_ value: UInt32) { append(number(value)) }
    mutating func encode(_ value: UInt64) { append(number(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let path = codingPath + [IndexKey(count)]
        try SpecEncoder.encodeValue(value, into: builder.append(), codingPath: path, viaCodable: viaCodable)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = codingPath + [IndexKey(count)]
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(builder: builder.append().objectBuilder, codingPath: path, viaCodable: viaCodable))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = codingPath + [IndexKey(count)]
        return UnkeyedContainer(builder: builder.append().arrayBuilder, codingPath: path, viaCodable: viaCodable)
    }

    mutating func superEncoder() -> any Encoder {
        let path = codingPath + [IndexKey(count)]
        return ValueEncoder(slot: builder.append(), codingPath: path, viaCodable: viaCodable)
    }
}
