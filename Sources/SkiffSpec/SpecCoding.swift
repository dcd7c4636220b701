// Direct conversion between the config model and JSONValue, without Codable.
//
// The model types keep their Codable conformances (StoredState and other callers use them),
// but SpecDecoder and SpecEncoder hand these types to the code below instead of to their
// synthesized init(from:)/encode(to:). Codable's generic containers made the Swift runtime
// instantiate dozens of generic types by mangled name and check each one's requirements by
// scanning every protocol conformance record in the binary: decoding one state.json cost
// 2 million instructions (64% of `skiff state`) and paged in the runtime's demangler.
//
// The results are the same as the synthesized conformances', errors included: members are
// read in declaration order, the first problem wins, and problems are reported as the
// DecodingError SpecDecoder turns into `<file>: <json.path>: <message>`. Encoding writes
// members in declaration order, omits nil optionals and sorts dictionary keys bytewise.
// SkiffSpecTests checks both directions against the Codable path on every fixture.

// MARK: - Paths

/// Where a value sits in the document; turned into a coding path only for an error.
/// (Public, with ObjectDecoding/ObjectEncoding and the collection helpers, so other documents
/// that hold a Spec, such as skiff's state file, can be converted the same way.)
public indirect enum ValuePath {
    case root([any CodingKey])
    case key(ValuePath, String)
    case index(ValuePath, Int)

    var codingPath: [any CodingKey] {
        switch self {
        case .root(let path): path
        case .key(let parent, let key): parent.codingPath + [StringKey(key)]
        case .index(let parent, let index): parent.codingPath + [IndexKey(index)]
        }
    }
}

private func mismatch(_ expected: String, _ value: JSONValue, _ path: ValuePath) -> DecodingError {
    DecodingError.typeMismatch(JSONValue.self, DecodingError.Context(
        codingPath: path.codingPath, debugDescription: "expected \(expected), got \(value.typeName)"))
}

// MARK: - Scalars

enum ScalarDecoding {
    @inline(__always)
    static func string(_ value: JSONValue, _ path: @autoclosure () -> ValuePath) throws(DecodingError) -> String {
        if case .string(let s) = value { return s }
        throw mismatch("string", value, path())
    }

    @inline(__always)
    static func bool(_ value: JSONValue, _ path: @autoclosure () -> ValuePath) throws(DecodingError) -> Bool {
        if case .bool(let b) = value { return b }
        throw mismatch("boolean", value, path())
    }

    @inline(__always)
    static func integer<T: FixedWidthInteger>(
        _ value: JSONValue, _ type: T.Type, _ path: @autoclosure () -> ValuePath
    ) throws(DecodingError) -> T {
        if case .number(let n) = value, let result = n.exactly(T.self) { return result }
        throw integerMismatch(value, T.self, path())
    }

    static func integerMismatch<T: FixedWidthInteger>(_ value: JSONValue, _ type: T.Type, _ path: ValuePath) -> DecodingError {
        // A number only fails by being fractional or out of range: show it.
        let found = if case .number(let n) = value { "number " + n.description } else { value.typeName }
        return DecodingError.typeMismatch(T.self, DecodingError.Context(
            codingPath: path.codingPath,
            debugDescription: "expected " + TypeDescription.integerDescription(T.self) + ", got " + found))
    }
}

// MARK: - Objects

/// The members of one JSON object being decoded into a struct.
public struct ObjectDecoding {
    public let object: JSONObject
    public let path: ValuePath

    public init(_ value: JSONValue, _ path: ValuePath) throws(DecodingError) {
        guard case .object(let object) = value else { throw mismatch("object", value, path) }
        self.object = object
        self.path = path
    }

    /// The member, present (possibly null); a missing one is "required field is missing".
    public func required(_ key: String) throws(DecodingError) -> JSONValue {
        if let value = object[key] { return value }
        throw DecodingError.keyNotFound(StringKey(key), DecodingError.Context(
            codingPath: path.codingPath, debugDescription: "required field is missing"))
    }

