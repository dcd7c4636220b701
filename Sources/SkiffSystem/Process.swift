import CSkiffSys
import Glibc

public enum ProcessControl {
    /// Namespace flags for clone/unshare/setns.
    public static let newNS: UInt64 = 0x0002_0000
    public static let newPID: UInt64 = 0x2000_0000
    public static let newNet: UInt64 = 0x4000_0000
    public static let newIPC: UInt64 = 0x0800_0000
    public static let newUTS: UInt64 = 0x0400_0000
    public static let newUser: UInt64 = 0x1000_0000
    public static let newCgroup: UInt64 = 0x0200_0000
    public static let newTime: UInt64 = 0x80

    /// fork(2)-like clone into new namespaces. Returns 0 in the child.
    public static func clone(flags: UInt64, cgroupFD: Int32 = -1, wantPidFD: Bool = false) throws(SystemError) -> (pid: pid_t, pidfd: FD?) {
        var pidfd: Int32 = -1
        let pid: pid_t
        if wantPidFD {
            pid = sk_clone(flags, cgroupFD, &pidfd)
        } else {
            pid = sk_clone(flags, cgroupFD, nil)
        }
        if pid < 0 { throw SystemError("clone") }
        return (pid, pidfd >= 0 ? FD(pidfd) : nil)
    }

    public static func setns(_ fd: FD, _ type: UInt64, path: String) throws(SystemError) {
        try check("setns", path) { sk_setns(fd.raw, Int32(truncatingIfNeeded: type)) }
    }

    public static func unshare(_ flags: UInt64) throws(SystemError) {
        try check("unshare") { sk_unshare(Int32(truncatingIfNeeded: flags)) }
    }

    /// Waits for a child; returns its raw wait status.
    public static func wait(_ pid: pid_t, options: Int32 = 0) throws(SystemError) -> (pid: pid_t, status: Int32) {
        var status: Int32 = 0
        let r = try check("waitpid") { Glibc.waitpid(pid, &status, options) }
        return (r, status)
    }

    /// Exit code as a shell reports it: the status, or 128+signal.
    public static func exitCode(_ status: Int32) -> Int32 {
        if sk_wait_exited(status) != 0 { return sk_wait_exitstatus(status) }
        if sk_wait_signaled(status) != 0 { return 128 + sk_wait_termsig(status) }
        return 255
    }

    public static func kill(_ pid: pid_t, _ signal: Int32) throws(SystemError) {
        try check("kill", "\(pid)") { Glibc.kill(pid, signal) }
    }

    public static func pidfdOpen(_ pid: pid_t) throws(SystemError) -> FD {
        FD(try check("pidfd_open", "\(pid)") { sk_pidfd_open(pid, 0) })
    }

    public static func pidfdSignal(_ fd: FD, _ signal: Int32) throws(SystemError) {
        try check("pidfd_send_signal") { sk_pidfd_send_signal(fd.raw, signal) }
    }

    /// Waits up to `milliseconds` for a pidfd to report exit. True when the process exited.
    public static func waitExit(_ pidfd: FD, milliseconds: Int32) -> Bool {
        var p = pollfd(fd: pidfd.raw, events: Int16(POLLIN), revents: 0)
        while true {
            let r = poll(&p, 1, milliseconds)
            if r < 0 && currentErrno() == EINTR { continue }
            return r > 0
        }
    }

    public static func prctl(_ option: Int32, _ a2: UInt = 0, _ a3: UInt = 0, _ a4: UInt = 0, _ a5: UInt = 0, what: String) throws(SystemError) {
        try check("prctl", what) { sk_prctl(option, a2, a3, a4, a5) }
    }

    public static var pid: pid_t { getpid() }
    public static var parentPID: pid_t { getppid() }

    /// Field 22 of /proc/<pid>/stat (start time in clock ticks) and the state letter; nil if gone.
    public static func startTime(of pid: pid_t) -> (start: UInt64, state: Character)? {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/stat"),
              let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // After "pid (comm)": space-separated fields from field 3 (the state letter) on; the
        // start time is field 22. Parsed on bytes: this runs on every command.
        var field = 2, i = close + 1
        var state: UInt8 = 0
        while i < bytes.count {
            while i < bytes.count, bytes[i] == UInt8(ascii: " ") { i += 1 }
            guard i < bytes.count else { break }
            field += 1
            if field == 3 { state = bytes[i] }
            if field == 22 {
                var start: UInt64 = 0, digits = 0
                while i < bytes.count, bytes[i] != UInt8(ascii: " "), bytes[i] != UInt8(ascii: "\n") {
                    let digit = bytes[i] &- UInt8(ascii: "0")
                    guard digit < 10 else { return nil }
                    let (times10, o1) = start.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
                    guard !o1, !o2 else { return nil }
                    start = sum
                    digits += 1
                    i += 1
                }
                guard digits > 0, state < 0x80 else { return nil }
                return (start, Character(Unicode.Scalar(state)))
            }
            while i < bytes.count, bytes[i] != UInt8(ascii: " ") { i += 1 }
        }
        return nil
    }

