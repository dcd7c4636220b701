import Glibc
import SkiffSpec
import SkiffSystem

/// Everything init needs to build the container's filesystem view. Built by the parent
/// (pure), applied by init inside the new mount namespace.
public struct RootfsPlan: Sendable {
    public var rootfs: String
    public var bundle: String
    public var readonly: Bool
    public var propagation: UInt
    /// Propagation to set on "/" after pivot when rootfsPropagation asks for it.
    public var finalPropagation: UInt?
    public var mounts: [MountOp]
    public var devices: [DevicePlan]
    /// False when /dev is bind-mounted from the host (then nothing is created in it).
    public var setupDev: Bool
    public var maskedPaths: [String]
    public var readonlyPaths: [String]
    public var noPivot: Bool
    /// Host cgroup directories of the container (for v1 "cgroup" mounts).
    public var cgroupPaths: [String]
    public var cgroupMountPoints: [String]
    public var newCgroupNamespace: Bool
    public var layout: CgroupLayout
    public var userNamespace: Bool
    /// Detached id-mapped trees by mount index, prepared by the parent (prepareIDMappedTrees).
    public var idmapTrees: [Int: FD] = [:]
    /// Bind sources by mount index, opened by the parent (openBindSources) and received by init.
    var sourceFDs: [Int: FD] = [:]

    public init(spec: Spec, bundle: String, noPivot: Bool, cgroupPaths: [String], layout: CgroupLayout, namespaces: NamespacePlan) throws(RuntimeError) {
        guard let root = spec.root else { throw RuntimeError("config.json: root: required field is missing") }
        rootfs = root.path.hasPrefix("/") ? cleanPath(root.path) : cleanPath(bundle + "/" + root.path)
        self.bundle = bundle
        readonly = root.readonly ?? false
        let configured = spec.linux?.rootfsPropagation
        let wanted = try MountOptions.rootPropagation(configured)
        // An unbindable "/" could not bind the rootfs onto itself: start from rslave and
        // make "/" unbindable after pivot_root (runc fails such configs with EINVAL).
        propagation = wanted & MountFlags.unbindable != 0 ? MountFlags.slave | MountFlags.rec : wanted
        finalPropagation = (configured?.isEmpty ?? true) ? nil : wanted
        var ops: [MountOp] = []
        for (i, m) in (spec.mounts ?? []).enumerated() {
            ops.append(try MountOptions.plan(m, index: i, linux: spec.linux))
        }
        // Relative bind sources are relative to the bundle.
        for i in ops.indices where ops[i].isBind && !ops[i].source.hasPrefix("/") {
            ops[i].source = cleanPath(bundle + "/" + ops[i].source)
        }
        mounts = ops
        setupDev = !ops.contains { $0.destination == "/dev" && $0.isBind }
        devices = try DevicePlan.plan(spec.linux?.devices ?? [], defaults: setupDev)
        maskedPaths = spec.linux?.maskedPaths ?? []
        readonlyPaths = spec.linux?.readonlyPaths ?? []
        self.noPivot = noPivot
        self.cgroupPaths = cgroupPaths
        cgroupMountPoints = layout.hierarchies.map(\.mountPoint)
        newCgroupNamespace = namespaces.has("cgroup")
        self.layout = layout
        // In a user namespace of its own, or skiff itself runs in one (rootless podman creates
        // it and calls the runtime as its root): no mknod, locked mount flags, sysfs fallback.
        userNamespace = namespaces.inUserNamespace || !IDMaps.isInitialUserNamespace()
    }
}

extension RootfsPlan {
    /// Without a mount namespace: whether the config still asks for mount work (mounts,
    /// masked or read-only paths, a read-only root), done under a bind of the rootfs in the
    /// host's mount namespace (RootfsBuilder.prepareInHost).
    var needsHostBind: Bool {
        !mounts.isEmpty || !maskedPaths.isEmpty || !readonlyPaths.isEmpty || readonly
    }

