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
            case "user": newUser = true
            default: cloneFlags |= flag
            }
        }
        if newUser || joins.contains(where: { $0.type == "user" }) {
            throw RuntimeError("config.json: linux.namespaces: user namespaces are not supported by this version of skiff yet")
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
                let fd = try FileSystem.open(join.path, O_RDONLY)
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
