import Foundation
import Glibc
import Testing

/// The receiving end of `--console-socket`: a listening AF_UNIX stream socket; after the
/// runtime's create returns, accept its connection and take the pty master from the one
/// SCM_RIGHTS message (runc docs/terminals.md).
final class ConsoleListener {
    let path: String
    let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: errno \(errno)") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { throw HarnessError("socket path too long") }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0, listen(fd, 4) == 0 else { close(fd); throw HarnessError("bind/listen \(path): errno \(errno)") }
    }

    deinit { close(fd); unlink(path) }

    struct Received {
        var name: String
        var fds: [Int32]
        var controlLength: Int
    }

    /// Accepts one connection (waiting up to `timeout`) and reads one message with its fds.
    func receive(timeout: TimeInterval = 5) -> Received? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, Int32(timeout * 1000)) == 1 else { return nil }
        let conn = accept(fd, nil, nil)
        guard conn >= 0 else { return nil }
        defer { close(conn) }
        var data = [UInt8](repeating: 0, count: 4096)
        var control = [UInt8](repeating: 0, count: 256)
        var n = 0
        var controlLength = 0
        data.withUnsafeMutableBytes { dataBuf in
            control.withUnsafeMutableBytes { controlBuf in
                var iov = iovec(iov_base: dataBuf.baseAddress, iov_len: dataBuf.count)
                withUnsafeMutablePointer(to: &iov) { iovPtr in
                    var msg = msghdr()
                    msg.msg_iov = iovPtr
                    msg.msg_iovlen = 1
                    msg.msg_control = controlBuf.baseAddress
                    msg.msg_controllen = controlBuf.count
                    n = recvmsg(conn, &msg, Int32(MSG_CMSG_CLOEXEC))
                    controlLength = Int(msg.msg_controllen)
                }
            }
        }
        guard n > 0 else { return nil }
        // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } then data (x86_64).
        var fds: [Int32] = []
        var offset = 0
        while offset + 16 <= controlLength {
            let len = control[offset..<offset + 8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            let level = control[offset + 8..<offset + 12].enumerated().reduce(Int32(0)) { $0 | Int32($1.element) << Int32(8 * $1.offset) }
            let type = control[offset + 12..<offset + 16].enumerated().reduce(Int32(0)) { $0 | Int32($1.element) << Int32(8 * $1.offset) }
            guard len >= 16 else { break }
            if level == SOL_SOCKET && type == 1 /* SCM_RIGHTS */ {
                var i = offset + 16
                while i + 4 <= offset + len {
                    fds.append(control[i..<i + 4].enumerated().reduce(Int32(0)) { $0 | Int32($1.element) << Int32(8 * $1.offset) })
                    i += 4
                }
            }
            offset += (len + 7) & ~7
        }
        let name = String(decoding: data[0..<n].prefix { $0 != 0 }, as: UTF8.self)
        return Received(name: name, fds: fds, controlLength: controlLength)
    }
}

/// ptsname_r(3) (a GNU extension the Glibc module does not import): the slave's name, only
/// for a pty master (it asks the fd for TIOCGPTN).
func ptsName(_ fd: Int32) -> String? {
    typealias Fn = @convention(c) (Int32, UnsafeMutablePointer<CChar>, Int) -> Int32
    guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "ptsname_r") else { return nil }
    let fn = unsafeBitCast(sym, to: Fn.self)
    var buf = [CChar](repeating: 0, count: 128)
    guard fn(fd, &buf, buf.count) == 0 else { return nil }
    return String(cString: buf)
}

/// Reads from `fd` until `marker` appears, EOF/EIO, or `timeout`.
func readUntil(_ fd: Int32, marker: String, timeout: TimeInterval = 10) -> String {
    var collected: [UInt8] = []
    let deadline = Date().addingTimeInterval(timeout * Paths.timeoutScale)
    var buf = [UInt8](repeating: 0, count: 4096)
    while Date() < deadline {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, 100)
        if ready <= 0 { continue }
        let n = read(fd, &buf, buf.count)
        if n <= 0 { break }
        collected += buf[0..<n]
        if String(decoding: collected, as: UTF8.self).contains(marker) { break }
    }
    return String(decoding: collected, as: UTF8.self)
}

