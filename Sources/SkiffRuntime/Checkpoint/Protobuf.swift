/// A minimal protocol-buffers (proto2 wire format) writer and reader: just what criu's RPC
/// messages (rpc.proto) need. Varints, length-delimited fields (strings, bytes, embedded
/// messages) and fixed32/fixed64 (skipped when read). The reader never traps on hostile input:
/// every length is checked against what is left, varints longer than 10 bytes, truncated
/// fields and unknown wire types are errors, unknown fields are skipped.
public enum ProtoWireType: UInt8, Sendable {
    case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
}

public struct ProtoError: Error, Equatable, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public struct ProtoWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    public init() {}

    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    mutating func key(_ field: Int, _ type: ProtoWireType) {
        varint(UInt64(UInt32(truncatingIfNeeded: field)) << 3 | UInt64(type.rawValue))
    }

    public mutating func uint64(_ field: Int, _ value: UInt64?) {
        guard let value else { return }
        key(field, .varint)
        varint(value)
    }

    public mutating func uint32(_ field: Int, _ value: UInt32?) { uint64(field, value.map(UInt64.init)) }

    /// int32 as protobuf encodes it: a negative value sign-extended to 64 bits (10 bytes).
    public mutating func int32(_ field: Int, _ value: Int32?) {
        uint64(field, value.map { UInt64(bitPattern: Int64($0)) })
    }

    public mutating func bool(_ field: Int, _ value: Bool?) { uint64(field, value.map { $0 ? 1 : 0 }) }

    public mutating func bytes(_ field: Int, _ value: [UInt8]?) {
        guard let value else { return }
        key(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func string(_ field: Int, _ value: String?) { bytes(field, value.map { Array($0.utf8) }) }

    public mutating func message(_ field: Int, _ value: ProtoWriter?) { bytes(field, value?.bytes) }

    /// A repeated embedded message: one `field` per item, each written by `encode`.
    public mutating func messages<T>(_ field: Int, _ items: [T], _ encode: (inout ProtoWriter, T) -> Void) {
        for item in items {
            var e = ProtoWriter()
            encode(&e, item)
            message(field, e)
        }
    }

    public mutating func fixed32(_ field: Int, _ value: UInt32?) {
        guard let value else { return }
        key(field, .fixed32)
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
    }

    public mutating func fixed64(_ field: Int, _ value: UInt64?) {
        guard let value else { return }
        key(field, .fixed64)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }
}

/// One field as read: its number and its value by wire type.
public struct ProtoField: Sendable {
    public enum Value: Sendable, Equatable {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes(ArraySlice<UInt8>)
    }
    public var number: Int
    public var value: Value

    public var uint64: UInt64? {
        switch value {
        case .varint(let v), .fixed64(let v): return v
        case .fixed32(let v): return UInt64(v)
        case .bytes: return nil
        }
    }
    /// int32 from a varint: the low 32 bits (protobuf's truncation rule).
    public var int32: Int32? { uint64.map { Int32(truncatingIfNeeded: $0) } }
    public var uint32: UInt32? { uint64.map { UInt32(truncatingIfNeeded: $0) } }
    public var bool: Bool? { uint64.map { $0 != 0 } }
    public var data: ArraySlice<UInt8>? {
        if case .bytes(let b) = value { return b }
        return nil
    }
    /// A string field; invalid UTF-8 is repaired (never a trap).
    public var string: String? { data.map { String(decoding: $0, as: UTF8.self) } }
}

public struct ProtoReader: Sendable {
    let buffer: ArraySlice<UInt8>
    var index: Int

    public init(_ bytes: ArraySlice<UInt8>) {
        buffer = bytes
        index = bytes.startIndex
    }
    public init(_ bytes: [UInt8]) { self.init(bytes[...]) }

    public var atEnd: Bool { index >= buffer.endIndex }

    mutating func varint() throws(ProtoError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < buffer.endIndex else { throw ProtoError("truncated varint") }
            let byte = buffer[index]
            index += 1
            if shift == 63 && byte > 1 { throw ProtoError("varint overflows 64 bits") }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw ProtoError("varint longer than 10 bytes") }
        }
    }

    mutating func take(_ count: UInt64) throws(ProtoError) -> ArraySlice<UInt8> {
        let left = buffer.endIndex - index
        guard count <= UInt64(left) else { throw ProtoError("field length \(count) exceeds the \(left) bytes left") }
        let n = Int(count)
        let slice = buffer[index..<(index + n)]
        index += n
        return slice
    }

    /// The next field, or nil at the end. Groups (deprecated) are refused.
    public mutating func next() throws(ProtoError) -> ProtoField? {
        if atEnd { return nil }
        let key = try varint()
        let number = key >> 3
        guard number >= 1, number <= 0x1fff_ffff else { throw ProtoError("invalid field number \(number)") }
        let field = Int(number)
        switch key & 7 {
        case 0: return ProtoField(number: field, value: .varint(try varint()))
        case 1:
            let b = try take(8)
            var v: UInt64 = 0
            for (i, byte) in b.enumerated() { v |= UInt64(byte) << (8 * UInt64(i)) }
            return ProtoField(number: field, value: .fixed64(v))
        case 2:
            let length = try varint()
            return ProtoField(number: field, value: .bytes(try take(length)))
        case 5:
            let b = try take(4)
            var v: UInt32 = 0
            for (i, byte) in b.enumerated() { v |= UInt32(byte) << (8 * UInt32(i)) }
            return ProtoField(number: field, value: .fixed32(v))
        default:
            throw ProtoError("unsupported wire type \(key & 7) for field \(field)")
        }
    }

    /// Every field of a message, in order.
    public static func fields(_ bytes: ArraySlice<UInt8>) throws(ProtoError) -> [ProtoField] {
        var reader = ProtoReader(bytes)
        var result: [ProtoField] = []
        while let f = try reader.next() { result.append(f) }
        return result
    }
}
