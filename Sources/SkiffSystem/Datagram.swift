import Glibc

/// AF_UNIX datagram sockets, for the sd_notify protocol (NOTIFY_SOCKET).
public enum Datagram {
    /// sockaddr_un for a path; a leading "@" means the abstract namespace (as systemd writes it).
    static func address(_ path: String) throws(SystemError) -> (sockaddr_un, socklen_t) {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw SystemError("socket address", path, errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let length = MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1)
        return (addr, socklen_t(length))
    }

    /// Binds a datagram socket at `path` (replacing a stale one), mode 0777 so a container
    /// process of any uid can send to it.
    public static func bind(_ path: String) throws(SystemError) -> FD {
        let sock = try check("socket") { socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        let fd = FD(sock)
        unlink(path)
        var (addr, length) = try address(path)
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(sock, $0, length) }
        }
        if r != 0 {
            let e = currentErrno()
            fd.close()
            throw SystemError("bind", path, errno: e)
        }
        _ = chmod(path, 0o777)
        return fd
    }

    /// Sends one datagram to `path`.
    public static func send(_ text: String, to path: String) throws(SystemError) {
        let sock = try check("socket") { socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        defer { Glibc.close(sock) }
        var (addr, length) = try address(path)
        let bytes = Array(text.utf8)
        let r = withUnsafePointer(to: &addr) { a in
            a.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bytes.withUnsafeBytes { Glibc.sendto(sock, $0.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), sa, length) }
            }
        }
        if r < 0 { throw SystemError("sendto", path) }
    }
}
