import Glibc
import SkiffSpec
import SkiffSystem

/// Everything init needs, prepared by the parent before clone. Init is a forked copy of the
/// create process, so this is simply inherited memory: nothing is serialised.
struct InitContext {
    var id: String
    var spec: Spec
    var namespaces: NamespacePlan
    var joins: OpenNamespaces
    var rootfs: RootfsPlan
    var process: ProcessPlan
    var channel: SyncChannel
    var fifo: FD
    var consoleSocket: FD?
    var noNewKeyring: Bool
    var preserveFds: Int
    var seccomp: SeccompPlan?
    /// Cgroup directories init joins itself (see Cgroups.Placement).
    var cgroupJoins: [String]
    /// Namespaces init creates itself before .go (the network namespace: see launch).
    var unshareFirst: UInt64 = 0
    /// The parent's effective uid, read before clone: in a new user namespace init's own
    /// geteuid() changes from the overflow uid to 0 the moment the parent writes uid_map.
    var parentEUID: UInt32 = 0
}

/// The container's init between clone and exec. Never returns: it execs the container's
/// program or exits after reporting the failure to the parent.
enum InitProcess {
    static func run(_ ctx: InitContext) -> Never {
        do {
            try setup(ctx)
        } catch {
            try? ctx.channel.send(.failed(error.message))
            ProcessControl.exit(1)
        }
        // Unreachable: setup execs.
        ProcessControl.exit(1)
    }

