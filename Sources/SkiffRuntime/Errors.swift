import SkiffSpec

/// An error the runtime reports to the user: one line, naming the field, id or path at fault.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// Control characters in `message` (from config values, paths, hook output) are escaped:
    /// an error is one line and cannot drive a terminal or forge a log line.
    public init(_ message: String) { self.message = escapingControlCharacters(message) }
    public var description: String { message }

    public static func notExist(_ id: String) -> RuntimeError {
        RuntimeError("container \"\(id)\" does not exist")
    }
}

/// Container ids as runc accepts them: [A-Za-z0-9_+.-]+, not "." or "..".
public enum ContainerID {
    public static func validate(_ id: String) throws(RuntimeError) {
        let ok = !id.isEmpty && id != "." && id != ".." && id.utf8.count <= 1024 && id.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
                || c == 0x5f || c == 0x2b || c == 0x2d || c == 0x2e
        }
        if !ok { throw RuntimeError("invalid container ID format: \"\(id)\"") }
    }
}

/// --preserve-fds (plus LISTEN_FDS): how many fds past stdio pass into the container.
public enum PreservedFds {
    /// The kernel's default fs.nr_open: no process has more fds than this.
    public static let maximum = 1 << 20

    public static func validate(_ count: Int) throws(RuntimeError) {
        if count < 0 || count > maximum {
            throw RuntimeError("--preserve-fds: \(count) is outside 0...\(maximum) (LISTEN_FDS counts too)")
        }
    }
}
