import Glibc
import SkiffSystem

/// One mounted cgroup hierarchy: its mount point, the controllers it carries (empty for a
/// named v1 hierarchy such as name=systemd) and whether it is cgroup2.
public struct CgroupHierarchy: Equatable, Sendable {
    public var mountPoint: String
    public var controllers: [String]
    public var isV2: Bool
    /// The path this process sits at within the hierarchy (from /proc/self/cgroup).
    public var ownPath: String
}

/// The host's cgroup layout: v1, v2 unified, or hybrid (v1 controllers plus a cgroup2 mount).
public struct CgroupLayout: Equatable, Sendable {
    public var hierarchies: [CgroupHierarchy]

    public enum Kind: String, Sendable { case v1, v2, hybrid, none }
    public var kind: Kind {
        let v1 = hierarchies.contains { !$0.isV2 }
        let v2 = hierarchies.contains { $0.isV2 }
        switch (v1, v2) {
        case (true, true): return .hybrid
        case (true, false): return .v1
        case (false, true): return .v2
        default: return .none
        }
    }

    /// Pure: builds the layout from /proc/self/mountinfo and /proc/self/cgroup text. Works on
    /// bytes (a Character split costs ~2M instructions per create), with lists instead of sets
    /// and dictionaries (a Set<String>'s first use costs a scan of the runtime's conformance
    /// records, ~100k instructions). A hierarchy mounted more
    /// than once (binds, e.g. the cgroup mounts of a container without its own mount namespace
    /// under its rootfs) counts once: the first, oldest mount, which is the host's own.
    public static func parse(mountinfo: String, procCgroup: String) -> CgroupLayout {
        var mountinfo = mountinfo, procCgroup = procCgroup
        return procCgroup.withUTF8 { cgroup in mountinfo.withUTF8 { parse(mountinfo: $0, procCgroup: cgroup) } }
    }

    /// A field of a line: bytes [start, end) of the text.
    private struct Span {
        var start: Int
        var end: Int
    }

    /// Splits [from, to) of `text` at `separator` into `out` (cleared first), without empty fields.
    private static func split(_ text: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int, _ separator: UInt8,
                              into out: inout [Span]) {
        out.removeAll(keepingCapacity: true)
        var i = from, start = from
        while i <= to {
            if i == to || text[i] == separator {
                if i > start { out.append(Span(start: start, end: i)) }
                start = i + 1
            }
            i += 1
        }
    }