    /// The member, or nil when it is absent or null.
    public func optional(_ key: String) -> JSONValue? {
        switch object[key] {
        case nil, .null?: nil
        case let value?: value
        }
    }

    public func string(_ key: String) throws(DecodingError) -> String {
        try ScalarDecoding.string(required(key), .key(path, key))
    }

    public func string(ifPresent key: String) throws(DecodingError) -> String? {
        guard let value = optional(key) else { return nil }
        return try ScalarDecoding.string(value, .key(path, key))
    }

    public func bool(_ key: String) throws(DecodingError) -> Bool {
        try ScalarDecoding.bool(required(key), .key(path, key))
    }

    public func bool(ifPresent key: String) throws(DecodingError) -> Bool? {
        guard let value = optional(key) else { return nil }
        return try ScalarDecoding.bool(value, .key(path, key))
    }

    public func integer<T: FixedWidthInteger>(_ key: String, _ type: T.Type) throws(DecodingError) -> T {
        try ScalarDecoding.integer(required(key), T.self, .key(path, key))
    }

    public func integer<T: FixedWidthInteger>(ifPresent key: String, _ type: T.Type) throws(DecodingError) -> T? {
        guard let value = optional(key) else { return nil }
        return try ScalarDecoding.integer(value, T.self, .key(path, key))
    }

    /// A required nested value.
    public func value<T>(_ key: String, _ decode: (JSONValue, ValuePath) throws(DecodingError) -> T) throws(DecodingError) -> T {
        try decode(required(key), .key(path, key))
    }

    /// An optional nested value: nil when absent or null.
    public func value<T>(ifPresent key: String, _ decode: (JSONValue, ValuePath) throws(DecodingError) -> T) throws(DecodingError) -> T? {
        guard let value = optional(key) else { return nil }
        return try decode(value, .key(path, key))
    }

    public func strings(ifPresent key: String) throws(DecodingError) -> [String]? {
        guard let value = optional(key) else { return nil }
        return try CollectionDecoding.strings(value, .key(path, key))
    }

    public func stringMap(ifPresent key: String) throws(DecodingError) -> [String: String]? {
        guard let value = optional(key) else { return nil }
        return try CollectionDecoding.stringMap(value, .key(path, key))
    }
}

// MARK: - Arrays and maps

public enum CollectionDecoding {
    /// `[T]`; `description` names the expected type in errors ("array of objects").
    public static func array<T>(
        _ value: JSONValue, _ path: ValuePath, _ description: String,
        _ element: (JSONValue, ValuePath) throws(DecodingError) -> T
    ) throws(DecodingError) -> [T] {
        guard case .array(let elements) = value else { throw mismatch(description, value, path) }
        var result: [T] = []
        result.reserveCapacity(elements.count)
        for (i, item) in elements.enumerated() {
            result.append(try element(item, .index(path, i)))
        }
        return result
    }

    public static func strings(_ value: JSONValue, _ path: ValuePath) throws(DecodingError) -> [String] {
        guard case .array(let elements) = value else { throw mismatch("array of strings", value, path) }
        var result: [String] = []
        result.reserveCapacity(elements.count)
        for (i, item) in elements.enumerated() {
            result.append(try ScalarDecoding.string(item, .index(path, i)))
        }
        return result
    }

    public static func integers<T: FixedWidthInteger>(_ value: JSONValue, _ path: ValuePath, _ type: T.Type) throws(DecodingError) -> [T] {
        guard case .array(let elements) = value else {
            throw mismatch("array of " + TypeDescription.integerDescription(T.self) + "s", value, path)
        }
        var result: [T] = []
        result.reserveCapacity(elements.count)
        for (i, item) in elements.enumerated() {
            result.append(try ScalarDecoding.integer(item, T.self, .index(path, i)))
        }
        return result
    }

