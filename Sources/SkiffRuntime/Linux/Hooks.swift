import Glibc
import SkiffSpec
import SkiffSystem

/// Runs OCI hooks: the state JSON on stdin, the hook's own args and env, an optional timeout.
public enum HookRunner {
    public enum Kind: String, Sendable {
        case prestart, createRuntime, createContainer, startContainer, poststart, poststop
    }

    /// PURE. `now` + `timeoutSeconds` s in milliseconds, saturating at Int64.max (no trap for
    /// any timeout a config can hold).
    public static func deadline(now: Int64, timeoutSeconds: Int) -> Int64 {
        let (ms, overflowed) = Int64(clamping: timeoutSeconds).multipliedReportingOverflow(by: 1000)
        if overflowed { return Int64.max }
        let (sum, overflowedSum) = now.addingReportingOverflow(ms)
        return overflowedSum ? Int64.max : sum
    }

    public static func hooks(_ spec: Spec, _ kind: Kind) -> [Hook] {
        hooks(spec.hooks, kind)
    }

    public static func hooks(_ hooks: Hooks?, _ kind: Kind) -> [Hook] {
        guard let h = hooks else { return [] }
        switch kind {
        case .prestart: return h.prestart ?? []
        case .createRuntime: return h.createRuntime ?? []
        case .createContainer: return h.createContainer ?? []
        case .startContainer: return h.startContainer ?? []
        case .poststart: return h.poststart ?? []
        case .poststop: return h.poststop ?? []
        }
    }

    /// Runs every hook of a kind, reporting failures as warnings and going on with the rest:
    /// what the spec requires of poststart and poststop hooks. Returns the warnings.
    @discardableResult
    public static func runAll(_ spec: Spec, _ kind: Kind, state: OCIState) -> [String] {
        runAll(spec.hooks, kind, state: state)
    }

    @discardableResult
    public static func runAll(_ hooks: Hooks?, _ kind: Kind, state: OCIState) -> [String] {
        var warnings: [String] = []
        each(hooks, kind, state: state) { text in
            warnings.append(text)
            writeStderr("skiff: warning: \(text)\n")
            return true
        }
        return warnings
    }

    /// Runs every hook of a kind in order; the first failure stops the rest. A hook without
    /// "env" gets the environment of the process running it, as in runc: the runtime's, or
    /// for createContainer and startContainer hooks (run by init, whose environment runc
    /// sets to the process's) the container process's.
    public static func run(_ spec: Spec, _ kind: Kind, state: OCIState) throws(RuntimeError) {
        var failure: String?
        let defaultEnv = kind == .createContainer || kind == .startContainer ? ProcessPlan.merged(spec.process?.env ?? []) : nil
        each(spec.hooks, kind, state: state, defaultEnv: defaultEnv) { text in
            failure = text
            return false
        }
        if let failure { throw RuntimeError(failure) }
    }

    /// Runs the hooks of a kind in order with the state on stdin; on a failure calls `failed`
    /// with the message and goes on only if it returns true.
    private static func each(_ hooks: Hooks?, _ kind: Kind, state: OCIState, defaultEnv: [String]? = nil,
                             failed: (String) -> Bool) {
        let list = self.hooks(hooks, kind)
        if list.isEmpty { return }
        let json = state.hookStateJSON()
        for (i, hook) in list.enumerated() {
            do {
                try runOne(hook, stdin: json, defaultEnv: defaultEnv)
            } catch {
                if !failed("error running hook #\(i) (\(kind.rawValue), \(hook.path)): \(error.message)") { return }
            }
        }
    }

    /// Runs a helper program (e.g. newuidmap) like a hook: waits for it, fails with its output.
    static func runProgram(path: String, args: [String], env: [String], stdin: String, timeout: Int?) throws(RuntimeError) {
        try runOne(Hook(path: path, args: args, env: env, timeout: timeout), stdin: stdin)
    }

