// JSON output in the layout of Go's encoding/json, so files we write look like runc's.

extension JSONValue {
    /// The JSON text of this value. Compact when `indent` is nil; otherwise each level is indented
    /// by `indent` spaces with `"key": value` members, like Go's `json.MarshalIndent(v, "", "  ")`.
    /// Empty arrays and objects are written as `[]` and `{}`. No trailing newline.
    public func serialized(indent: Int? = nil) -> String {
        serialized(indentString: indent.map { String(repeating: " ", count: $0) })
    }

    /// Like `serialized(indent:)` with an arbitrary indent unit (e.g. "\t", as `runc spec` uses).
    public func serialized(indentString: String?) -> String {
        var writer = JSONWriter(indentUnit: indentString.map { Array($0.utf8) })
        writer.write(self, level: 0)
        return String(decoding: writer.output, as: UTF8.self)
    }
}

/// `text` as a JSON string literal, quoted and escaped the way Go's encoding/json does it
/// (except that `<`, `>` and `&` are left alone): `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`,
/// other control characters as `\u00XX`, and U+2028/U+2029 escaped.
public func jsonQuoted(_ text: String) -> String {
    var output: [UInt8] = []
    output.reserveCapacity(text.utf8.count + 2)
    JSONWriter.appendQuoted(text, to: &output)
    return String(decoding: output, as: UTF8.self)
}

struct JSONWriter {
    var output: [UInt8] = []
    let indentUnit: [UInt8]?

    init(indentUnit: [UInt8]?) {
        self.indentUnit = indentUnit
        output.reserveCapacity(1024)
    }

    mutating func write(_ value: JSONValue, level: Int) {
        switch value {
        case .null: append("null")
        case .bool(let b): append(b ? "true" : "false")
        case .number(let n): append(n.description)
        case .string(let s): JSONWriter.appendQuoted(s, to: &output)
        case .array(let elements):
            guard !elements.isEmpty else { return append("[]") }
            output.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { output.append(UInt8(ascii: ",")) }
                newline(level + 1)
                write(element, level: level + 1)
            }
            newline(level)
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            guard !object.isEmpty else { return append("{}") }
            output.append(UInt8(ascii: "{"))
            for (i, (key, member)) in object.members.enumerated() {
                if i > 0 { output.append(UInt8(ascii: ",")) }
                newline(level + 1)
                JSONWriter.appendQuoted(key, to: &output)
                output.append(UInt8(ascii: ":"))
                if indentUnit != nil { output.append(UInt8(ascii: " ")) }
                write(member, level: level + 1)
            }
            newline(level)
            output.append(UInt8(ascii: "}"))
        }
    }

    private mutating func newline(_ level: Int) {
        guard let indentUnit else { return }
        output.append(UInt8(ascii: "\n"))
        for _ in 0..<level { output.append(contentsOf: indentUnit) }
    }

    private mutating func append(_ text: String) {
        output.append(contentsOf: text.utf8)
    }

    static func appendQuoted(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var utf8 = text.utf8.makeIterator()
        // U+2028 and U+2029 are E2 80 A8 / E2 80 A9 in UTF-8; track the two preceding bytes.
        var previous: (UInt8, UInt8) = (0, 0)
        while let byte = utf8.next() {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), byte])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), byte])
            case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20:
                output.append(contentsOf: Array("\\u00".utf8))
                output.append(hexDigit(byte >> 4))
                output.append(hexDigit(byte & 0xF))
            case 0xA8...0xA9 where previous == (0xE2, 0x80):
                output.removeLast(2)
                output.append(contentsOf: Array((byte == 0xA8 ? "\\u2028" : "\\u2029").utf8))
            default:
                output.append(byte)
            }
            previous = (previous.1, byte)
        }
        output.append(UInt8(ascii: "\""))
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
