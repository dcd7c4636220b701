import SkiffSystem

extension Cgroups {
    /// PURE. Whether the recorded cgroup directories can be trusted as the container's: each
    /// is a clean path inside a cgroup hierarchy of `layout`, not that hierarchy's root, and
    /// the process whose /proc/<pid>/cgroup is `procCgroup` (the container's init) sits in it
    /// or below it (a container may move itself into a sub-cgroup). State that names other
    /// cgroups (forged or stale) fails, so nothing outside the container is signalled.
    public static func holdProcess(_ paths: [String], procCgroup: String, layout: CgroupLayout) -> Bool {
        // Lines "hierarchy-id:controllers:path"; v2's controllers field is empty.
        var placements: [(controllers: Set<Substring>, path: Substring)] = []
        for line in procCgroup.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            placements.append((Set(fields[1].split(separator: ",")), fields[2]))
        }
        for path in paths {
            guard isContainerCgroup(path, layout: layout), let h = layout.hierarchy(of: path) else { return false }
            let relative = h.mountPoint == "/" ? path : String(path.dropFirst(h.mountPoint.count))
            let wanted = Set(h.controllers.map { Substring($0) })
            guard let placement = placements.first(where: { h.isV2 ? $0.controllers.isEmpty : $0.controllers == wanted }) else {
                return false
            }
            let at = placement.path
            if !(at == relative || at.hasPrefix(relative + "/")) { return false }
        }
        return true
    }

    /// PURE. A clean absolute path inside a cgroup hierarchy of `layout`, not its root.
    public static func isContainerCgroup(_ path: String, layout: CgroupLayout) -> Bool {
        guard path.hasPrefix("/"), cleanPath(path) == path, let h = layout.hierarchy(of: path) else { return false }
        let relative = h.mountPoint == "/" ? path : String(path.dropFirst(h.mountPoint.count))
        return !(relative.isEmpty || relative == "/")
    }
}
