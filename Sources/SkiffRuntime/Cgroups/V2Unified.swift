import SkiffSpec

/// `linux.resources.unified`: raw cgroup v2 files (runc fs2.setUnified).
public enum V2Unified {
    /// PURE. One write per key, keys in name order; a multi-line value is written line by
    /// line. Keys must be plain "controller.parameter" file names. `available` are the v2
    /// controllers enabled for the container (nil: don't check).
    public static func plan(_ unified: [String: String], available: Set<String>? = nil) throws(CgroupPlanError) -> [CgroupWrite] {
        var writes: [CgroupWrite] = []
        for key in unified.keys.sorted() {
            let field = JSONPath.appending("linux.resources.unified", key: key)
            if key.contains("/") || key == "." || key == ".." || key.isEmpty {
                throw CgroupPlanError(field, "unified resource \"\(key)\" must be a file name (no slashes)")
            }
            guard let dot = key.firstIndex(of: "."), dot != key.startIndex else {
                throw CgroupPlanError(field, "unified resource \"\(key)\" must be in the form CONTROLLER.PARAMETER")
            }
            let controller = String(key[..<dot])
            if let available, controller != "cgroup", !available.contains(controller) {
                // runc's phrase ("invalid configuration"), which its tests match; runc refuses any
                // unified key on a host that is not cgroup2-only (README "Differences").
                throw CgroupPlanError(field, "unified resource \"\(key)\" can't be set: invalid configuration: controller \"\(controller)\" not available in cgroup v2 on this host")
            }
            let lines = unified[key]!.split(separator: "\n").map(String.init)
            for line in lines.isEmpty ? [""] : lines {
                writes.append(CgroupWrite(key, line, field: field))
            }
        }
        return writes
    }
}
