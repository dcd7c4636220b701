import Glibc
import SkiffSpec
import SkiffSystem

/// criu as skiff runs it: `criu swrk 3`, one RPC request over a SOCK_SEQPACKET socketpair,
/// notifications answered until the final response (runc's criuSwrk).
public enum Criu {
    /// The global `--criu PATH` (runc's default "criu", looked up on PATH).
    nonisolated(unsafe) public static var path = "criu"

    /// The executable `path` names: itself when it has a slash, else the first match on PATH.
    static func executable() throws(RuntimeError) -> String {
        if path.contains("/") {
            guard access(path, X_OK) == 0 else { throw RuntimeError("criu binary \(path): \(SystemError.message(currentErrno()))") }
            return path
        }
        let search = ProcessControl.getenv("PATH").flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in search.split(separator: ":") {
            let candidate = "\(dir)/\(path)"
            if access(candidate, X_OK) == 0 && !FileSystem.isDirectory(candidate) { return candidate }
        }
        throw RuntimeError("cannot find criu (\"\(path)\") in PATH: install criu or pass --criu PATH")
    }

    /// `criu check` as runc's callers would see it: nil when it passes, else what it printed.
    public static func checkProblem() -> String? {
        let binary: String
        do { binary = try executable() } catch { return error.message }
        guard let out = try? pipe() else { return "cannot make a pipe" }
        let pid = fork()
        if pid < 0 { return "fork: \(SystemError.message(currentErrno()))" }
        if pid == 0 {
            _ = dup2(out.write.raw, 1)
            _ = dup2(out.write.raw, 2)
            ProcessControl.closeFrom(3)
            _ = ProcessControl.exec(path: binary, args: [binary, "check"], env: ProcessControl.environment())
            ProcessControl.exit(127)
        }
        out.write.close()
        let text = (try? out.read.readAll(limit: 1 << 16)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        out.read.close()
        let status = (try? ProcessControl.wait(pid).status).map(ProcessControl.exitCode) ?? 1
        if status == 0 { return nil }
        let lines = text.split(separator: "\n").map { String($0) }.filter { !$0.isEmpty }
        let reason = lines.suffix(3).joined(separator: "; ")
        return "criu check failed (exit status \(status))" + (reason.isEmpty ? "" : ": \(reason)")
    }

    /// The last lines of criu's log that report errors (criu writes "Error (file:line): …").
    public static func logErrors(_ path: String, count: Int = 4) -> [String] {
        guard let bytes = try? FileSystem.readRegularFile(path, limit: 64 << 20) else { return [] }
        let lines = String(decoding: bytes.suffix(1 << 20), as: UTF8.self).split(separator: "\n")
        let errors = lines.filter { $0.includes("Error") || $0.includes("error") }
        return errors.suffix(count).map { line in
            // Strip criu's "(00.123456) " timestamp.
            var s = Substring(line)
            if s.hasPrefix("("), let close = s.firstIndex(of: ")") { s = s[s.index(after: close)...] }
            return String(s.drop(while: { $0 == " " }))
        }
    }
}

/// One `criu swrk` session.
struct CriuSession {
    /// What the caller passes criu: stdio (nil: /dev/null) and descriptors from fd 4 on.
    var stdio: [Int32]? = nil
    var extraFds: [FD] = []
    /// criu's log file (for error messages).
    var logPath: String
    /// Called once criu runs, before the request (restore: put criu in the container's cgroup).
    /// Returns cgroup roots to add to the request.
    var started: (pid_t) throws(RuntimeError) -> [CriuCgroupRoot] = { _ throws(RuntimeError) in [] }
    /// Called for every notification, with the descriptor criu passed along (if any).
    var notify: (CriuResp, FD?) throws(RuntimeError) -> Void = { _, fd throws(RuntimeError) in fd?.close() }

    func failure(_ what: String) -> RuntimeError {
        var message = "criu failed: \(what); log file: \(logPath)"
        let errors = Criu.logErrors(logPath).filter { !what.includes($0) }
        if !errors.isEmpty { message += "; criu said: " + errors.joined(separator: " | ") }
        return RuntimeError(message)
    }