    /// `[String: T]`, members in document order (a duplicate key was resolved by the parser).
    public static func map<T>(
        _ value: JSONValue, _ path: ValuePath, _ element: (JSONValue, ValuePath) throws(DecodingError) -> T
    ) throws(DecodingError) -> [String: T] {
        guard case .object(let object) = value else { throw mismatch("object", value, path) }
        var result: [String: T] = [:]
        result.reserveCapacity(object.count)
        for (key, item) in object.members {
            result[key] = try element(item, .key(path, key))
        }
        return result
    }

    /// An object of strings as a list, in document order: for the few keys of state.json,
    /// where a `[String: String]` would cost its type's first use (a scan of the Swift
    /// runtime's conformance records, ~80k instructions) on every command.
    public static func keyValues(_ value: JSONValue, _ path: ValuePath) throws(DecodingError) -> [KeyValue] {
        guard case .object(let object) = value else { throw mismatch("object", value, path) }
        var result: [KeyValue] = []
        result.reserveCapacity(object.count)
        for (key, item) in object.members {
            result.append(KeyValue(key: key, value: try ScalarDecoding.string(item, .key(path, key))))
        }
        return result
    }

    public static func stringMap(_ value: JSONValue, _ path: ValuePath) throws(DecodingError) -> [String: String] {
        guard case .object(let object) = value else { throw mismatch("object", value, path) }
        var result: [String: String] = [:]
        result.reserveCapacity(object.count)
        for (key, item) in object.members {
            result[key] = try ScalarDecoding.string(item, .key(path, key))
        }
        return result
    }
}

// MARK: - Encoding helpers

/// Builds one JSON object in member order.
public struct ObjectEncoding {
    private var keys: [String] = []
    private var values: [JSONValue] = []

    public init(capacity: Int) {
        keys.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    public mutating func add(_ key: String, _ value: JSONValue) {
        keys.append(key)
        values.append(value)
    }

    public mutating func add(_ key: String, _ value: String) { add(key, .string(value)) }
    public mutating func add(_ key: String, _ value: Bool) { add(key, .bool(value)) }
    public mutating func add<T: BinaryInteger>(_ key: String, _ value: T) { add(key, .number(JSONNumber(value))) }

    public mutating func add(_ key: String, ifPresent value: String?) { if let value { add(key, .string(value)) } }
    public mutating func add(_ key: String, ifPresent value: Bool?) { if let value { add(key, .bool(value)) } }
    public mutating func add<T: BinaryInteger>(_ key: String, ifPresent value: T?) {
        if let value { add(key, .number(JSONNumber(value))) }
    }
    public mutating func add(_ key: String, ifPresent value: [String]?) {
        if let value { add(key, CollectionEncoding.strings(value)) }
    }
    public mutating func add(_ key: String, ifPresent value: [String: String]?) {
        if let value { add(key, CollectionEncoding.stringMap(value)) }
    }
    public mutating func add<T>(_ key: String, ifPresent value: T?, _ encode: (T) -> JSONValue) {
        if let value { add(key, encode(value)) }
    }

    public var value: JSONValue { .object(JSONObject(uniqueKeys: keys, values: values)) }
}

public enum CollectionEncoding {
    public static func strings(_ values: [String]) -> JSONValue {
        var result: [JSONValue] = []
        result.reserveCapacity(values.count)
        for value in values { result.append(.string(value)) }
        return .array(result)
    }

    public static func array<T>(_ values: [T], _ encode: (T) -> JSONValue) -> JSONValue {
        var result: [JSONValue] = []
        result.reserveCapacity(values.count)
        for value in values { result.append(encode(value)) }
        return .array(result)
    }

    public static func integers<T: BinaryInteger>(_ values: [T]) -> JSONValue {
        array(values) { .number(JSONNumber($0)) }
    }

