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
        case .number(let n): JSONWriter.appendNumber(n, to: &output)
        case .string(let s): JSONWriter.appendQuoted(s, to: &output)
        case .array(let elements):
            guard !elements.isEmpty else { return append("[]") }
            output.append(UInt8(ascii: "["))
            for i in elements.indices {
                if i > 0 { output.append(UInt8(ascii: ",")) }
                newline(level + 1)
                write(elements[i], level: level + 1)
            }
            newline(level)
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            guard !object.isEmpty else { return append("{}") }
            output.append(UInt8(ascii: "{"))
            let keys = object.keys, values = object.values
            for i in keys.indices {
                if i > 0 { output.append(UInt8(ascii: ",")) }
                newline(level + 1)
                JSONWriter.appendQuoted(keys[i], to: &output)
                output.append(UInt8(ascii: ":"))
                if indentUnit != nil { output.append(UInt8(ascii: " ")) }
                write(values[i], level: level + 1)
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

    private mutating func append(_ text: StaticString) {
        output.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Integers digit by digit, without an intermediate String.
    static func appendNumber(_ number: JSONNumber, to output: inout [UInt8]) {
        switch number.storage {
        case .int(let v):
            if v < 0 { output.append(UInt8(ascii: "-")) }
            appendDigits(v.magnitude, to: &output)
        case .uint(let v):
            appendDigits(v, to: &output)
        case .float(_, let text):
            output.append(contentsOf: text.utf8)
        }
    }

    private static func appendDigits(_ value: UInt64, to output: inout [UInt8]) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        var count = 0
        var v = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[23 - count] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: v % 10)
                v /= 10
                count += 1
            } while v != 0
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(24 - count)...]))
        }
    }

    /// Appends `text` quoted and escaped. Runs of bytes that need no escape are copied whole.
    static func appendQuoted(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { appendEscaped($0, to: &output) }
        output.append(UInt8(ascii: "\""))
    }

    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        var run = 0  // start of the bytes not yet copied
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            // Everything but control characters, '"', '\\' and the lead byte of U+2028/U+2029.
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte != 0xE2 {
                i += 1
                continue
            }
            if byte == 0xE2 {
                guard i + 2 < bytes.count, bytes[i + 1] == 0x80, bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9 else {
                    i += 1
                    continue
                }
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<i]))
            output.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.append(byte)
            case 0x0A: output.append(UInt8(ascii: "n"))
            case 0x0D: output.append(UInt8(ascii: "r"))
            case 0x09: output.append(UInt8(ascii: "t"))
            case 0x08: output.append(UInt8(ascii: "b"))
            case 0x0C: output.append(UInt8(ascii: "f"))
            case 0xE2:
                // U+2028 / U+2029: \u2028 / \u2029
                output.append(UInt8(ascii: "u"))
                output.append(UInt8(ascii: "2"))
                output.append(UInt8(ascii: "0"))
                output.append(UInt8(ascii: "2"))
                output.append(bytes[i + 2] == 0xA8 ? UInt8(ascii: "8") : UInt8(ascii: "9"))
                i += 3
                run = i
                continue
            default:
                output.append(UInt8(ascii: "u"))
                output.append(UInt8(ascii: "0"))
                output.append(UInt8(ascii: "0"))
                output.append(hexDigit(byte >> 4))
                output.append(hexDigit(byte & 0xF))
            }
            i += 1
            run = i
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<bytes.count]))
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
