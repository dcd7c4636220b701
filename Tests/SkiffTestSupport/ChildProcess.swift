// Shared by the integration, conformance and engine test targets: start a process with
// posix_spawn, stdio on files, wait for it with a deadline (killing it, or its whole process
// group, when the deadline passes) and collect its exit status and output.
//
// Not Foundation's Process: we reap the child ourselves with waitpid, so its exit cannot be
// missed. stdin, stdout and stderr are files, never pipes: container processes inherit the
// runtime's stdio, and engines leave daemons (conmon, shims) behind; either may keep an
// inherited pipe open long after the process we started exited.
import Foundation
import Glibc

/// How a process ended, and what it wrote.
public struct ProcessResult: CustomStringConvertible, Sendable {
    /// The exit code, 128+n when killed by signal n, -1 when it could not be started (or not
    /// waited for).
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// The deadline passed and the process was killed (SIGKILL).
    public var timedOut: Bool

    public init(status: Int32, stdout: String, stderr: String, timedOut: Bool = false) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.timedOut = timedOut
    }

    /// stdout without surrounding whitespace.
    public var out: String { stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
    public var err: String { stderr.trimmingCharacters(in: .whitespacesAndNewlines) }
    /// The non-empty lines of `out`.
    public var lines: [String] { out.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    public var description: String {
        "status=\(status)\(timedOut ? " (TIMED OUT)" : "") stdout=\(stdout.debugDescription) stderr=\(stderr.debugDescription)"
    }
}

/// posix_spawn failed.
public struct SpawnError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A child process started with posix_spawn: stdin from `stdinPath`, stdout and stderr to
/// files; `extraFds` become its fds 3, 4, … and every other fd is closed; its signal mask is
/// empty and every signal has its default action. With `newProcessGroup` it leads a process
/// group of its own, and a timeout, `stop` and deinit signal that whole group.
///
/// Waiting is by polling (waitpid WNOHANG); once reaped the status is kept. Use an instance from
/// one thread at a time. A child still running when the instance goes away is SIGKILLed and
/// reaped.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let executable: String
    public let arguments: [String]
    public let stdoutPath: String
    public let stderrPath: String
    public let newProcessGroup: Bool
    private var exitStatus: Int32?
    private var result: ProcessResult?

    /// Starts `executable` (a path: no PATH search) with `arguments` (argv[1…]).
    /// `environment` nil passes the test process's own environment unchanged.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                stdinPath: String = "/dev/null", stdoutPath: String, stderrPath: String,
                extraFds: [Int32] = [], newProcessGroup: Bool = false) throws {
        self.executable = executable
        self.arguments = arguments
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
        self.newProcessGroup = newProcessGroup
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // Move the extra fds out of the way, close every other fd, then put them in place.
        let parked = Int32(1000)
        for (i, fd) in extraFds.enumerated() { posix_spawn_file_actions_adddup2(&actions, fd, parked + Int32(i)) }
        let open = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
        for fd in open where fd >= 3 && !(parked..<parked + Int32(extraFds.count)).contains(fd) {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
        for i in extraFds.indices {
            posix_spawn_file_actions_adddup2(&actions, parked + Int32(i), Int32(3 + i))
            posix_spawn_file_actions_addclose(&actions, parked + Int32(i))
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var all = sigset_t()
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigdefault(&attr, &all)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attr, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attr, Int16(flags))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer {
            for p in argv { free(p) }
            for p in envp ?? [] { free(p) }
        }
        var pid: pid_t = 0
        let rc = envp.map { posix_spawn(&pid, executable, &actions, &attr, argv, $0) }
            ?? posix_spawn(&pid, executable, &actions, &attr, argv, environ)
        guard rc == 0 else { throw SpawnError("posix_spawn \(executable): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    deinit {
        if poll() == nil {
            signal(SIGKILL)
            _ = reap(block: true)
        }
    }

    /// The exit status (128+n for signal n) once the process exited, without blocking.
    public func poll() -> Int32? { reap(block: false) }

    public var isRunning: Bool { poll() == nil }

    /// Sends `sig` to the process, and to its process group when it leads one.
    public func signal(_ sig: Int32) {
        if newProcessGroup { kill(-pid, sig) }
        kill(pid, sig)
    }

    /// Waits until the process exits or `timeout` passes (then SIGKILLs it, or its process
    /// group, and reports a timeout); reads what it wrote to `stdoutPath` and `stderrPath`.
    /// Later calls return the same result.
    @discardableResult
    public func wait(timeout: TimeInterval = 30) -> ProcessResult {
        if let result { return result }
        let (status, timedOut) = waitForExit(timeout: timeout)
        let r = ProcessResult(status: status, stdout: readText(stdoutPath), stderr: readText(stderrPath), timedOut: timedOut)
        result = r
        return r
    }

    /// SIGTERMs the process (group), waits up to `grace`, then SIGKILLs it.
    public func stop(grace: TimeInterval) {
        guard poll() == nil else { return }
        signal(SIGTERM)
        _ = waitForExit(timeout: grace)
    }

    /// What the process has written to stdout so far.
    public var stdout: String { readText(stdoutPath) }

    private func waitForExit(timeout: TimeInterval) -> (status: Int32, timedOut: Bool) {
        let deadline = Date().addingTimeInterval(timeout * TestEnvironment.timeoutScale)
        var pause: useconds_t = 1_000
        while true {
            if let status = poll() { return (status, false) }
            if Date() > deadline {
                signal(SIGKILL)
                return (reap(block: true) ?? -1, true)
            }
            usleep(pause)
            pause = min(pause * 2, 10_000)
        }
    }

    /// waitpid once (retrying on EINTR); the decoded status once the child exited, -1 if it
    /// cannot be waited for.
    private func reap(block: Bool) -> Int32? {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        var r: pid_t
        repeat { r = waitpid(pid, &status, block ? 0 : WNOHANG) } while r < 0 && errno == EINTR
        if r == pid {
            let signal = status & 0x7f
            exitStatus = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        } else if r < 0 {
            exitStatus = -1
        }
        return exitStatus
    }

    private func readText(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
}

extension ChildProcess {
    /// Runs `executable arguments` to completion, killed (with its process group, if
    /// `newProcessGroup`) at the deadline. `stdin` text, if any, is fed from a file. stdout and
    /// stderr go to `stdoutPath` and `stderrPath` when given (and stay there), else to files in
    /// `scratchDirectory` that are removed afterwards, like the stdin file. When the process
    /// cannot be started the result has status `startFailureStatus` and the error as stderr.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           stdin: String? = nil, stdoutPath: String? = nil, stderrPath: String? = nil,
                           scratchDirectory: String = NSTemporaryDirectory(), extraFds: [Int32] = [],
                           newProcessGroup: Bool = false, startFailureStatus: Int32 = -1,
                           timeout: TimeInterval = 30) -> ProcessResult {
        let base = "\(scratchDirectory)/.child-\(getpid())-\(UUID().uuidString)"
        var temporary: [String] = []
        defer { for path in temporary { unlink(path) } }
        func scratch(_ suffix: String) -> String {
            temporary.append(base + suffix)
            return base + suffix
        }
        var stdinPath = "/dev/null"
        if let stdin {
            stdinPath = scratch(".in")
            _ = FileManager.default.createFile(atPath: stdinPath, contents: Data(stdin.utf8))
        }
        let outPath = stdoutPath ?? scratch(".out")
        let errPath = stderrPath ?? scratch(".err")
        do {
            let child = try ChildProcess(executable, arguments, environment: environment, stdinPath: stdinPath,
                                         stdoutPath: outPath, stderrPath: errPath, extraFds: extraFds,
                                         newProcessGroup: newProcessGroup)
            return child.wait(timeout: timeout)
        } catch {
            return ProcessResult(status: startFailureStatus, stdout: "", stderr: "\(error)")
        }
    }
}
