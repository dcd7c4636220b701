import SkiffSpec

/// hugetlb controller (runc fs/hugetlb.go, fs2/hugetlb.go).
public enum HugetlbPlan {
    /// PURE. hugetlb.<size>.limit_in_bytes (v1) or hugetlb.<size>.max (v2), plus the
    /// reservation twin hugetlb.<size>.rsvd.* when the kernel has it (≥5.7).
    public static func plan(_ limits: [LinuxHugepageLimit], v2: Bool) -> [CgroupWrite] {
        let suffix = v2 ? ".max" : ".limit_in_bytes"
        var writes: [CgroupWrite] = []
        for (i, l) in limits.enumerated() {
            let field = "linux.resources.hugepageLimits[\(i)]"
            writes.append(CgroupWrite("hugetlb.\(l.pageSize)\(suffix)", "\(l.limit)", field: field))
            writes.append(CgroupWrite("hugetlb.\(l.pageSize).rsvd\(suffix)", "\(l.limit)", field: field, ignoreMissing: true))
        }
        return writes
    }
}