    public static func setsid() throws(SystemError) { try check("setsid") { Glibc.setsid() } }

    public static func exit(_ code: Int32) -> Never { Glibc._exit(code) }

    /// Closes (or marks close-on-exec) every descriptor from `first` up.
    public static func closeFrom(_ first: Int32, cloexecOnly: Bool = false) {
        let CLOSE_RANGE_CLOEXEC: UInt32 = 4
        if sk_close_range(UInt32(first), UInt32.max, cloexecOnly ? CLOSE_RANGE_CLOEXEC : 0) == 0 { return }
        // Older kernels: walk /proc/self/fd.
        for name in (try? FileSystem.list("/proc/self/fd")) ?? [] {
            guard let n = Int32(name), n >= first else { continue }
            if cloexecOnly { _ = sk_fcntl_int(n, F_SETFD, FD_CLOEXEC) } else { _ = Glibc.close(n) }
        }
    }

    /// The sealed in-memory exec trampoline (see sk_sys.h); nil where unavailable.
    public static func makeTrampoline() -> FD? {
        let fd = sk_trampoline_create()
        return fd >= 0 ? FD(fd) : nil
    }

    /// Runs the container's program through the trampoline. Never returns on success.
    public static func execSealed(trampoline: FD?, path: String, args: [String], env: [String]) -> SystemError {
        var cargs = args.map { strdup($0) }
        cargs.append(nil)
        var cenv = env.map { strdup($0) }
        cenv.append(nil)
        _ = sk_exec_via(trampoline?.raw ?? -1, path, cargs, cenv)
        let e = currentErrno()
        return SystemError("exec", path, errno: e)
    }

    /// Plain execve (used for hooks): the exec path without a trampoline.
    public static func exec(path: String, args: [String], env: [String]) -> SystemError {
        execSealed(trampoline: nil, path: path, args: args, env: env)
    }

    public static func environment() -> [String] {
        var out: [String] = []
        var p = environ
        while let entry = p.pointee {
            out.append(String(cString: entry))
            p += 1
        }
        return out
    }

    public static func getenv(_ name: String) -> String? {
        Glibc.getenv(name).map { String(cString: $0) }
    }
}

/// Signal names as runc's kill accepts them (with or without SIG, or a number).
public enum Signals {
    static let table: [(String, Int32)] = [
        ("ABRT", SIGABRT), ("ALRM", SIGALRM), ("BUS", SIGBUS), ("CHLD", SIGCHLD), ("CLD", SIGCHLD),
        ("CONT", SIGCONT), ("FPE", SIGFPE), ("HUP", SIGHUP), ("ILL", SIGILL), ("INT", SIGINT),
        ("IO", SIGIO), ("IOT", SIGIOT), ("KILL", SIGKILL), ("PIPE", SIGPIPE), ("POLL", SIGPOLL),
        ("PROF", SIGPROF), ("PWR", SIGPWR), ("QUIT", SIGQUIT), ("SEGV", SIGSEGV), ("STKFLT", SIGSTKFLT),
        ("STOP", SIGSTOP), ("SYS", SIGSYS), ("TERM", SIGTERM), ("TRAP", SIGTRAP), ("TSTP", SIGTSTP),
        ("TTIN", SIGTTIN), ("TTOU", SIGTTOU), ("URG", SIGURG), ("USR1", SIGUSR1), ("USR2", SIGUSR2),
        ("VTALRM", SIGVTALRM), ("WINCH", SIGWINCH), ("XCPU", SIGXCPU), ("XFSZ", SIGXFSZ),
    ]