    private static func parse(mountinfo m: UnsafeBufferPointer<UInt8>, procCgroup cg: UnsafeBufferPointer<UInt8>) -> CgroupLayout {
        func text(_ buffer: UnsafeBufferPointer<UInt8>, _ span: Span) -> String {
            String(decoding: UnsafeBufferPointer(rebasing: buffer[span.start..<span.end]), as: UTF8.self)
        }
        func equals(_ buffer: UnsafeBufferPointer<UInt8>, _ span: Span, _ literal: StaticString) -> Bool {
            span.end - span.start == literal.utf8CodeUnitCount
                && memcmp(buffer.baseAddress! + span.start, literal.utf8Start, literal.utf8CodeUnitCount) == 0
        }
        var own: [(controller: String, path: String)] = []  // as in /proc/self/cgroup
        var ownV2 = "/"
        var lines: [Span] = [], parts: [Span] = [], names: [Span] = []
        if cg.count > 0 { split(cg, 0, cg.count, UInt8(ascii: "\n"), into: &lines) }
        for line in lines {
            // hierarchy-id:controllers:path (the path may hold ':')
            guard let c1 = (line.start..<line.end).first(where: { cg[$0] == UInt8(ascii: ":") }),
                  let c2 = (c1 + 1..<line.end).first(where: { cg[$0] == UInt8(ascii: ":") }) else { continue }
            let path = text(cg, Span(start: c2 + 1, end: line.end))
            if equals(cg, Span(start: line.start, end: c1), "0") && c2 == c1 + 1 { ownV2 = path; continue }
            split(cg, c1 + 1, c2, UInt8(ascii: ","), into: &names)
            for name in names { own.append((text(cg, name), path)) }
        }
        let ignored = ["rw", "ro", "relatime", "noatime", "nosuid", "nodev", "noexec", "clone_children",
                       "xattr", "noprefix", "cpuset_v2_mode"]
        var result: [CgroupHierarchy] = []
        var haveV2 = false
        lines.removeAll(keepingCapacity: true)
        if m.count > 0 { split(m, 0, m.count, UInt8(ascii: "\n"), into: &lines) }
        for line in lines {
            // id parent major:minor root mount-point options [optional…] - fstype source super-options
            split(m, line.start, line.end, UInt8(ascii: " "), into: &parts)
            guard let dash = parts.firstIndex(where: { equals(m, $0, "-") }), dash >= 5, parts.count >= dash + 4 else { continue }
            let fstype = parts[dash + 1]
            if equals(m, fstype, "cgroup2") {
                if haveV2 { continue }
                haveV2 = true
                result.append(CgroupHierarchy(mountPoint: Mounts.unescapeMountinfo(text(m, parts[4])), controllers: [], isV2: true, ownPath: ownV2))
            } else if equals(m, fstype, "cgroup") {
                var controllers: [String] = []
                split(m, parts[dash + 3].start, parts[dash + 3].end, UInt8(ascii: ","), into: &names)
                for option in names {
                    let name = text(m, option)
                    if name.hasPrefix("name=") || (!ignored.contains(name) && !name.utf8.contains(UInt8(ascii: "="))) {
                        controllers.append(name)
                    }
                }
                if result.contains(where: { !$0.isV2 && $0.controllers == controllers }) { continue }
                let path = controllers.lazy.compactMap { c in own.first { $0.controller == c }?.path }.first ?? "/"
                result.append(CgroupHierarchy(mountPoint: Mounts.unescapeMountinfo(text(m, parts[4])), controllers: controllers, isV2: false, ownPath: path))
            }
        }
        return CgroupLayout(hierarchies: result)
    }

    /// The hierarchy whose mount holds `path`.
    /// (Mount points come from mountinfo: absolute and clean.)
    public func hierarchy(of path: String) -> CgroupHierarchy? {
        hierarchies.first { h in
            let mount = h.mountPoint
            guard path.hasPrefix(mount) else { return false }
            return path.utf8.count == mount.utf8.count || mount == "/" || path.utf8.dropFirst(mount.utf8.count).first == UInt8(ascii: "/")
        }
    }

    public static func host() -> CgroupLayout {
        let mountinfo = (try? FileSystem.readText("/proc/self/mountinfo")) ?? ""
        let cgroup = (try? FileSystem.readText("/proc/self/cgroup")) ?? ""
        return parse(mountinfo: mountinfo, procCgroup: cgroup)
    }

}

public enum Cgroups {
    /// The cgroup path a container gets inside a hierarchy, as runc's cgroupfs drivers
    /// compute it: cgroupsPath when absolute; otherwise cgroupsPath, or the id when there is
    /// none, below `base` (`relativeBase`). A relative path is cleaned as if rooted first, so
    /// it cannot climb above `base` (runc utils.CleanPath).
    public static func containerPath(cgroupsPath: String?, id: String, base: String) -> String {
        var path = id
        if let given = cgroupsPath, !given.isEmpty { path = given }
        if path.hasPrefix("/") { return cleanPath(path) }
        return cleanPath(base + "/" + cleanPath("/" + path))
    }

    /// What a relative cgroupsPath (or the id, without one) is relative to in hierarchy `h`:
    /// on a pure cgroup v2 host the parent of skiff's own cgroup (runc fs2 defaultDirPath:
    /// the own cgroup, a systemd service or session scope, holds processes, so cgroup v2 would
    /// let no controller be enabled below it: from a shell in foo.service a container lands in
    /// /system.slice/<id>); with v1 hierarchies (v1 and hybrid hosts) skiff's own cgroup in
    /// each (runc fs subsysPath).
    public static func relativeBase(_ h: CgroupHierarchy, layout: CgroupLayout) -> String {
        layout.kind == .v2 ? parentOf(cleanPath(h.ownPath)) : h.ownPath
    }