    /// On the host side, before clone: the detached id-mapped trees for "idmap"/"ridmap"
    /// mounts (a helper user namespace per mount carries its mappings).
    mutating func prepareIDMappedTrees() throws(RuntimeError) {
        for op in mounts {
            guard let idmap = op.idmap else { continue }
            do {
                let userns = try IDMappedMount.userNamespace(uidMap: idmap.uidMap, gidMap: idmap.gidMap)
                defer { userns.close() }
                idmapTrees[op.index] = try IDMappedMount.detachedTree(op.source, userNamespace: userns, recursive: idmap.recursive)
            } catch {
                closeIDMappedTrees()
                throw RuntimeError("config.json: mounts[\(op.index)] (\(op.destination)): \(error)")
            }
        }
    }

    func closeIDMappedTrees() { for fd in idmapTrees.values { fd.close() } }

    /// With a new user namespace, init resolves paths as the namespace's root, which host
    /// permissions do not let through a root-only (0700) host directory. Like runc (and crun),
    /// the parent opens every bind source (O_PATH) as the host's user, before init mounts, in
    /// init's mount namespace (a bind needs a source mount of the caller's namespace; nil:
    /// the parent's own). A source that cannot be opened is left to init, which reports it as
    /// before. Returns the fds by mount index.
    func openBindSources(mountNamespacePid pid: pid_t?) -> [Int: FD] {
        let binds = mounts.filter { $0.isBind && $0.idmap == nil && $0.source.hasPrefix("/") }
        if binds.isEmpty { return [:] }
        var own: FD? = nil, cwd: FD? = nil
        if let pid {
            guard let mine = try? FileSystem.open("/proc/self/ns/mnt", O_RDONLY),
                  let theirs = try? FileSystem.open("/proc/\(pid)/ns/mnt", O_RDONLY) else { return [:] }
            defer { theirs.close() }
            cwd = try? FileSystem.open(".", O_PATH | O_DIRECTORY)
            do { try ProcessControl.setns(theirs, ProcessControl.newNS, path: "/proc/\(pid)/ns/mnt") } catch {
                mine.close()
                cwd?.close()
                return [:]
            }
            own = mine
        }
        var result: [Int: FD] = [:]
        for op in binds {
            if let fd = try? FileSystem.open(op.source, O_PATH) { result[op.index] = fd }
        }
        if let own {
            // Back home (setns resets the working directory: restore it too).
            try? ProcessControl.setns(own, ProcessControl.newNS, path: "own mount namespace")
            own.close()
            if let cwd { try? Mounts.fchdir(cwd, path: "working directory"); cwd.close() }
        }
        return result
    }
}

/// Applies a RootfsPlan. Runs in init, in the container's mount namespace, before pivot_root.
struct RootfsBuilder {
    let plan: RootfsPlan
    var root: RootFS! = nil

    init(plan: RootfsPlan) { self.plan = plan }

    mutating func prepare() throws(RuntimeError) {
        do {
            try Mounts.mount("", "/", "", plan.propagation)
        } catch {
            throw RuntimeError("cannot set rootfs propagation: \(error)")
        }
        if plan.propagation & MountFlags.shared != 0 {
            // pivot_root refuses a new root, or a parent of it, that is shared: make the
            // rootfs's parent mount private first, so the bind below is private too. The
            // configured propagation is applied to "/" after pivot_root.
            try makeParentPrivate()
        }
        do {
            try Mounts.mount(plan.rootfs, plan.rootfs, "bind", MountFlags.bind | MountFlags.rec)
        } catch {
            throw RuntimeError("cannot bind-mount root.path \(plan.rootfs): \(error)")
        }
        do {
            root = try RootFS(path: plan.rootfs)
        } catch {
            throw RuntimeError("root.path: \(error)")
        }
    }