    static func runOne(_ hook: Hook, stdin: String, defaultEnv: [String]? = nil) throws(RuntimeError) {
        let input: (read: FD, write: FD)
        let output: (read: FD, write: FD)
        do {
            input = try pipe()
            output = try pipe()
        } catch {
            throw RuntimeError("\(error)")
        }
        // No "env": `defaultEnv`, else the runtime's own (Go's exec.Cmd with a nil Env, as
        // runc runs hooks). "env": [] is an empty one.
        let env = hook.env ?? defaultEnv ?? ProcessControl.environment()
        let args = (hook.args?.isEmpty ?? true) ? [hook.path] : hook.args!
        let pid = fork()
        if pid < 0 { throw RuntimeError("\(SystemError("fork"))") }
        if pid == 0 {
            // Its own process group, so a timeout kills what the hook started too.
            _ = setpgid(0, 0)
            _ = dup2(input.read.raw, 0)
            _ = dup2(output.write.raw, 1)
            _ = dup2(output.write.raw, 2)
            ProcessControl.closeFrom(3)
            let error = ProcessControl.exec(path: hook.path, args: args, env: env)
            let message = "\(error)\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            ProcessControl.exit(127)
        }
        input.read.close()
        output.write.close()
        // The hook may exit without reading stdin: ignore EPIPE.
        let oldPipe = signal(SIGPIPE, SIG_IGN)
        try? input.write.write(stdin)
        input.write.close()
        signal(SIGPIPE, oldPipe)

        // Saturated: a timeout of 9223372036854775 s (valid per the schema) means "never".
        let deadline = hook.timeout.map { HookRunner.deadline(now: Clock.monotonicMilliseconds(), timeoutSeconds: $0) }
        let pidfd = try? ProcessControl.pidfdOpen(pid)
        var captured: [UInt8] = []
        var outputOpen = true
        var status: Int32 = 0
        var exited = false
        while !exited {
            var fds = [pollfd(fd: outputOpen ? output.read.raw : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: pidfd?.raw ?? -1, events: Int16(POLLIN), revents: 0)]
            var wait: Int32 = pidfd == nil ? 10 : -1
            if let deadline {
                let left = deadline - Clock.monotonicMilliseconds()
                if left <= 0 {
                    _ = kill(-pid, SIGKILL)
                    _ = kill(pid, SIGKILL)
                    _ = try? ProcessControl.wait(pid)
                    pidfd?.close()
                    output.read.close()
                    throw RuntimeError("timeout after \(hook.timeout!) s")
                }
                wait = wait < 0 ? Int32(clamping: left) : min(wait, Int32(clamping: left))
            }
            _ = poll(&fds, 2, wait)
            if outputOpen && fds[0].revents != 0 {
                if let chunk = try? output.read.read(max: 4096), !chunk.isEmpty {
                    if captured.count < 65536 { captured += chunk }
                } else {
                    outputOpen = false
                }
            }
            var raw: Int32 = 0
            if waitpid(pid, &raw, WNOHANG) == pid {
                status = raw
                exited = true
            }
        }
        if outputOpen, let rest = try? output.read.readAll() { captured += rest }
        pidfd?.close()
        output.read.close()
        let code = ProcessControl.exitCode(status)
        if code != 0 {
            var text = String(decoding: captured, as: UTF8.self).trimmingWhitespace()
            if text.count > 512 { text = String(text.prefix(512)) + "…" }
            let how = code > 128 ? "signal: \(goSignalName(code - 128))" : "exit status \(code)"
            throw RuntimeError(text.isEmpty ? how : "\(how): \(text)")
        }
    }

    /// Go's text for a signal (os.ProcessState.String: "signal: killed"), which runc prints
    /// and its tests match ("bad system call" for SIGSYS).
    static func goSignalName(_ n: Int32) -> String {
        let names = ["hangup", "interrupt", "quit", "illegal instruction", "trace/breakpoint trap", "aborted",
                     "bus error", "floating point exception", "killed", "user defined signal 1", "segmentation fault",
                     "user defined signal 2", "broken pipe", "alarm clock", "terminated", "stack fault", "child exited",
                     "continued", "stopped (signal)", "stopped", "stopped (tty input)", "stopped (tty output)",
                     "urgent I/O condition", "CPU time limit exceeded", "file size limit exceeded",
                     "virtual timer expired", "profiling timer expired", "window changed", "I/O possible",
                     "power failure", "bad system call"]
        return n >= 1 && Int(n) <= names.count ? names[Int(n) - 1] : "signal \(n)"
    }
}
