import Foundation
import Glibc
import Testing

extension Integration {
    /// Where the cgroupfs driver puts a container and what its cgroup mount shows, compared
    /// with runc 1.1.5 in the VM (scripts/vm: systemd, pure cgroup v2; the tests run inside
    /// skiff-vm.service): a relative cgroupsPath, and the id when there is none, go below the
    /// parent of the caller's cgroup on a pure v2 host (runc fs2; from foo.service:
    /// /system.slice/<id>) and below the caller's own cgroup in each v1 hierarchy (runc fs);
    /// without a cgroup namespace the container sees the host's whole cgroup2 hierarchy.
    @Suite struct CgroupV2 {
        static var pureV2: Bool { Paths.ready && fileExists("/sys/fs/cgroup/cgroup.controllers") }

        /// The caller's cgroups as /proc/self/cgroup lists them: hierarchy id and controllers
        /// ("0:" for cgroup2) → path.
        static func ownCgroups() -> [(key: String, path: String)] {
            (readFile("/proc/self/cgroup") ?? "").split(separator: "\n").compactMap { line in
                let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                guard parts.count == 3 else { return nil }
                return ("\(parts[0]):\(parts[1])", String(parts[2]))
            }
        }

        static var ownV2: String { ownCgroups().first { $0.key == "0:" }?.path ?? "/" }

        static func parent(_ path: String) -> String {
            guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
            return String(path[..<slash])
        }

        static func join(_ base: String, _ rel: String) -> String { base == "/" ? "/" + rel : base + "/" + rel }

        /// The host directory of a container made without cgroupsPath by this process: on pure
        /// v2 the cgroup2 one, else the one in the v1 hierarchy mounted at /sys/fs/cgroup/`v1`.
        static func defaultDirectory(_ id: String, v1 hierarchy: String = "pids") -> String {
            if pureV2 { return "/sys/fs/cgroup" + join(parent(ownV2), id) }
            let own = ownCgroups().first { $0.key.split(separator: ":").last.map { $0.split(separator: ",").contains(Substring(hierarchy)) } ?? false }
            return "/sys/fs/cgroup/\(hierarchy)" + join(own?.path ?? "/", id)
        }

        /// A relative cgroupsPath on a pure v2 host: below the parent of skiff's cgroup, as runc
        /// (the tests' own cgroup is skiff-vm.service's, which holds processes; below it the
        /// container could get no controller). Before: below skiff's own cgroup, where create
        /// failed (`cannot join cgroup: … operation not supported`) and skiff had enabled cpuset,
        /// cpu and pids in the service's cgroup.subtree_control for good.
        @Test(.enabled(if: CgroupV2.pureV2)) func relativeCgroupsPathIsBelowTheParentOfTheCallersCgroup() throws {
            let h = try Harness()
            let tag = "skiffit-rel-\(UInt32.random(in: 0..<UInt32.max))"
            let own = Self.ownV2
            let subtree = readFile("/sys/fs/cgroup\(own)/cgroup.subtree_control")
            let bundle = try Bundle.make(from: "sleep", in: h) { c in
                c["linux.cgroupsPath"] = "\(tag)/../\(tag)/c"
                c["linux.resources"] = ["memory": ["limit": 134_217_728], "pids": ["limit": 50]] as [String: Any]
            }
            let id = h.newID()
            let r = h.skiff("create", "-b", bundle.path, id)
            try #require(r.status == 0, "\(r)")
            let want = Self.join(Self.parent(own), "\(tag)/c")
            #expect(readFile("/proc/\(h.pid(id))/cgroup") == "0::\(want)\n", "own cgroup \(own)")
            #expect(readFile("/sys/fs/cgroup\(want)/memory.max") == "134217728\n")
            #expect(readFile("/sys/fs/cgroup\(want)/pids.max") == "50\n")
            #expect(readFile("/sys/fs/cgroup\(own)/cgroup.subtree_control") == subtree, "skiff changed its own cgroup's subtree_control")
            let d = h.skiff("delete", "--force", id)
            #expect(d.status == 0, "\(d)")
            #expect(!fileExists("/sys/fs/cgroup" + Self.join(Self.parent(own), tag)), "the parent create made is left")
            h.expectNothingLeft(id)
        }