    private static func setup(_ ctx: InitContext) throws(RuntimeError) {
        // Die with the parent until create commits, and stay out of reach of the container
        // (no ptrace, no /proc/<pid>/ access) until exec.
        // An unprivileged parent (or its setuid newuidmap) can open /proc/<init>/uid_map only
        // while init is dumpable (/proc/<pid> of a non-dumpable process belongs to root), so
        // then init stays dumpable until the maps are written, like runc's nsexec. Before .go
        // it runs only skiff's code, in no namespace the container's processes can reach.
        // (The parent's euid, not init's: init's would read 0 once uid_map is written, and an
        // init slower than its parent then made itself non-dumpable between the parent's
        // uid_map and gid_map writes: "open /proc/<pid>/gid_map: permission denied".)
        let dumpableUntilGo = ctx.namespaces.newUser && ctx.parentEUID != 0
        do {
            try ProcessControl.prctl(PR_SET_PDEATHSIG, UInt(SIGKILL), what: "PR_SET_PDEATHSIG")
            // (A parent that died before this point closed its socket end: .go never comes.)
            if !dumpableUntilGo { try ProcessControl.prctl(PR_SET_DUMPABLE, 0, what: "PR_SET_DUMPABLE") }
        } catch {
            throw RuntimeError("\(error)")
        }
        if ctx.unshareFirst != 0 {
            do { try ProcessControl.unshare(ctx.unshareFirst) } catch {
                throw RuntimeError("config.json: linux.namespaces: cannot create the network namespace: \(error)")
            }
        }
        // Into the container's cgroups before anything else runs, and before the cgroup
        // namespace is made, so its root is the container's cgroup.
        try ctx.channel.expect(.join, within: SyncChannel.stepSeconds)
        try Cgroups.joinSelf(ctx.cgroupJoins)
        // Before .go: the bind sources the parent opened for us (new user namespace).
        var rootfsPlan = ctx.rootfs
        receiving: while true {
            let got = try ctx.channel.receiveWithFD(within: SyncChannel.stepSeconds)
            switch got.message {
            case .go?: break receiving
            case .mountSource(let index)?:
                if let fd = got.fd { rootfsPlan.sourceFDs[index] = fd }
            case .failed(let text)?: throw RuntimeError(text)
            case nil: throw RuntimeError("sync: peer went away")
            case let other?:
                got.fd?.close()
                throw RuntimeError("sync: expected go, got \(other)")
            }
        }
        if dumpableUntilGo {
            do { try ProcessControl.prctl(PR_SET_DUMPABLE, 0, what: "PR_SET_DUMPABLE") } catch { throw RuntimeError("\(error)") }
        }

        try ctx.joins.enter()
        ctx.joins.closeAll()
        if ctx.namespaces.unshareAfterJoin != 0 {
            do { try ProcessControl.unshare(ctx.namespaces.unshareAfterJoin) } catch {
                throw RuntimeError("config.json: linux.namespaces: cannot create namespaces in the joined user namespace: \(error)")
            }
        }
        if ctx.namespaces.inUserNamespace {
            // Become the namespace's root (when it is mapped) for the setup that follows.
            do {
                try Identity.setGID(0)
                try Identity.setUID(0)
            } catch {
                throw RuntimeError("config.json: linux.uidMappings/gidMappings: cannot become root in the user namespace (is container id 0 mapped?): \(error)")
            }
        }
        // A new network namespace gets its loopback interface up, as runc does (its "loopback"
        // network) and crun; an engine's own network setup (CNI, netavark) comes on top.
        if ctx.namespaces.isNew("network") {
            let failed = Loopback.bringUpHere()
            if failed != 0 {
                throw RuntimeError("config.json: linux.namespaces: cannot bring up the loopback interface in the new network namespace: \(SystemError("ioctl SIOCSIFFLAGS", "lo", errno: failed))")
            }
        }
        if ctx.namespaces.newCgroup {
            do { try ProcessControl.unshare(ProcessControl.newCgroup) } catch {
                throw RuntimeError("cannot create cgroup namespace: \(error)")
            }
        }
        do { try ProcessControl.setsid() } catch { throw RuntimeError("\(error)") }
        if !ctx.noNewKeyring {
            do { try Keyring.joinNewSession("_ses." + ctx.id) } catch { throw RuntimeError("\(error)") }
        }
        let hasMountNS = ctx.namespaces.has("mount")
        let hostBind = !hasMountNS && ctx.rootfs.needsHostBind
        var builder = RootfsBuilder(plan: rootfsPlan)
        var console: FD? = nil
        if hasMountNS || hostBind {
            if hasMountNS { try builder.prepare() } else { try builder.prepareInHost() }
            try builder.mountAll()
            for fd in rootfsPlan.sourceFDs.values { fd.close() }
            try builder.createDevices()
            if ctx.process.terminal, let socket = ctx.consoleSocket {
                console = try Console.setup(root: builder.root, socket: socket, size: ctx.process.consoleSize)
            }
        } else if ctx.process.terminal, let socket = ctx.consoleSocket {
            let root = RootFS(path: "/", fd: (try? FileSystem.open("/", O_PATH | O_DIRECTORY)) ?? FD(-1))
            console = try Console.setup(root: root, socket: socket, size: ctx.process.consoleSize)
        }
        ctx.consoleSocket?.close()

        // runc runs createContainer hooks with the rootfs as the working directory (paths
        // such as ./lib/x in a hook are the container's); pivot and chroot use absolute paths.
        if !HookRunner.hooks(ctx.spec, .createContainer).isEmpty {
            do { try Mounts.chdir(ctx.rootfs.rootfs) } catch { throw RuntimeError("root.path: \(error)") }
        }

        // A procfs handle that survives pivot_root, used to reopen exec.fifo for writing.
        let proc = ProcHandle.open()

        try ctx.channel.send(.mountsReady)
        // The parent runs the prestart and createRuntime hooks meanwhile.
        try ctx.channel.expect(.hooksDone, within: SyncChannel.deadline(ctx.spec, hooks: [.prestart, .createRuntime]))
        try HookRunner.run(ctx.spec, .createContainer, state: hookState(ctx, "creating"))

        if hasMountNS {
            try builder.pivot()
            // A missing cwd is made now, before finalize may make the root read-only (runc).
            try ensureCwd(ctx.process.cwd)
            // sysctls go through the container's /proc/sys before finalize makes it read-only.
            try Kernel.applySysctl(ctx.spec.linux?.sysctl ?? [:], namespaces: ctx.namespaces)
            try builder.finalize()
            builder.root?.fd.close()
        } else if hostBind {
            try builder.chrootInHost()
            try ensureCwd(ctx.process.cwd)
            try Kernel.applySysctl(ctx.spec.linux?.sysctl ?? [:], namespaces: ctx.namespaces)
            try builder.finalize()
            builder.root?.fd.close()
        } else if ctx.rootfs.rootfs != "/" {
            do {
                try Mounts.chroot(ctx.rootfs.rootfs)
                try Mounts.chdir("/")
            } catch {
                throw RuntimeError("root.path: \(error)")
            }
        }

        if !hasMountNS && !hostBind { try Kernel.applySysctl(ctx.spec.linux?.sysctl ?? [:], namespaces: ctx.namespaces) }
        if let hostname = ctx.spec.hostname {
            do { try Identity.setHostname(hostname) } catch { throw RuntimeError("config.json: hostname: \(error)") }
        }
        if let domainname = ctx.spec.domainname {
            do { try Identity.setDomainname(domainname) } catch { throw RuntimeError("config.json: domainname: \(error)") }
        }
        if let profile = ctx.spec.process?.apparmorProfile, !profile.isEmpty, !FileSystem.exists("/sys/kernel/security/apparmor") {
            throw RuntimeError("config.json: process.apparmorProfile: AppArmor is not enabled on this host")
        }
        if let persona = ctx.process.personality {
            do { try Kernel.setPersonality(persona) } catch { throw RuntimeError("config.json: linux.personality: \(error)") }
        }

        let plan = ctx.process
        if !hasMountNS && !hostBind { try ensureCwd(plan.cwd) }
        let executable = try plan.resolveExecutable()
        let finished = try ProcessSetup.finish(plan, seccomp: ctx.seccomp, channel: ctx.channel,
                                               console: console, field: "config.json: process")
        let trampoline = finished.trampoline
        let loadEarly = finished.seccompLoaded

        try ctx.channel.send(.ready)
        try ctx.channel.expect(.commit, within: SyncChannel.stepSeconds)
        do { try ProcessControl.prctl(PR_SET_PDEATHSIG, 0, what: "PR_SET_PDEATHSIG") } catch {
            throw RuntimeError("\(error)")
        }
        try ctx.channel.send(.committed)
        ctx.channel.fd.close()

        // Block until `start` opens the other end of exec.fifo. The write end stays open
        // (close-on-exec) until exec, so `start` sees EOF only once the program runs — or
        // init died. Protocol: "0" = started; "E<message>" = failed (startContainer hook).
        let fifo: FD
        do {
            fifo = try proc.reopen(ctx.fifo, O_WRONLY)
        } catch {
            ProcessControl.exit(1)
        }
        ctx.fifo.close()
        proc.close()
        Identity.umask(plan.umask)
        // Everything above the preserved fds is close-on-exec: exec closes it (the
        // trampoline memfd too, which execveat can still run).
        ProcessControl.closeFrom(3 + Int32(ctx.preserveFds), cloexecOnly: true)
        // As in runc, startContainer hooks run as the container's process is about to: with
        // its identity, umask and seccomp filter in force.
        if let seccomp = ctx.seccomp, !loadEarly {
            do {
                _ = try seccomp.load()
            } catch {
                _ = try? fifo.write("E" + error.message)
                ProcessControl.exit(1)
            }
        }
        do {
            try HookRunner.run(ctx.spec, .startContainer, state: hookState(ctx, "created"))
        } catch {
            _ = try? fifo.write("E" + error.message)
            ProcessControl.exit(1)
        }
        _ = try? fifo.write("0")
        let failure = ProcessControl.execSealed(trampoline: trampoline, path: executable, args: plan.args, env: plan.finalEnvironment())
        writeStderr("skiff: \(failure)\n")
        ProcessControl.exit(127)
    }

