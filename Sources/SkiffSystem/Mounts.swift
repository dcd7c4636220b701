import CSkiffSys
import Glibc

/// A failed mount(2), naming source, target, type and flags like runc's mountError.
public struct MountError: Error, CustomStringConvertible, Sendable {
    public var source: String
    public var target: String
    public var type: String
    public var flags: UInt
    public var data: String
    public var errno: Int32
    public var description: String {
        var text = "mount src=\(source), dst=\(target)"
        if !type.isEmpty { text += ", type=\(type)" }
        text += ", flags=\(MountFlags.describe(flags))"
        if !data.isEmpty { text += ", data=\(data)" }
        return text + ": " + SystemError.message(errno)
    }
}

public enum MountFlags {
    public static let rdonly: UInt = 0x1
    public static let nosuid: UInt = 0x2
    public static let nodev: UInt = 0x4
    public static let noexec: UInt = 0x8
    public static let synchronous: UInt = 0x10
    public static let remount: UInt = 0x20
    public static let mandlock: UInt = 0x40
    public static let dirsync: UInt = 0x80
    public static let nosymfollow: UInt = 0x100
    public static let noatime: UInt = 0x400
    public static let nodiratime: UInt = 0x800
    public static let bind: UInt = 0x1000
    public static let move: UInt = 0x2000
    public static let rec: UInt = 0x4000
    public static let silent: UInt = 0x8000
    public static let unbindable: UInt = 0x20000
    public static let `private`: UInt = 0x40000
    public static let slave: UInt = 0x80000
    public static let shared: UInt = 0x100000
    public static let relatime: UInt = 0x200000
    public static let iversion: UInt = 0x800000
    public static let strictatime: UInt = 0x1000000
    public static let lazytime: UInt = 0x2000000
    public static let propagation: UInt = unbindable | `private` | slave | shared

    static let names: [(UInt, String)] = [
        (rdonly, "MS_RDONLY"), (nosuid, "MS_NOSUID"), (nodev, "MS_NODEV"), (noexec, "MS_NOEXEC"),
        (synchronous, "MS_SYNCHRONOUS"), (remount, "MS_REMOUNT"), (mandlock, "MS_MANDLOCK"),
        (dirsync, "MS_DIRSYNC"), (nosymfollow, "MS_NOSYMFOLLOW"), (noatime, "MS_NOATIME"),
        (nodiratime, "MS_NODIRATIME"), (bind, "MS_BIND"), (move, "MS_MOVE"), (rec, "MS_REC"),
        (silent, "MS_SILENT"), (unbindable, "MS_UNBINDABLE"), (`private`, "MS_PRIVATE"),
        (slave, "MS_SLAVE"), (shared, "MS_SHARED"), (relatime, "MS_RELATIME"),
        (iversion, "MS_I_VERSION"), (strictatime, "MS_STRICTATIME"), (lazytime, "MS_LAZYTIME"),
    ]

    public static func describe(_ flags: UInt) -> String {
        let parts = names.filter { flags & $0.0 != 0 }.map(\.1)
        return parts.isEmpty ? "0" : parts.joined(separator: "|")
    }
}

public enum Mounts {
    public static func mount(_ source: String, _ target: String, _ type: String, _ flags: UInt, _ data: String = "", label: String? = nil) throws(MountError) {
        let r: Int32 = data.isEmpty
            ? Glibc.mount(source, target, type, flags, nil)
            : data.withCString { Glibc.mount(source, target, type, flags, $0) }
        if r != 0 {
            throw MountError(source: source, target: label ?? target, type: type, flags: flags, data: data, errno: currentErrno())
        }
    }

    public static func unmount(_ target: String, flags: Int32 = 0) throws(SystemError) {
        try check("umount2", target) { Glibc.umount2(target, flags) }
    }

