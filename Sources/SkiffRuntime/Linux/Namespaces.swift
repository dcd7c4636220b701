import Glibc
import SkiffSpec
import SkiffSystem

/// How init enters its namespaces: which are new (clone flags), which are joined by path.
public struct NamespacePlan: Sendable {
    public struct Join: Sendable {
        public var type: String
        public var path: String
        public var flag: UInt64
        public var field: String
    }

    /// Flags for clone(): new mount, pid, net, ipc, uts namespaces.
    public var cloneFlags: UInt64 = 0
    /// cgroup namespaces are unshared by init after it has been placed in its cgroup, so the
    /// namespace root is the container's cgroup.
    public var newCgroup = false
    /// Time namespaces are unshared by the parent before clone (offsets must be written
    /// before any process enters).
    public var newTime = false
    public var newUser = false
    /// Namespaces init unshares itself right after joining a user namespace by path.
    public var unshareAfterJoin: UInt64 = 0
    /// Joined by init after clone (net, ipc, uts, mnt, cgroup, user).
    public var joins: [Join] = []
    /// pid and time namespaces must be joined by the parent before clone (setns on them
    /// only affects children).
    public var parentJoins: [Join] = []
    public var types: Set<String> = []

    public static let flags: [String: UInt64] = [
        "mount": ProcessControl.newNS, "pid": ProcessControl.newPID, "network": ProcessControl.newNet,
        "ipc": ProcessControl.newIPC, "uts": ProcessControl.newUTS, "user": ProcessControl.newUser,
        "cgroup": ProcessControl.newCgroup, "time": ProcessControl.newTime,
    ]
    /// /proc/<pid>/ns/<name> for each OCI namespace type.
    public static let procNames: [String: String] = [
        "mount": "mnt", "pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts",
        "user": "user", "cgroup": "cgroup", "time": "time",
    ]

    public func has(_ type: String) -> Bool { types.contains(type) }
    /// In a user namespace of its own or joined: mknod, some mounts and some flags differ.
    public var inUserNamespace: Bool { has("user") }
    public func isNew(_ type: String) -> Bool {
        has(type) && !joins.contains { $0.type == type } && !parentJoins.contains { $0.type == type }
    }

    public init(_ namespaces: [LinuxNamespace]) throws(RuntimeError) {
        for (i, ns) in namespaces.enumerated() {
            let field = "linux.namespaces[\(i)]"
            guard let flag = Self.flags[ns.type] else {
                throw RuntimeError("config.json: \(field).type: unknown namespace type \"\(ns.type)\"")
            }
            types.insert(ns.type)
            if let path = ns.path, !path.isEmpty {
                let join = Join(type: ns.type, path: path, flag: flag, field: field)
                if ns.type == "pid" || ns.type == "time" { parentJoins.append(join) } else { joins.append(join) }
                continue
            }
            switch ns.type {
            case "cgroup": newCgroup = true
            case "time": newTime = true
            case "user":
                newUser = true
                cloneFlags |= flag
            default: cloneFlags |= flag
            }
        }
        // New namespaces must be owned by the user namespace the container lives in: when
        // that one is joined by path, init unshares them after setns (clone would make them
        // children of the host's). A new pid namespace cannot be made that way without a
        // second fork.
        if joins.contains(where: { $0.type == "user" }) {
            if cloneFlags & ProcessControl.newPID != 0 {
                throw RuntimeError("config.json: linux.namespaces: a new pid namespace together with a user namespace joined by path is not supported yet (give the pid namespace a path too)")
            }
            unshareAfterJoin = cloneFlags & ~ProcessControl.newPID
            cloneFlags &= ProcessControl.newPID
        }
        // Enter the user namespace first, the mount namespace last (it hides the others' paths).
        joins.sort { Self.order($0.type) < Self.order($1.type) }
    }

    private static func order(_ type: String) -> Int {
        switch type {
        case "user": 0
        case "mount": 9
        default: 5
        }
    }
}

/// Open namespace files for the joins, opened by the parent so a bad path fails early and
/// names its field.
public struct OpenNamespaces: Sendable {
    public var fds: [(NamespacePlan.Join, FD)] = []

    public init(_ joins: [NamespacePlan.Join]) throws(RuntimeError) {
        for join in joins {
            do {
                let fd = try FileSystem.open(join.path, O_RDONLY | O_NONBLOCK)  // a fifo must not block
                fds.append((join, fd))
            } catch {
                closeAll()
                throw RuntimeError("config.json: \(join.field).path: \(error)")
            }
        }
    }

    public func closeAll() { for (_, fd) in fds { fd.close() } }

    public func enter() throws(RuntimeError) {
        for (join, fd) in fds {
            do {
                try ProcessControl.setns(fd, join.flag, path: join.path)
            } catch {
                throw RuntimeError("config.json: \(join.field): cannot join \(join.type) namespace: \(error)")
            }
        }
    }
}


