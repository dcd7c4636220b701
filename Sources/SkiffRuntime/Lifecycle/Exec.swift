import Glibc
import SkiffSpec
import SkiffSystem

public struct ExecOptions: Sendable {
    public var process: Process
    public var detach = false
    public var pidFile: String?
    public var consoleSocket: String?
    public var preserveFds = 0
    /// `exec --cgroup`: existing sub-cgroups of the container's to run the process in, by
    /// controller ("" = every hierarchy). See `parseSubCgroups`.
    public var subCgroups: [String: String] = [:]
    public var ignorePaused = false
    /// The --process file `process` came from (its name in errors; paths relative to it).
    public var processFile: String?
    public init(process: Process, processFile: String? = nil) {
        self.process = process
        self.processFile = processFile
    }
}

extension Container {
    /// The process `exec` runs when given args instead of --process: the container's own
    /// process as the base, with runc's overrides.
    /// `config`: the container's, from `state.config()` (decoded once for this and `exec`).
    public func execProcess(config: Spec, args: [String], cwd: String?, env: [String], user: String?, additionalGids: [UInt32],
                            caps: [String], noNewPrivs: Bool, tty: Bool) throws(RuntimeError) -> Process {
        guard var p = config.process else { throw RuntimeError("container has no process in its config") }
        p.args = args
        p.terminal = tty
        p.consoleSize = nil
        if let cwd { p.cwd = cwd }
        if !env.isEmpty { p.env = (p.env ?? []) + env }
        if let user {
            let parts = user.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let first = parts.first, let uid = UInt32(first), parts.count == 1 || UInt32(parts[1]) != nil else {
                throw RuntimeError("--user: \"\(user)\" is not uid[:gid]")
            }
            // (uid_t)-1 means "no change" to setresuid: the process would stay root.
            if uid == UInt32.max || (parts.count == 2 && UInt32(parts[1]) == UInt32.max) {
                throw RuntimeError("--user: \"\(user)\": 4294967295 is not a valid id (the kernel reads (uid_t)-1 as \"no change\")")
            }
            p.user.uid = uid
            if parts.count == 2 { p.user.gid = UInt32(parts[1])! }
        }
        if !additionalGids.isEmpty { p.user.additionalGids = additionalGids }
        if !caps.isEmpty {
            var c = p.capabilities ?? LinuxCapabilities()
            c.bounding = (c.bounding ?? []) + caps
            c.effective = (c.effective ?? []) + caps
            c.permitted = (c.permitted ?? []) + caps
            // Never inheritable (CVE-2022-29162).
            c.ambient = (c.ambient ?? []) + caps
            p.capabilities = c
        }
        if noNewPrivs { p.noNewPrivileges = true }
        return p
    }

