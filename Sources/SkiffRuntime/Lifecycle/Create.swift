import Glibc
import SkiffSpec
import SkiffSystem

public struct CreateOptions: Sendable {
    public var bundle: String
    public var pidFile: String?
    public var consoleSocket: String?
    public var noPivot = false
    public var noNewKeyring = false
    public var preserveFds = 0
    /// The configuration file instead of <bundle>/config.json (crun's `create --config`).
    public var config: String?
    /// An already connected console socket (attached `run` with a terminal) instead of a path.
    public var consoleSocketFD: FD?
    public init(bundle: String, pidFile: String? = nil, consoleSocket: String? = nil) {
        self.bundle = bundle
        self.pidFile = pidFile
        self.consoleSocket = consoleSocket
    }
}

/// What create leaves behind for `run`: init is our child, blocked on exec.fifo.
public struct Launched: Sendable {
    public var container: Container
    public var pid: pid_t
}

extension Container {
    /// Reads and validates <bundle>/config.json; the error names the JSON path at fault.
    public static func loadSpec(bundle: String, config: String? = nil) throws(RuntimeError) -> Spec {
        let path = config ?? bundle + "/config.json"
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readRegularFile(path, limit: FileSystem.configSizeLimit)
        } catch {
            if !FileSystem.isDirectory(bundle) { throw RuntimeError("bundle \(bundle): \(SystemError.message(error.errno))") }
            if let config { throw RuntimeError("--config \(config): \(error)") }
            throw RuntimeError("cannot read config.json: \(error)")
        }
        do {
            return try Spec.load(bytes: bytes)
        } catch {
            throw RuntimeError("\(error)")
        }
    }

    /// Builds the container and leaves init blocked before exec. On any failure nothing is
    /// left behind: no state dir, cgroup, mount or process.
    public static func create(id: String, options opts: CreateOptions, runtime: RuntimeOptions) throws(RuntimeError) -> Launched {
        OwnImage.trim()  // before 6.7 only: start-up and argument parsing (see OwnImage)
        try ContainerID.validate(id)
        try PreservedFds.validate(opts.preserveFds)
        let bundle = FileSystem.absolute(opts.bundle)
        let spec = try loadSpec(bundle: bundle, config: opts.config.map(FileSystem.absolute))
        guard let processSpec = spec.process else {
            throw RuntimeError("config.json: process: required field is missing")
        }
        // Pure plans first: every config problem is reported before anything is created.
        let namespaces = try NamespacePlan(spec.linux?.namespaces ?? [])
        var process = try ProcessPlan(process: processSpec, linux: spec.linux)
        if namespaces.newUser {
            try IDMaps.validate(uid: spec.linux?.uidMappings, gid: spec.linux?.gidMappings)
            if IDMaps.deniesSetgroups(gid: spec.linux?.gidMappings ?? []) && !process.additionalGids.isEmpty {
                throw RuntimeError("config.json: process.user.additionalGids: a non-root user mapping only its own gid must deny setgroups in the container; map more gids (newgidmap, /etc/subgid) to set additional groups")
            }
        } else if !(spec.linux?.uidMappings ?? []).isEmpty || !(spec.linux?.gidMappings ?? []).isEmpty {
            throw RuntimeError("config.json: linux.uidMappings: needs a new user namespace (linux.namespaces has no \"user\" without a path)")
        }
        for warning in process.dropUngrantableCapabilities() { writeStderr("skiff: warning: \(warning)\n") }
        // Features this skiff does not implement are refused, never silently dropped.
        if let devices = spec.linux?.netDevices, !devices.isEmpty {
            throw RuntimeError("config.json: linux.netDevices: moving network devices into the container is not supported by this version of skiff")
        }
        if spec.linux?.intelRdt != nil {
            throw RuntimeError("config.json: linux.intelRdt: Intel RDT (resctrl) is not supported by this version of skiff")
        }
        if spec.linux?.memoryPolicy != nil {
            throw RuntimeError("config.json: linux.memoryPolicy: NUMA memory policies are not supported by this version of skiff")
        }
        // What this host cannot do (LSM labels, root.path, clocks, blkio): the validation
        // `skiff check` runs too.
        let layout = CgroupLayout.host()
        if let problem = HostValidation.spec(spec, bundle: bundle, layout: layout).first {
            throw RuntimeError("\(problem)")
        }
        if (spec.hostname != nil) && !namespaces.has("uts") {
            throw RuntimeError("config.json: hostname: setting it requires a new uts namespace")
        }
        try Kernel.validateSysctl(spec.linux?.sysctl ?? [:], namespaces: namespaces, domainname: spec.domainname)
        if process.terminal && opts.consoleSocket == nil && opts.consoleSocketFD == nil {
            throw RuntimeError("config.json: process.terminal: true with --detach: use --console-socket (or run without -d)")
        }
        if !process.terminal && opts.consoleSocket != nil {
            throw RuntimeError("--console-socket given but process.terminal is false")
        }
        // --systemd-cgroup: a transient unit holds the cgroup (Systemd.swift); only then D-Bus.
        let systemd = runtime.systemdCgroup
            ? try SystemdSetup.prepare(cgroupsPath: spec.linux?.cgroupsPath, id: id, layout: layout, rootless: runtime.rootless) : nil
        let cgroupPaths = systemd?.paths ?? Cgroups.directories(layout: layout, cgroupsPath: spec.linux?.cgroupsPath, id: id)
        // runc 1.1 warns (1.2 refuses): another container's processes share this cgroup.
        // Like runc, one hierarchy is checked.
        if let first = cgroupPaths.first, FileSystem.isDirectory(first) {
            let pids = Cgroups.pids([first])
            if !pids.isEmpty {
                writeStderr("skiff: warning: container's cgroup is not empty: \(pids.count) process(es) found\n")
                writeStderr("skiff: warning: DEPRECATED: running a container in a non-empty cgroup is refused by runc 1.2; https://github.com/opencontainers/runc/issues/3132\n")
            }
        }
        // Relative paths (root.path, bind sources) from the bundle's real path, as runc takes
        // them (it chdirs into the bundle): a bundle reached through a symlink works, while
        // state.json keeps the bundle path as given.
        let realBundle = (try? FileSystem.realPath(bundle)) ?? bundle
        var rootfs = try RootfsPlan(spec: spec, bundle: realBundle, noPivot: opts.noPivot, cgroupPaths: cgroupPaths,
                                    layout: layout, namespaces: namespaces)
        rootfs.bundle = bundle  // what hooks see, as in state.json
        if !FileSystem.isDirectory(rootfs.rootfs) {
            throw RuntimeError("config.json: root.path: \(rootfs.rootfs): no such directory")
        }
        let pidFile = opts.pidFile.map { FileSystem.absolute($0) }
        let seccomp = try spec.linux?.seccomp.map { (s) throws(RuntimeError) -> SeccompPlan in try SeccompPlan(s) }

        let store = runtime.store
        var rootfsPlan = rootfs
        var processPlan = process
        // sd_notify (runc's NOTIFY_SOCKET handling): the container gets its own socket, which
        // `start` binds in <state>/notify and proxies READY=1 from to the caller's socket.
        let notify = SdNotify.requested && namespaces.has("mount")
        if notify {
            rootfsPlan.mounts.append(SdNotify.mount(stateDir: store.directory(id), index: rootfsPlan.mounts.count))
            processPlan.env = processPlan.env.filter { !$0.hasPrefix("NOTIFY_SOCKET=") } + ["NOTIFY_SOCKET=" + SdNotify.containerSocket]
        }
        var opts = opts
        let listenFds = SocketActivation.listenFds()
        if listenFds > 0 {
            opts.preserveFds += listenFds  // both bounded (validate, listenFds ≤ 65536): no overflow
            try PreservedFds.validate(opts.preserveFds)
            processPlan.env += ["LISTEN_FDS=\(listenFds)", "LISTEN_PID=1"]
        }
        OwnImage.trim()  // and the config's decoding and validation
        try store.createDirectory(id)
        var cleanup = Cleanup(store: store, id: id)
        // No mount namespace but mount work: init binds the rootfs in the host's namespace.
        let hostRootfsBelow = !namespaces.has("mount") && rootfs.needsHostBind ? (Mounts.topMountID(at: rootfs.rootfs) ?? -1) : nil
        cleanup.rootfs = rootfs.rootfs
        cleanup.hostRootfsBelow = hostRootfsBelow
        do {
            let lock = try store.lock(id)
            defer { lock.close() }
            // A provisional state (no init yet, so "stopped") before any cgroup exists: if this
            // create is SIGKILLed midway, `delete` still finds and removes what it made
            // (runc #4757: orphans after an engine killed `runc create`).
            var provisional = StoredState(
                id: id, initPid: 0, initStartTime: 0, created: Clock.rfc3339Now(), bundle: bundle,
                rootfs: rootfs.rootfs, config: spec, cgroupPaths: cgroupPaths, namespacePaths: [:],
                privatePidNamespace: namespaces.isNew("pid"), noPivot: opts.noPivot,
                noNewKeyring: opts.noNewKeyring, systemdCgroup: runtime.systemdCgroup, owner: getuid(),
                hostRootfsBelow: hostRootfsBelow)
            provisional.systemdUnit = systemd?.unit.name
            cleanup.systemd = systemd
            try store.save(provisional)
            if notify { try SdNotify.prepare(stateDir: store.directory(id)) }
            let launched = try launch(id: id, spec: spec, provisional: provisional, opts: opts, runtime: runtime,
                                      namespaces: namespaces, process: processPlan, rootfs: rootfsPlan,
                                      cgroupPaths: cgroupPaths, pidFile: pidFile, lock: lock, seccomp: seccomp, cleanup: &cleanup)
            return launched
        } catch {
            cleanup.run()
            throw error
        }
    }

    private static func launch(id: String, spec: Spec, provisional: StoredState, opts: CreateOptions, runtime: RuntimeOptions,
                               namespaces: NamespacePlan, process: ProcessPlan, rootfs: RootfsPlan,
                               cgroupPaths: [String], pidFile: String?, lock: FD, seccomp: SeccompPlan?,
                               cleanup: inout Cleanup) throws(RuntimeError) -> Launched {
        let store = runtime.store
        let fifoPath = store.fifoPath(id)
        do {
            try FileSystem.mkfifo(fifoPath, mode: 0o622)
        } catch {
            throw RuntimeError("\(error)")
        }
        let fifo: FD
        do { fifo = try FileSystem.open(fifoPath, O_PATH) } catch { throw RuntimeError("\(error)") }
        defer { fifo.close() }

        var rootfs = rootfs
        var cgroupPaths = cgroupPaths
        // Init would stop in a frozen cgroup before it reports anything (runc refuses it too,
        // before it makes or removes any cgroup). A missing one inherits its parent's state.
        if let frozen = Cgroups.frozenDirectory(cgroupPaths) {
            throw RuntimeError("container's cgroup unexpectedly frozen (\(frozen))")
        }
        let systemd = cleanup.systemd  // the slices above a unit are systemd's
        let missingParents = systemd != nil ? [] : Cgroups.missingParents(cgroupPaths, cgroupsPath: spec.linux?.cgroupsPath)
        cleanup.cgroupParents = missingParents
        let placement: Cgroups.Placement
        if runtime.rootless {
            // Which cgroups can be made decides the container's cgroup mounts (the rootfs plan
            // init inherits), so here everything is done before clone.
            cgroupPaths = try rootlessCgroups(cgroupPaths, spec: spec, rootfs: &rootfs, cleanup: &cleanup)
            placement = Cgroups.placement(cgroupPaths, layout: rootfs.layout)
        } else {
            // Before create: a failure halfway must remove what was made.
            cleanup.cgroupPaths = cgroupPaths
            // Only the cgroup2 directory must exist at clone (CLONE_INTO_CGROUP). The v1 ones
            // and every limit are done by the parent after clone, while init makes its network
            // namespace (below); init joins them when told to go on.
            placement = systemd != nil ? Cgroups.Placement(v2Directory: nil, childJoins: cgroupPaths)
                : Cgroups.placement(cgroupPaths, layout: rootfs.layout)
            try Cgroups.create(placement, layout: rootfs.layout, v2: true)
        }

        try rootfs.prepareIDMappedTrees()
        defer { rootfs.closeIDMappedTrees() }
        let joins = try OpenNamespaces(namespaces.joins)
        defer { joins.closeAll() }
        let parentJoins = try OpenNamespaces(namespaces.parentJoins)
        defer { parentJoins.closeAll() }

        var consoleSocket: FD? = opts.consoleSocketFD
        if let path = opts.consoleSocket {
            do { consoleSocket = try Terminal.connect(path) } catch { throw RuntimeError("--console-socket: \(error)") }
        }
        defer { if opts.consoleSocketFD == nil { consoleSocket?.close() } }

        let (parentEnd, childEnd): (FD, FD)
        do { (parentEnd, childEnd) = try socketPair() } catch { throw RuntimeError("\(error)") }
        defer { parentEnd.close() }

        // pid and time namespaces given by path, and new time namespaces, are entered by the
        // parent for its children only; it switches back right after clone.
        let restore = try ParentNamespaces.enter(parentJoins, newTime: namespaces.newTime,
                                                 offsets: spec.linux?.timeOffsets)
        // A new network namespace costs the kernel ~0.7 ms: init makes it itself, first thing,
        // while the parent sets up the cgroups (same owner: init's user namespace).
        let netByInit = namespaces.cloneFlags & ProcessControl.newNet
        let cloned: (pid: pid_t, childJoins: [String])
        let parentEUID = Identity.euid
        do {
            cloned = try Cgroups.clone(flags: namespaces.cloneFlags & ~netByInit, placement: placement)
        } catch {
            restore.back()
            childEnd.close()
            throw RuntimeError("cannot create container init: \(error)")
        }
        if cloned.pid == 0 {
            // Init must not hold the container lock (flock follows the open file).
            lock.close()
            parentEnd.close()
            InitProcess.run(InitContext(
                id: id, spec: spec, namespaces: namespaces, joins: joins, rootfs: rootfs, process: process,
                channel: SyncChannel(fd: childEnd), fifo: fifo,
                consoleSocket: consoleSocket, noNewKeyring: opts.noNewKeyring, preserveFds: opts.preserveFds,
                seccomp: seccomp, cgroupJoins: cloned.childJoins, unshareFirst: netByInit, parentEUID: parentEUID))
        }
        restore.back()
        childEnd.close()
        let pid = cloned.pid
        cleanup.initPid = pid
        // Frozen meanwhile (a pause of the cgroup by someone else): init cannot answer.
        let frozenPaths = cgroupPaths
        let channel = SyncChannel(fd: parentEnd, stalled: {
            Cgroups.frozenDirectory(frozenPaths).map { "container's cgroup unexpectedly frozen (\($0))" }
        })
        // A failure init reported before it read .go (its network namespace, say) is the
        // error to show, not the broken pipe of sending to it.
        func initGone(_ error: RuntimeError) -> RuntimeError {
            if case .failed(let text)? = try? channel.receive(within: SyncChannel.stepSeconds) { return RuntimeError("unable to start container process: \(text)") }
            return error
        }

        // systemd moves init into the unit's cgroup (no CLONE_INTO_CGROUP: the unit needs a pid).
        try systemd?.start(pid: pid, spec: spec, layout: rootfs.layout)
        if !runtime.rootless {
            try Cgroups.create(placement, layout: rootfs.layout, v2: false)
        }
        // Init joins the v1 cgroups while the limits are written (it runs only skiff's code
        // until .go, and a cpuset directory has its cpus and mems from create).
        do { try channel.send(.join) } catch { throw initGone(error) }
        if !runtime.rootless {
            try Cgroups.apply(resources: spec.linux?.resources, paths: cgroupPaths, layout: rootfs.layout)
        }
        if namespaces.newUser {
            // Written by the parent, between clone and init going on (init waits for .go).
            try IDMaps.write(pid: pid, uid: spec.linux?.uidMappings ?? [], gid: spec.linux?.gidMappings ?? [])
        }
        if let adj = process.oomScoreAdj {
            // By the parent: inside a user namespace init could not lower it.
            do { try Kernel.writeProc("/proc/\(pid)/oom_score_adj", "\(adj)") } catch {
                throw RuntimeError("config.json: process.oomScoreAdj: \(error)")
            }
        }
        if namespaces.newUser && namespaces.cloneFlags & ProcessControl.newNS != 0 {
            // Bind sources opened as the host's user, in init's new mount namespace. (Without
            // one, a new user namespace cannot mount in the host's at all.)
            let sources = rootfs.openBindSources(mountNamespacePid: pid)
            defer { for fd in sources.values { fd.close() } }
            for (index, fd) in sources.sorted(by: { $0.key < $1.key }) {
                do { try channel.send(.mountSource(index), passing: fd) } catch { throw initGone(error) }
            }
        }
        do { try channel.send(.go) } catch { throw initGone(error) }

        guard let start = ProcessControl.startTime(of: pid) else {
            throw RuntimeError("container init exited before it was set up")
        }
        // The provisional state with init in it (its config document is reused, not encoded again).
        var state = provisional
        state.initPid = pid
        state.initStartTime = start.start
        state.created = Clock.rfc3339Now()
        state.cgroupPaths = cgroupPaths
        state.cgroupParents = missingParents.filter { FileSystem.isDirectory($0) }
        for type in namespaces.types {
            if let name = NamespacePlan.procNames[type] { state.namespacePaths[type] = "/proc/\(pid)/ns/\(name)" }
        }
        let container = Container(store: store, state: state)
        // Written now, while init mounts; published (renamed into place) once init is ready.
        let staged = try store.stage(state)

        func initFailed(_ message: String?) -> RuntimeError {
            RuntimeError("unable to start container process: \(message ?? "container init exited unexpectedly")")
        }
        // Mounts are in place: prestart and createRuntime hooks run in the runtime namespace.
        switch try channel.receive(within: SyncChannel.stepSeconds) {
        case .mountsReady?: break
        case .failed(let text)?: throw initFailed(text)
        default: throw initFailed(nil)
        }
        let hookState = container.ociState(status: .created).with(status: "creating", pid: Int(pid))
        try HookRunner.run(spec, .prestart, state: hookState)
        try HookRunner.run(spec, .createRuntime, state: hookState)
        try channel.send(.hooksDone)
        var ready = false
        // Init runs the createContainer hooks before it is ready.
        let readyWithin = SyncChannel.deadline(spec, hooks: [.createContainer])
        while !ready {
            let got = try channel.receiveWithFD(within: readyWithin)
            switch got.message {
            case .ready?: ready = true
            case .seccompFD?:
                guard let notify = got.fd, let seccomp else { throw initFailed("seccomp notify fd missing") }
                defer { notify.close() }
                try seccomp.sendToListener(notify, pid: pid, state: hookState)
            case .failed(let text)?: throw initFailed(text)
            default: throw initFailed(nil)
            }
        }

        do { try staged.commit() } catch { throw RuntimeError("\(error)") }
        if let pidFile {
            do {
                try FileSystem.writeAtomic(pidFile, Array("\(pid)".utf8), mode: 0o644)
            } catch {
                throw RuntimeError("--pid-file: \(error)")
            }
            cleanup.pidFile = pidFile
        }
        try channel.send(.commit)
        switch try channel.receive(within: SyncChannel.stepSeconds) {
        case .committed?: break
        case .failed(let text)?: throw initFailed(text)
        default: throw initFailed(nil)
        }
        return Launched(container: container, pid: pid)
    }
}