    /// Without a mount namespace (config-linux.md: the container then inherits the runtime's)
    /// the configured mounts land in the host's mount namespace. No existing host mount is
    /// touched: the rootfs is bound onto itself and that bind made rprivate, so nothing mounted
    /// below it propagates anywhere; delete (or a failed create) lazily unmounts the one bind
    /// (`hostRootfsBind`), which takes everything below it along.
    mutating func prepareInHost() throws(RuntimeError) {
        do {
            try Mounts.mount(plan.rootfs, plan.rootfs, "bind", MountFlags.bind | MountFlags.rec)
            try Mounts.mount("", plan.rootfs, "", MountFlags.private | MountFlags.rec)
        } catch {
            throw RuntimeError("cannot bind-mount root.path \(plan.rootfs) in the host's mount namespace: \(error)")
        }
        do {
            root = try RootFS(path: plan.rootfs)
        } catch {
            throw RuntimeError("root.path: \(error)")
        }
    }

    /// Undoes prepareInHost: lazily unmounts the rootfs bind (and so everything below it) when
    /// a mount other than `below` (the one on top before create, -1: none) sits at the rootfs.
    static func unmountHostBind(_ rootfs: String, below: Int?) {
        guard let below, !rootfs.isEmpty, let top = Mounts.topMountID(at: rootfs), top != below else { return }
        try? Mounts.unmount(rootfs, flags: Int32(MNT_DETACH))
    }

    /// chroot into the rootfs bind made by prepareInHost (pivot_root needs a mount namespace).
    /// First every mount below it is made private again: a bind of a shared host mount (the
    /// cgroup hierarchies on systemd hosts) would otherwise stay in the host's peer group.
    func chrootInHost() throws(RuntimeError) {
        do {
            try Mounts.mount("", plan.rootfs, "", MountFlags.private | MountFlags.rec)
            try Mounts.chroot(plan.rootfs)
            try Mounts.chdir("/")
        } catch {
            throw RuntimeError("root.path: \(error)")
        }
    }

    private func makeParentPrivate() throws(RuntimeError) {
        // The longest mount point at or above the rootfs: the rootfs itself when it is a mount
        // point (containerd's overlay), whose shared peer group would make both the bind of it
        // and pivot_root fail (runc's rootfsParentMountPrivate counts it as well).
        var best = "/"
        for (_, mp) in Mounts.table() where (mp == plan.rootfs || plan.rootfs.hasPrefix(mp == "/" ? "/" : mp + "/")) && mp.count > best.count {
            best = mp
        }
        do { try Mounts.mount("", best, "", MountFlags.private) } catch {
            throw RuntimeError("cannot make the rootfs parent mount private: \(error)")
        }
    }

    func mountAll() throws(RuntimeError) {
        for op in plan.mounts {
            do {
                try mount(op)
            } catch {
                throw RuntimeError("config.json: mounts[\(op.index)] (\(op.destination)): \(error)")
            }
        }
    }

    /// A read-only tmpfs or /dev is mounted read-write and made read-only by finalize, once
    /// its submounts, devices and the container's files in it are made (runc's mountPropagate
    /// and finalizeRootfs): mkdirat /dev/pts would fail on a read-only /dev.
    static func delaysReadOnly(_ op: MountOp) -> Bool {
        op.flags & MountFlags.rdonly != 0 && (op.type == "tmpfs" || op.destination == "/dev")
    }