    /// Runs a new process inside the container: same namespaces, cgroup, seccomp filter.
    /// Detached: returns 0 once it runs (pid file written). Attached: its exit status.
    public func exec(_ options: ExecOptions, config: Spec) throws(RuntimeError) -> Int32 {
        let status = self.status
        switch status {
        case .stopped: throw RuntimeError("cannot exec in a stopped container")
        case .paused where !options.ignorePaused: throw RuntimeError("cannot exec in a paused container")
        default: break
        }
        try PreservedFds.validate(options.preserveFds)
        // The validation create gives config.json's process (ids, ranges, LSM labels).
        let file = options.processFile ?? "exec"
        let prefix = options.processFile == nil ? "process" : ""
        let problems = options.process.validate(file: file, prefix: prefix, linux: config.linux)
            + HostValidation.process(options.process, file: file, prefix: prefix)
        if let problem = problems.first { throw RuntimeError("\(problem)") }
        var plan = try ProcessPlan(process: options.process, linux: config.linux, field: "process")
        for warning in plan.dropUngrantableCapabilities() { writeStderr("skiff: warning: \(warning)\n") }
        if plan.terminal && options.consoleSocket == nil && options.detach {
            throw RuntimeError("exec --tty --detach needs --console-socket")
        }
        let seccomp = try config.linux?.seccomp.map { (s) throws(RuntimeError) -> SeccompPlan in try SeccompPlan(s) }

        // Namespaces of init, in join order (mnt last); pid and time for children via the parent.
        let pid = state.initPid
        var joins: [NamespacePlan.Join] = []
        var parentJoins: [NamespacePlan.Join] = []
        for type in ["user", "ipc", "uts", "network", "cgroup", "pid", "time", "mount"] where state.namespacePaths[type] != nil {
            let path = "/proc/\(pid)/ns/\(NamespacePlan.procNames[type]!)"
            let join = NamespacePlan.Join(type: type, path: path, flag: NamespacePlan.flags[type]!, field: "namespace \(type)")
            if type == "pid" || type == "time" { parentJoins.append(join) } else { joins.append(join) }
        }
        // An unprivileged caller may join the container's pid namespace only from inside its
        // user namespace, where (as the namespace's owner) it holds every capability: skiff
        // enters the user namespace first, for good, and its child inherits it.
        var ownUserJoin: [NamespacePlan.Join] = []
        if Identity.euid != 0, let user = joins.firstIndex(where: { $0.type == "user" }) {
            ownUserJoin = [joins.remove(at: user)]
        }
        let userOpened = try OpenNamespaces(ownUserJoin)
        defer { userOpened.closeAll() }
        let opened = try OpenNamespaces(joins)
        defer { opened.closeAll() }
        let parentOpened = try OpenNamespaces(parentJoins)
        defer { parentOpened.closeAll() }
        // Without a mount namespace, init chrooted into the rootfs: the new process takes
        // init's root the same way (joining a mount namespace sets it otherwise).
        var initRoot: FD? = nil
        if state.namespacePaths["mount"] == nil {
            do { initRoot = try FileSystem.open("/proc/\(pid)/root", O_PATH | O_DIRECTORY) } catch {
                throw RuntimeError("cannot open the container's root: \(error)")
            }
        }
        defer { initRoot?.close() }
        // The namespace files were opened from init's pid: make sure it was still init.
        if !initAlive { throw RuntimeError("cannot exec in a stopped container") }
        try userOpened.enter()

        var consoleSocket: FD? = nil
        // Attached with a terminal and no socket: skiff itself takes the pty master and relays
        // it to its own stdio (CRI-O's streaming exec, `skiff exec -t` by hand).
        var relayEnd: FD? = nil
        if let path = options.consoleSocket {
            do { consoleSocket = try Terminal.connect(path) } catch { throw RuntimeError("--console-socket: \(error)") }
        } else if plan.terminal {
            do { (relayEnd, consoleSocket) = try Terminal.streamPair() } catch { throw RuntimeError("\(error)") }
        }
        defer { consoleSocket?.close(); relayEnd?.close() }
        let (parentEnd, childEnd): (FD, FD)
        do { (parentEnd, childEnd) = try socketPair() } catch { throw RuntimeError("\(error)") }
        defer { parentEnd.close() }

        let cgroupDirs = options.subCgroups.isEmpty ? state.cgroupPaths.filter { FileSystem.isDirectory($0) }
            : try subCgroupDirectories(options.subCgroups)
        let restore = try ParentNamespaces.enter(parentOpened, newTime: false, offsets: nil)
        let cloned: (pid: pid_t, childJoins: [String])
        do {
            cloned = try Cgroups.clone(flags: 0, into: cgroupDirs)
        } catch {
            restore.back()
            childEnd.close()
            throw RuntimeError("cannot create exec process: \(error)")
        }
        if cloned.pid == 0 {
            parentEnd.close()
            ExecProcess.run(plan: plan, joins: opened, root: initRoot, channel: SyncChannel(fd: childEnd), seccomp: seccomp,
                            consoleSocket: consoleSocket, preserveFds: options.preserveFds,
                            cgroupJoins: cloned.childJoins)
        }
        restore.back()
        childEnd.close()
        let child = cloned.pid
        let channel = SyncChannel(fd: parentEnd)
        do throws(RuntimeError) {
            try channel.send(.go)
            // The child's end is close-on-exec: EOF means it exec'd.
            var done = false
            while !done {
                let got = try channel.receiveWithFD()
                switch got.message {
                case nil: done = true
                case .seccompFD?:
                    guard let notify = got.fd, let seccomp else { throw RuntimeError("exec: seccomp notify fd missing") }
                    defer { notify.close() }
                    try seccomp.sendToListener(notify, pid: child, state: ociState(status: .running))
                case .failed(let text)?: throw RuntimeError(text)
                default: throw RuntimeError("exec: unexpected message from the exec process")
                }
            }
        } catch {
            _ = Glibc.kill(child, SIGKILL)
            _ = try? ProcessControl.wait(child)
            throw error
        }
        if let pidFile = options.pidFile {
            do {
                try FileSystem.writeAtomic(FileSystem.absolute(pidFile), Array("\(child)".utf8), mode: 0o644)
            } catch {
                throw RuntimeError("--pid-file: \(error)")
            }
        }
        if options.detach { return 0 }
        Signals.forward(to: child)
        if let relayEnd {
            consoleSocket?.close()
            consoleSocket = nil
            if let master = try? Terminal.receiveFD(relayEnd, max: 4096).fd {
                defer { master.close() }
                return ConsoleRelay.relay(master: master, pid: child)
            }
        }
        return waitForExit(pid: child)
    }
}

