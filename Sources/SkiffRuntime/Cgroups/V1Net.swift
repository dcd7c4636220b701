import SkiffSpec

/// cgroup v1 net_cls and net_prio (runc fs/net_cls.go, fs/net_prio.go). cgroup v2 has neither.
public enum V1Net {
    /// PURE. (net_cls writes, net_prio writes): net_cls.classid, one net_prio.ifpriomap
    /// line "ifname priority" per interface.
    public static func plan(_ n: LinuxNetwork) -> (cls: [CgroupWrite], prio: [CgroupWrite]) {
        var cls: [CgroupWrite] = []
        if let id = n.classID, id != 0 {
            cls.append(CgroupWrite("net_cls.classid", "\(id)", field: "linux.resources.network.classID"))
        }
        var prio: [CgroupWrite] = []
        for (i, p) in (n.priorities ?? []).enumerated() {
            prio.append(CgroupWrite("net_prio.ifpriomap", "\(p.name) \(p.priority)", field: "linux.resources.network.priorities[\(i)]"))
        }
        return (cls, prio)
    }
}
