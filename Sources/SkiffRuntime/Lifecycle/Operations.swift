import Glibc
import SkiffSpec
import SkiffSystem

extension Container {
    /// Releases init: opens exec.fifo, waits for init's byte (or its death), removes the fifo
    /// and runs poststart hooks.
    public func start() throws(RuntimeError) {
        let lock = try store.lock(id)
        defer { lock.close() }
        let status = self.status
        if let message = status.startError { throw RuntimeError(message) }
        let fifoPath = store.fifoPath(id)
        // Bound before init is released, so the program's first READY=1 is not lost.
        let notify = try SdNotify.listen(stateDir: store.directory(id))
        defer { notify?.close() }
        let fifo: FD
        do { fifo = try FileSystem.open(fifoPath, O_RDONLY | O_NONBLOCK) } catch {
            throw RuntimeError("cannot start container: \(error)")
        }
        defer { fifo.close() }
        let pidfd = initPidFD()
        defer { pidfd?.close() }
        // Read until EOF: init writes "0" (or "E<message>") and its write end closes at exec.
        var got: [UInt8] = []
        var eof = false
        while !eof {
            var fds = [pollfd(fd: fifo.raw, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: pidfd?.raw ?? -1, events: Int16(POLLIN), revents: 0)]
            let r = poll(&fds, 2, pidfd == nil ? 100 : -1)
            if r < 0 && currentErrno() == EINTR { continue }
            let initGone = fds[1].revents != 0 || (pidfd == nil && !initAlive)
            if fds[0].revents & Int16(POLLIN | POLLHUP) != 0 || initGone {
                // Drain what is there; 0 bytes after POLLHUP (or init's death) is EOF.
                while let chunk = try? fifo.read(max: 4096), !chunk.isEmpty { got += chunk }
                if fds[0].revents & Int16(POLLHUP) != 0 || initGone { eof = true }
            }
        }
        if got.first == UInt8(ascii: "E") {
            FileSystem.unlink(fifoPath)
            throw RuntimeError(String(decoding: got.dropFirst(), as: UTF8.self))
        }
        if got.first != UInt8(ascii: "0") {
            throw RuntimeError("cannot start a container that has stopped")
        }
        FileSystem.unlink(fifoPath)
        // Spec (runtime.md, lifecycle step 6): a failing poststart hook is a warning and the
        // remaining hooks and the lifecycle go on. (runc 1.1 kills the container instead.)
        runAllHooks(.poststart, status: .running)
        // pidfd was opened while init was alive (created): it reports init's exit even when
        // init is already a zombie, which a fresh initPidFD() would not open.
        if let notify {
            SdNotify.forwardReady(from: notify, initPidFD: pidfd, mainPid: state.initPid, initAlive: { initAlive })
        }
    }

    /// Sends a signal to init (or, with `all`, to every process in the container's cgroup).
    public func kill(_ signal: Int32, all: Bool = false) throws(RuntimeError) {
        let status = self.status
        if all {
            // The recorded cgroups are signalled only while init verifiably lives in them; once
            // it is gone, those of a trusted state file that are container cgroups (processes
            // that outlived init when the container has no pid namespace of its own: containerd
            // sends `kill --all` for them after init exits, as with runc).
            if status == .stopped && !initAlive {
                for pid in Cgroups.pids(recordedContainerCgroupPaths()) { _ = Glibc.kill(pid, signal) }
                return
            }
            signalAll(signal)
            return
        }
        if status == .stopped { throw RuntimeError("container not running") }
        if signal == SIGKILL && !state.privatePidNamespace {
            // Without a private pid namespace, SIGKILL must reach every process (runc ≥1.2).
            signalAll(signal)
            return
        }
        try signalInit(signal)
        if signal == SIGKILL || signal == SIGTERM { Cgroups.thaw(state.cgroupPaths) }
    }

    /// Init, and every process of the recorded cgroups when init is verifiably in them
    /// (`trustedCgroupPaths`); otherwise init alone, with a warning.
    func signalAll(_ signal: Int32, trusted: [String]? = nil) {
        let paths = trusted ?? trustedCgroupPaths()
        let frozen = Cgroups.isFrozen(paths, orFreezing: true)
        if let fd = initPidFD() {
            _ = try? ProcessControl.pidfdSignal(fd, signal)
            fd.close()
        }
        for pid in Cgroups.pids(paths) where pid != state.initPid {
            _ = Glibc.kill(pid, signal)
        }
        if signal == SIGKILL || frozen { Cgroups.thaw(paths) }
    }

