// A small JSON document model. SkiffSpec imports nothing but the standard library, so the
// parser (JSONParser.swift) and writer (JSONWriter.swift) are our own.

/// A parsed JSON document.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The JSON type name used in error messages: null, boolean, number, string, array, object.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// The member `key` when this is an object, otherwise nil.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    /// The element at `index` when this is an array and the index is in range, otherwise nil.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let array) = self, array.indices.contains(index) else { return nil }
        return array[index]
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var numberValue: JSONNumber? {
        if case .number(let n) = self { return n }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }
}

/// A JSON number that keeps integers exact: every integer literal that fits in Int64 or
/// UInt64 is stored as such (so 18446744073709551615 and -1 survive a round trip);
/// anything else is a Double together with the literal it was parsed from.
public struct JSONNumber: Sendable, CustomStringConvertible {
    @usableFromInline
    enum Storage: Sendable {
        /// Every integer in Int64 range.
        case int(Int64)
        /// Only integers above Int64.max.
        case uint(UInt64)
        /// Fractions, exponents, and integers beyond 64 bits; `text` is the JSON literal.
        case float(Double, text: String)
    }

    @usableFromInline
    let storage: Storage

    @inlinable
    init(storage: Storage) { self.storage = storage }

    public init(_ value: Int64) { storage = .int(value) }
    public init(_ value: Int) { storage = .int(Int64(value)) }

    public init(_ value: UInt64) {
        if let small = Int64(exactly: value) {
            storage = .int(small)
        } else {
            storage = .uint(value)
        }
    }

    public init<T: BinaryInteger>(_ value: T) {
        if let small = Int64(exactly: value) {
            storage = .int(small)
        } else if let large = UInt64(exactly: value) {
            storage = .uint(large)
        } else {
            storage = .float(Double(value), text: String(value))
        }
    }

    /// A floating-point number. Integral values that fit in Int64 are stored as integers.
    public init(_ value: Double) {
        // Int64(exactly:) would call libm's trunc, which SkiffSpec does not link.
        if value >= -0x1p63, value < 0x1p63, Double(Int64(value)) == value {
            storage = .int(Int64(value))
        } else {
            storage = .float(value, text: JSONNumber.literal(for: value))
        }
    }

    /// Parses a JSON number literal (RFC 8259 grammar); nil when `literal` is not one.
    public init?(literal: String) {
        let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
        guard let first = literal.utf8.first, first == UInt8(ascii: "-") || digits.contains(first),
              let last = literal.utf8.last, digits.contains(last),
              case .number(let n)? = try? JSONValue.parse(Array(literal.utf8))
        else { return nil }
        self = n
    }

    /// True when the literal was an integer (no fraction or exponent) that fits in 64 bits.
    public var isInteger: Bool {
        if case .float = storage { return false }
        return true
    }

    /// The value when it is an integer within Int64 range.
    public var int64Value: Int64? {
        if case .int(let v) = storage { return v }
        return nil
    }

    /// The value when it is a non-negative integer within UInt64 range.
    public var uint64Value: UInt64? {
        switch storage {
        case .int(let v): UInt64(exactly: v)
        case .uint(let v): v
        case .float: nil
        }
    }

    /// The value as a Double (possibly rounded for very large integers).
    public var doubleValue: Double {
        switch storage {
        case .int(let v): Double(v)
        case .uint(let v): Double(v)
        case .float(let v, _): v
        }
    }

    /// The value converted exactly to an integer type, or nil when it is fractional, written
    /// with a fraction or exponent, or out of range for `T`.
    @inlinable
    public func exactly<T: FixedWidthInteger>(_: T.Type = T.self) -> T? {
        switch storage {
        case .int(let v): T(exactly: v)
        case .uint(let v): T(exactly: v)
        case .float: nil
        }
    }

    /// The JSON text of the number.
    public var description: String {
        switch storage {
        case .int(let v): String(v)
        case .uint(let v): String(v)
        case .float(_, let text): text
        }
    }

    static func literal(for value: Double) -> String {
        guard value.isFinite else { return "null" }  // JSON has no NaN or infinities
        return value.description
    }
}

extension JSONNumber: Equatable {
    /// Integers compare exactly; anything involving a non-integer compares as Double.
    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        switch (lhs.storage, rhs.storage) {
        case (.int(let a), .int(let b)): a == b
        case (.uint(let a), .uint(let b)): a == b
        case (.int, .uint), (.uint, .int): false
        default: lhs.doubleValue == rhs.doubleValue
        }
    }
}

extension JSONNumber: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    public init(integerLiteral value: Int64) { self.init(value) }
    public init(floatLiteral value: Double) { self.init(value) }
}

/// A JSON object that keeps its members in document order. Looking a key up is a linear scan
/// for small objects (the common case in config.json) and a hash lookup for large ones.
/// Setting an existing key replaces its value in place; a parsed document with a duplicate key
/// keeps the last value, like Go's encoding/json.
public struct JSONObject: Sendable {
    public private(set) var keys: [String] = []
    public private(set) var values: [JSONValue] = []
    private var index: [String: Int]?

