import Glibc
import SkiffSpec
import SkiffSystem

/// Runtime options shared by every command (the global flags).
public struct RuntimeOptions: Sendable {
    public var root: String
    public var systemdCgroup: Bool
    public var debug: Bool
    /// Rootless mode (runc's `--rootless`): cgroups are used only where the caller may create
    /// them (delegated), the device cgroup is left alone, and id maps beyond the caller's own
    /// ids go through newuidmap/newgidmap. Default: on when not root, or inside a user namespace
    /// (detected only when asked: only create needs it).
    public var rootless: Bool { rootlessSetting ?? RuntimeOptions.detectRootless() }
    /// `--rootless true|false`; nil for auto.
    public var rootlessSetting: Bool?
    public init(root: String, systemdCgroup: Bool = false, debug: Bool = false, rootless: Bool? = nil) {
        self.root = root
        self.systemdCgroup = systemdCgroup
        self.debug = debug
        self.rootlessSetting = rootless
    }

    /// Not root, or root of a user namespace that does not map every host id (rootless
    /// podman runs the runtime as its namespace's root).
    public static func detectRootless() -> Bool {
        if Identity.euid != 0 { return true }
        return !IDMaps.isInitialUserNamespace()
    }
    public var store: StateStore { StateStore(root: root) }
}

/// A container found on disk, with its status recomputed from the live host.
public struct Container: Sendable {
    public let store: StateStore
    public var state: StoredState

    public var id: String { state.id }

    public static func load(_ id: String, options: RuntimeOptions) throws(RuntimeError) -> Container {
        try ContainerID.validate(id)
        let store = options.store
        return Container(store: store, state: try store.load(id))
    }

    /// Init is alive when its pid exists, is not a zombie and started when we recorded.
    public var initAlive: Bool {
        guard state.initPid > 0, let info = ProcessControl.startTime(of: state.initPid) else { return false }
        return info.start == state.initStartTime && info.state != "Z" && info.state != "X"
    }

    public var status: ContainerStatus {
        let alive = initAlive
        return ContainerStatus.derive(
            initAlive: alive,
            execFifoExists: alive && FileSystem.exists(store.fifoPath(id)),
            frozen: alive && Cgroups.isFrozen(state.cgroupPaths))
    }

    /// The OCI state document, as `state` prints it.
    public func ociState(status: ContainerStatus? = nil) -> OCIState {
        let status = status ?? self.status
        let annotations = state.annotations ?? [:]
        return OCIState(
            ociVersion: SpecVersion.current,
            id: id,
            pid: status == .stopped ? 0 : Int(state.initPid),
            status: status.rawValue,
            bundle: state.bundle,
            rootfs: state.rootfs,
            created: state.created,
            annotations: annotations.isEmpty ? nil : annotations,
            owner: "")
    }

    /// Opens a pidfd on init only if it is still the process we started.
    func initPidFD() -> FD? {
        guard initAlive, let fd = try? ProcessControl.pidfdOpen(state.initPid) else { return nil }
        // The pid could have been reused between the check and the open: check again.
        if !initAlive { fd.close(); return nil }
        return fd
    }

    func signalInit(_ signal: Int32) throws(RuntimeError) {
        guard let fd = initPidFD() else { throw RuntimeError("container not running") }
        defer { fd.close() }
        do {
            try ProcessControl.pidfdSignal(fd, signal)
        } catch {
            if error.errno == ESRCH { throw RuntimeError("container not running") }
            throw RuntimeError("\(error)")
        }
    }
}
