import SkiffSpec

/// cgroup v1 cpu and cpuset controllers (runc fs/cpu.go, fs/cpuset.go).
public enum V1CPU {
    static let field = "linux.resources.cpu"

    /// PURE. cpu.shares, cpu.cfs_period_us, cpu.cfs_burst_us, cpu.cfs_quota_us, cpu.idle,
    /// cpu.rt_period_us, cpu.rt_runtime_us. A period or burst the kernel rejects against the
    /// old quota (EINVAL) is retried after the quota; likewise rt period after rt runtime.
    public static func plan(_ c: LinuxCPU) -> [CgroupWrite] {
        var writes: [CgroupWrite] = []
        let quota = c.quota ?? 0
        if let shares = c.shares, shares != 0 {
            writes.append(CgroupWrite("cpu.shares", "\(shares)", field: field + ".shares"))
        }
        if let period = c.period, period != 0 {
            writes.append(CgroupWrite("cpu.cfs_period_us", "\(period)", field: field + ".period", retryOnEINVAL: quota != 0))
        }
        if let burst = c.burst {
            writes.append(CgroupWrite("cpu.cfs_burst_us", "\(burst)", field: field + ".burst",
                                      retryOnEINVAL: quota != 0, ignoreMissing: true))
        }
        if quota != 0 {
            writes.append(CgroupWrite("cpu.cfs_quota_us", "\(quota)", field: field + ".quota"))
        }
        if let idle = c.idle {
            writes.append(CgroupWrite("cpu.idle", "\(idle)", field: field + ".idle"))
        }
        let runtime = c.realtimeRuntime ?? 0
        if let period = c.realtimePeriod, period != 0 {
            writes.append(CgroupWrite("cpu.rt_period_us", "\(period)", field: field + ".realtimePeriod", retryOnEINVAL: runtime != 0))
        }
        if runtime != 0 {
            writes.append(CgroupWrite("cpu.rt_runtime_us", "\(runtime)", field: field + ".realtimeRuntime"))
        }
        return writes
    }

    /// PURE. cpuset.cpus and cpuset.mems (the same files on v1 and v2).
    public static func cpusetPlan(_ c: LinuxCPU) -> [CgroupWrite] {
        var writes: [CgroupWrite] = []
        if let cpus = c.cpus, !cpus.isEmpty { writes.append(CgroupWrite("cpuset.cpus", cpus, field: field + ".cpus")) }
        if let mems = c.mems, !mems.isEmpty { writes.append(CgroupWrite("cpuset.mems", mems, field: field + ".mems")) }
        return writes
    }
}
