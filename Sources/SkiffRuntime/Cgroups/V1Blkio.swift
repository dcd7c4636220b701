import SkiffSpec

/// cgroup v1 blkio controller (runc fs/blkio.go).
public enum V1Blkio {
    static let field = "linux.resources.blockIO"

    /// PURE. Weights go to blkio.weight / blkio.weight_device (CFQ) or their blkio.bfq.*
    /// twins (BFQ; `weightFile` says which exists); leaf weights; one line per throttled
    /// device, "major:minor rate".
    public static func plan(_ b: LinuxBlockIO, weightFile: String = "blkio.weight") -> [CgroupWrite] {
        let deviceFile = weightFile == "blkio.weight" ? "blkio.weight_device" : "blkio.bfq.weight_device"
        var writes: [CgroupWrite] = []
        if let w = b.weight, w != 0 { writes.append(CgroupWrite(weightFile, "\(w)", field: field + ".weight")) }
        if let w = b.leafWeight, w != 0 { writes.append(CgroupWrite("blkio.leaf_weight", "\(w)", field: field + ".leafWeight")) }
        for (i, d) in (b.weightDevice ?? []).enumerated() {
            let path = field + ".weightDevice[\(i)]"
            if let w = d.weight, w != 0 {
                writes.append(CgroupWrite(deviceFile, "\(d.major):\(d.minor) \(w)", field: path + ".weight"))
            }
            if let w = d.leafWeight, w != 0 {
                writes.append(CgroupWrite("blkio.leaf_weight_device", "\(d.major):\(d.minor) \(w)", field: path + ".leafWeight"))
            }
        }
        let throttles: [(String, [LinuxThrottleDevice]?, String)] = [
            ("throttleReadBpsDevice", b.throttleReadBpsDevice, "blkio.throttle.read_bps_device"),
            ("throttleWriteBpsDevice", b.throttleWriteBpsDevice, "blkio.throttle.write_bps_device"),
            ("throttleReadIOPSDevice", b.throttleReadIOPSDevice, "blkio.throttle.read_iops_device"),
            ("throttleWriteIOPSDevice", b.throttleWriteIOPSDevice, "blkio.throttle.write_iops_device"),
        ]
        for (name, list, file) in throttles {
            for (i, d) in (list ?? []).enumerated() {
                writes.append(CgroupWrite(file, "\(d.major):\(d.minor) \(d.rate)", field: field + ".\(name)[\(i)]"))
            }
        }
        return writes
    }
}
