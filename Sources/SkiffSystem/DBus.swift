import Glibc

// A small blocking D-Bus client: enough to talk to systemd (the systemd cgroup driver). One
// connection over an AF_UNIX stream socket, SASL EXTERNAL authentication, method calls with
// the body marshalled from `DBusValue`s (little-endian, the alignment rules of the D-Bus
// specification), replies and errors parsed back, and signals kept while a reply is awaited
// (systemd's JobRemoved). No threads: every call writes, then reads until its reply arrives.

/// A D-Bus value with its type. Arrays carry their element signature (an empty array still
/// has a type).
public indirect enum DBusValue: Equatable, Sendable {
    case byte(UInt8)
    case bool(Bool)
    case int16(Int16)
    case uint16(UInt16)
    case int32(Int32)
    case uint32(UInt32)
    case int64(Int64)
    case uint64(UInt64)
    case double(Double)
    case string(String)
    case objectPath(String)
    case signature(String)
    case array(element: String, [DBusValue])
    case structure([DBusValue])
    case dictEntry(DBusValue, DBusValue)
    case variant(DBusValue)

    /// The value's type signature.
    public var signature: String {
        switch self {
        case .byte: "y"
        case .bool: "b"
        case .int16: "n"
        case .uint16: "q"
        case .int32: "i"
        case .uint32: "u"
        case .int64: "x"
        case .uint64: "t"
        case .double: "d"
        case .string: "s"
        case .objectPath: "o"
        case .signature: "g"
        case .array(let element, _): "a" + element
        case .structure(let fields): "(" + fields.map(\.signature).joined() + ")"
        case .dictEntry(let k, let v): "{" + k.signature + v.signature + "}"
        case .variant: "v"
        }
    }

    public var stringValue: String? {
        switch self {
        case .string(let s), .objectPath(let s), .signature(let s): s
        case .variant(let v): v.stringValue
        default: nil
        }
    }

    public var uint64Value: UInt64? {
        switch self {
        case .byte(let v): UInt64(v)
        case .uint16(let v): UInt64(v)
        case .uint32(let v): UInt64(v)
        case .uint64(let v): v
        case .int16(let v): v >= 0 ? UInt64(v) : nil
        case .int32(let v): v >= 0 ? UInt64(v) : nil
        case .int64(let v): v >= 0 ? UInt64(v) : nil
        case .variant(let v): v.uint64Value
        default: nil
        }
    }

    /// `a(sv)` from name/value pairs (unit properties).
    public static func properties(_ list: [(String, DBusValue)]) -> DBusValue {
        .array(element: "(sv)", list.map { .structure([.string($0.0), .variant($0.1)]) })
    }

    public static func strings(_ list: [String]) -> DBusValue {
        .array(element: "s", list.map { .string($0) })
    }
}

/// A marshalling or protocol problem (bad data from the peer, a value that cannot be encoded).
public struct DBusError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The D-Bus error name for an error reply (org.freedesktop.systemd1.NoSuchUnit), else nil.
    public var name: String?
    public var message: String
    public init(name: String? = nil, _ message: String) {
        self.name = name
        self.message = message
    }
    public var description: String { name.map { "\($0): \(message)" } ?? message }
}

/// Little-endian D-Bus wire encoding. Offsets count from the start of the message, which
/// alignment is relative to (the body starts on an 8-byte boundary, so a body encoded alone
/// from offset 0 has the same padding).
public struct DBusEncoder {
    public private(set) var bytes: [UInt8] = []
    public init() {}

    mutating func pad(_ alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }

    mutating func u32(_ v: UInt32) {
        pad(4)
        bytes += [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)]
    }

    mutating func u64(_ v: UInt64) {
        pad(8)
        for i in 0..<8 { bytes.append(UInt8((v >> (UInt64(i) * 8)) & 0xff)) }
    }

    mutating func u16(_ v: UInt16) {
        pad(2)
        bytes += [UInt8(v & 0xff), UInt8(v >> 8)]
    }

    static func alignment(_ signatureFirst: UInt8) -> Int {
        switch signatureFirst {
        case UInt8(ascii: "y"), UInt8(ascii: "g"), UInt8(ascii: "v"): 1
        case UInt8(ascii: "n"), UInt8(ascii: "q"): 2
        case UInt8(ascii: "x"), UInt8(ascii: "t"), UInt8(ascii: "d"), UInt8(ascii: "("), UInt8(ascii: "{"): 8
        default: 4  // b i u s o a h
        }
    }

    public mutating func encode(_ value: DBusValue) throws(DBusError) {
        switch value {
        case .byte(let v): bytes.append(v)
        case .bool(let v): u32(v ? 1 : 0)
        case .int16(let v): u16(UInt16(bitPattern: v))
        case .uint16(let v): u16(v)
        case .int32(let v): u32(UInt32(bitPattern: v))
        case .uint32(let v): u32(v)
        case .int64(let v): u64(UInt64(bitPattern: v))
        case .uint64(let v): u64(v)
        case .double(let v): u64(v.bitPattern)
        case .string(let s), .objectPath(let s):
            let utf8 = Array(s.utf8)
            if utf8.contains(0) { throw DBusError("string with a NUL byte cannot be sent") }
            u32(UInt32(utf8.count))
            bytes += utf8
            bytes.append(0)
        case .signature(let s):
            let utf8 = Array(s.utf8)
            guard utf8.count < 256 else { throw DBusError("signature too long") }
            bytes.append(UInt8(utf8.count))
            bytes += utf8
            bytes.append(0)
        case .array(let element, let items):
            guard let first = element.utf8.first else { throw DBusError("array without an element type") }
            u32(0)
            let lengthAt = bytes.count - 4
            pad(DBusEncoder.alignment(first))
            let start = bytes.count
            for item in items {
                guard item.signature == element else {
                    throw DBusError("array of \(element) holds a value of type \(item.signature)")
                }
                try encode(item)
            }
            let length = UInt32(bytes.count - start)
            guard length <= 1 << 26 else { throw DBusError("array too long") }
            for i in 0..<4 { bytes[lengthAt + i] = UInt8((length >> (UInt32(i) * 8)) & 0xff) }
        case .structure(let fields):
            pad(8)
            for f in fields { try encode(f) }
        case .dictEntry(let k, let v):
            pad(8)
            try encode(k)
            try encode(v)
        case .variant(let inner):
            try encode(.signature(inner.signature))
            try encode(inner)
        }
    }
}

/// Reads values of a given signature from a message.
public struct DBusDecoder {
    let bytes: [UInt8]
    public private(set) var offset: Int
    let end: Int