extension Container {
    /// Rootless mode: the container gets a cgroup only in the hierarchies where the caller may
    /// create one (a delegated subtree); elsewhere init stays in skiff's own cgroup, which the
    /// container's cgroup mount then shows. Device rules are not applied (runc does the same:
    /// an unprivileged user can only bind-mount devices it may already open). A limit whose
    /// controller has no usable cgroup fails with the reason. Returns the directories made.
    static func rootlessCgroups(_ paths: [String], spec: Spec, rootfs: inout RootfsPlan,
                                cleanup: inout Cleanup) throws(RuntimeError) -> [String] {
        cleanup.cgroupPaths = paths  // a failure halfway removes what was made (rmdir: only empty ones)
        let made = try Cgroups.createWherePermitted(paths)
        cleanup.cgroupPaths = made.created
        var unavailable: [String: String] = [:]
        for (i, h) in rootfs.layout.hierarchies.enumerated() where i < paths.count {
            guard let error = made.refused[paths[i]] else { continue }
            let names = h.isV2 ? ["unified", "cpu", "cpuset", "memory", "io", "pids", "hugetlb", "rdma", "misc"] : h.controllers
            for name in names where unavailable[name] == nil {
                unavailable[name] = "the \(name) cgroup is not delegated to uid \(Identity.euid) (\(error))"
            }
            if i < rootfs.cgroupPaths.count { rootfs.cgroupPaths[i] = cleanPath(h.mountPoint + "/" + h.ownPath) }
        }
        try Cgroups.apply(resources: spec.linux?.resources, paths: made.created, layout: rootfs.layout,
                          skipDevices: true, unavailable: unavailable)
        return made.created
    }
}

