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
            if status == .stopped && !initAlive && Cgroups.pids(state.cgroupPaths).isEmpty { return }
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

    func signalAll(_ signal: Int32) {
        let frozen = Cgroups.isFrozen(state.cgroupPaths, orFreezing: true)
        if let fd = initPidFD() {
            _ = try? ProcessControl.pidfdSignal(fd, signal)
            fd.close()
        }
        for pid in Cgroups.pids(state.cgroupPaths) where pid != state.initPid {
            _ = Glibc.kill(pid, signal)
        }
        if signal == SIGKILL || frozen { Cgroups.thaw(state.cgroupPaths) }
    }

    /// Tears the container down: kill what is left, poststop hooks, cgroup, state dir.
    public func delete(force: Bool) throws(RuntimeError) {
        let lock = try store.lock(id)
        defer { lock.close() }
        let status = self.status
        switch status {
        case .stopped:
            break
        case .created:
            try killAndWait()
        case .running, .paused:
            if !force {
                throw RuntimeError("cannot delete container \(id) that is not stopped: \(status.rawValue)")
            }
            try killAndWait()
        }
        destroy()
    }

    /// SIGKILL init (and the cgroup when init has no pid namespace of its own) and wait ≤10 s.
    func killAndWait() throws(RuntimeError) {
        let pidfd = initPidFD()
        defer { pidfd?.close() }
        if state.privatePidNamespace, let pidfd {
            // Init's death kills every process of its pid namespace: no need to search the
            // cgroup (runc's destroy does the same).
            let frozen = Cgroups.isFrozen(state.cgroupPaths, orFreezing: true)
            _ = try? ProcessControl.pidfdSignal(pidfd, SIGKILL)
            if frozen { Cgroups.thaw(state.cgroupPaths) }
        } else {
            signalAll(SIGKILL)
        }
        if let pidfd {
            if !ProcessControl.waitExit(pidfd, milliseconds: 10_000) {
                throw RuntimeError("container init still running")
            }
            // Reap it when it is our child (run); harmless otherwise.
            _ = waitpid(state.initPid, nil, WNOHANG)
        }
    }

    /// Removes everything the container left on the host. Poststop hook failures are warnings.
    func destroy() {
        if let unit = state.systemdUnit { SystemdDriver.stopForDelete(unit) }
        // Usually the cgroup is empty by now: removed at the first try, with no search for
        // processes (listing a cgroup costs a stat per file). Processes of a container without
        // its own pid namespace may outlive init: then they are killed and the removal retried.
        if (try? Cgroups.destroy(state.cgroupPaths, createdParents: state.cgroupParents ?? [], attempts: 1)) == nil {
            for pid in Cgroups.pids(state.cgroupPaths) { _ = Glibc.kill(pid, SIGKILL) }
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

    /// `delete --force` for an id whose state is missing or unreadable: remove the leftovers.
    public static func forceRemove(_ id: String, options: RuntimeOptions) {
        options.store.remove(id)
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
