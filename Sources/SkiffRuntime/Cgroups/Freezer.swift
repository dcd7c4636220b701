import Glibc
import SkiffSpec
import SkiffSystem

/// Freezing and thawing a container's cgroup: the v1 freezer hierarchy when mounted (what
/// `isFrozen` reads first), else cgroup2's cgroup.freeze.
extension Cgroups {
    /// The directory and kind of freezer serving `paths`.
    enum FreezerKind: Equatable {
        case v1(String), v2(String)
    }

    static func freezer(_ paths: [String]) -> FreezerKind? {
        // The v1 freezer hierarchy is usually mounted at .../freezer: ask it first.
        let v1First = paths.filter { $0.includes("/freezer") } + paths.filter { !$0.includes("/freezer") }
        if let p = v1First.first(where: { FileSystem.exists($0 + "/freezer.state") }) { return .v1(p) }
        if let p = paths.first(where: { FileSystem.exists($0 + "/cgroup.freeze") }) { return .v2(p) }
        return nil
    }

    /// Freezes every process of the container and returns once the kernel reports it frozen.
    /// v1: write FROZEN until freezer.state reads FROZEN, thawing briefly every 50 tries
    /// (runc fs/freezer.go); v2: cgroup.freeze 1, then wait ≤10 s for "frozen 1" in
    /// cgroup.events. On failure the cgroup is thawed again.
    public static func freeze(_ paths: [String]) throws(RuntimeError) {
        switch freezer(paths) {
        case nil:
            throw RuntimeError("cannot pause: no freezer cgroup for this container (neither freezer.state nor cgroup.freeze exists)")
        case .v1(let dir)?:
            let file = dir + "/freezer.state"
            for i in 0..<1000 {
                if i % 50 == 49 {
                    try? writeFile(file, "THAWED")
                    Clock.sleep(milliseconds: 10)
                }
                do { try writeFile(file, "FROZEN") } catch {
                    try? writeFile(file, "THAWED")
                    throw RuntimeError("cannot pause: \(error)")
                }
                if i % 25 == 24 { Clock.sleep(milliseconds: 1) }
                let state = ((try? FileSystem.readText(file)) ?? "").trimmingWhitespace()
                switch state {
                case "FROZEN": return
                case "FREEZING": continue
                default:
                    try? writeFile(file, "THAWED")
                    throw RuntimeError("cannot pause: unexpected freezer state \"\(state)\" while freezing")
                }
            }
            try? writeFile(file, "THAWED")
            throw RuntimeError("cannot pause: unable to freeze \(dir)")
        case .v2(let dir)?:
            do { try writeFile(dir + "/cgroup.freeze", "1") } catch { throw RuntimeError("cannot pause: \(error)") }
            for _ in 0..<1000 {
                if v2Frozen(dir) { return }
                Clock.sleep(milliseconds: 10)
            }
            try? writeFile(dir + "/cgroup.freeze", "0")
            throw RuntimeError("cannot pause: timeout of 10s reached waiting for \(dir) to freeze")
        }
    }

    /// The cgroup that would hold a new process of the container stopped, or nil: for each
    /// path the directory itself or, while it does not exist yet, its nearest existing
    /// ancestor (a new child inherits its freezer state), FROZEN or FREEZING in v1, "frozen 1"
    /// in v2. runc refuses such a cgroup ("container's cgroup unexpectedly frozen"): init
    /// would stop in it before it reports anything.
    static func frozenDirectory(_ paths: [String]) -> String? {
        for path in paths {
            var dir = path
            while !FileSystem.isDirectory(dir), let slash = dir.lastIndex(of: "/"), slash != dir.startIndex {
                dir = String(dir[..<slash])
            }
            if let state = try? FileSystem.readText(dir + "/freezer.state") {
                let trimmed = state.trimmingWhitespace()
                if trimmed == "FROZEN" || trimmed == "FREEZING" { return dir }
            } else if v2Frozen(dir) {
                return dir
            }
        }
        return nil
    }

    /// A process in a frozen v1 freezer cgroup cannot even die of SIGKILL: moved to the
    /// hierarchy's root (thawed) it can. cgroup2 lets SIGKILL through a frozen cgroup.
    static func releaseFromFrozen(_ pid: pid_t, _ paths: [String]) {
        guard let dir = frozenDirectory(paths), FileSystem.exists(dir + "/freezer.state") else { return }
        for h in CgroupLayout.host().hierarchies where h.controllers.contains("freezer") && dir.hasPrefix(h.mountPoint + "/") {
            try? writeFile(h.mountPoint + "/cgroup.procs", "\(pid)")
        }
    }

    /// cgroup.events says "frozen 1".
    static func v2Frozen(_ dir: String) -> Bool {
        guard let text = try? FileSystem.readText(dir + "/cgroup.events") else { return false }
        return text.split(separator: "\n").contains("frozen 1")
    }

    /// Thaws, reporting failures (unlike `thaw`, which is best effort).
    public static func unfreeze(_ paths: [String]) throws(RuntimeError) {
        let target: (String, String)
        switch freezer(paths) {
        case nil: throw RuntimeError("cannot resume: no freezer cgroup for this container")
        case .v1(let dir)?: target = (dir + "/freezer.state", "THAWED")
        case .v2(let dir)?: target = (dir + "/cgroup.freeze", "0")
        }
        do { try writeFile(target.0, target.1) } catch { throw RuntimeError("cannot resume: \(error)") }
    }
}