/// Undo for a failed create: kill init, remove its cgroup, state dir and pid file.
struct Cleanup {
    let store: StateStore
    let id: String
    var initPid: pid_t = 0
    var cgroupPaths: [String] = []
    var cgroupParents: [String] = []
    var pidFile: String?
    var rootfs = ""
    var hostRootfsBelow: Int?
    var systemd: SystemdSetup?

    func run() {
        if initPid > 0 {
            _ = kill(initPid, SIGKILL)
            Cgroups.releaseFromFrozen(initPid, cgroupPaths)
            _ = try? ProcessControl.wait(initPid)
        }
        if let systemd { try? systemd.driver.stopUnit(systemd.unit.name) }
        RootfsBuilder.unmountHostBind(rootfs, below: hostRootfsBelow)
        if !cgroupPaths.isEmpty { try? Cgroups.destroy(cgroupPaths, createdParents: cgroupParents) }
        if let pidFile { FileSystem.unlink(pidFile) }
        store.remove(id)
    }
}

/// Temporarily moves the parent's pid_for_children / time_for_children.
struct ParentNamespaces {
    var saved: [(FD, UInt64)] = []

    static func enter(_ joins: OpenNamespaces, newTime: Bool, offsets: [String: LinuxTimeOffset]?) throws(RuntimeError) -> ParentNamespaces {
        var result = ParentNamespaces()
        if joins.fds.isEmpty && !newTime { return result }
        do {
            for (join, fd) in joins.fds {
                let own = try FileSystem.open(join.type == "pid" ? "/proc/self/ns/pid_for_children" : "/proc/self/ns/time_for_children", O_RDONLY)
                result.saved.append((own, join.flag))
                try ProcessControl.setns(fd, join.flag, path: join.path)
            }
            if newTime {
                let own = try FileSystem.open("/proc/self/ns/time_for_children", O_RDONLY)
                result.saved.append((own, ProcessControl.newTime))
                try ProcessControl.unshare(ProcessControl.newTime)
                var text = ""
                for (clock, offset) in (offsets ?? [:]).sorted(by: { $0.key < $1.key }) {
                    text += "\(clock) \(offset.secs ?? 0) \(offset.nanosecs ?? 0)\n"
                }
                if !text.isEmpty { try Kernel.writeProc("/proc/self/timens_offsets", text) }
            }
        } catch {
            result.back()
            throw RuntimeError("config.json: linux.namespaces: \(error)")
        }
        return result
    }

    func back() {
        for (fd, flag) in saved.reversed() {
            try? ProcessControl.setns(fd, flag, path: "own namespace")
            fd.close()
        }
    }
}

extension OCIState {
    func with(status: String, pid: Int) -> OCIState {
        var copy = self
        copy.status = status
        copy.pid = pid
        return copy
    }
}

extension Optional where Wrapped: Collection {
    var isNilOrEmpty: Bool { self?.isEmpty ?? true }
}
