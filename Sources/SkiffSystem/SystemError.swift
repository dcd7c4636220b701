import CSkiffSys
import Glibc

/// A failed system call, naming the call, the path (or other argument) it was made on and errno,
/// worded like Go's os.PathError so engines that match on runc's text ("no such file or
/// directory", "permission denied") keep working.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public var call: String
    public var path: String?
    public var errno: Int32
    /// Replaces strerror's text when the problem is more specific than errno ("not a regular
    /// file: it is a fifo").
    public var detail: String? = nil

    public init(_ call: String, _ path: String? = nil, errno: Int32 = CSkiffSys.sk_errno(), detail: String? = nil) {
        self.call = call
        self.path = path
        self.errno = errno
        self.detail = detail
    }

    public var description: String {
        let text = detail ?? SystemError.message(errno)
        if let path { return "\(call) \(path): \(text)" }
        return "\(call): \(text)"
    }

    /// strerror in Go's spelling: lower-case first letter.
    public static func message(_ code: Int32) -> String {
        guard let cstr = strerror(code) else { return "errno \(code)" }
        var bytes = Array(String(cString: cstr).utf8)
        if let first = bytes.first, first >= 0x41, first <= 0x5a { bytes[0] = first + 0x20 }
        return String(decoding: bytes, as: UTF8.self)
    }
}

@inline(__always)
public func currentErrno() -> Int32 { CSkiffSys.sk_errno() }

/// Retries a call while it fails with EINTR; throws SystemError on any other failure.
@discardableResult
@inline(__always)
public func check<T: BinaryInteger>(_ call: String, _ path: String? = nil, _ body: () -> T) throws(SystemError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = currentErrno()
        if code == EINTR { continue }
        throw SystemError(call, path, errno: code)
    }
}
