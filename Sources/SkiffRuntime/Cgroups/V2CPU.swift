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

    /// PURE. cpu.idle, cpu.weight (converted from shares), cpu.max.burst, cpu.max
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
        if let idle = c.idle {
            writes.append(CgroupWrite("cpu.idle", "\(idle)", field: field + ".idle"))
        }
        if let shares = c.shares {
            let w = weight(shares: shares)
            if w != 0 { writes.append(CgroupWrite("cpu.weight", "\(w)", field: field + ".shares")) }
        }
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
