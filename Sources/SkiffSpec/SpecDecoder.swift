// Codable decoding from JSONValue, with errors carrying JSON paths.

/// Decodes Decodable types from JSON the way runc reads config.json: unknown keys are ignored,
/// integers must be integer literals in range for the target type, and every failure becomes a
/// `SpecError` naming the file and the JSON path, e.g.
/// `config.json: process.args: expected array of strings, got number`.
public struct SpecDecoder {
    public static func decode<T: Decodable>(
        _ type: T.Type, from bytes: [UInt8], file: String = "config.json"
    ) throws(SpecError) -> T {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw SpecError(file: file, path: "", message: error.description)
        }
        return try decode(type, from: document, file: file)
    }

    public static func decode<T: Decodable>(
        _ type: T.Type, from value: JSONValue, file: String = "config.json"
    ) throws(SpecError) -> T {
        // A NUL cannot reach a syscall intact (the kernel would see "a" for "a\u0000b"):
        // refused anywhere in the document, as Go-based runtimes refuse it.
        if let (path, isKey) = firstNUL(in: value, path: "") {
            throw SpecError(file: file, path: path,
                            message: isKey ? "member name contains a NUL character (\\u0000)" : "contains a NUL character (\\u0000)")
        }
        return try decode(type, from: value, file: file, viaCodable: false)
    }

    /// The JSON path of the first string, or member name, that holds a NUL character.
    /// Recursion is bounded by the parser's maximum nesting depth.
    static func firstNUL(in value: JSONValue, path: String) -> (path: String, isKey: Bool)? {
        switch value {
        case .string(let s):
            return s.utf8.contains(0) ? (path, false) : nil
        case .array(let elements):
            for (i, element) in elements.enumerated() {
                if let found = firstNUL(in: element, path: JSONPath.appending(path, index: i)) { return found }
            }
            return nil
        case .object(let object):
            for (key, member) in object.members {
                let memberPath = JSONPath.appending(path, key: key)
                if key.utf8.contains(0) { return (memberPath, true) }
                if let found = firstNUL(in: member, path: memberPath) { return found }
            }
            return nil
        case .null, .bool, .number:
            return nil
        }
    }

    /// `viaCodable`: only through the types' Codable conformances, never SpecCoding.swift's
    /// direct conversions (the reference the tests compare those with).
    static func decode<T: Decodable>(
        _ type: T.Type, from value: JSONValue, file: String = "config.json", viaCodable: Bool
    ) throws(SpecError) -> T {
        do {
            return try decodeValue(T.self, from: value, path: [], viaCodable: viaCodable)
        } catch let error as DecodingError {
            throw SpecError(file: file, decodingError: error)
        } catch var error as SpecError {
            error.file = file
            throw error
        } catch {
            throw SpecError(file: file, path: "", message: "\(error)")
        }
    }
}

extension SpecError {
    /// Converts a DecodingError (ours, or one thrown by a custom `init(from:)`) to a SpecError.
    public init(file: String, decodingError: DecodingError) {
        switch decodingError {
        case .keyNotFound(let key, let context):
            self.init(file: file, path: JSONPath.render(context.codingPath + [key]), message: "required field is missing")
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            self.init(file: file, path: JSONPath.render(context.codingPath), message: context.debugDescription)
        @unknown default:
            self.init(file: file, path: "", message: "\(decodingError)")
        }
    }
}

// MARK: - Type descriptions for error messages

/// Lets error messages say "array of strings" instead of "array".
protocol ArrayTypeInfo { static var elementType: Any.Type { get } }
extension Array: ArrayTypeInfo { static var elementType: Any.Type { Element.self } }

protocol OptionalTypeInfo { static var wrappedType: Any.Type { get } }
extension Optional: OptionalTypeInfo { static var wrappedType: Any.Type { Wrapped.self } }

enum TypeDescription {
    /// "string", "boolean", "unsigned 32-bit integer", "number", "array of strings", "object".
    static func of(_ type: Any.Type) -> String {
        if type == String.self { return "string" }
        if type == Bool.self { return "boolean" }
        if let integer = type as? any FixedWidthInteger.Type { return integerDescription(integer) }
        if type is any BinaryFloatingPoint.Type { return "number" }
        if let array = type as? any ArrayTypeInfo.Type { return "array of " + plural(of(array.elementType)) }
        if let optional = type as? any OptionalTypeInfo.Type { return of(optional.wrappedType) }
        return "object"
    }

    static func integerDescription<T: FixedWidthInteger>(_: T.Type) -> String {
        (T.isSigned ? "" : "unsigned ") + "\(T.bitWidth)-bit integer"
    }

    private static func plural(_ noun: String) -> String {
        noun.hasPrefix("array of ") ? "arrays of " + noun.dropFirst("array of ".count) : noun + "s"
    }