    private func mount(_ op: MountOp) throws(RuntimeError) {
        var op = op
        if Self.delaysReadOnly(op) { op.flags &= ~MountFlags.rdonly }
        if op.type == "cgroup" && !plan.cgroupPaths.isEmpty {
            try mountCgroup(op)
            return
        }
        if op.type == "proc" || op.type == "sysfs" { try refuseNonDirectory(op) }
        let target: FD
        let openedSource = plan.sourceFDs[op.index]
        do {
            if op.isBind {
                let st = try openedSource?.stat() ?? FileSystem.stat(op.source)
                target = (st.st_mode & S_IFMT) == S_IFDIR ? try root.mkdirAll(op.destination) : try root.createFile(op.destination)
            } else {
                target = try root.mkdirAll(op.destination)
            }
            try root.verifyInside(target, op.destination)
        } catch {
            throw RuntimeError("\(error)")
        }
        defer { target.close() }
        let label = plan.rootfs + op.destination
        do {
            if op.idmap != nil {
                guard let tree = plan.idmapTrees[op.index] else { throw RuntimeError("id-mapped tree missing") }
                try IDMappedMount.attach(tree, onto: target, label: label)
            } else if op.isBind {
                try Mounts.mount(openedSource?.procPath ?? op.source, target.procPath, "", op.flags & (MountFlags.bind | MountFlags.rec), label: label)
            } else {
                do {
                    try Mounts.mount(op.source.isEmpty ? op.type : op.source, target.procPath, op.type, op.flags & ~MountFlags.remount, op.data, label: label)
                } catch {
                    // In a user namespace that does not own the network (sysfs) or ipc
                    // (mqueue) namespace the kernel refuses a new instance: bind the host's.
                    guard plan.userNamespace, error.errno == EPERM, op.type == "sysfs" || op.type == "mqueue" else { throw error }
                    let host = op.type == "sysfs" ? "/sys" : "/dev/mqueue"
                    try Mounts.mount(host, target.procPath, "", MountFlags.bind | MountFlags.rec, label: label)
                    var ro = op
                    ro.flags |= MountFlags.bind
                    try finish(ro, label: label)
                    return
                }
            }
        } catch {
            throw RuntimeError("\(error)")
        }
        try finish(op, label: label)
    }

    /// procfs and sysfs go only on an ordinary directory (or a missing one): a symlink there
    /// would be followed to wherever it points inside the rootfs, the CVE-2019-19921 class
    /// that runc refuses ("must be mounted on ordinary directory").
    private func refuseNonDirectory(_ op: MountOp) throws(RuntimeError) {
        let (parent, name) = RootFS.split(op.destination)
        guard name != "", let dir = try? root.open(parent, O_PATH | O_DIRECTORY) else { return }
        defer { dir.close() }
        var st = stat()
        guard fstatat(dir.raw, name, &st, AT_SYMLINK_NOFOLLOW) == 0, (st.st_mode & S_IFMT) != S_IFDIR else { return }
        let what = (st.st_mode & S_IFMT) == S_IFLNK ? "a symlink" : "not a directory"
        throw RuntimeError("\(plan.rootfs + op.destination) is \(what): filesystem \"\(op.type)\" must be mounted on ordinary directory")
    }

    /// Remount flags, recursive attributes and propagation, on a fresh handle on the new mount.
    private func finish(_ op: MountOp, label: String) throws(RuntimeError) {
        guard op.needsRemount || !op.propagation.isEmpty || op.recursiveSet != 0 || op.recursiveClear != 0 else { return }
        let mounted: FD
        do {
            mounted = try root.open(op.destination, O_PATH)
            try root.verifyInside(mounted, op.destination)
        } catch {
            throw RuntimeError("\(error)")
        }
        defer { mounted.close() }
        do {
            if op.needsRemount {
                // Flags locked by a user namespace (nosuid, nodev, …) must be kept on remount.
                let locked = plan.userNamespace ? Self.lockedFlags(mounted) : 0
                try Mounts.mount("", mounted.procPath, "", op.flags | locked | MountFlags.remount | MountFlags.bind, label: label)
            }
            for p in op.propagation {
                try Mounts.mount("", mounted.procPath, "", p, label: label)
            }
        } catch {
            throw RuntimeError("\(error)")
        }
        if op.recursiveSet != 0 || op.recursiveClear != 0 {
            do {
                try MountAttributes.setRecursive(mounted, set: op.recursiveSet, clear: op.recursiveClear, path: label)
            } catch {
                throw RuntimeError("\(error)")
            }
        }
    }