    private static let indexThreshold = 16

    public init() {}

    public init(_ members: [(String, JSONValue)]) {
        keys.reserveCapacity(members.count)
        values.reserveCapacity(members.count)
        for (key, value) in members { self[key] = value }
    }

    /// Builds an object from keys already known to be distinct.
    init(uniqueKeys keys: [String], values: [JSONValue]) {
        self.keys = keys
        self.values = values
        if keys.count > JSONObject.indexThreshold {
            index = Dictionary(keys.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// Members in document order.
    public var members: Zip2Sequence<[String], [JSONValue]> { zip(keys, values) }

    public func position(of key: String) -> Int? {
        if let index { return index[key] }
        return keys.firstIndex(of: key)
    }

    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { values[$0] } }
        set {
            if let i = position(of: key) {
                if let newValue {
                    values[i] = newValue
                } else {
                    removeMember(at: i)
                }
            } else if let newValue {
                append(key, newValue)
            }
        }
    }

    private mutating func append(_ key: String, _ value: JSONValue) {
        keys.append(key)
        values.append(value)
        if index != nil {
            index![key] = keys.count - 1
        } else if keys.count > JSONObject.indexThreshold {
            index = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
        }
    }

    private mutating func removeMember(at i: Int) {
        keys.remove(at: i)
        values.remove(at: i)
        if index != nil {
            index = keys.count > JSONObject.indexThreshold
                ? Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) }) : nil
        }
    }
}

extension JSONObject: Equatable {
    /// Objects are equal when they have the same members, in any order (JSON semantics).
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.keys == rhs.keys { return lhs.values == rhs.values }
        for (key, value) in lhs.members where rhs[key] != value { return false }
        return true
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByStringLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .number(JSONNumber(value)) }
    public init(floatLiteral value: Double) { self = .number(JSONNumber(value)) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
}

/// A syntax error in a JSON document, located by byte offset and by 1-based line and column
/// (the column counts characters, not bytes).
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var line: Int
    public var column: Int
    /// What is wrong, e.g. `expected ',' or '}' after object member, found '"'`.
    public var reason: String

    public init(offset: Int, line: Int, column: Int, reason: String) {
        self.offset = offset
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String { "invalid JSON at line \(line) column \(column): \(reason)" }
}

// skiff is built without the implicit _StringProcessing (Regex) and _Concurrency imports, which
// would link megabytes of code into the static binary that start-up then pages in. These two
// cover the substring operations we need.
extension StringProtocol {
    /// True when `needle` occurs in the string (byte-wise on UTF-8).
    public func includes(_ needle: some StringProtocol) -> Bool {
        var hay = String(self), pin = String(needle)
        return hay.withUTF8 { h in pin.withUTF8 { p in utf8Offset(of: p, in: h, from: 0) != nil } }
    }

    /// Splits on a multi-character separator, at most `maxSplits` times.
    public func components(separatedBy separator: String, maxSplits: Int = .max) -> [Substring] {
        let text = String(self)
        var copy = text, sep = separator
        // Byte offsets where separators start and end, searched on UTF-8.
        let cuts: [Int] = copy.withUTF8 { h in
            sep.withUTF8 { p in
                var result: [Int] = []
                var from = 0
                while result.count / 2 < maxSplits, !p.isEmpty, let at = utf8Offset(of: p, in: h, from: from) {
                    result.append(at)
                    result.append(at + p.count)
                    from = at + p.count
                }
                return result
            }
        }
        var pieces: [Substring] = []
        pieces.reserveCapacity(cuts.count / 2 + 1)
        let utf8 = text.utf8
        var start = utf8.startIndex
        var i = 0
        while i < cuts.count {
            let end = utf8.index(utf8.startIndex, offsetBy: cuts[i])
            pieces.append(text[start..<end])
            start = utf8.index(utf8.startIndex, offsetBy: cuts[i + 1])
            i += 2
        }
        pieces.append(text[start...])
        return pieces
    }
}

/// Offset of the first occurrence of `pin` in `hay` at or after `from`.
private func utf8Offset(of pin: UnsafeBufferPointer<UInt8>, in hay: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
    if pin.isEmpty { return from <= hay.count ? from : nil }
    guard pin.count <= hay.count else { return nil }
    let first = pin[0]
    var i = from
    while i <= hay.count - pin.count {
        if hay[i] == first {
            var k = 1
            while k < pin.count, hay[i + k] == pin[k] { k += 1 }
            if k == pin.count { return i }
        }
        i += 1
    }
    return nil
}

extension StringProtocol {
    /// ASCII-only case mapping: enough for the names skiff handles (capabilities, signals,
    /// seccomp architectures, units) without linking the Unicode case tables.
    public var asciiLowercased: String {
        String(decoding: utf8.map { $0 >= 0x41 && $0 <= 0x5a ? $0 + 0x20 : $0 }, as: UTF8.self)
    }
    public var asciiUppercased: String {
        String(decoding: utf8.map { $0 >= 0x61 && $0 <= 0x7a ? $0 - 0x20 : $0 }, as: UTF8.self)
    }
}