    /// What was found instead: the JSON type name.
    static func found(_ value: JSONValue) -> String { value.typeName }
}

// MARK: - Scalars

/// Types decoded directly from a JSON scalar.
protocol JSONScalar {
    static func unbox(_ value: JSONValue) -> Self?
    static var typeDescription: String { get }
}

extension String: JSONScalar {
    static func unbox(_ value: JSONValue) -> String? {
        if case .string(let s) = value { return s }
        return nil
    }
    static var typeDescription: String { "string" }
}

extension Bool: JSONScalar {
    static func unbox(_ value: JSONValue) -> Bool? {
        if case .bool(let b) = value { return b }
        return nil
    }
    static var typeDescription: String { "boolean" }
}

extension JSONScalar where Self: BinaryFloatingPoint {
    static func unbox(_ value: JSONValue) -> Self? {
        if case .number(let n) = value { return Self(n.doubleValue) }
        return nil
    }
    static var typeDescription: String { "number" }
}

extension Double: JSONScalar {}
extension Float: JSONScalar {}

extension JSONScalar where Self: FixedWidthInteger {
    static func unbox(_ value: JSONValue) -> Self? {
        if case .number(let n) = value { return n.exactly(Self.self) }
        return nil
    }
    static var typeDescription: String { TypeDescription.integerDescription(Self.self) }
}

extension Int: JSONScalar {}
extension Int8: JSONScalar {}
extension Int16: JSONScalar {}
extension Int32: JSONScalar {}
extension Int64: JSONScalar {}
extension UInt: JSONScalar {}
extension UInt8: JSONScalar {}
extension UInt16: JSONScalar {}
extension UInt32: JSONScalar {}
extension UInt64: JSONScalar {}

@inline(__always)
private func unboxScalar<T: JSONScalar>(_ value: JSONValue, path: @autoclosure () -> [any CodingKey]) throws -> T {
    if let result = T.unbox(value) { return result }
    // A number only fails to decode as an integer by being fractional or out of range: show it.
    let found = if case .number(let n) = value, T.self is any FixedWidthInteger.Type { "number \(n)" } else { value.typeName }
    throw DecodingError.typeMismatch(T.self, DecodingError.Context(
        codingPath: path(), debugDescription: "expected \(T.typeDescription), got \(found)"))
}

private func typeMismatch(expected: String, found value: JSONValue, path: [any CodingKey], type: Any.Type) -> DecodingError {
    DecodingError.typeMismatch(type, DecodingError.Context(
        codingPath: path, debugDescription: "expected \(expected), got \(TypeDescription.found(value))"))
}

// MARK: - Decoder