    /// Keys sorted bytewise, as Go writes maps.
    public static func map<T>(_ values: [String: T], _ encode: (T) -> JSONValue) -> JSONValue {
        let keys = values.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var encoded: [JSONValue] = []
        encoded.reserveCapacity(keys.count)
        for key in keys { encoded.append(encode(values[key]!)) }
        return .object(JSONObject(uniqueKeys: keys, values: encoded))
    }

    public static func stringMap(_ values: [String: String]) -> JSONValue {
        map(values) { .string($0) }
    }

    /// `keyValues` written back: keys sorted bytewise, like `stringMap`.
    public static func keyValues(_ pairs: [KeyValue]) -> JSONValue {
        let sorted = pairs.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        return .object(JSONObject(uniqueKeys: sorted.map(\.key), values: sorted.map { .string($0.value) }))
    }
}

// MARK: - OCIState (custom Codable: defaults when decoding, annotations only when non-empty)

extension OCIState {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let ociVersion = try o.string("ociVersion")
        let id = try o.string("id")
        let pid = try o.integer(ifPresent: "pid", Int.self) ?? 0
        let status = try o.string("status")
        let bundle = try o.string("bundle")
        let rootfs = try o.string(ifPresent: "rootfs") ?? ""
        let created = try o.string(ifPresent: "created") ?? ""
        let annotations = try o.stringMap(ifPresent: "annotations")
        let owner = try o.string(ifPresent: "owner") ?? ""
        self.init(ociVersion: ociVersion, id: id, pid: pid, status: status, bundle: bundle, rootfs: rootfs,
                  created: created, annotations: annotations, owner: owner)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 9)
        o.add("ociVersion", ociVersion)
        o.add("id", id)
        o.add("pid", pid)
        o.add("status", status)
        o.add("bundle", bundle)
        o.add("rootfs", rootfs)
        o.add("created", created)
        if let annotations, !annotations.isEmpty { o.add("annotations", CollectionEncoding.stringMap(annotations)) }
        o.add("owner", owner)
        return o.value
    }
}

// MARK: - Routing

/// The types SpecDecoder and SpecEncoder convert directly: the documents skiff reads and
/// writes on every command and the generic values inside its state file. A metatype
/// comparison is all it costs to ask (no conformance lookup).
enum DirectCoding {
    static func decode<T>(_ type: T.Type, from value: JSONValue, at path: [any CodingKey]) throws(DecodingError) -> T? {
        if T.self == Spec.self { return try Spec(json: value, at: .root(path)) as? T }
        if T.self == [String].self { return try CollectionDecoding.strings(value, .root(path)) as? T }
        if T.self == [String: String].self { return try CollectionDecoding.stringMap(value, .root(path)) as? T }
        if T.self == OCIState.self { return try OCIState(json: value, at: .root(path)) as? T }
        if T.self == Process.self { return try Process(json: value, at: .root(path)) as? T }
        if T.self == LinuxResources.self { return try LinuxResources(json: value, at: .root(path)) as? T }
        return nil
    }

    static func encode<T>(_ value: T) -> JSONValue? {
        if T.self == Spec.self, let spec = value as? Spec { return spec.json }
        if T.self == [String].self, let strings = value as? [String] { return CollectionEncoding.strings(strings) }
        if T.self == [String: String].self, let map = value as? [String: String] { return CollectionEncoding.stringMap(map) }
        if T.self == OCIState.self, let state = value as? OCIState { return state.json }
        if T.self == [OCIState].self, let states = value as? [OCIState] { return CollectionEncoding.array(states) { $0.json } }
        if T.self == Process.self, let process = value as? Process { return process.json }
        if T.self == LinuxResources.self, let resources = value as? LinuxResources { return resources.json }
        return nil
    }
}

/// One member of a JSON object of strings (`CollectionDecoding.keyValues`).
public struct KeyValue: Equatable, Sendable {
    public var key: String
    public var value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}