    public init(_ bytes: [UInt8], offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    mutating func align(_ n: Int) throws(DBusError) {
        let target = (offset + n - 1) / n * n
        guard target <= end else { throw DBusError("message truncated") }
        offset = target
    }

    mutating func take(_ n: Int) throws(DBusError) -> ArraySlice<UInt8> {
        guard n >= 0, offset + n <= end else { throw DBusError("message truncated") }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    mutating func u32() throws(DBusError) -> UInt32 {
        try align(4)
        let b = try take(4)
        var v: UInt32 = 0
        for (i, x) in b.enumerated() { v |= UInt32(x) << (UInt32(i) * 8) }
        return v
    }

    mutating func u64() throws(DBusError) -> UInt64 {
        try align(8)
        let b = try take(8)
        var v: UInt64 = 0
        for (i, x) in b.enumerated() { v |= UInt64(x) << (UInt64(i) * 8) }
        return v
    }

    mutating func u16() throws(DBusError) -> UInt16 {
        try align(2)
        let b = try take(2)
        return UInt16(b[b.startIndex]) | UInt16(b[b.startIndex + 1]) << 8
    }

    /// Splits a signature into its complete types ("sa(sv)u" → ["s", "a(sv)", "u"]).
    public static func splitSignature(_ signature: String) throws(DBusError) -> [String] {
        let s = Array(signature.utf8)
        var result: [String] = []
        var i = 0
        while i < s.count {
            let start = i
            i = try completeTypeEnd(s, i)
            result.append(String(decoding: s[start..<i], as: UTF8.self))
        }
        return result
    }

    static func completeTypeEnd(_ s: [UInt8], _ i: Int, depth: Int = 0) throws(DBusError) -> Int {
        guard i < s.count, depth < 64 else { throw DBusError("bad signature") }
        switch s[i] {
        case UInt8(ascii: "a"):
            return try completeTypeEnd(s, i + 1, depth: depth + 1)
        case UInt8(ascii: "("), UInt8(ascii: "{"):
            let close = s[i] == UInt8(ascii: "(") ? UInt8(ascii: ")") : UInt8(ascii: "}")
            var j = i + 1
            while j < s.count && s[j] != close { j = try completeTypeEnd(s, j, depth: depth + 1) }
            guard j < s.count, j > i + 1 else { throw DBusError("bad signature") }
            return j + 1
        case UInt8(ascii: "y"), UInt8(ascii: "b"), UInt8(ascii: "n"), UInt8(ascii: "q"), UInt8(ascii: "i"),
             UInt8(ascii: "u"), UInt8(ascii: "x"), UInt8(ascii: "t"), UInt8(ascii: "d"), UInt8(ascii: "s"),
             UInt8(ascii: "o"), UInt8(ascii: "g"), UInt8(ascii: "v"), UInt8(ascii: "h"):
            return i + 1
        default:
            throw DBusError("bad signature")
        }
    }

    /// Decodes every value of `signature`.
    public mutating func decode(signature: String) throws(DBusError) -> [DBusValue] {
        var out: [DBusValue] = []
        for t in try DBusDecoder.splitSignature(signature) { out.append(try decode(type: t)) }
        return out
    }

    mutating func decode(type t: String, depth: Int = 0) throws(DBusError) -> DBusValue {
        guard depth < 64, let c = t.utf8.first else { throw DBusError("bad signature") }
        switch c {
        case UInt8(ascii: "y"): return .byte(try take(1).first!)
        case UInt8(ascii: "b"): return .bool(try u32() != 0)
        case UInt8(ascii: "n"): return .int16(Int16(bitPattern: try u16()))
        case UInt8(ascii: "q"): return .uint16(try u16())
        case UInt8(ascii: "i"): return .int32(Int32(bitPattern: try u32()))
        case UInt8(ascii: "u"), UInt8(ascii: "h"): return .uint32(try u32())
        case UInt8(ascii: "x"): return .int64(Int64(bitPattern: try u64()))
        case UInt8(ascii: "t"): return .uint64(try u64())
        case UInt8(ascii: "d"): return .double(Double(bitPattern: try u64()))
        case UInt8(ascii: "s"), UInt8(ascii: "o"):
            let n = Int(try u32())
            let text = String(decoding: try take(n), as: UTF8.self)
            _ = try take(1)
            return c == UInt8(ascii: "s") ? .string(text) : .objectPath(text)
        case UInt8(ascii: "g"):
            let n = Int(try take(1).first!)
            let text = String(decoding: try take(n), as: UTF8.self)
            _ = try take(1)
            return .signature(text)
        case UInt8(ascii: "v"):
            guard case .signature(let inner) = try decode(type: "g") else { throw DBusError("bad variant") }
            let types = try DBusDecoder.splitSignature(inner)
            guard types.count == 1 else { throw DBusError("bad variant signature \"\(inner)\"") }
            return .variant(try decode(type: types[0], depth: depth + 1))
        case UInt8(ascii: "a"):
            let element = String(t.dropFirst())
            guard let first = element.utf8.first else { throw DBusError("bad signature") }
            let length = Int(try u32())
            try align(DBusEncoder.alignment(first))
            let stop = offset + length
            guard length <= 1 << 26, stop <= end else { throw DBusError("message truncated") }
            var items: [DBusValue] = []
            while offset < stop { items.append(try decode(type: element, depth: depth + 1)) }
            guard offset == stop else { throw DBusError("array length mismatch") }
            return .array(element: element, items)
        case UInt8(ascii: "("), UInt8(ascii: "{"):
            try align(8)
            let inner = String(t.dropFirst().dropLast())
            var fields: [DBusValue] = []
            for f in try DBusDecoder.splitSignature(inner) { fields.append(try decode(type: f, depth: depth + 1)) }
            if c == UInt8(ascii: "{") {
                guard fields.count == 2 else { throw DBusError("bad dict entry") }
                return .dictEntry(fields[0], fields[1])
            }
            return .structure(fields)
        default:
            throw DBusError("bad signature")
        }
    }
}

/// One D-Bus message.
public struct DBusMessage: Equatable, Sendable {
    public enum Kind: UInt8, Sendable { case methodCall = 1, methodReturn = 2, error = 3, signal = 4 }
    public var kind: Kind
    public var flags: UInt8 = 0
    public var serial: UInt32
    public var path: String?
    public var interface: String?
    public var member: String?
    public var errorName: String?
    public var replySerial: UInt32?
    public var destination: String?
    public var sender: String?
    public var body: [DBusValue] = []
    /// The body's signature as received (or computed from `body` when sending).
    public var signature: String

    public init(call member: String, path: String, interface: String?, destination: String?,
                body: [DBusValue] = [], serial: UInt32 = 0) {
        kind = .methodCall
        self.serial = serial
        self.path = path
        self.interface = interface
        self.member = member
        self.destination = destination
        self.body = body
        signature = body.map(\.signature).joined()
    }

    init(kind: Kind, serial: UInt32) {
        self.kind = kind
        self.serial = serial
        signature = ""
    }

    /// The wire bytes.
    public func encoded() throws(DBusError) -> [UInt8] {
        var body = DBusEncoder()
        for v in self.body { try body.encode(v) }
        var fields: [DBusValue] = []
        func field(_ code: UInt8, _ v: DBusValue) { fields.append(.structure([.byte(code), .variant(v)])) }
        if let path { field(1, .objectPath(path)) }
        if let interface { field(2, .string(interface)) }
        if let member { field(3, .string(member)) }
        if let errorName { field(4, .string(errorName)) }
        if let replySerial { field(5, .uint32(replySerial)) }
        if let destination { field(6, .string(destination)) }
        if let sender { field(7, .string(sender)) }
        let sig = self.body.map(\.signature).joined()
        if !sig.isEmpty { field(8, .signature(sig)) }
        var e = DBusEncoder()
        for b in [UInt8(ascii: "l"), kind.rawValue, flags, 1] { try e.encode(.byte(b)) }
        try e.encode(.uint32(UInt32(body.bytes.count)))
        try e.encode(.uint32(serial))
        try e.encode(.array(element: "(yv)", fields))
        e.pad(8)
        return e.bytes + body.bytes
    }

    /// Total length of the message starting at `bytes[0]` once its first 16 bytes are there;
    /// nil when fewer are. Throws for a header no peer should send.
    public static func length(of bytes: ArraySlice<UInt8>) throws(DBusError) -> Int? {
        guard bytes.count >= 16 else { return nil }
        let b = Array(bytes.prefix(16))
        guard b[0] == UInt8(ascii: "l") else { throw DBusError("big-endian messages are not supported") }
        guard b[3] == 1 else { throw DBusError("unknown protocol version \(b[3])") }
        var d = DBusDecoder(b)
        _ = try d.take(4)
        let bodyLength = Int(try d.u32())
        _ = try d.u32()
        let fieldsLength = Int(try d.u32())
        let header = (16 + fieldsLength + 7) / 8 * 8
        let total = header + bodyLength
        guard fieldsLength < 1 << 26, bodyLength < 1 << 27 else { throw DBusError("message too long") }
        return total
    }

    /// Parses one complete message.
    public static func decode(_ bytes: [UInt8]) throws(DBusError) -> DBusMessage {
        guard let total = try length(of: bytes[...]), total <= bytes.count else { throw DBusError("message truncated") }
        var d = DBusDecoder(bytes, end: total)
        _ = try d.take(1)
        guard let kind = Kind(rawValue: try d.take(1).first!) else { throw DBusError("unknown message type") }
        let flags = try d.take(1).first!
        _ = try d.take(1)
        let bodyLength = Int(try d.u32())
        var m = DBusMessage(kind: kind, serial: try d.u32())
        m.flags = flags
        guard case .array(_, let fields) = try d.decode(type: "a(yv)") else { throw DBusError("bad header") }
        for f in fields {
            guard case .structure(let parts) = f, parts.count == 2, case .byte(let code) = parts[0],
                  case .variant(let v) = parts[1] else { continue }
            switch code {
            case 1: m.path = v.stringValue
            case 2: m.interface = v.stringValue
            case 3: m.member = v.stringValue
            case 4: m.errorName = v.stringValue
            case 5: if case .uint32(let s) = v { m.replySerial = s }
            case 6: m.destination = v.stringValue
            case 7: m.sender = v.stringValue
            case 8: m.signature = v.stringValue ?? ""
            default: break
            }
        }
        try d.align(8)
        guard d.offset + bodyLength == total else { throw DBusError("bad body length") }
        // The body's alignment is relative to its own start (the start is 8-aligned).
        let body = Array(bytes[d.offset..<total])
        var bd = DBusDecoder(body)
        m.body = try bd.decode(signature: m.signature)
        return m
    }
}

/// A blocking connection to a bus (or straight to systemd's private socket).
public final class DBusConnection {
    let fd: FD
    var serial: UInt32 = 0
    var buffer: [UInt8] = []
    /// Signals that arrived while waiting for a reply, oldest first.
    public var pendingSignals: [DBusMessage] = []
    /// The unique name the bus gave us (Hello); nil on a direct connection.
    public private(set) var uniqueName: String?

    init(fd: FD) { self.fd = fd }

    deinit { fd.close() }

    /// The system bus: $DBUS_SYSTEM_BUS_ADDRESS, else /run/dbus/system_bus_socket.
    public static func systemBus() throws(DBusError) -> DBusConnection {
        let address = ProcessControl.getenv("DBUS_SYSTEM_BUS_ADDRESS") ?? "unix:path=/run/dbus/system_bus_socket"
        return try connect(address: address, hello: true)
    }

    /// The session (or systemd --user) bus: $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus.
    public static func sessionBus() throws(DBusError) -> DBusConnection {
        if let address = ProcessControl.getenv("DBUS_SESSION_BUS_ADDRESS") { return try connect(address: address, hello: true) }
        guard let dir = ProcessControl.getenv("XDG_RUNTIME_DIR") else {
            throw DBusError("no session bus: neither DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR is set")
        }
        return try connect(address: "unix:path=" + dir + "/bus", hello: true)
    }

    /// Connects to the first usable address of a D-Bus address list ("unix:path=…;unix:abstract=…"),
    /// authenticates with EXTERNAL and, for a bus, says Hello.
    public static func connect(address: String, hello: Bool) throws(DBusError) -> DBusConnection {
        var lastError = DBusError("no usable address in \"\(address)\"")
        for entry in address.split(separator: ";") {
            guard let socketPath = unixSocketPath(String(entry)) else { continue }
            do {
                let conn = try DBusConnection(fd: openSocket(socketPath))
                try conn.authenticate()
                if hello {
                    let reply = try conn.call(DBusMessage(call: "Hello", path: "/org/freedesktop/DBus",
                                                          interface: "org.freedesktop.DBus", destination: "org.freedesktop.DBus"))
                    conn.uniqueName = reply.body.first?.stringValue
                }
                return conn
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// "unix:path=/p" → "/p"; "unix:abstract=n" → "@n". Other transports: nil.
    public static func unixSocketPath(_ entry: String) -> String? {
        guard entry.hasPrefix("unix:") else { return nil }
        for kv in entry.dropFirst(5).split(separator: ",") {
            let parts = kv.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let value = unescape(String(parts[1]))
            if parts[0] == "path" { return value }
            if parts[0] == "abstract" { return "@" + value }
        }
        return nil
    }

    /// D-Bus address values escape bytes as %XX.
    static func unescape(_ s: String) -> String {
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "%"), bytes.count >= 2,
               let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
                out.append(v)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func openSocket(_ path: String) throws(DBusError) -> FD {
        let sock = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if sock < 0 { throw DBusError("socket: \(SystemError.message(currentErrno()))") }
        let fd = FD(sock)
        do {
            var (addr, length) = try Datagram.address(path)
            let r = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(sock, $0, length) }
            }
            if r != 0 { throw SystemError("dial unix", path, errno: currentErrno()) }
        } catch {
            fd.close()
            throw DBusError("\(error)")
        }
        return fd
    }

    /// SASL: a NUL byte, AUTH EXTERNAL with our uid as hex digits of its decimal text, BEGIN.
    func authenticate() throws(DBusError) {
        // The peer sees our uid as the host has it (SO_PEERCRED): inside a user namespace
        // (rootless podman runs the runtime as its root) that is the uid our euid maps to.
        let uid = "\(DBusConnection.hostUID(geteuid(), uidMap: (try? FileSystem.readText("/proc/self/uid_map")) ?? ""))"
        let hex = uid.utf8.map { b in String(b, radix: 16) }.joined()
        try send([0] + Array("AUTH EXTERNAL \(hex)\r\n".utf8))
        let line = try readLine()
        guard line.hasPrefix("OK ") else { throw DBusError("authentication refused: \(line)") }
        try send(Array("BEGIN\r\n".utf8))
    }

    /// `uid` as seen from the initial user namespace, by /proc/self/uid_map.
    static func hostUID(_ uid: UInt32, uidMap: String) -> UInt32 {
        for line in uidMap.split(separator: "\n") {
            let f = line.split(separator: " ").compactMap { UInt32($0) }
            guard f.count == 3, uid >= f[0], uid - f[0] < f[2] else { continue }
            let (host, overflow) = f[1].addingReportingOverflow(uid - f[0])
            return overflow ? uid : host
        }
        return uid
    }

    func send(_ bytes: [UInt8]) throws(DBusError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd.raw, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if currentErrno() == EINTR { continue }
                throw DBusError("write to the bus: \(SystemError.message(currentErrno()))")
            }
            offset += n
        }
    }

    /// Reads more bytes, waiting at most until `deadline` (monotonic ms; nil: forever).
    func fill(deadline: Int64?) throws(DBusError) {
        if let deadline {
            var pfd = pollfd(fd: fd.raw, events: Int16(POLLIN), revents: 0)
            while true {
                let left = deadline - Clock.monotonicMilliseconds()
                if left <= 0 { throw DBusError("timed out waiting for the bus") }
                let r = poll(&pfd, 1, Int32(min(left, 60_000)))
                if r > 0 { break }
                if r < 0 && currentErrno() != EINTR { throw DBusError("poll: \(SystemError.message(currentErrno()))") }
            }
        }
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.recv(fd.raw, $0.baseAddress, $0.count, 0) }
            if n < 0 && currentErrno() == EINTR { continue }
            if n < 0 { throw DBusError("read from the bus: \(SystemError.message(currentErrno()))") }
            if n == 0 { throw DBusError("the bus closed the connection") }
            buffer += chunk[0..<n]
            return
        }
    }

    func readLine() throws(DBusError) -> String {
        let deadline = Clock.monotonicMilliseconds() + 10_000
        while true {
            if let i = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<i], as: UTF8.self)
                buffer.removeSubrange(...i)
                return line.hasSuffix("\r") ? String(line.dropLast()) : line
            }
            if buffer.count > 4096 { throw DBusError("authentication: line too long") }
            try fill(deadline: deadline)
        }
    }

    /// The next whole message from the socket.
    public func receive(deadline: Int64?) throws(DBusError) -> DBusMessage {
        while true {
            if let total = try DBusMessage.length(of: buffer[...]), buffer.count >= total {
                let bytes = Array(buffer[0..<total])
                buffer.removeSubrange(0..<total)
                return try DBusMessage.decode(bytes)
            }
            try fill(deadline: deadline)
        }
    }

    /// Sends a method call and returns its reply; an error reply is thrown as DBusError with its
    /// name. Signals that arrive meanwhile go to `pendingSignals`.
    @discardableResult
    public func call(_ message: DBusMessage, timeoutMilliseconds: Int64 = 30_000) throws(DBusError) -> DBusMessage {
        var m = message
        serial &+= 1
        if serial == 0 { serial = 1 }
        m.serial = serial
        try send(try m.encoded())
        let deadline = Clock.monotonicMilliseconds() + timeoutMilliseconds
        while true {
            let got = try receive(deadline: deadline)
            switch got.kind {
            case .signal:
                pendingSignals.append(got)
            case .methodReturn where got.replySerial == m.serial:
                return got
            case .error where got.replySerial == m.serial:
                throw DBusError(name: got.errorName, got.body.first?.stringValue ?? "")
            default:
                continue  // a call to us, or a stray reply
            }
        }
    }

    /// Waits for a signal matching `matches` (from `pendingSignals` first).
    public func waitForSignal(timeoutMilliseconds: Int64, _ matches: (DBusMessage) -> Bool) throws(DBusError) -> DBusMessage {
        if let i = pendingSignals.firstIndex(where: matches) { return pendingSignals.remove(at: i) }
        let deadline = Clock.monotonicMilliseconds() + timeoutMilliseconds
        while true {
            let got = try receive(deadline: deadline)
            if got.kind == .signal {
                if matches(got) { return got }
                pendingSignals.append(got)
            }
        }
    }
}