    /// The recorded cgroup paths, if init is alive, the same process create started (start
    /// time), and inside each of them; else [] (and a warning when there were paths).
    /// Nothing is signalled on the word of a state file alone (issue 13, 4c).
    func trustedCgroupPaths() -> [String] {
        if state.cgroupPaths.isEmpty { return [] }
        guard initAlive, let procCgroup = try? FileSystem.readText("/proc/\(state.initPid)/cgroup"),
              Cgroups.holdProcess(state.cgroupPaths, procCgroup: procCgroup, layout: CgroupLayout.host()),
              initAlive  // still the same process after the read
        else {
            if initAlive {
                writeStderr("skiff: warning: container \(id): init (pid \(state.initPid)) is not in the cgroups its state records; signalling init only\n")
            }
            return []
        }
        return state.cgroupPaths
    }

    /// Tears the container down: kill what is left, poststop hooks, cgroup, state dir.
    public func delete(force: Bool) throws(RuntimeError) {
        let lock = try store.lock(id)
        defer { lock.close() }
        let status = self.status
        if status != .stopped && status != .created && !force {
            throw RuntimeError("cannot delete container \(id) that is not stopped: \(status.rawValue)")
        }
        // Checked while init lives: after the kill nothing proves the cgroups are the container's.
        let verified = status == .stopped ? [] : trustedCgroupPaths()
        if status != .stopped { try killAndWait(trusted: verified) }
        destroy(killIn: verified)
    }

    /// SIGKILL init (and the cgroup when init has no pid namespace of its own) and wait ≤10 s.
    func killAndWait(trusted: [String]) throws(RuntimeError) {
        let pidfd = initPidFD()
        defer { pidfd?.close() }
        if state.privatePidNamespace, let pidfd {
            // Init's death kills every process of its pid namespace: no need to search the
            // cgroup (runc's destroy does the same).
            let paths = trusted
            let frozen = Cgroups.isFrozen(paths, orFreezing: true)
            _ = try? ProcessControl.pidfdSignal(pidfd, SIGKILL)
            if frozen { Cgroups.thaw(paths) }
        } else {
            signalAll(SIGKILL, trusted: trusted)
        }
        if let pidfd {
            if !ProcessControl.waitExit(pidfd, milliseconds: 10_000) {
                throw RuntimeError("container init still running")
            }
            // Reap it when it is our child (run); harmless otherwise.
            _ = waitpid(state.initPid, nil, WNOHANG)
        }
    }

    /// The recorded cgroup paths once init is gone, when nothing can be checked against a live
    /// init: those that are the directories this id and the saved config's cgroupsPath give
    /// (the default <id> below skiff's cgroup or its parent, an older skiff's /skiff/<id>, or
    /// e.g. docker's /docker/<id>), each a clean, non-root cgroup
    /// of a hierarchy of this host. A state whose recorded paths disagree with its own config
    /// (stale or forged) gets only the id's default cgroup.
    func recordedContainerCgroupPaths() -> [String] {
        let layout = CgroupLayout.host()
        var expected = Cgroups.directories(layout: layout, cgroupsPath: nil, id: id)
            + Cgroups.legacyDefaultDirectories(layout: layout, id: id)
        if let path = (try? state.config())?.linux?.cgroupsPath {
            expected += Cgroups.directories(layout: layout, cgroupsPath: path, id: id)
        }
        return state.cgroupPaths.filter { expected.contains($0) && Cgroups.isContainerCgroup($0, layout: layout) }
    }

