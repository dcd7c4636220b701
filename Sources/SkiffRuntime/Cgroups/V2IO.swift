import SkiffSpec

/// cgroup v2 io controller (runc fs2/io.go).
public enum V2IO {
    static let field = "linux.resources.blockIO"

    /// runc's ConvertBlkIOToIOWeightValue: blkio weight [10, 1000] → io.weight [1, 10000].
    public static func weight(blkio: UInt16) -> UInt64 {
        if blkio == 0 { return 0 }
        return 1 + (UInt64(blkio) &- 10) &* 9999 / 990
    }

    /// PURE. The weight goes to io.bfq.weight unchanged when BFQ is there, else converted to
    /// io.weight. Per-device weights only with a BFQ that takes them (as runc; otherwise they
    /// are ignored); leaf weights have no v2 file. Throttles: io.max "major:minor rbps=N" etc.
    public static func plan(_ b: LinuxBlockIO, facts: CgroupFacts) -> [CgroupWrite] {
        var writes: [CgroupWrite] = []
        if let w = b.weight, w != 0 {
            if facts.v2BFQ {
                writes.append(CgroupWrite("io.bfq.weight", "\(w)", field: field + ".weight"))
            } else {
                writes.append(CgroupWrite("io.weight", "\(weight(blkio: w))", field: field + ".weight"))
            }
        }
        if facts.v2BFQPerDevice {
            for (i, d) in (b.weightDevice ?? []).enumerated() {
                if let w = d.weight, w != 0 {
                    writes.append(CgroupWrite("io.bfq.weight", "\(d.major):\(d.minor) \(w)", field: field + ".weightDevice[\(i)].weight"))
                }
            }
        }
        let throttles: [(String, [LinuxThrottleDevice]?, String)] = [
            ("throttleReadBpsDevice", b.throttleReadBpsDevice, "rbps"),
            ("throttleWriteBpsDevice", b.throttleWriteBpsDevice, "wbps"),
            ("throttleReadIOPSDevice", b.throttleReadIOPSDevice, "riops"),
            ("throttleWriteIOPSDevice", b.throttleWriteIOPSDevice, "wiops"),
        ]
        for (name, list, key) in throttles {
            for (i, d) in (list ?? []).enumerated() {
                writes.append(CgroupWrite("io.max", "\(d.major):\(d.minor) \(key)=\(d.rate)", field: field + ".\(name)[\(i)]"))
            }
        }
        return writes
    }
}
