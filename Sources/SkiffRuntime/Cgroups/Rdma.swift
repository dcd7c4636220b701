import SkiffSpec

/// rdma controller, v1 and v2 alike (runc fscommon/rdma.go).
public enum RdmaPlan {
    /// PURE. One rdma.max line per device: "mlx4_0 hca_handle=2 hca_object=2000", devices
    /// in name order.
    public static func plan(_ rdma: [String: LinuxRdma]) -> [CgroupWrite] {
        rdma.keys.sorted().map { device in
            let l = rdma[device]!
            var line = device
            if let h = l.hcaHandles { line += " hca_handle=\(h)" }
            if let o = l.hcaObjects { line += " hca_object=\(o)" }
            return CgroupWrite("rdma.max", line, field: JSONPath.appending("linux.resources.rdma", key: device))
        }
    }
}
