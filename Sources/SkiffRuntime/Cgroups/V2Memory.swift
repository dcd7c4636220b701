import SkiffSpec

/// cgroup v2 memory controller (runc fs2/memory.go).
public enum V2Memory {
    static let field = "linux.resources.memory"

    /// runc's ConvertMemorySwapToCgroupV2Value: the spec's swap is memory+swap (v1 memsw),
    /// v2's memory.swap.max is swap alone. 0 = unset, -1 = max.
    public static func swapValue(swap: Int64, memory: Int64) throws(CgroupPlanError) -> Int64 {
        switch true {
        case memory == -1 && swap == 0: return -1
        case swap == -1 || swap == 0: return swap
        case memory == -1: return swap
        case memory == 0: throw CgroupPlanError(field + ".swap", "unable to set swap limit without memory limit")
        case memory < 0: throw CgroupPlanError(field + ".limit", "invalid memory value: \(memory)")
        case swap < memory: throw CgroupPlanError(field + ".swap", "memory+swap limit should be >= memory limit")
        default: return swap - memory
        }
    }

    static func text(_ value: Int64) -> String? {
        switch value {
        case 0: nil
        case -1: "max"
        default: "\(value)"
        }
    }

    /// PURE. memory.swap.max (from the converted swap; "max" or "0" are skipped when the
    /// kernel has no swap), memory.max, memory.low. Swappiness, disableOOMKiller, kernel
    /// memory have no cgroup v2 file and are ignored as runc does.
    public static func plan(_ m: LinuxMemory) throws(CgroupPlanError) -> [CgroupWrite] {
        let limit = m.limit ?? 0, swap = m.swap ?? 0, reservation = m.reservation ?? 0
        guard limit != 0 || swap != 0 || reservation != 0 else { return [] }
        var writes: [CgroupWrite] = []
        let converted = try swapValue(swap: swap, memory: limit)
        var swapText = text(converted)
        if swapText == nil && converted == 0 && swap > 0 { swapText = "0" }  // memory == memory+swap: no swap
        if let swapText {
            writes.append(CgroupWrite("memory.swap.max", swapText, field: field + ".swap",
                                      ignoreMissing: swapText == "max" || swapText == "0"))
        }
        if let v = text(limit) { writes.append(CgroupWrite("memory.max", v, field: field + ".limit")) }
        if let v = text(reservation) { writes.append(CgroupWrite("memory.low", v, field: field + ".reservation")) }
        return writes
    }
}