    /// This mount namespace's mounts in /proc/self/mountinfo order (oldest first): id and
    /// mount point. Empty when mountinfo cannot be read.
    public static func table() -> [(id: Int, mountPoint: String)] {
        guard let info = try? FileSystem.readText("/proc/self/mountinfo") else { return [] }
        var result: [(id: Int, mountPoint: String)] = []
        for line in info.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5)
            guard fields.count > 4, let id = Int(fields[0]) else { continue }
            result.append((id, unescapeMountinfo(fields[4])))
        }
        return result
    }

    /// One /proc/self/mountinfo line: the mount's root within its filesystem, its mount point
    /// and filesystem type.
    public struct InfoEntry: Sendable {
        public var id: Int
        public var root: String
        public var mountPoint: String
        public var fsType: String
    }

    /// Every mount of this mount namespace, oldest first. Empty when mountinfo cannot be read.
    public static func entries() -> [InfoEntry] {
        guard let info = try? FileSystem.readText("/proc/self/mountinfo") else { return [] }
        var result: [InfoEntry] = []
        for line in info.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 6, let id = Int(fields[0]), let dash = fields.firstIndex(of: "-"),
                  dash + 1 < fields.count else { continue }
            result.append(InfoEntry(id: id, root: unescapeMountinfo(fields[3]), mountPoint: unescapeMountinfo(fields[4]),
                                    fsType: String(fields[dash + 1])))
        }
        return result
    }

    /// The id of the top-most mount at `mountPoint` in this mount namespace (the last matching
    /// line of /proc/self/mountinfo), or nil when nothing is mounted exactly there.
    public static func topMountID(at mountPoint: String) -> Int? {
        table().last { $0.mountPoint == mountPoint }?.id
    }

    /// Undoes mountinfo's octal escapes (\040 for a space, …).
    public static func unescapeMountinfo<S: StringProtocol>(_ field: S) -> String {
        guard field.contains("\\") else { return String(field) }
        var out: [UInt8] = []
        let bytes = Array(field.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x5c, i + 3 < bytes.count, let v = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(v)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func pivotRoot(_ newRoot: String, _ putOld: String) throws(SystemError) {
        try check("pivot_root", newRoot) { sk_pivot_root(newRoot, putOld) }
    }

    public static func chroot(_ path: String) throws(SystemError) {
        try check("chroot", path) { Glibc.chroot(path) }
    }

    public static func chdir(_ path: String) throws(SystemError) {
        try check("chdir", path) { Glibc.chdir(path) }
    }

    public static func fchdir(_ fd: FD, path: String) throws(SystemError) {
        try check("fchdir", path) { Glibc.fchdir(fd.raw) }
    }

    public static let procSuperMagic: Int = 0x9fa0
    public static let sysfsMagic: Int = 0x62656572
    public static let tmpfsMagic: Int = 0x01021994
    public static let cgroup2Magic: Int = 0x63677270
    public static let cgroupMagic: Int = 0x27e0eb
    public static let devptsMagic: Int = 0x1cd1

    public static func filesystemType(_ fd: FD) -> Int { Int(sk_statfs_type(fd.raw)) }
}

/// The container's root filesystem, opened once; every path inside it is resolved through
/// this handle and can never escape it, whatever symlinks the rootfs holds.
public struct RootFS: Sendable {
    public let path: String
    public let fd: FD

    public static let resolveInRoot: UInt64 = 0x10       // RESOLVE_IN_ROOT
    public static let resolveNoMagiclinks: UInt64 = 0x02 // RESOLVE_NO_MAGICLINKS
    public static let resolveNoXdev: UInt64 = 0x01

    public init(path: String) throws(SystemError) {
        self.path = path
        self.fd = try FileSystem.open(path, O_PATH | O_DIRECTORY)
    }

    public init(path: String, fd: FD) {
        self.path = path
        self.fd = fd
    }

    /// Opens `inner` (an absolute path as the container will see it) with symlinks resolved
    /// as if the rootfs were "/".
    public func open(_ inner: String, _ flags: Int32 = O_PATH, mode: mode_t = 0) throws(SystemError) -> FD {
        let rel = Self.relative(inner)
        if rel.isEmpty || rel == "." {
            return FD(try check("openat", path) { Glibc.openat(fd.raw, ".", flags | O_CLOEXEC, mode) })
        }
        let r = sk_openat2(fd.raw, rel, UInt64(UInt32(bitPattern: flags | O_CLOEXEC)), UInt64(mode), Self.resolveInRoot | Self.resolveNoMagiclinks)
        if r >= 0 { return FD(r) }
        let e = currentErrno()
        if e == ENOSYS {
            return try walkOpen(rel, flags, mode: mode)
        }
        throw SystemError("openat2", path + "/" + rel, errno: e)
    }

    /// Component-by-component fallback for kernels without openat2: follows symlinks by hand,
    /// clamping ".." and absolute targets at the rootfs.
    private func walkOpen(_ rel: String, _ flags: Int32, mode: mode_t, depth: Int = 0) throws(SystemError) -> FD {
        var stack = cleanPath("/" + rel).split(separator: "/").map(String.init)
        var resolved: [String] = []
        var links = 0
        while !stack.isEmpty {
            let comp = stack.removeFirst()
            if comp == ".." { if !resolved.isEmpty { resolved.removeLast() }; continue }
            let candidate = (resolved + [comp]).joined(separator: "/")
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = Glibc.readlinkat(fd.raw, candidate, &buffer, Int(PATH_MAX))
            if n > 0 {
                links += 1
                if links > 40 { throw SystemError("openat", path + "/" + rel, errno: ELOOP) }
                let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if target.hasPrefix("/") { resolved = [] }
                stack = target.split(separator: "/").map(String.init) + stack
                continue
            }
            resolved.append(comp)
        }
        let final = resolved.isEmpty ? "." : resolved.joined(separator: "/")
        return FD(try check("openat", path + "/" + final) { Glibc.openat(fd.raw, final, flags | O_NOFOLLOW | O_CLOEXEC, mode) })
    }

    /// mkdir -p inside the rootfs; returns an O_PATH handle on the directory. A component
    /// that is a dangling symlink is followed inside the rootfs and its target created there
    /// (what runc does), never outside.
    public func mkdirAll(_ inner: String, mode: mode_t = 0o755) throws(SystemError) -> FD {
        try mkdirAll(inner, mode: mode, depth: 0)
    }

    private func mkdirAll(_ inner: String, mode: mode_t, depth: Int) throws(SystemError) -> FD {
        if depth > 40 { throw SystemError("mkdirat", path + inner, errno: ELOOP) }
        // Usually the directory exists (one openat2), or only its last component is missing.
        if let existing = try? open(inner, O_PATH | O_DIRECTORY) { return existing }
        let (parent, name) = Self.split(inner)
        if parent != inner, let dir = try? open(parent, O_PATH | O_DIRECTORY) {
            defer { dir.close() }
            if Glibc.mkdirat(dir.raw, name, mode) == 0 || currentErrno() == EEXIST,
               let made = try? open(inner, O_PATH | O_DIRECTORY) {
                return made
            }
        }
        return try mkdirAllWalk(inner, mode: mode, depth: depth)
    }

    /// Component by component from the root: creates every missing one, follows dangling
    /// symlinks inside the rootfs.
    private func mkdirAllWalk(_ inner: String, mode: mode_t, depth: Int) throws(SystemError) -> FD {
        let comps = Self.relative(inner).split(separator: "/").map(String.init).filter { $0 != "." }
        var current = try open("/", O_PATH | O_DIRECTORY)
        var prefix = ""
        for (i, comp) in comps.enumerated() {
            let parent = prefix
            prefix += "/" + comp
            if let next = try? open(prefix, O_PATH | O_DIRECTORY) {
                current.close()
                current = next
                continue
            }
            // Create it relative to the already-resolved parent, never through a path.
            if Glibc.mkdirat(current.raw, comp, mode) != 0 {
                let e = currentErrno()
                if e == EEXIST, let target = danglingTarget(current, comp) {
                    current.close()
                    let base = target.hasPrefix("/") ? target : (parent.isEmpty ? "/" : parent) + "/" + target
                    let rest = comps[(i + 1)...].joined(separator: "/")
                    return try mkdirAll(cleanPath(base + "/" + rest), mode: mode, depth: depth + 1)
                }
                if e != EEXIST {
                    current.close()
                    throw SystemError("mkdirat", path + prefix, errno: e)
                }
            }
            let opened = Result<FD, SystemError> { () throws(SystemError) -> FD in try open(prefix, O_PATH | O_DIRECTORY) }
            current.close()
            current = try opened.get()
        }
        return current
    }

    /// The target of `name` in `dir` when it is a symlink, else nil.
    private func danglingTarget(_ dir: FD, _ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = Glibc.readlinkat(dir.raw, name, &buffer, Int(PATH_MAX))
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Ensures a regular file exists at `inner` (creating parents); returns an O_PATH handle.
    /// A dangling symlink is followed inside the rootfs, as for directories.
    public func createFile(_ inner: String, mode: mode_t = 0o644) throws(SystemError) -> FD {
        try createFile(inner, mode: mode, depth: 0)
    }

    private func createFile(_ inner: String, mode: mode_t, depth: Int) throws(SystemError) -> FD {
        if depth > 40 { throw SystemError("openat", path + inner, errno: ELOOP) }
        if let existing = try? open(inner, O_PATH) { return existing }
        let (parent, name) = Self.split(inner)
        let dir = try mkdirAll(parent)
        defer { dir.close() }
        let created = Glibc.openat(dir.raw, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode)
        if created < 0 {
            let e = currentErrno()
            if e == ELOOP || e == EEXIST, let target = danglingTarget(dir, name) {
                let base = target.hasPrefix("/") ? target : parent + "/" + target
                return try createFile(cleanPath(base), mode: mode, depth: depth + 1)
            }
            if e != EEXIST { throw SystemError("openat", path + inner, errno: e) }
        } else {
            Glibc.close(created)
        }
        return try open(inner, O_PATH)
    }

    /// The resolved handle really is inside the rootfs (defence in depth after resolution).
    public func verifyInside(_ handle: FD, _ inner: String) throws(SystemError) {
        let real = try handle.realPath()
        if real != path && !real.hasPrefix(path == "/" ? "/" : path + "/") {
            throw SystemError("verify mountpoint \(inner) resolves to \(real) outside the rootfs", nil, errno: EXDEV)
        }
    }

    public static func relative(_ inner: String) -> String {
        let clean = cleanPath("/" + inner)
        return clean == "/" ? "." : String(clean.dropFirst())
    }

    public static func split(_ inner: String) -> (String, String) {
        let clean = cleanPath("/" + inner)
        guard let slash = clean.lastIndex(of: "/") else { return ("/", clean) }
        let parent = String(clean[..<slash])
        return (parent.isEmpty ? "/" : parent, String(clean[clean.index(after: slash)...]))
    }
}

public enum MountAttributes {
    /// mount_setattr(AT_RECURSIVE) on the mount at `fd`.
    public static func setRecursive(_ fd: FD, set: UInt64, clear: UInt64, path: String) throws(SystemError) {
        let AT_RECURSIVE: UInt32 = 0x8000
        try check("mount_setattr", path) {
            sk_mount_setattr_flags(fd.raw, "", AT_RECURSIVE | UInt32(AT_EMPTY_PATH), set, clear, 0)
        }
    }
}

public enum Devices {
    public static func major(_ dev: UInt) -> UInt32 { sk_major(UInt64(dev)) }
    public static func minor(_ dev: UInt) -> UInt32 { sk_minor(UInt64(dev)) }

    public static func mknod(_ dir: FD, _ name: String, mode: UInt32, major: UInt32, minor: UInt32, path: String) throws(SystemError) {
        try check("mknod", path) { sk_mknodat(dir.raw, name, mode_t(mode), major, minor) }
    }

    public static func chown(_ dir: FD, _ name: String, uid: UInt32, gid: UInt32, path: String) throws(SystemError) {
        try check("chown", path) { fchownat(dir.raw, name, uid, gid, AT_SYMLINK_NOFOLLOW) }
    }

    public static func chmod(_ dir: FD, _ name: String, mode: UInt32, path: String) throws(SystemError) {
        try check("chmod", path) { fchmodat(dir.raw, name, mode_t(mode), 0) }
    }

    public static func symlink(_ target: String, in dir: FD, _ name: String, path: String) throws(SystemError) {
        if symlinkat(target, dir.raw, name) != 0 {
            let e = currentErrno()
            if e == EEXIST { return }
            throw SystemError("symlink", path, errno: e)
        }
    }

    public static func unlinkAt(_ dir: FD, _ name: String) {
        _ = unlinkat(dir.raw, name, 0)
    }
}
