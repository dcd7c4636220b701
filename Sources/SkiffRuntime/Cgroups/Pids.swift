import SkiffSpec

/// pids controller, v1 and v2 alike (runc fs/pids.go, fs2/pids.go).
public enum PidsPlan {
    /// PURE. pids.max: a positive limit as is, negative (-1) as "max"; 0 leaves the limit
    /// unset (the spec model decodes a missing `limit` as 0, so `update` with a pids object but
    /// no limit must not reset anything).
    public static func plan(_ p: LinuxPids) -> [CgroupWrite] {
        if p.limit == 0 { return [] }
        return [CgroupWrite("pids.max", p.limit > 0 ? "\(p.limit)" : "max", field: "linux.resources.pids.limit")]
    }
}