/// Decodes one JSON value. `expected` is the type being decoded, for error messages.
struct ValueDecoder: Decoder, SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]
    let expected: Any.Type
    var viaCodable = false

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else {
            throw typeMismatch(expected: "object", found: value, path: codingPath, type: expected)
        }
        return KeyedDecodingContainer(KeyedContainer<Key>(object: object, codingPath: codingPath, viaCodable: viaCodable))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            let description = expected is any ArrayTypeInfo.Type ? TypeDescription.of(expected) : "array"
            throw typeMismatch(expected: description, found: value, path: codingPath, type: expected)
        }
        return UnkeyedContainer(elements: elements, codingPath: codingPath, viaCodable: viaCodable)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    // SingleValueDecodingContainer

    func decodeNil() -> Bool {
        if case .null = value { return true }
        return false
    }

    func decode(_ type: Bool.Type) throws -> Bool { try unboxScalar(value, path: codingPath) }
    func decode(_ type: String.Type) throws -> String { try unboxScalar(value, path: codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try unboxScalar(value, path: codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try unboxScalar(value, path: codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try unboxScalar(value, path: codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try unboxScalar(value, path: codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try unboxScalar(value, path: codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try unboxScalar(value, path: codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try unboxScalar(value, path: codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try unboxScalar(value, path: codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try unboxScalar(value, path: codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try unboxScalar(value, path: codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try unboxScalar(value, path: codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try unboxScalar(value, path: codingPath) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decodeValue(T.self, from: value, path: codingPath, viaCodable: viaCodable)
    }
}

/// Decodes `value` as `T`; the one place nested values are decoded. The types DirectCoding
/// knows skip their Codable conformance.
@inline(__always)
private func decodeValue<T: Decodable>(_ type: T.Type, from value: JSONValue, path: [any CodingKey], viaCodable: Bool) throws -> T {
    if !viaCodable, let direct = try DirectCoding.decode(T.self, from: value, at: path) { return direct }
    return try T(from: ValueDecoder(value: value, codingPath: path, expected: T.self, viaCodable: viaCodable))
}

// MARK: - Keyed container

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    let codingPath: [any CodingKey]
    let viaCodable: Bool

    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { object.position(of: key.stringValue) != nil }

    private func require(_ key: Key) throws -> JSONValue {
        if let value = object[key.stringValue] { return value }
        throw DecodingError.keyNotFound(key, DecodingError.Context(
            codingPath: codingPath, debugDescription: "required field is missing"))
    }

    /// The value for `key`, or nil when the key is absent or null.
    private func optional(_ key: Key) -> JSONValue? {
        switch object[key.stringValue] {
        case nil, .null?: nil
        case let value?: value
        }
    }

    private func scalar<T: JSONScalar>(_ key: Key) throws -> T {
        try unboxScalar(require(key), path: codingPath + [key])
    }

    private func scalarIfPresent<T: JSONScalar>(_ key: Key) throws -> T? {
        guard let value = optional(key) else { return nil }
        return try unboxScalar(value, path: codingPath + [key]) as T
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try require(key) { return true }
        return false
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try scalar(key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try scalar(key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try scalar(key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try scalar(key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try scalar(key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try scalar(key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try scalar(key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try scalar(key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try scalar(key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try scalar(key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try scalar(key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try scalar(key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try scalar(key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try scalar(key) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodeValue(T.self, from: require(key), path: codingPath + [key], viaCodable: viaCodable)
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try scalarIfPresent(key) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try scalarIfPresent(key) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try scalarIfPresent(key) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try scalarIfPresent(key) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try scalarIfPresent(key) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try scalarIfPresent(key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try scalarIfPresent(key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try scalarIfPresent(key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try scalarIfPresent(key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try scalarIfPresent(key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try scalarIfPresent(key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try scalarIfPresent(key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try scalarIfPresent(key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try scalarIfPresent(key) }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = optional(key) else { return nil }
        return try decodeValue(T.self, from: value, path: codingPath + [key], viaCodable: viaCodable)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: require(key), codingPath: codingPath + [key], expected: JSONObject.self, viaCodable: viaCodable)
            .container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: require(key), codingPath: codingPath + [key], expected: [JSONValue].self, viaCodable: viaCodable)
            .unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let key = StringKey("super")
        return ValueDecoder(value: object["super"] ?? .null, codingPath: codingPath + [key], expected: Any.self, viaCodable: viaCodable)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ValueDecoder(value: object[key.stringValue] ?? .null, codingPath: codingPath + [key], expected: Any.self, viaCodable: viaCodable)
    }
}

// MARK: - Unkeyed container

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    let viaCodable: Bool
    private(set) var currentIndex = 0

    init(elements: [JSONValue], codingPath: [any CodingKey], viaCodable: Bool) {
        self.elements = elements
        self.codingPath = codingPath
        self.viaCodable = viaCodable
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private var elementPath: [any CodingKey] { codingPath + [IndexKey(currentIndex)] }

    private mutating func next(_ type: Any.Type) throws -> JSONValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, DecodingError.Context(
                codingPath: elementPath, debugDescription: "array has only \(elements.count) elements"))
        }
        return elements[currentIndex]
    }

    private mutating func scalar<T: JSONScalar>() throws -> T {
        let result: T = try unboxScalar(next(T.self), path: elementPath)
        currentIndex += 1
        return result
    }

    mutating func decodeNil() throws -> Bool {
        if case .null = try next(Never.self) {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try scalar() }
    mutating func decode(_ type: String.Type) throws -> String { try scalar() }
    mutating func decode(_ type: Double.Type) throws -> Double { try scalar() }
    mutating func decode(_ type: Float.Type) throws -> Float { try scalar() }
    mutating func decode(_ type: Int.Type) throws -> Int { try scalar() }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try scalar() }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try scalar() }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try scalar() }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try scalar() }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try scalar() }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try scalar() }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try scalar() }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try scalar() }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try scalar() }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let result = try decodeValue(T.self, from: next(T.self), path: elementPath, viaCodable: viaCodable)
        currentIndex += 1
        return result
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let container = try ValueDecoder(value: next(JSONObject.self), codingPath: elementPath, expected: JSONObject.self, viaCodable: viaCodable)
            .container(keyedBy: type)
        currentIndex += 1
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let container = try ValueDecoder(value: next([JSONValue].self), codingPath: elementPath, expected: [JSONValue].self, viaCodable: viaCodable)
            .unkeyedContainer()
        currentIndex += 1
        return container
    }

    mutating func superDecoder() throws -> any Decoder {
        let decoder = try ValueDecoder(value: next(Any.self), codingPath: elementPath, expected: Any.self, viaCodable: viaCodable)
        currentIndex += 1
        return decoder
    }
}