    /// Runs the request; returns the final response.
    func run(_ request: CriuReq) throws(RuntimeError) -> CriuResp {
        let binary = try Criu.executable()
        let (client, server): (FD, FD)
        do { (client, server) = try socketPair() } catch { throw RuntimeError("criu: \(error)") }
        defer { client.close() }
        let devNull = stdio == nil ? try? FileSystem.open("/dev/null", O_RDWR) : nil
        defer { devNull?.close() }
        let io = stdio ?? [devNull?.raw ?? -1, devNull?.raw ?? -1, devNull?.raw ?? -1]
        // Descriptors as criu must see them: 0-2 stdio, 3 the socket, 4… the extra ones.
        let sources = io + [server.raw] + extraFds.map(\.raw)
        let argv = [binary, "swrk", "3"]
        let env = ProcessControl.environment()
        let pid = fork()
        if pid < 0 {
            server.close()
            throw RuntimeError("criu: fork: \(SystemError.message(currentErrno()))")
        }
        if pid == 0 {
            // Out of the way first (a source may sit on a target number), then into place;
            // dup2 clears close-on-exec.
            var moved: [Int32] = []
            for fd in sources { moved.append(fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 1000)) }
            for (target, fd) in moved.enumerated() where fd >= 0 { _ = dup2(fd, Int32(target)) }
            ProcessControl.closeFrom(Int32(sources.count))
            let error = ProcessControl.exec(path: binary, args: argv, env: env)
            let message = "skiff: cannot run criu: \(error)\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            ProcessControl.exit(127)
        }
        server.close()
        var finished = false
        defer {
            if !finished {
                // criu is told to stop by the closed socket; collect it.
                _ = shutdown(client.raw, Int32(SHUT_RDWR))
                _ = try? ProcessControl.wait(pid)
            }
        }
        var request = request
        let roots = try started(pid)
        if !roots.isEmpty { request.opts?.cgRoot += roots }
        try send(client, request.encode())
        let final: CriuResp
        while true {
            let got: (bytes: [UInt8], fd: FD?)
            do { got = try Terminal.receiveFD(client, max: 10 * 4096) } catch {
                throw failure("type \(request.type.name): reading its answer: \(error)")
            }
            if got.bytes.isEmpty {
                got.fd?.close()
                throw failure("type \(request.type.name): criu exited without answering (unexpected EOF)")
            }
            if got.bytes.count >= 10 * 4096 {
                got.fd?.close()
                throw failure("type \(request.type.name): answer larger than the buffer")
            }
            let resp: CriuResp
            do { resp = try CriuResp.decode(got.bytes) } catch {
                got.fd?.close()
                throw failure("type \(request.type.name): malformed answer: \(error)")
            }
            if !resp.success {
                got.fd?.close()
                var what = "type \(request.type.name) errno \(resp.crErrno ?? 0)"
                if let message = resp.crErrmsg.map({ String($0.reversed().drop(while: { $0 == "\n" }).reversed()) }), !message.isEmpty {
                    what += " (\(message))"
                }
                throw failure(what)
            }
            if resp.isNotify {
                try notify(resp, got.fd)
                var ack = CriuReq(type: .notify)
                ack.notifySuccess = true
                try send(client, ack.encode())
                continue
            }
            got.fd?.close()
            switch resp.type {
            case .restore?, .dump?, .preDump?, .featureCheck?, .version?, .check?: break
            default: throw failure("type \(request.type.name): unexpected answer of type \(resp.typeNumber)")
            }
            final = resp
            break
        }
        _ = shutdown(client.raw, Int32(SHUT_WR))
        finished = true
        let status: Int32
        do { status = try ProcessControl.wait(pid).status } catch { throw RuntimeError("criu: wait: \(error)") }
        // After PRE_DUMP criu waits for the next request and exits on the closed socket.
        if status != 0 && request.type != .preDump {
            let code = ProcessControl.exitCode(status)
            throw failure(code > 128 ? "criu killed by signal \(code - 128)" : "criu exited with status \(code)")
        }
        return final
    }

    private func send(_ socket: FD, _ bytes: [UInt8]) throws(RuntimeError) {
        let n = bytes.withUnsafeBytes { Glibc.send(socket.raw, $0.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
        if n != bytes.count {
            throw failure("sending the request: \(SystemError.message(currentErrno()))")
        }
    }
}