/// uid_map / gid_map contents. Pure.
public enum IDMaps {
    /// True when this process's user namespace maps all 2^32-1 ids onto themselves (the host's).
    public static func isInitialUserNamespace() -> Bool {
        guard let map = try? FileSystem.readText("/proc/self/uid_map") else { return true }
        let f = map.split(whereSeparator: { $0 == " " || $0 == "\n" })
        return f.count == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295"
    }

    public static func text(_ mappings: [LinuxIDMapping]) -> String {
        mappings.map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
    }

    /// Writes init's uid_map and gid_map (between clone and init going on).
    ///
    /// Root writes both directly. An unprivileged caller may write only a map of its own id
    /// (and for gid_map must first deny setgroups); any other map goes through the setuid
    /// helpers newuidmap/newgidmap (package uidmap), which check /etc/subuid and /etc/subgid.
    public static func write(pid: pid_t, uid: [LinuxIDMapping], gid: [LinuxIDMapping]) throws(RuntimeError) {
        let euid = Identity.euid
        let ownUID = uid.count == 1 && uid[0].size == 1 && uid[0].hostID == euid
        if euid == 0 || ownUID {
            do { try Kernel.writeProc("/proc/\(pid)/uid_map", text(uid)) } catch {
                throw RuntimeError("config.json: linux.uidMappings: \(error)")
            }
        } else {
            try runHelper("newuidmap", pid: pid, uid, field: "linux.uidMappings", file: "/etc/subuid")
        }
        if euid == 0 {
            do { try Kernel.writeProc("/proc/\(pid)/gid_map", text(gid)) } catch {
                throw RuntimeError("config.json: linux.gidMappings: \(error)")
            }
        } else if deniesSetgroups(gid: gid) {
            do {
                try Kernel.writeProc("/proc/\(pid)/setgroups", "deny")
                try Kernel.writeProc("/proc/\(pid)/gid_map", text(gid))
            } catch {
                throw RuntimeError("config.json: linux.gidMappings: \(error)")
            }
        } else {
            try runHelper("newgidmap", pid: pid, gid, field: "linux.gidMappings", file: "/etc/subgid")
        }
    }

    /// True when an unprivileged caller writes this gid map itself, which denies setgroups in
    /// the container (so process.user.additionalGids cannot be set).
    public static func deniesSetgroups(gid: [LinuxIDMapping]) -> Bool {
        Identity.euid != 0 && gid.count == 1 && gid[0].size == 1 && gid[0].hostID == Identity.egid
    }

    static func runHelper(_ name: String, pid: pid_t, _ mappings: [LinuxIDMapping], field: String, file: String) throws(RuntimeError) {
        let dirs = (ProcessControl.getenv("PATH") ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]
        guard let tool = dirs.lazy.map({ $0 + "/" + name }).first(where: { access($0, X_OK) == 0 }) else {
            throw RuntimeError("config.json: \(field): mapping ids other than your own (uid \(Identity.euid), gid \(Identity.egid)) as a non-root user needs \(name) (package uidmap) and ranges in \(file)")
        }
        var args = [tool, "\(pid)"]
        for m in mappings { args += ["\(m.containerID)", "\(m.hostID)", "\(m.size)"] }
        do {
            try HookRunner.runProgram(path: tool, args: args, env: [], stdin: "", timeout: 10)
        } catch {
            throw RuntimeError("config.json: \(field): \(name) failed (are the ranges in \(file)?): \(error.message)")
        }
    }

    /// The host id that `id` inside the namespace maps to, if any.
    public static func host(_ id: UInt32, in mappings: [LinuxIDMapping]) -> UInt32? {
        for m in mappings where id >= m.containerID && UInt64(id) < UInt64(m.containerID) + UInt64(m.size) {
            // nil, not a trap, for a map whose host range runs past 2^32 - 1.
            return UInt32(exactly: UInt64(m.hostID) + UInt64(id - m.containerID))
        }
        return nil
    }

    /// Checks a new user namespace has both maps (what the kernel needs before setuid).
    public static func validate(uid: [LinuxIDMapping]?, gid: [LinuxIDMapping]?) throws(RuntimeError) {
        guard let uid, !uid.isEmpty else {
            throw RuntimeError("config.json: linux.uidMappings: required with a new user namespace")
        }
        guard let gid, !gid.isEmpty else {
            throw RuntimeError("config.json: linux.gidMappings: required with a new user namespace")
        }
        if uid.count > 340 || gid.count > 340 {
            throw RuntimeError("config.json: linux.uidMappings/gidMappings: the kernel takes at most 340 ranges")
        }
    }
}