    /// Removes everything the container left on the host. Poststop hook failures are warnings.
    /// `killIn`: cgroups verified to be the container's (`trustedCgroupPaths`), whose processes
    /// may be killed when they outlive init; the recorded ones are otherwise only rmdir'ed.
    func destroy(killIn verified: [String]) {
        if let unit = state.systemdUnit { SystemdDriver.stopForDelete(unit) }
        // Usually the cgroup is empty by now: removed at the first try, with no search for
        // processes (listing a cgroup costs a stat per file). Processes of a container without
        // its own pid namespace may outlive init: then they are killed and the removal retried.
        if (try? Cgroups.destroy(state.cgroupPaths, createdParents: state.cgroupParents ?? [], attempts: 1)) == nil {
            // Init is gone (a stopped container): the trusted state's container cgroups.
            let targets = verified.isEmpty ? recordedContainerCgroupPaths() : verified
            for pid in Cgroups.pids(targets) { _ = Glibc.kill(pid, SIGKILL) }
            do {
                try Cgroups.destroy(state.cgroupPaths, createdParents: state.cgroupParents ?? [])
            } catch {
                writeStderr("skiff: warning: \(error)\n")
            }
        }
        RootfsBuilder.unmountHostBind(state.rootfs, below: state.hostRootfsBelow)
        // Poststop failures are warnings; every hook still runs (spec).
        runAllHooks(.poststop, status: .stopped)
        store.remove(id)
    }

    /// Poststart/poststop: every hook runs, failures are warnings (spec).
    func runAllHooks(_ kind: HookRunner.Kind, status: ContainerStatus) {
        do {
            guard let hooks = try state.hooks() else { return }
            HookRunner.runAll(hooks, kind, state: ociState(status: status))
        } catch {
            writeStderr("skiff: warning: \(error)\n")
        }
    }

    /// `delete --force` for an id whose state is missing or cannot be used (`reason`, from
    /// `load`). Nothing the state file says is acted on (a damaged, forged or foreign state
    /// could name any process, cgroup or hook); what is verifiable from the id alone is: the
    /// state directory (a symlink in its place: the link only) and, when that directory was
    /// there, the cgroup skiff gives this id by default (<id> below skiff's own cgroup, or its
    /// parent on cgroup v2, as runc; /skiff/<id> from an older skiff): its processes are
    /// killed and it is removed. A container made with its own
    /// cgroupsPath keeps its processes and cgroups, and the warning says so.
    public static func forceRemove(_ id: String, options: RuntimeOptions, reason: RuntimeError? = nil) {
        let store = options.store
        guard FileSystem.exists(store.directory(id)) else { return }
        let layout = CgroupLayout.host()
        let defaults = (Cgroups.directories(layout: layout, cgroupsPath: nil, id: id)
            + Cgroups.legacyDefaultDirectories(layout: layout, id: id)).filter { FileSystem.isDirectory($0) }
        if !defaults.isEmpty {
            // Kill, thaw (a frozen process dies only once thawed), remove; again while
            // something forked in between.
            var failure: RuntimeError?
            for _ in 0..<10 {
                for pid in Cgroups.pids(defaults) { _ = Glibc.kill(pid, SIGKILL) }
                Cgroups.thaw(defaults)
                do { try Cgroups.destroy(defaults, attempts: 25); failure = nil; break } catch { failure = error }
            }
            if let failure { writeStderr("skiff: warning: \(failure)\n") }
        }
        store.remove(id)
        if let reason {
            let cgroups = defaults.isEmpty ? "no default cgroup (\(id)) was found, so processes in a cgroup the state names are left running"
                : "killed and removed its default cgroup (\(defaults[0])\(defaults.count > 1 ? " and \(defaults.count - 1) more" : ""))"
            writeStderr("skiff: warning: \(reason); removed \(store.directory(id)) and \(cgroups); nothing named in the state file was acted on (no signals, hooks or cgroups)\n")
        }
    }

    /// Every container under the root, for `list`.
    public static func all(options: RuntimeOptions) throws(RuntimeError) -> [Container] {
        let store = options.store
        var result: [Container] = []
        for id in try store.ids() {
            if let state = try? store.load(id) { result.append(Container(store: store, state: state)) }
        }
        return result
    }

    /// Waits for init (our child under `run`) and returns its exit code.
    public func waitForExit(pid: pid_t) -> Int32 {
        while true {
            var status: Int32 = 0
            let r = waitpid(pid, &status, 0)
            if r == pid { return ProcessControl.exitCode(status) }
            if r < 0 && currentErrno() != EINTR { return 255 }
        }
    }
}

extension Cgroups {
    public static func thaw(_ paths: [String]) {
        for path in paths {
            if FileSystem.exists(path + "/freezer.state") { try? FileSystem.writeExisting(path + "/freezer.state", "THAWED") }
            if FileSystem.exists(path + "/cgroup.freeze") { try? FileSystem.writeExisting(path + "/cgroup.freeze", "0") }
        }
    }
}