extension Integration {
    @Suite struct Console {
        /// Attached `run` with process.terminal and no --console-socket relays the container's
        /// pty to the caller (what `skiff spec` + `skiff run` needs) and keeps the exit status.
        @Test func attachedRunRelaysTheTerminal() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["process.terminal"] = true
                c.shell("tty; echo relayed; exit 4")
            }
            let id = h.newID()
            let r = h.run(bundle, id: id, timeout: 30)
            #expect(r.status == 4, "\(r)")
            #expect(r.out.contains("/dev/pts/0"), "\(r)")
            #expect(r.out.contains("relayed"), "\(r)")
            h.expectNothingLeft(id)
        }

        @Test func consoleSocketReceivesPtyMaster() throws {
            let h = try Harness()
            let listener = try ConsoleListener(path: h.path("console") + ".sock")
            let bundle = try Bundle.make(in: h) { c in
                c["process.terminal"] = true
                c["process.consoleSize"] = ["height": 40, "width": 120]
                c.shell("tty; stty size; echo done-marker")
            }
            let (id, create) = h.create(bundle, extra: ["--console-socket", listener.path])
            #expect(create.stdout.isEmpty, "\(create)")
            let received = try #require(listener.receive(), "no message on the console socket")
            #expect(!received.name.isEmpty, "the message payload names the pty")
            #expect(received.fds.count == 1, "\(received)")
            // go-runc requires exactly CMSG_SPACE(sizeof(int)) = 24 bytes of control data.
            #expect(received.controlLength == 24, "\(received)")
            let master = try #require(received.fds.first)
            defer { close(master) }
            // Only a pty master has a slave name (TIOCGPTN) and is the ptmx device.
            let slave = ptsName(master)
            #expect(slave?.hasPrefix("/dev/pts/") == true, "received fd is not a pty master: \(slave ?? "nil")")
            let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(master)")) ?? ""
            #expect(link.hasSuffix("ptmx"), "received fd is \(link)")

            #expect(h.skiff("start", id).status == 0)
            let output = readUntil(master, marker: "done-marker")
            let lines = output.replacingOccurrences(of: "\r", with: "").split(separator: "\n").map(String.init)
            #expect(lines.first == "/dev/console" || lines.first?.hasPrefix("/dev/pts/") == true, "output: \(output.debugDescription)")
            #expect(lines.contains("40 120"), "consoleSize not applied: \(output.debugDescription)")
            #expect(lines.contains("done-marker"), "\(output.debugDescription)")
            #expect(waitUntil { h.status(id) == "stopped" })
        }

        @Test func consoleIsTheControllingTerminal() throws {
            let h = try Harness()
            let listener = try ConsoleListener(path: h.path("console") + ".sock")
            let bundle = try Bundle.make(in: h) { c in
                c["process.terminal"] = true
                c.shell("[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-ttys; cat /proc/self/stat | cut -d' ' -f7; ls -l /dev/console | cut -c1; echo done-marker")
            }
            let (id, _) = h.create(bundle, extra: ["--console-socket", listener.path])
            let received = try #require(listener.receive())
            let master = try #require(received.fds.first)
            defer { close(master) }
            #expect(h.skiff("start", id).status == 0)
            let output = readUntil(master, marker: "done-marker")
            let lines = output.replacingOccurrences(of: "\r", with: "").split(separator: "\n").map(String.init)
            #expect(lines.first == "all-ttys", "\(output.debugDescription)")
            // tty_nr (field 7) is non-zero when the process has a controlling terminal.
            #expect(lines.count > 1 && lines[1] != "0", "no controlling terminal: \(output.debugDescription)")
            #expect(lines.count > 2 && lines[2] == "c", "/dev/console is not a character device: \(output.debugDescription)")
        }
    }
}