    public static func number(_ text: String) -> Int32? {
        if let n = Int32(text) { return (n > 0 && n < 65) ? n : nil }
        var name = String(decoding: text.utf8.map { $0 >= 0x61 && $0 <= 0x7a ? $0 - 0x20 : $0 }, as: UTF8.self)
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if name.hasPrefix("RTMIN") || name.hasPrefix("RTMAX") {
            let base = name.hasPrefix("RTMIN") ? Int32(34) : Int32(64)
            let rest = name.dropFirst(5)
            if rest.isEmpty { return base }
            guard let off = Int32(rest) else { return nil }
            let n = base + off
            return (n >= 34 && n <= 64) ? n : nil
        }
        return table.first { $0.0 == name }?.1
    }
}

public enum Keyring {
    /// Joins a fresh session keyring; false when the kernel has no keyrings (ENOSYS) or
    /// refuses (EACCES), which runc also tolerates.
    @discardableResult
    public static func joinNewSession(_ name: String) throws(SystemError) -> Bool {
        if sk_join_session_keyring(name) >= 0 { return true }
        let e = currentErrno()
        if e == ENOSYS || e == EACCES || e == EDQUOT { return false }
        throw SystemError("keyctl(KEYCTL_JOIN_SESSION_KEYRING)", name, errno: e)
    }
}

public enum Terminal {
    /// Opens a pty on the given ptmx handle: returns (master, peer, "/dev/pts/N").
    public static func openPty(ptmx: FD) throws(SystemError) -> (master: FD, peer: FD, name: String) {
        var peer: Int32 = -1
        var index: Int32 = 0
        try check("open pty", "ptmx") { sk_open_pty(ptmx.raw, &peer, &index) }
        return (ptmx, FD(peer), "/dev/pts/\(index)")
    }

    public static func setSize(_ fd: FD, rows: UInt16, cols: UInt16) throws(SystemError) {
        try check("ioctl(TIOCSWINSZ)") { sk_set_winsize(fd.raw, rows, cols) }
    }

    public static func setControlling(_ fd: FD) throws(SystemError) {
        try check("ioctl(TIOCSCTTY)") { sk_set_ctty(fd.raw) }
    }

    public static func sendFD(_ socket: FD, _ fd: FD, name: String) throws(SystemError) {
        try check("sendmsg", "console socket") { sk_send_fd(socket.raw, fd.raw, name) }
    }

    /// Puts a terminal in raw mode; returns the settings to restore (nil: not a terminal).
    public static func makeRaw(_ fd: FD) -> [UInt8]? {
        var saved = [UInt8](repeating: 0, count: Int(sk_termios_size()))
        return sk_make_raw(fd.raw, &saved) == 0 ? saved : nil
    }

    public static func restore(_ fd: FD, _ saved: [UInt8]) { _ = sk_restore_termios(fd.raw, saved) }

    public static func size(_ fd: FD) -> (rows: UInt16, cols: UInt16)? {
        var rows: UInt16 = 0, cols: UInt16 = 0
        return sk_get_winsize(fd.raw, &rows, &cols) == 0 ? (rows, cols) : nil
    }

    public static func streamPair() throws(SystemError) -> (FD, FD) {
        var fds: [Int32] = [0, 0]
        try check("socketpair") { sk_socketpair_stream(&fds) }
        return (FD(fds[0]), FD(fds[1]))
    }

    /// Receives one message and at most one fd passed with it.
    public static func receiveFD(_ socket: FD, max: Int) throws(SystemError) -> (bytes: [UInt8], fd: FD?) {
        // Uninitialized: a zeroed 64 KiB buffer cost a memset and 16 pages per message.
        var passed: Int32 = -1
        var result = 0, code: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: max) { buffer, count in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                repeat { result = sk_recv_fd(socket.raw, chars.baseAddress, max, &passed) } while result < 0 && currentErrno() == EINTR
            }
            if result < 0 { code = currentErrno() }
            count = Swift.max(result, 0)
        }
        if result < 0 { throw SystemError("recvmsg", nil, errno: code) }
        return (bytes, passed >= 0 ? FD(passed) : nil)
    }

    /// Connects to a unix stream socket path.
    public static func connect(_ path: String) throws(SystemError) -> FD {
        var (addr, length) = try Datagram.address(path)
        let sock = try check("socket") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(sock, $0, length) }
        }
        if r != 0 {
            let e = currentErrno()
            Glibc.close(sock)
            throw SystemError("connect", path, errno: e)
        }
        return FD(sock)
    }
}

extension Signals {
    /// Forwards signals this process receives to `pid` (for attached run).
    public static func forward(to pid: pid_t) { sk_forward_signals(pid) }
}
