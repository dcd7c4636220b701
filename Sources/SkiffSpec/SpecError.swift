/// A problem with a configuration or state file, located by JSON path.
///
/// `description` reads `config.json: process.rlimits[2].type: unknown rlimit "RLIMIT_TEST"`;
/// the `path: ` part is left out when the problem concerns the whole document.
public struct SpecError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file the document came from, e.g. "config.json".
    public var file: String
    /// JSON path: keys joined by dots, array indices in brackets (`linux.namespaces[1].type`);
    /// keys that are not identifiers are quoted (`linux.sysctl["net.ipv4.ip_forward"]`).
    public var path: String
    public var message: String

    public init(file: String = "config.json", path: String, message: String) {
        self.file = file
        self.path = path
        self.message = message
    }

    public var description: String {
        escapingControlCharacters(path.isEmpty ? "\(file): \(message)" : "\(file): \(path): \(message)")
    }
}

/// `text` with every control character (C0, DEL, C1: newline, ESC, CSI, …) written as an
/// escape (`\n`, `\t`, `\r`, `\u001b`), so a value from a config or state file cannot
/// break an error onto a second line, forge a log line or drive a terminal. Backslashes are
/// left alone: escaping twice changes nothing.
public func escapingControlCharacters(_ text: String) -> String {
    guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 }) else { return text }
    var out = ""
    out.reserveCapacity(text.utf8.count + 16)
    for scalar in text.unicodeScalars {
        switch scalar.value {
        case 0x0A: out += "\\n"
        case 0x09: out += "\\t"
        case 0x0D: out += "\\r"
        case 0x00..<0x20, 0x7F...0x9F:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default:
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// Builds JSON paths in the notation `SpecError.path` uses.
public enum JSONPath {
    /// `path` extended by an object key.
    public static func appending(_ path: String, key: String) -> String {
        if isIdentifier(key) {
            return path.isEmpty ? key : path + "." + key
        }
        return path + "[" + jsonQuoted(key) + "]"
    }

    /// `path` extended by an array index.
    public static func appending(_ path: String, index: Int) -> String {
        path + "[" + String(index) + "]"
    }

    /// Renders a Codable coding path. Keys of SpecDecoder's unkeyed containers render as `[i]`;
    /// every other key is an object key, even when it looks like a number (map key "5" is `["5"]`).
    static func render(_ codingPath: [any CodingKey]) -> String {
        var path = ""
        for key in codingPath {
            if let index = key as? IndexKey {
                path = appending(path, index: index.index)
            } else {
                path = appending(path, key: key.stringValue)
            }
        }
        return path
    }

    private static func isIdentifier(_ key: String) -> Bool {
        var first = true
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"):
                break
            case UInt8(ascii: "0")...UInt8(ascii: "9") where !first:
                break
            default:
                return false
            }
            first = false
        }
        return !first
    }
}

/// The coding key of an array element.
struct IndexKey: CodingKey {
    let index: Int
    init(_ index: Int) { self.index = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.index = intValue }
    var stringValue: String { String(index) }
    var intValue: Int? { index }
}

/// A plain string coding key (for superDecoder's "super" and for sorted dictionary keys).
struct StringKey: CodingKey {
    let stringValue: String
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { stringValue = String(intValue) }
    var intValue: Int? { nil }
}