extension Container {
    /// runc's SubCgroupPaths: each of the container's cgroup directories, with `sub[""]`
    /// (every hierarchy) or `sub[controller]` appended where the hierarchy carries that
    /// controller. The result must stay below the container's cgroup and exist.
    func subCgroupDirectories(_ sub: [String: String]) throws(RuntimeError) -> [String] {
        let layout = CgroupLayout.host()
        var dirs = state.cgroupPaths
        func below(_ base: String, _ add: String) throws(RuntimeError) -> String {
            let joined = cleanPath(base + "/" + add)
            guard joined == base || joined.hasPrefix(base + "/") else {
                throw RuntimeError("--cgroup: \(add) is not a sub cgroup path")
            }
            return joined
        }
        if let all = sub[""] {
            for i in dirs.indices { dirs[i] = try below(dirs[i], all) }
        } else {
            for controller in sub.keys.sorted() {
                let matching = dirs.indices.filter { layout.hierarchy(of: state.cgroupPaths[$0])?.controllers.contains(controller) ?? false }
                if matching.isEmpty { throw RuntimeError("--cgroup: unknown controller \(controller) in SubCgroupPaths") }
                for i in matching { dirs[i] = try below(state.cgroupPaths[i], sub[controller]!) }
            }
        }
        var result: [String] = []
        for (i, dir) in dirs.enumerated() {
            if dir == state.cgroupPaths[i] {
                if FileSystem.isDirectory(dir) { result.append(dir) }
            } else {
                // runc's wording (its tests match it): the join of the new process fails at open.
                // Checked before the clone, so the pid named is the runtime's own.
                guard FileSystem.isDirectory(dir) else {
                    throw RuntimeError("--cgroup: error adding pid \(getpid()) to cgroups: open \(dir)/cgroup.procs: no such file or directory")
                }
                result.append(dir)
            }
        }
        return result
    }
}

/// The exec'd process between clone and exec.
enum ExecProcess {
    static func run(plan: ProcessPlan, joins: OpenNamespaces, root: FD?, channel: SyncChannel, seccomp: SeccompPlan?,
                    consoleSocket: FD?, preserveFds: Int, cgroupJoins: [String]) -> Never {
        do throws(RuntimeError) {
            do {
                try ProcessControl.prctl(PR_SET_DUMPABLE, 0, what: "PR_SET_DUMPABLE")
                try ProcessControl.prctl(PR_SET_PDEATHSIG, UInt(SIGKILL), what: "PR_SET_PDEATHSIG")
            } catch {
                throw RuntimeError("\(error)")
            }
            // Into the container's cgroups first (see Cgroups.Placement), then its namespaces.
            try Cgroups.joinSelf(cgroupJoins)
            try channel.expect(.go)
            try joins.enter()
            joins.closeAll()
            if let root {
                do {
                    try Mounts.fchdir(root, path: "container root")
                    try Mounts.chroot(".")
                    try Mounts.chdir("/")
                } catch {
                    throw RuntimeError("cannot enter the container's root: \(error)")
                }
                root.close()
            }
            do { try ProcessControl.setsid() } catch { throw RuntimeError("\(error)") }
            var console: FD? = nil
            if plan.terminal, let socket = consoleSocket {
                let root = RootFS(path: "/", fd: (try? FileSystem.open("/", O_PATH | O_DIRECTORY)) ?? FD(-1))
                console = try Console.setup(root: root, socket: socket, size: plan.consoleSize)
                socket.close()
            }
            let executable = try plan.resolveExecutable()
            let finished = try ProcessSetup.finish(plan, seccomp: seccomp, channel: channel, console: console,
                                                   field: "process")
            let trampoline = finished.trampoline
            let loadEarly = finished.seccompLoaded
            Identity.umask(plan.umask)
            ProcessControl.closeFrom(3 + Int32(preserveFds), cloexecOnly: true)
            // The process must outlive a detached `exec`: no parent-death signal past exec.
            _ = try? ProcessControl.prctl(PR_SET_PDEATHSIG, 0, what: "PR_SET_PDEATHSIG")
            if let seccomp, !loadEarly { _ = try seccomp.load() }
            let failure = ProcessControl.execSealed(trampoline: trampoline, path: executable, args: plan.args, env: plan.finalEnvironment())
            throw RuntimeError("\(failure)")
        } catch {
            try? channel.send(.failed(error.message))
            ProcessControl.exit(255)
        }
    }
}

extension ExecOptions {
    /// runc's `--cgroup [<controller>[,<controller>…]:]<path>` (repeatable; a value without a
    /// controller prefix must be the only one).
    public static func parseSubCgroups(_ args: [String]) throws(RuntimeError) -> [String: String] {
        var paths: [String: String] = [:]
        for arg in args {
            let parts = arg.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if parts.count > 2 { throw RuntimeError("invalid --cgroup argument: \(arg)") }
            if parts.count == 1 {
                if args.count != 1 { throw RuntimeError("invalid --cgroup argument: \(arg) (missing <controller>: prefix)") }
                paths[""] = arg
            } else {
                for controller in parts[0].split(separator: ",", omittingEmptySubsequences: false) {
                    paths[String(controller)] = String(parts[1])
                }
            }
        }
        return paths
    }
}