    /// Host directories for the container, one per hierarchy.
    public static func directories(layout: CgroupLayout, cgroupsPath: String?, id: String) -> [String] {
        layout.hierarchies.map { h in
            cleanPath(h.mountPoint + "/" + containerPath(cgroupsPath: cgroupsPath, id: id, base: relativeBase(h, layout: layout)))
        }
    }

    /// Where skiff before runc's default put a container without cgroupsPath: /skiff/<id> in
    /// every hierarchy (still recognised at delete, for containers made by an older skiff).
    public static func legacyDefaultDirectories(layout: CgroupLayout, id: String) -> [String] {
        layout.hierarchies.map { h in cleanPath(h.mountPoint + "/skiff/" + id) }
    }

    /// Creates the directories (mkdir -p). v1 cpuset directories get their parent's cpus and
    /// mems, without which no process can join them.
    public static func create(_ paths: [String]) throws(RuntimeError) {
        for path in paths {
            do { try createOne(path) } catch { throw RuntimeError("cannot create cgroup: \(error)") }
        }
    }

    static func createOne(_ path: String) throws(SystemError) {
        if isCpuset(path) {
            try createCpuset(path)
        } else {
            if isV2(path) { enableControllers(above: path) }
            try FileSystem.mkdirAll(path)
        }
    }

    /// `create` for directories of known hierarchies (`Placement`): no probing of the
    /// hierarchy type. v1 directories without cpuset are one mkdir(2) when the parent exists.
    public static func create(_ placement: Placement, layout: CgroupLayout, v2: Bool) throws(RuntimeError) {
        do {
            if v2 {
                if let dir = placement.v2Directory {
                    enableControllers(above: dir)
                    try FileSystem.mkdirAll(dir)
                }
                return
            }
            for path in placement.childJoins {
                if layout.hierarchy(of: path)?.controllers.contains("cpuset") ?? isCpuset(path) {
                    try createCpuset(path)
                } else {
                    try FileSystem.createDirectories(path)
                }
            }
        } catch {
            throw RuntimeError("cannot create cgroup: \(error)")
        }
    }

    /// Rootless mode: creates the directories the caller may create (a delegated subtree) and
    /// returns, for every other one, the error that refused it (EACCES, EPERM, EROFS). Any
    /// other failure is thrown.
    public static func createWherePermitted(_ paths: [String]) throws(RuntimeError) -> (created: [String], refused: [String: SystemError]) {
        var created: [String] = []
        var refused: [String: SystemError] = [:]
        for path in paths {
            do {
                try createOne(path)
                created.append(path)
            } catch {
                guard [EACCES, EPERM, EROFS].contains(error.errno) else { throw RuntimeError("cannot create cgroup: \(error)") }
                refused[path] = error
            }
        }
        return (created, refused)
    }

    /// A cgroup2 directory (or one to be created in a cgroup2 hierarchy).
    static func isV2(_ path: String) -> Bool {
        var dir = parentOf(path)
        while dir != "/" && !FileSystem.isDirectory(dir) { dir = parentOf(dir) }
        return FileSystem.exists(dir + "/cgroup.subtree_control")
    }

