import Foundation
import Glibc
import Testing

extension Integration {
    /// The systemd cgroup driver (`--systemd-cgroup`). The real tests need systemd as PID 1: on a
    /// pure cgroup v2 host (the VM of scripts/vm) or a v1/hybrid one (`scripts/vm/test.sh
    /// --cgroup v1`); the refusals run everywhere.
    @Suite struct SystemdCgroup {
        static var systemd: Bool {
            Paths.ready && fileExists("/run/systemd/system") && (readFile("/proc/1/comm") ?? "").hasPrefix("systemd")
        }
        /// systemd on a pure cgroup v2 host.
        static var systemdV2: Bool { systemd && fileExists("/sys/fs/cgroup/cgroup.controllers") }
        /// systemd with cgroup v1 controllers (legacy or hybrid layout).
        static var systemdV1: Bool { systemd && fileExists("/sys/fs/cgroup/memory/memory.limit_in_bytes") }
        static var noSystemd: Bool { Paths.ready && !fileExists("/run/systemd/system") }

        /// Without systemd the driver refuses with runc's error, leaving nothing behind.
        @Test(.enabled(if: SystemdCgroup.noSystemd)) func refusedWithoutSystemd() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h) { c in c["linux.cgroupsPath"] = "system.slice:skiff:x" }
            let id = h.newID()
            let r = h.skiff(args: ["create", "-b", bundle.path, id], globals: ["--systemd-cgroup"])
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.contains("systemd cgroup flag passed, but systemd support for managing cgroups is not available"), "\(r)")
            h.expectNothingLeft(id)
        }

        /// A cgroupsPath that is not "slice:prefix:name" is a config error naming the field.
        @Test(.enabled(if: Paths.ready)) func badCgroupsPath() throws {
            let h = try Harness()
            for (path, needle) in [("/a/b", "expected cgroupsPath to be of format \"slice:prefix:name\""),
                                   ("bad--x.slice:p:n", "invalid slice name: bad--x.slice")] {
                let bundle = try Bundle.make(from: "sleep", in: h) { c in c["linux.cgroupsPath"] = path }
                let id = h.newID()
                let r = h.skiff(args: ["create", "-b", bundle.path, id], globals: ["--systemd-cgroup"])
                #expect(r.status == 1, "\(r)")
                #expect(r.stderr.contains("config.json: linux.cgroupsPath: ") && r.stderr.contains(needle), "\(r)")
                h.expectNothingLeft(id)
            }
        }

        static func systemctl(_ h: Harness, _ args: String) -> RunResult { h.sh("systemctl --no-pager " + args) }

        /// create puts init in a transient scope of the slice with the limits as unit properties
        /// and in the files; update changes both; pause/resume freeze it; delete stops the unit.
        @Test(.enabled(if: SystemdCgroup.systemdV2)) func scopeLifecycle() throws {
            let h = try Harness()
            let tag = "skiffit\(UInt32.random(in: 0..<UInt32.max))"
            defer { _ = Self.systemctl(h, "stop \(tag).slice") }
            let id = h.newID()
            let bundle = try Bundle.make(from: "sleep", in: h) { c in
                c["linux.cgroupsPath"] = "\(tag)-a.slice:skiff:\(id)"
                c["linux.resources"] = ["memory": ["limit": 268_435_456], "pids": ["limit": 64],
                                        "cpu": ["shares": 512, "quota": 50_000, "period": 100_000]] as [String: Any]
                c["annotations"] = ["org.systemd.property.CollectMode": "'inactive-or-failed'"]
            }
            let unit = "skiff-\(id).scope"
            let dir = "/sys/fs/cgroup/\(tag).slice/\(tag)-a.slice/\(unit)"
            let c = h.skiff(args: ["create", "-b", bundle.path, id], globals: ["--systemd-cgroup"])
            try #require(c.status == 0, "\(c)")
            #expect(Self.systemctl(h, "is-active \(unit)").out == "active")
            let show = Self.systemctl(h, "show \(unit) -p MemoryMax -p TasksMax -p Delegate -p Slice -p CPUQuotaPerSecUSec -p CollectMode -p ControlGroup").out
            for want in ["MemoryMax=268435456", "TasksMax=64", "Delegate=yes", "Slice=\(tag)-a.slice", "CPUQuotaPerSecUSec=500ms",
                         "CollectMode=inactive-or-failed", "ControlGroup=/\(tag).slice/\(tag)-a.slice/\(unit)"] {
                #expect(show.contains(want), "systemctl show: \(show)")
            }
            #expect(readFile(dir + "/memory.max")?.trimmingCharacters(in: .whitespacesAndNewlines) == "268435456")
            #expect(readFile(dir + "/pids.max")?.trimmingCharacters(in: .whitespacesAndNewlines) == "64")
            #expect(readFile(dir + "/cpu.max")?.trimmingCharacters(in: .whitespacesAndNewlines) == "50000 100000")
            let pid = h.pid(id)
            #expect(readFile("/proc/\(pid)/cgroup") == "0::/\(tag).slice/\(tag)-a.slice/\(unit)\n")

            #expect(h.skiff("start", id).status == 0)
            let u = h.skiff("update", "--memory", "134217728", id)
            #expect(u.status == 0, "\(u)")
            #expect(readFile(dir + "/memory.max")?.trimmingCharacters(in: .whitespacesAndNewlines) == "134217728")
            #expect(Self.systemctl(h, "show \(unit) -p MemoryMax").out == "MemoryMax=134217728")
            #expect(h.skiff("pause", id).status == 0)
            #expect(h.status(id) == "paused")
            #expect(readFile(dir + "/cgroup.freeze")?.hasPrefix("1") == true)
            #expect(h.skiff("resume", id).status == 0)
            #expect(h.status(id) == "running")
            let e = h.skiff("exec", id, "cat", "/proc/self/cgroup")
            #expect(e.status == 0 && e.out == "0::/", "\(e)")

            let d = h.skiff("delete", "--force", id)
            #expect(d.status == 0, "\(d)")
            #expect(!fileExists(dir))
            let after = Self.systemctl(h, "show \(unit) -p LoadState -p ActiveState").out
            #expect(after.contains("LoadState=not-found") && after.contains("ActiveState=inactive"), "\(after)")
            h.expectNothingLeft(id)
        }

        /// Without cgroupsPath: skiff-<id>.scope in system.slice (runc: runc-<id>.scope, README
        /// "Differences"), in every hierarchy on v1; `run` removes it at exit.
        @Test(.enabled(if: SystemdCgroup.systemd)) func defaultScopeWithRun() throws {
            let h = try Harness()
            let id = h.newID()
            let bundle = try Bundle.make(in: h) { c in c.shell("cat /proc/self/cgroup") }
            let r = h.skiff(args: ["run", "-b", bundle.path, id], globals: ["--systemd-cgroup"])
            #expect(r.status == 0, "\(r)")
            // Its own cgroup namespace: every hierarchy shows its root.
            let lines = r.out.split(separator: "\n")
            #expect(!lines.isEmpty && lines.allSatisfy { $0.hasSuffix(":/") }, "\(r)")
            #expect(!fileExists("/sys/fs/cgroup/system.slice/skiff-\(id).scope"))
            #expect(!fileExists("/sys/fs/cgroup/memory/system.slice/skiff-\(id).scope"))
            #expect(Self.systemctl(h, "show skiff-\(id).scope -p LoadState").out == "LoadState=not-found")
            h.expectNothingLeft(id)
        }

        /// cgroup v1 + systemd (runc's legacy manager): the scope's cgroup in every v1
        /// hierarchy (<mount>/<slice path>/<unit>, systemd makes those it accounts, skiff the
        /// rest and moves init into each), the limits as v1 unit properties (MemoryLimit,
        /// CPUShares, TasksMax, CPUQuotaPerSecUSec) and in the files; update, pause (freezer),
        /// delete.
        @Test(.enabled(if: SystemdCgroup.systemdV1)) func scopeLifecycleOnV1() throws {
            let h = try Harness()
            let tag = "skiffit\(UInt32.random(in: 0..<UInt32.max))"
            defer { _ = Self.systemctl(h, "stop \(tag).slice") }
            let id = h.newID()
            let bundle = try Bundle.make(from: "sleep", in: h) { c in
                c["linux.cgroupsPath"] = "\(tag)-a.slice:skiff:\(id)"
                c["linux.resources"] = ["memory": ["limit": 268_435_456], "pids": ["limit": 64],
                                        "cpu": ["shares": 512, "quota": 50_000, "period": 100_000]] as [String: Any]
            }
            let unit = "skiff-\(id).scope"
            let rel = "/\(tag).slice/\(tag)-a.slice/\(unit)"
            func file(_ hierarchy: String, _ name: String) -> String? {
                readFile("/sys/fs/cgroup/\(hierarchy)\(rel)/\(name)")?.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let c = h.skiff(args: ["create", "-b", bundle.path, id], globals: ["--systemd-cgroup"])
            try #require(c.status == 0, "\(c)")
            #expect(Self.systemctl(h, "is-active \(unit)").out == "active")
            let show = Self.systemctl(h, "show \(unit) -p MemoryLimit -p TasksMax -p CPUShares -p Delegate -p Slice -p CPUQuotaPerSecUSec -p ControlGroup").out
            for want in ["MemoryLimit=268435456", "TasksMax=64", "CPUShares=512", "Delegate=yes", "Slice=\(tag)-a.slice",
                         "CPUQuotaPerSecUSec=500ms", "ControlGroup=\(rel)"] {
                #expect(show.contains(want), "systemctl show: \(show)")
            }
            #expect(file("memory", "memory.limit_in_bytes") == "268435456")
            #expect(file("pids", "pids.max") == "64")
            #expect(file("cpu,cpuacct", "cpu.shares") == "512")
            #expect(file("cpu,cpuacct", "cpu.cfs_quota_us") == "50000")
            // Init is in the scope's cgroup in every hierarchy.
            let pid = h.pid(id)
            let cgroups = (readFile("/proc/\(pid)/cgroup") ?? "").split(separator: "\n")
            #expect(!cgroups.isEmpty && cgroups.allSatisfy { $0.hasSuffix(":" + rel) }, "\(cgroups)")

            #expect(h.skiff("start", id).status == 0)
            let u = h.skiff("update", "--memory", "134217728", "--pids-limit", "32", id)
            #expect(u.status == 0, "\(u)")
            #expect(file("memory", "memory.limit_in_bytes") == "134217728")
            #expect(file("pids", "pids.max") == "32")
            #expect(Self.systemctl(h, "show \(unit) -p MemoryLimit").out == "MemoryLimit=134217728")
            #expect(h.skiff("pause", id).status == 0)
            #expect(h.status(id) == "paused")
            #expect(file("freezer", "freezer.state") == "FROZEN")
            #expect(h.skiff("resume", id).status == 0)
            #expect(h.status(id) == "running")

            let d = h.skiff("delete", "--force", id)
            #expect(d.status == 0, "\(d)")
            for hierarchy in ["memory", "pids", "cpu,cpuacct", "freezer", "devices", "systemd", "blkio"] {
                #expect(!fileExists("/sys/fs/cgroup/\(hierarchy)\(rel)"), "\(hierarchy) cgroup left")
            }
            let after = Self.systemctl(h, "show \(unit) -p LoadState -p ActiveState").out
            #expect(after.contains("LoadState=not-found") && after.contains("ActiveState=inactive"), "\(after)")
            h.expectNothingLeft(id)
        }

        /// linux.resources.unified needs cgroup v2 (runc's legacy manager refuses it).
        @Test(.enabled(if: SystemdCgroup.systemdV1 && !fileExists("/sys/fs/cgroup/unified/cgroup.controllers")))
        func unifiedIsRefusedOnV1() throws {
            let h = try Harness()
            let id = h.newID()
            let bundle = try Bundle.make(from: "sleep", in: h) { c in
                c["linux.resources"] = ["unified": ["memory.high": "100000000"]] as [String: Any]
            }
            let r = h.skiff(args: ["create", "-b", bundle.path, id], globals: ["--systemd-cgroup"])
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.contains("linux.resources.unified"), "\(r)")
            h.expectNothingLeft(id)
        }
    }
}