    /// A "cgroup" mount, as runc's mountCgroupV2/V1. On a pure cgroup v2 host a new cgroup2
    /// mount, whose root is the container's cgroup namespace root: its own cgroup with a cgroup
    /// namespace, the host's whole hierarchy without one (what `--cgroupns=host` asks for);
    /// where the kernel refuses a new mount (EPERM/EBUSY: a user namespace without its own
    /// cgroup namespace) a bind of the host's cgroup2 mount. On v1 and hybrid hosts a tmpfs
    /// holding a bind of the container's own cgroup directory for each hierarchy.
    /// Whether this process is in the host's (pid 1's) cgroup namespace; /proc is still the
    /// host's here (before pivot_root).
    static func inInitialCgroupNamespace() -> Bool {
        guard let own = try? FileSystem.stat("/proc/self/ns/cgroup"), let first = try? FileSystem.stat("/proc/1/ns/cgroup") else {
            return true  // unknown: take the safe way (bind)
        }
        return own.st_ino == first.st_ino && own.st_dev == first.st_dev
    }

    private func mountCgroup(_ op: MountOp) throws(RuntimeError) {
        let ro = op.flags & MountFlags.rdonly != 0
        let base = op.flags & (MountFlags.nosuid | MountFlags.nodev | MountFlags.noexec | MountFlags.relatime)
        let isV2Only = plan.cgroupMountPoints.count == 1 && plan.cgroupMountPoints[0] == "/sys/fs/cgroup"
        do {
            let target = try root.mkdirAll(op.destination)
            defer { target.close() }
            try root.verifyInside(target, op.destination)
            let label = plan.rootfs + op.destination
            if isV2Only {
                // A new cgroup2 mount made from the initial cgroup namespace applies its options
                // to the one cgroup2 superblock: without "nsdelegate" (and memory_recursiveprot,
                // memory_localevents) it would turn them off for the whole host, and every
                // container with a cgroup namespace could then write its own root's limits.
                // There, bind the host's mount instead (the same view: the host's hierarchy).
                if plan.newCgroupNamespace || !Self.inInitialCgroupNamespace() {
                    do {
                        try Mounts.mount("cgroup2", target.procPath, "cgroup2", base | (ro ? MountFlags.rdonly : 0), label: label)
                        return
                    } catch {
                        guard !plan.newCgroupNamespace, error.errno == EPERM || error.errno == EBUSY else { throw error }
                    }
                }
                try Mounts.mount(plan.cgroupMountPoints[0], target.procPath, "", MountFlags.bind, label: label)
                let bound = try root.open(op.destination, O_PATH)
                defer { bound.close() }
                try Mounts.mount("", bound.procPath, "", MountFlags.bind | MountFlags.remount | base | (ro ? MountFlags.rdonly : 0), label: label)
            } else {
                try Mounts.mount("tmpfs", target.procPath, "tmpfs", base, "mode=755", label: label)
                for (mountPoint, hostDir) in zip(plan.cgroupMountPoints, plan.cgroupPaths) {
                    let name = String(mountPoint.split(separator: "/").last ?? "")
                    let sub = op.destination + "/" + name
                    let dir = try root.mkdirAll(sub)
                    defer { dir.close() }
                    try Mounts.mount(hostDir, dir.procPath, "", MountFlags.bind | MountFlags.rec, label: plan.rootfs + sub)
                    // A fresh handle: the old one still points below the new mount.
                    let mounted = try root.open(sub, O_PATH)
                    defer { mounted.close() }
                    try Mounts.mount("", mounted.procPath, "", MountFlags.bind | MountFlags.remount | base | (ro ? MountFlags.rdonly : 0), label: plan.rootfs + sub)
                }
            }
            if ro {
                let again = try root.open(op.destination, O_PATH)
                defer { again.close() }
                try Mounts.mount("", again.procPath, "", MountFlags.bind | MountFlags.remount | base | MountFlags.rdonly, label: label)
            }
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw RuntimeError("\(error)")
        }
    }