    /// cgroup2: makes every controller the hierarchy offers available to `path` by adding it
    /// to cgroup.subtree_control of each ancestor from the mount root down (runc fs2
    /// CreateCgroupPath), except one below the root that holds processes itself (e.g. the
    /// service skiff runs in, when an absolute cgroupsPath is below it: cgroup v2 has no
    /// controllers for the children of such a cgroup). Best effort (rootless callers may not
    /// write there either): a field needing a controller that is not enabled then fails
    /// naming the subtree_control file (`Cgroups.apply`).
    static func enableControllers(above path: String) {
        var ancestors: [String] = []
        var mountRoot: String?
        var dir = parentOf(path)
        while dir != "/" {
            ancestors.append(dir)
            let up = parentOf(dir)
            if FileSystem.isDirectory(up) && !FileSystem.exists(up + "/cgroup.subtree_control") { mountRoot = dir; break }
            dir = parentOf(dir)
        }
        for dir in ancestors.reversed() {
            if !FileSystem.isDirectory(dir) {
                guard (try? FileSystem.mkdir(dir)) != nil else { return }
            }
            guard let available = try? FileSystem.readText(dir + "/cgroup.controllers") else { return }
            let enabled = Set(((try? FileSystem.readText(dir + "/cgroup.subtree_control")) ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }))
            let missing = available.split(whereSeparator: { $0 == " " || $0 == "\n" }).filter { !enabled.contains($0) }
            if missing.isEmpty { continue }
            // A cgroup with processes of its own (below the root) is left alone: the kernel
            // refuses the domain controllers there but takes the threaded ones (cpuset, cpu,
            // pids), which would turn its new children "domain invalid" (joining them fails
            // with EOPNOTSUPP) and change, for good, a cgroup that is not the container's
            // (e.g. the service skiff runs in, when cgroupsPath is below it).
            if dir != mountRoot, !(((try? FileSystem.readText(dir + "/cgroup.procs")) ?? "").isEmpty) { return }
            if (try? Cgroups.writeFile(dir + "/cgroup.subtree_control", missing.map { "+" + $0 }.joined(separator: " "))) == nil {
                for c in missing { try? Cgroups.writeFile(dir + "/cgroup.subtree_control", "+" + c) }
            }
        }
    }

    static func isCpuset(_ path: String) -> Bool {
        FileSystem.exists(parentOf(path) + "/cpuset.cpus") || path.includes("/cpuset/") || path.includes("/cpuset,")
    }

    static func parentOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// runc's v1 cpuset rule (cgroups/fs/cpuset.go): every directory from below the
    /// hierarchy's mount down to `path` is made if missing and, where its cpuset.cpus or
    /// cpuset.mems is empty (a new directory, or an existing pod-level parent made by someone
    /// else), given its parent's — a process cannot join, and a child cannot be given cpus,
    /// under an empty cpuset (ENOSPC).
    static func createCpuset(_ path: String) throws(SystemError) {
        try ensureCpusetParent(parentOf(path))
        if !FileSystem.isDirectory(path) { try FileSystem.mkdir(path) }
        try copyCpusetIfNeeded(path, from: parentOf(path))
    }

    /// cpusetEnsureParent: stops at the mount (whose parent is not a cgroup file system).
    static func ensureCpusetParent(_ current: String) throws(SystemError) {
        let parent = parentOf(current)
        if parent == current { return }
        if let fd = try? FileSystem.open(parent, O_PATH | O_DIRECTORY) {
            let type = Mounts.filesystemType(fd)
            fd.close()
            if type != Mounts.cgroupMagic { return }
        }
        try ensureCpusetParent(parent)
        if !FileSystem.isDirectory(current) { try FileSystem.mkdir(current) }
        try copyCpusetIfNeeded(current, from: parent)
    }

    static func copyCpusetIfNeeded(_ current: String, from parent: String) throws(SystemError) {
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let mine = (try? FileSystem.readText(current + "/" + file))?.trimmingWhitespace() ?? ""
            if mine.isEmpty, let inherited = try? FileSystem.readText(parent + "/" + file) {
                let value = inherited.trimmingWhitespace()
                if !value.isEmpty { try FileSystem.writeExisting(current + "/" + file, value) }
            }
        }
    }

    /// For `update`: the container's v1 cpuset directory and its ancestors get cpus and mems
    /// where theirs are empty, before new values are written (see `createCpuset`).
    public static func fillCpusetAncestors(_ paths: [String], layout: CgroupLayout) throws(RuntimeError) {
        for path in paths where FileSystem.isDirectory(path) {
            guard let h = layout.hierarchy(of: path), !h.isV2, h.controllers.contains("cpuset") else { continue }
            do { try createCpuset(path) } catch { throw RuntimeError("cannot update cgroup: \(error)") }
        }
    }

    /// Pids in the container's cgroup (every process, nested cgroups included).
    public static func pids(_ paths: [String]) -> [Int32] {
        guard let path = paths.first(where: { FileSystem.isDirectory($0) }) else { return [] }
        var result: [Int32] = []
        func walk(_ dir: String) {
            if let text = try? FileSystem.readText(dir + "/cgroup.procs") {
                result += text.split(separator: "\n").compactMap { Int32($0) }
            }
            // In cgroupfs only sub-cgroups are directories.
            for name in (try? FileSystem.list(dir)) ?? [] where FileSystem.isDirectory(dir + "/" + name) {
                walk(dir + "/" + name)
            }
        }
        walk(path)
        return Array(Set(result)).sorted()
    }

    /// v1 freezer.state (FROZEN, or FREEZING with `orFreezing`), else v2 cgroup.freeze.
    public static func isFrozen(_ paths: [String], orFreezing: Bool = false) -> Bool {
        switch freezer(paths) {
        case .v1(let dir)?:
            let text = (try? FileSystem.readText(dir + "/freezer.state")) ?? ""
            return text.hasPrefix("FROZEN") || (orFreezing && text.hasPrefix("FREEZING"))
        case .v2(let dir)?:
            return ((try? FileSystem.readText(dir + "/cgroup.freeze")) ?? "").hasPrefix("1")
        case nil:
            return false
        }
    }

    /// The ancestors of the container directories that create will make (mkdir -p): for each
    /// path, the topmost missing one. Delete removes them again when empty (runtime-spec: delete
    /// removes what create made). None without cgroupsPath: the container's cgroup is then
    /// made directly below an existing one (`relativeBase`).
    public static func missingParents(_ paths: [String], cgroupsPath: String?) -> [String] {
        guard let given = cgroupsPath, !given.isEmpty else { return [] }
        var result: [String] = []
        for path in paths {
            var dir = parentOf(path), top: String? = nil
            while dir != "/" && !FileSystem.isDirectory(dir) {
                top = dir
                dir = parentOf(dir)
            }
            if let top { result.append(top) }
        }
        return result
    }

    /// Removes the directories and every cgroup nested under them, deepest first. Retries
    /// briefly while the last processes are still exiting. Then removes the `createdParents`
    /// (from `missingParents`) and what lies between them and the paths, where empty.
    public static func destroy(_ paths: [String], createdParents: [String] = [], attempts: Int = 50) throws(RuntimeError) {
        defer {
            for path in paths {
                var dir = parentOf(path)
                while createdParents.contains(where: { dir == $0 || dir.hasPrefix($0 + "/") }), Glibc.rmdir(dir) == 0 {
                    dir = parentOf(dir)
                }
            }
        }
        var failure: SystemError?
        for path in paths {
            for attempt in 0..<attempts {
                do {
                    try removeTree(path)
                    failure = nil
                    break
                } catch {
                    failure = error
                    if error.errno != EBUSY || attempt == attempts - 1 { break }
                    Clock.sleep(milliseconds: attempt < 10 ? 2 : 20)
                }
            }
            if let failure { throw RuntimeError("cannot remove cgroup: \(failure)") }
        }
    }

    static func removeTree(_ path: String) throws(SystemError) {
        // Usually there is nothing nested: one rmdir, no listing (a stat per cgroupfs file).
        if Glibc.rmdir(path) == 0 { return }
        let first = currentErrno()
        if first == ENOENT { return }
        guard first == EBUSY || first == ENOTEMPTY else { throw SystemError("rmdir", path, errno: first) }
        // In cgroupfs only sub-cgroups are directories.
        for name in try FileSystem.list(path) where FileSystem.isDirectory(path + "/" + name) {
            try removeTree(path + "/" + name)
        }
        if Glibc.rmdir(path) != 0 {
            let e = currentErrno()
            if e != ENOENT { throw SystemError("rmdir", path, errno: e) }
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\n" || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\n" || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}

extension Cgroups {
    /// Where a new process gets placed without the expensive path.
    ///
    /// Writing another process's pid to cgroup.procs takes the global cgroup threadgroup lock
    /// for writing, which waits for an RCU grace period (5-10 ms on a small VM, once per
    /// create). A single-threaded process moving *itself* by writing 0 to a v1 hierarchy's
    /// `tasks` file skips that lock; on cgroup2, clone3(CLONE_INTO_CGROUP) places the child
    /// at fork under the read side. So: the parent opens the v2 directory for clone3, and the
    /// child joins the v1 hierarchies itself.
    public struct Placement: Sendable {
        /// cgroup2 directory for CLONE_INTO_CGROUP (nil: none, or not a cgroup2 path).
        public var v2Directory: String?
        /// Directories the child joins by writing 0 to `tasks` (v1) or its pid to
        /// cgroup.procs (v2, when clone3 could not place it).
        public var childJoins: [String]
    }

    /// Pure: the placement of directories of `layout`'s hierarchies (they need not exist yet).
    public static func placement(_ paths: [String], layout: CgroupLayout) -> Placement {
        placement(paths) { layout.hierarchy(of: $0)?.isV2 == true }
    }

    /// The placement of existing directories, by their files.
    public static func placement(_ paths: [String]) -> Placement {
        placement(paths) { !FileSystem.exists($0 + "/tasks") && FileSystem.exists($0 + "/cgroup.procs") }
    }

    /// The first cgroup2 directory (by `isV2`) goes to clone3, the rest to the child.
    private static func placement(_ paths: [String], isV2: (String) -> Bool) -> Placement {
        var v2: String? = nil
        var joins: [String] = []
        for path in paths {
            if v2 == nil, isV2(path) {
                v2 = path
            } else {
                joins.append(path)
            }
        }
        return Placement(v2Directory: v2, childJoins: joins)
    }

    /// fork(2)-like clone into new namespaces, straight into the cgroup2 directory when the
    /// kernel can (clone3); returns the pid (0 in the child) and what the child must join
    /// itself with `joinSelf`.
    public static func clone(flags: UInt64, into paths: [String]) throws(SystemError) -> (pid: pid_t, childJoins: [String]) {
        try clone(flags: flags, placement: placement(paths))
    }

    /// As above, for a placement whose cgroup2 directory exists (the v1 ones need not yet:
    /// the child joins them when told to go on).
    public static func clone(flags: UInt64, placement: Placement) throws(SystemError) -> (pid: pid_t, childJoins: [String]) {
        var placement = placement
        let v2Dir = placement.v2Directory.flatMap { try? FileSystem.open($0, O_RDONLY | O_DIRECTORY) }
        defer { v2Dir?.close() }
        do {
            let pid = try ProcessControl.clone(flags: flags, cgroupFD: v2Dir?.raw ?? -1).pid
            return (pid, placement.childJoins)
        } catch {
            // No clone3, or it refused the cgroup: the child joins the cgroup2 directory too.
            guard v2Dir != nil, let v2 = placement.v2Directory else { throw error }
            placement.childJoins.append(v2)
            return (try ProcessControl.clone(flags: flags).pid, placement.childJoins)
        }
    }

    /// Run by the new process itself (single-threaded): joins every directory.
    public static func joinSelf(_ paths: [String]) throws(RuntimeError) {
        for path in paths {
            do {
                // v1 `tasks` (no global lock for a thread moving itself); cgroup2 has none.
                do { try FileSystem.writeExisting(path + "/tasks", "0") } catch {
                    guard error.errno == ENOENT else { throw error }
                    try FileSystem.writeExisting(path + "/cgroup.procs", "0")
                }
            } catch {
                throw RuntimeError("cannot join cgroup: \(error)")
            }
        }
    }
}
