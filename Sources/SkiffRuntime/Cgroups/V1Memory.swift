import SkiffSpec

/// cgroup v1 memory controller (runc fs/memory.go).
public enum V1Memory {
    static let field = "linux.resources.memory"

    /// PURE. memory.limit_in_bytes, memory.memsw.limit_in_bytes (memory+swap, as the spec's
    /// `swap`), memory.soft_limit_in_bytes, memory.oom_control, memory.swappiness.
    /// Limit -1 with no swap given also lifts memsw (when swap accounting exists). When both
    /// are set, memsw goes first if it grows past the current limit (the kernel requires
    /// limit ≤ memsw at every step). kernelTCP goes to memory.kmem.tcp.limit_in_bytes (as crun;
    /// kernels still honour it); kernel is ignored (runc ≥1.1; kernels ≥5.16 ignore the file; `apply` warns).
    public static func plan(_ m: LinuxMemory, facts: CgroupFacts) throws(CgroupPlanError) -> [CgroupWrite] {
        var writes: [CgroupWrite] = []
        let limit = m.limit ?? 0
        var swap = m.swap ?? 0
        if limit == -1 && swap == 0 && facts.v1SwapAccounting { swap = -1 }
        if swap != 0 && !facts.v1SwapAccounting {
            throw CgroupPlanError(field + ".swap",
                                  "swap accounting is not enabled on this host (no memory.memsw.limit_in_bytes; boot with swapaccount=1)")
        }
        let limitWrite = CgroupWrite("memory.limit_in_bytes", "\(limit)", field: field + ".limit")
        let swapWrite = CgroupWrite("memory.memsw.limit_in_bytes", "\(swap)", field: field + ".swap")
        if limit != 0 && swap != 0 {
            let current = facts.currentMemoryLimit.map { UInt64(bitPattern: $0) } ?? UInt64.max
            if swap == -1 || current < UInt64(bitPattern: swap) {
                writes += [swapWrite, limitWrite]
            } else {
                writes += [limitWrite, swapWrite]
            }
        } else {
            if limit != 0 { writes.append(limitWrite) }
            if swap != 0 { writes.append(swapWrite) }
        }
        if let reservation = m.reservation, reservation != 0 {
            writes.append(CgroupWrite("memory.soft_limit_in_bytes", "\(reservation)", field: field + ".reservation"))
        }
        if m.disableOOMKiller == true {
            writes.append(CgroupWrite("memory.oom_control", "1", field: field + ".disableOOMKiller"))
        }
        if let tcp = m.kernelTCP, tcp != 0 {
            writes.append(CgroupWrite("memory.kmem.tcp.limit_in_bytes", "\(tcp)", field: field + ".kernelTCP", ignoreMissing: true))
        }
        // -1 as uint64 means "leave as is" (runc).
        if let swappiness = m.swappiness, swappiness != UInt64.max {
            guard swappiness <= 100 else {
                throw CgroupPlanError(field + ".swappiness", "invalid memory swappiness value: \(swappiness) (valid range is 0-100)")
            }
            writes.append(CgroupWrite("memory.swappiness", "\(swappiness)", field: field + ".swappiness"))
        }
        return writes
    }
}