    func createDevices() throws(RuntimeError) {
        guard plan.setupDev else { return }
        do {
            try Devices.create(plan.devices, in: root, bindFromHost: plan.userNamespace)
            try Devices.createSymlinks(in: root)
        } catch {
            throw RuntimeError("\(error)")
        }
    }

    /// pivot_root into the rootfs (or MS_MOVE + chroot for --no-pivot) and detach the old root.
    func pivot() throws(RuntimeError) {
        do {
            if plan.noPivot {
                try hideHostProcAndSys()
                try Mounts.chdir(plan.rootfs)
                try Mounts.mount(plan.rootfs, "/", "", MountFlags.move)
                try Mounts.chroot(".")
                try Mounts.chdir("/")
                return
            }
            let oldRoot = try FileSystem.open("/", O_DIRECTORY | O_RDONLY)
            defer { oldRoot.close() }
            let newRoot = try FileSystem.open(plan.rootfs, O_DIRECTORY | O_RDONLY)
            defer { newRoot.close() }
            try Mounts.fchdir(newRoot, path: plan.rootfs)
            try Mounts.pivotRoot(".", ".")
            try Mounts.fchdir(oldRoot, path: "old root")
            // Keep the unmount of the old root from propagating to the host.
            try Mounts.mount("", ".", "", MountFlags.slave | MountFlags.rec)
            try Mounts.unmount(".", flags: Int32(MNT_DETACH))
            try Mounts.chdir("/")
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw RuntimeError("pivot_root: \(error)")
        }
    }

    /// --no-pivot (runc's msMoveRoot): chroot leaves the host's full procfs and sysfs mounts
    /// in the container's mount namespace, and while a full one is there the kernel lets a
    /// nested user namespace mount a fresh procfs (or sysfs) with none of the masks. Every
    /// full proc and sysfs mount outside the rootfs is made slave (nothing propagates back to
    /// the host) and lazily unmounted, or covered by an empty tmpfs where that is refused.
    private func hideHostProcAndSys() throws(RuntimeError) {
        let inside = plan.rootfs == "/" ? "/" : plan.rootfs + "/"
        for entry in Mounts.entries() where entry.root == "/" && (entry.fsType == "proc" || entry.fsType == "sysfs") {
            let p = entry.mountPoint
            if p == plan.rootfs || p.hasPrefix(inside) { continue }
            do {
                try Mounts.mount("", p, "", MountFlags.slave | MountFlags.rec)
            } catch {
                // A parent already went (lazy unmount): nothing left there to hide.
                if error.errno == ENOENT { continue }
                throw RuntimeError("--no-pivot: hiding the host's \(entry.fsType) at \(p): \(error)")
            }
            do {
                try Mounts.unmount(p, flags: Int32(MNT_DETACH))
            } catch {
                guard error.errno == EINVAL || error.errno == EPERM else {
                    throw RuntimeError("--no-pivot: hiding the host's \(entry.fsType) at \(p): \(error)")
                }
                do { try Mounts.mount("tmpfs", p, "tmpfs", 0) } catch {
                    throw RuntimeError("--no-pivot: hiding the host's \(entry.fsType) at \(p): \(error)")
                }
            }
        }
    }

