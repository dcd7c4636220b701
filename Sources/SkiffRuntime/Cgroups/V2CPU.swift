import Glibc
import SkiffSpec

/// cgroup v2 cpu controller (runc fs2/cpu.go).
public enum V2CPU {
    static let field = "linux.resources.cpu"

    /// runc's ConvertCPUSharesToCgroupV2Value (opencontainers/cgroups ≥0.0.2): a quadratic in
    /// log2(shares) mapping [2, 262144] onto [1, 10000] with 1024 → 100. 0 = unset.
    public static func weight(shares: UInt64) -> UInt64 {
        if shares == 0 { return 0 }
        if shares <= 2 { return 1 }
        if shares >= 262_144 { return 10_000 }
        let l = log2(Double(shares))
        let exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0
        return UInt64(ceil(pow(10, exponent)))
    }

    /// PURE. cpu.idle (0 before, 1 after the weight), cpu.weight (converted from shares), cpu.max.burst, cpu.max
    /// ("quota period", quota ≤ 0 → "max", period defaulting to 100000). Realtime
    /// limits do not exist in cgroup v2: an error if set.
    public static func plan(_ c: LinuxCPU) throws(CgroupPlanError) -> [CgroupWrite] {
        if let rt = c.realtimeRuntime, rt != 0 {
            throw CgroupPlanError(field + ".realtimeRuntime", "realtime group scheduling is not supported by cgroup v2")
        }
        if let rt = c.realtimePeriod, rt != 0 {
            throw CgroupPlanError(field + ".realtimePeriod", "realtime group scheduling is not supported by cgroup v2")
        }
        var writes: [CgroupWrite] = []
        let quota = c.quota ?? 0, period = c.period ?? 0
        // The kernel refuses cpu.weight (EINVAL) while cpu.idle is 1: an idle group's weight is
        // the minimum until idle goes back to 0, which restores the weight written before. So
        // idle 0 goes first (a weight in the same config or update then works on a group that
        // was idle), idle 1 last (the weight is kept for later). runc writes idle first and
        // fails on shares + idle 1.
        let idleWrite = c.idle.map { CgroupWrite("cpu.idle", "\($0)", field: field + ".idle") }
        if let idleWrite, c.idle == 0 { writes.append(idleWrite) }
        if let shares = c.shares {
            let w = weight(shares: shares)
            if w != 0 { writes.append(CgroupWrite("cpu.weight", "\(w)", field: field + ".shares")) }
        }
        if let idleWrite, c.idle != 0 { writes.append(idleWrite) }
        if let burst = c.burst {
            writes.append(CgroupWrite("cpu.max.burst", "\(burst)", field: field + ".burst", retryOnEINVAL: quota != 0))
        }
        if quota != 0 || period != 0 {
            let q = quota > 0 ? "\(quota)" : "max"
            writes.append(CgroupWrite("cpu.max", "\(q) \(period == 0 ? 100_000 : period)",
                                      field: field + (quota != 0 ? ".quota" : ".period")))
        }
        return writes
    }
}