    static func hookState(_ ctx: InitContext, _ status: String) -> OCIState {
        OCIState(ociVersion: SpecVersion.current, id: ctx.id, pid: Int(ProcessControl.pid), status: status,
                 bundle: ctx.rootfs.bundle, rootfs: ctx.rootfs.rootfs, created: "",
                 annotations: ctx.spec.annotations, owner: "")
    }

    static func ensureCwd(_ cwd: String) throws(RuntimeError) {
        if FileSystem.isDirectory(cwd) { return }
        do {
            let root = try RootFS(path: "/")
            let fd = try root.mkdirAll(cwd)
            fd.close()
            root.fd.close()
        } catch {
            throw RuntimeError("config.json: process.cwd: \(error)")
        }
    }

    static func applyRlimits(_ plan: ProcessPlan) throws(RuntimeError) {
        for r in plan.rlimits {
            do {
                try Identity.setRlimit(r.resource, soft: r.soft, hard: r.hard, name: r.name)
            } catch {
                var text = "config.json: process.rlimits[\(r.index)]: \(error)"
                let current = Identity.getRlimit(r.resource)
                if error.errno == EPERM && r.hard > current.hard && !Capabilities.inBounding(24) {
                    text += " (raising the hard limit above the current \(current.hard) needs CAP_SYS_RESOURCE, which this host's bounding set lacks; lower \(r.name) to at most \(current.hard))"
                } else if error.errno == EPERM && r.hard > current.hard {
                    text += " (the hard limit is above the current \(current.hard))"
                }
                throw RuntimeError(text)
            }
        }
    }