    /// After pivot_root: readonly paths, masked paths, read-only root, final propagation.
    func finalize() throws(RuntimeError) {
        let newRoot = RootFS(path: "/", fd: (try? FileSystem.open("/", O_PATH | O_DIRECTORY)) ?? FD(-1))
        defer { newRoot.fd.close() }
        for (i, path) in plan.readonlyPaths.enumerated() {
            do {
                guard let fd = try openExisting(newRoot, path) else { continue }
                defer { fd.close() }
                try Mounts.mount(fd.procPath, fd.procPath, "", MountFlags.bind | MountFlags.rec, label: path)
                let again = try newRoot.open(path, O_PATH)
                defer { again.close() }
                let keep = Self.lockedFlags(again)
                try Mounts.mount("", again.procPath, "", MountFlags.bind | MountFlags.remount | MountFlags.rdonly | keep, label: path)
            } catch {
                throw RuntimeError("config.json: linux.readonlyPaths[\(i)] (\(path)): \(error)")
            }
        }
        // Masks bind the container's own /dev/null, opened without following symlinks and
        // verified to be the char device 1:3 (CVE-2025-31133).
        let devNull = Self.verifiedDevNull(newRoot)
        defer { devNull?.close() }
        for (i, path) in plan.maskedPaths.enumerated() {
            do {
                guard let fd = try openExisting(newRoot, path) else { continue }
                defer { fd.close() }
                let st = try fd.stat()
                if (st.st_mode & S_IFMT) == S_IFDIR {
                    try Mounts.mount("tmpfs", fd.procPath, "tmpfs", MountFlags.rdonly, "size=0k", label: path)
                } else if let devNull {
                    try Mounts.mount(devNull.procPath, fd.procPath, "", MountFlags.bind, label: path)
                } else {
                    throw RuntimeError("no verified /dev/null (char 1:3) to mask with")
                }
            } catch let error as RuntimeError {
                throw RuntimeError("config.json: linux.maskedPaths[\(i)] (\(path)): \(error)")
            } catch {
                throw RuntimeError("config.json: linux.maskedPaths[\(i)] (\(path)): \(error)")
            }
        }
        for op in plan.mounts where Self.delaysReadOnly(op) {
            do {
                let mounted = try newRoot.open(op.destination, O_PATH)
                defer { mounted.close() }
                let keep = Self.lockedFlags(mounted)
                try Mounts.mount("", mounted.procPath, "", MountFlags.bind | MountFlags.remount | MountFlags.rdonly | keep, label: op.destination)
            } catch {
                throw RuntimeError("config.json: mounts[\(op.index)] (\(op.destination)): \(error)")
            }
        }
        if plan.readonly {
            do {
                let keep = Self.lockedFlags(newRoot.fd)
                try Mounts.mount("", "/", "", MountFlags.bind | MountFlags.remount | MountFlags.rdonly | keep)
            } catch {
                throw RuntimeError("config.json: root.readonly: \(error)")
            }
        }
        if let p = plan.finalPropagation {
            do { try Mounts.mount("", "/", "", p) } catch {
                throw RuntimeError("config.json: linux.rootfsPropagation: \(error)")
            }
        }
    }

    static func verifiedDevNull(_ root: RootFS) -> FD? {
        guard let fd = try? root.open("/dev/null", O_PATH | O_NOFOLLOW) else { return nil }
        if let st = try? fd.stat(), (st.st_mode & S_IFMT) == S_IFCHR,
           Devices.major(st.st_rdev) == 1, Devices.minor(st.st_rdev) == 3 {
            return fd
        }
        fd.close()
        return nil
    }

    /// Opens a path that may legitimately be absent (nil then).
    private func openExisting(_ root: RootFS, _ path: String) throws(SystemError) -> FD? {
        do {
            let fd = try root.open(path, O_PATH | O_NOFOLLOW)
            return fd
        } catch {
            if error.errno == ENOENT { return nil }
            throw error
        }
    }

    /// Flags a bind remount must keep (nosuid, nodev, noexec, atime flags), from statvfs.
    static func lockedFlags(_ fd: FD) -> UInt {
        var st = statvfs()
        guard fstatvfs(fd.raw, &st) == 0 else { return 0 }
        return UInt(st.f_flag) & (MountFlags.nosuid | MountFlags.nodev | MountFlags.noexec | MountFlags.noatime | MountFlags.nodiratime | MountFlags.relatime)
    }
}