        /// Without cgroupsPath the cgroup is <id> relative to the caller's (runc: an empty
        /// cgroupsPath is the id, a relative path): on pure v2 below the parent of the caller's
        /// cgroup (in the VM /system.slice/<id>, inside systemd's tree, as runc does), on v1 and
        /// hybrid hosts below the caller's cgroup in each hierarchy. Before: /skiff/<id>.
        @Test(.enabled(if: Paths.ready)) func withoutCgroupsPathTheCgroupIsTheIdRelativeToTheCallers() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, r) = h.create(bundle)
            try #require(r.status == 0)
            let inside = (readFile("/proc/\(h.pid(id))/cgroup") ?? "").split(separator: "\n").map(String.init)
            var want: [String] = []
            for (key, path) in Self.ownCgroups() {
                want.append("\(key):" + Self.join(Self.pureV2 ? Self.parent(path) : path, id))
            }
            #expect(inside == want, "own: \(Self.ownCgroups())")
            #expect(h.skiff("delete", "--force", id).status == 0)
            for (key, path) in Self.ownCgroups() where key == "0:" && Self.pureV2 {
                #expect(!fileExists("/sys/fs/cgroup" + Self.join(Self.parent(path), id)))
            }
            h.expectNothingLeft(id)
        }

        /// An absolute cgroupsPath below a cgroup that holds processes (here the caller's own):
        /// cgroup v2 enables no controller there. skiff leaves that cgroup's subtree_control
        /// alone, and a limit then fails naming the file and the reason (before: "the memory
        /// cgroup controller is not available on this host", and cpuset/cpu/pids enabled in
        /// the caller's cgroup, after which joining the new cgroup failed with EOPNOTSUPP).
        /// Without limits such a container runs.
        @Test(.enabled(if: CgroupV2.pureV2 && CgroupV2.ownV2 != "/")) func absolutePathBelowABusyCgroup() throws {
            let h = try Harness()
            let own = Self.ownV2
            let subtree = readFile("/sys/fs/cgroup\(own)/cgroup.subtree_control")
            let path = own + "/skiffit-busy-\(UInt32.random(in: 0..<UInt32.max))"
            let limited = try Bundle.make(from: "sleep", in: h) { c in
                c["linux.cgroupsPath"] = path
                c["linux.resources"] = ["memory": ["limit": 134_217_728]] as [String: Any]
            }
            let id = h.newID()
            let r = h.skiff("create", "-b", limited.path, id)
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.contains("config.json: linux.resources.memory.limit: the memory controller is not enabled for /sys/fs/cgroup\(path): /sys/fs/cgroup\(own)/cgroup.subtree_control lacks it (/sys/fs/cgroup\(own) has processes of its own"), "\(r)")
            #expect(readFile("/sys/fs/cgroup\(own)/cgroup.subtree_control") == subtree, "skiff changed its own cgroup's subtree_control")
            #expect(!fileExists("/sys/fs/cgroup" + path))
            h.expectNothingLeft(id)

            let plain = try Bundle.make(from: "sleep", in: h) { c in c["linux.cgroupsPath"] = path }
            let id2 = h.newID()
            let c = h.skiff("create", "-b", plain.path, id2)
            #expect(c.status == 0, "\(c)")
            #expect(readFile("/proc/\(h.pid(id2))/cgroup") == "0::\(path)\n")
            #expect(h.skiff("delete", "--force", id2).status == 0)
            #expect(!fileExists("/sys/fs/cgroup" + path))
            h.expectNothingLeft(id2)
        }

        /// No cgroup namespace (`--cgroupns=host`): /sys/fs/cgroup shows the host's whole
        /// hierarchy, the container's own cgroup at its host path, read-only as the mount asks
        /// (as runc's mountCgroupV2). skiff binds the host's cgroup2 mount rather than making a
        /// new one as runc does: from the host's cgroup namespace a new mount would reset the
        /// superblock's options (nsdelegate…) host-wide. Before: a bind of the container's own
        /// cgroup.
        @Test(.enabled(if: CgroupV2.pureV2), arguments: [false, true])
        func withoutCgroupNamespaceTheHostHierarchyIsMounted(userNamespace: Bool) throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["linux.namespaces"] = (c["linux.namespaces"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != "cgroup" }
                if userNamespace { Integration.UserNamespaces.mapped(c) }
                c.shell("""
                    awk '$5 == "/sys/fs/cgroup" { print $4, $(NF-2) }' /proc/self/mountinfo
                    own=$(sed -n 's/^0:://p' /proc/self/cgroup); echo "$own"
                    test -f "/sys/fs/cgroup$own/cgroup.procs" && echo own-visible
                    test -f /sys/fs/cgroup/cgroup.procs -a ! -e /sys/fs/cgroup/cgroup.type && echo host-root
                    touch /sys/fs/cgroup/x 2>/dev/null || echo read-only
                    """)
            }
            let hostOptions = { () -> String in
                (readFile("/proc/self/mountinfo") ?? "").split(separator: "\n")
                    .first { $0.split(separator: " ").dropFirst(4).first == "/sys/fs/cgroup" }
                    .map { String($0.split(separator: " ").last ?? "") } ?? ""
            }
            let before = hostOptions()
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 0, "\(r)")
            // The host's cgroup2 superblock options (nsdelegate…) are unchanged: a new cgroup2
            // mount made from the host's cgroup namespace would have reset them for everyone.
            #expect(hostOptions() == before, "host cgroup2 options changed: \(before) -> \(hostOptions())")
            let lines = r.out.split(separator: "\n").map(String.init)
            #expect(lines.first == "/ cgroup2", "\(r)")
            #expect(lines.count == 5 && lines[1] == Self.join(Self.parent(Self.ownV2), id), "\(r)")
            #expect(Array(lines.dropFirst(2)) == ["own-visible", "host-root", "read-only"], "\(r)")
            h.expectNothingLeft(id)
        }

        /// With its cgroup namespace (the default) the container still sees only its own cgroup.
        @Test(.enabled(if: CgroupV2.pureV2)) func withCgroupNamespaceOnlyItsOwnCgroupIsMounted() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                if !((c["linux.namespaces"] as? [[String: Any]] ?? []).contains { $0["type"] as? String == "cgroup" }) {
                    c.append("linux.namespaces", ["type": "cgroup"])
                }
                c.shell("""
                    awk '$5 == "/sys/fs/cgroup" { print $4, $(NF-2) }' /proc/self/mountinfo; cat /proc/self/cgroup
                    test -e /sys/fs/cgroup/cgroup.type && echo own-root
                    """)
            }
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 0, "\(r)")
            #expect(r.out == "/ cgroup2\n0::/\nown-root", "\(r)")
            h.expectNothingLeft(id)
        }
    }
}