    static func setgroupsDenied() -> Bool {
        ((try? FileSystem.readText("/proc/self/setgroups")) ?? "").hasPrefix("deny")
    }

    /// Bounding set, then uid/gid with capabilities kept across the switch, then the final
    /// capability sets and ambient (runc's finalizeNamespace order).
    static func applyIdentity(_ plan: ProcessPlan) throws(RuntimeError) {
        do {
            // Dropping an absent capability succeeds with CAP_SETPCAP: no PR_CAPBSET_READ
            // first (40 prctl calls fewer); without CAP_SETPCAP only an absent one may fail.
            for cap in 0...Capabilities.lastCap where plan.bounding & (1 << UInt64(cap)) == 0 {
                do { try Capabilities.dropBounding(cap) } catch {
                    if Capabilities.inBounding(cap) { throw error }
                }
            }
            try ProcessControl.prctl(PR_SET_KEEPCAPS, 1, what: "PR_SET_KEEPCAPS")
            // A user namespace whose gid map an unprivileged user wrote denies setgroups; with
            // no additional gids there is nothing to set (runc skips it too).
            if !plan.additionalGids.isEmpty || !setgroupsDenied() { try Identity.setGroups(plan.additionalGids) }
            try Identity.setGID(plan.gid)
            try Identity.setUID(plan.uid)
            try ProcessControl.prctl(PR_SET_KEEPCAPS, 0, what: "PR_SET_KEEPCAPS")
            try Capabilities.set(CapabilitySets(effective: plan.effective, permitted: plan.permitted, inheritable: plan.inheritable))
            try Capabilities.clearAmbient()
            // The kernel only allows ambient caps that are permitted and inheritable; runc
            // skips the others with a warning, so a config valid for runc stays valid here.
            for cap in plan.ambient where plan.permitted & plan.inheritable & (1 << UInt64(cap)) != 0 {
                try Capabilities.raiseAmbient(cap)
            }
        } catch {
            throw RuntimeError("config.json: process.user/capabilities: \(error)")
        }
    }
}

func writeStderr(_ text: String) {
    _ = text.withCString { write(2, $0, strlen($0)) }
}

/// A procfs handle opened before pivot_root: a private procfs instance (fsopen) when the
/// kernel allows, else the host's /proc. Closed before exec.
struct ProcHandle {
    let fd: FD?

    static func open() -> ProcHandle {
        if let fd = Kernel.privateProcfs() { return ProcHandle(fd: fd) }
        return ProcHandle(fd: try? FileSystem.open("/proc", O_PATH | O_DIRECTORY))
    }

    func reopen(_ handle: FD, _ flags: Int32) throws(SystemError) -> FD {
        if let fd { return try FileSystem.openAt(fd, "self/fd/\(handle.raw)", flags) }
        return try FileSystem.open(handle.procPath, flags)
    }

    func close() { fd?.close() }
}
