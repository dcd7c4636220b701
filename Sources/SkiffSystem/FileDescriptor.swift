import CSkiffSys
import Glibc

/// An owned file descriptor. Copyable for simplicity; whoever opened it closes it once.
public struct FD: Sendable, Hashable {
    public let raw: Int32
    public init(_ raw: Int32) { self.raw = raw }

    public func close() { _ = Glibc.close(raw) }

    public func read(max: Int = 65536) throws(SystemError) -> [UInt8] {
        // Uninitialized: only the pages read(2) fills are touched (a zeroed 64 KiB buffer cost
        // a memset and 16 pages of RSS per call).
        var result = 0, code: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: max) { buffer, count in
            repeat { result = Glibc.read(raw, buffer.baseAddress, max) } while result < 0 && currentErrno() == EINTR
            if result < 0 { code = currentErrno() }
            count = Swift.max(result, 0)
        }
        if result < 0 { throw SystemError("read", nil, errno: code) }
        return bytes
    }

    /// Reads until end of file.
    public func readAll() throws(SystemError) -> [UInt8] {
        // One buffer that doubles when full, read into directly: state files and /proc entries
        // fit the first 4 KiB, so the common case is one read(2) and one copy.
        var capacity = 4096
        var used = 0
        var buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            if used == capacity {
                let larger = UnsafeMutableRawPointer.allocate(byteCount: capacity * 2, alignment: 16)
                larger.copyMemory(from: buffer, byteCount: used)
                buffer.deallocate()
                buffer = larger
                capacity *= 2
            }
            let n = try check("read") { Glibc.read(raw, buffer + used, capacity - used) }
            if n == 0 { break }
            used += n
        }
        return [UInt8](UnsafeRawBufferPointer(start: buffer, count: used))
    }

    public func write(_ bytes: [UInt8]) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let n = try check("write") {
                bytes.withUnsafeBytes { Glibc.write(raw, $0.baseAddress! + offset, bytes.count - offset) }
            }
            offset += n
        }
    }

    public func write(_ text: String) throws(SystemError) { try write(Array(text.utf8)) }

    public func setCloexec(_ on: Bool) throws(SystemError) {
        try check("fcntl") { sk_fcntl_int(raw, F_SETFD, on ? FD_CLOEXEC : 0) }
    }

    public func stat() throws(SystemError) -> Glibc.stat {
        var st = Glibc.stat()
        try check("fstat") { Glibc.fstat(raw, &st) }
        return st
    }

    public func changeOwner(uid: UInt32, gid: UInt32) throws(SystemError) {
        try check("fchown") { Glibc.fchown(raw, uid, gid) }
    }

    /// The path the kernel reports for this descriptor (readlink of /proc/self/fd/N).
    public func realPath() throws(SystemError) -> String {
        try readLink("/proc/self/fd/\(raw)")
    }

    /// /proc/self/fd/N: a name for this descriptor that system calls taking paths accept.
    public var procPath: String { "/proc/self/fd/\(raw)" }

    public func duplicate(to target: Int32) throws(SystemError) {
        try check("dup2") { Glibc.dup2(raw, target) }
    }
}

public func pipe() throws(SystemError) -> (read: FD, write: FD) {
    var fds: [Int32] = [0, 0]
    try check("pipe2") { sk_pipe2(&fds, Int32(O_CLOEXEC)) }
    return (FD(fds[0]), FD(fds[1]))
}

public func socketPair() throws(SystemError) -> (FD, FD) {
    var fds: [Int32] = [0, 0]
    try check("socketpair") {
        Glibc.socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
    }
    return (FD(fds[0]), FD(fds[1]))
}

extension FD {
    public func setNonblocking() throws(SystemError) {
        let flags = try check("fcntl") { sk_fcntl_int(raw, F_GETFL, 0) }
        try check("fcntl") { sk_fcntl_int(raw, F_SETFL, flags | O_NONBLOCK) }
    }

    /// One read(2): nil on EAGAIN, [] at end of file (or EIO from a pty whose peer closed).
    public func readSome(max: Int = 16384) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: max)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(raw, $0.baseAddress, max) }
            if n >= 0 { return Array(buffer[0..<n]) }
            let e = currentErrno()
            if e == EINTR { continue }
            if e == EAGAIN { return nil }
            return []
        }
    }
}
