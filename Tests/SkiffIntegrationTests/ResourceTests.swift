import Foundation
import Glibc
import Testing

extension Integration {
    /// Process-tree edge cases, sysctls, cgroup limits, seccomp.
    @Suite struct Resources {
        /// A background child holding the container's stdout must not keep `run` waiting: when
        /// pid 1 exits the pid namespace dies with it.
        @Test func runReturnsWhenInitExitsDespiteChildren() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { $0.shell("sleep 100 & echo started") }
            let id = h.newID()
            let started = Date()
            let r = h.run(bundle, id: id, timeout: 20)
            #expect(!r.timedOut)
            #expect(r.status == 0, "\(r)")
            #expect(r.out == "started")
            #expect(Date().timeIntervalSince(started) < 10 * Paths.timeoutScale)
            h.expectNothingLeft(id)
        }

        /// delete removes the cgroup parents create made for a nested cgroupsPath, in every
        /// hierarchy, but keeps one that existed before (runc leaves them all behind). On a
        /// v1/hybrid host the parent pre-exists in pids only; on a pure v2 host (one hierarchy)
        /// the top one pre-exists and the one below it is create's.
        @Test func deleteRemovesTheCgroupParentsCreateMade() throws {
            let h = try Harness()
            let tag = "skiff-it-parents-\(UInt32.random(in: 0..<UInt32.max))"
            let v2 = fileExists("/sys/fs/cgroup/cgroup.controllers")
            let preexisting = (v2 ? "/sys/fs/cgroup/" : "/sys/fs/cgroup/pids/") + tag
            try #require(mkdir(preexisting, 0o755) == 0)
            defer { rmdir(preexisting) }
            let bundle = try Bundle.make(from: "sleep", in: h) { c in c["linux.cgroupsPath"] = "/\(tag)/a/b" }
            let (id, _) = h.create(bundle)
            #expect(fileExists((v2 ? "/sys/fs/cgroup/" : "/sys/fs/cgroup/memory/") + "\(tag)/a/b"))
            #expect(h.skiff("delete", "--force", id).status == 0)
            if !v2 {
                #expect(!fileExists("/sys/fs/cgroup/memory/\(tag)"), "parent cgroups left in memory")
                #expect(!fileExists("/sys/fs/cgroup/cpu/\(tag)"), "parent cgroups left in cpu")
            }
            #expect(fileExists(preexisting) && !fileExists(preexisting + "/a"), "the existing parent must stay, its new child go")
            h.expectNothingLeft(id)
        }

        /// Without a private pid namespace, SIGKILL and delete must still take down every
        /// process of the container (everything in its cgroup), not just init.
        @Test func deleteKillsEveryProcessWithoutPidNamespace() throws {
            let h = try Harness()
            let markers = h.path("markers")
            try FileManager.default.createDirectory(atPath: markers, withIntermediateDirectories: true)
            let bundle = try Bundle.make(in: h) { c in
                c["linux.namespaces"] = (c["linux.namespaces"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != "pid" }
                c.bind(markers, at: "/m")
                c.shell("sleep 100 & echo $! > /m/child; wait")
            }
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            #expect(waitUntil { !(readFile(markers + "/child") ?? "").isEmpty })
            let child = Int(readFile(markers + "/child")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
            #expect(child > 0 && fileExists("/proc/\(child)"), "background child \(child) not running")
            let d = h.skiff("delete", "--force", id)
            #expect(d.status == 0, "\(d)")
            #expect(waitUntil { !fileExists("/proc/\(child)") || (readFile("/proc/\(child)/stat") ?? "").contains(") Z ") },
                    "the container's background process \(child) survived delete --force")
            h.expectNothingLeft(id)
        }

        @Test func initKilledFromTheHostIsStopped() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            let pid = h.pid(id)
            try #require(pid > 0)
            kill(pid_t(pid), SIGKILL)
            #expect(waitUntil { h.status(id) == "stopped" })
            #expect(h.skiff("delete", id).status == 0)
            h.expectNothingLeft(id)
        }

        @Test
        func sysctlNet() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["linux.sysctl"] = ["net.ipv4.ip_forward": "1"]
                c.args = ["cat", "/proc/sys/net/ipv4/ip_forward"]
            }
            let hostForward = readFile("/proc/sys/net/ipv4/ip_forward")
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.out == "1", "\(r)")
            #expect(readFile("/proc/sys/net/ipv4/ip_forward") == hostForward, "host sysctl changed")
        }

        @Test
        func sysctl() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["linux.sysctl"] = ["net.ipv4.ip_forward": "1", "kernel.domainname": "it-domain"]
                c.shell("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/domainname")
            }
            let hostForward = readFile("/proc/sys/net/ipv4/ip_forward")
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == ["1", "it-domain"], "\(r)")
            #expect(readFile("/proc/sys/net/ipv4/ip_forward") == hostForward, "host sysctl changed")
        }

        /// The value of a cgroup control file of container `id`, from whichever hierarchy has it.
        static func cgroupFile(_ h: Harness, _ id: String, _ names: [String]) -> String? {
            for dir in h.cgroupDirs(id) {
                for name in names {
                    if let text = readFile("\(dir)/\(name)") { return text.trimmingCharacters(in: .whitespacesAndNewlines) }
                }
            }
            return nil
        }

        @Test func memoryAndPidsLimits() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h) { c in
                c["linux.resources.memory"] = ["limit": 64 * 1024 * 1024]
                c["linux.resources.pids"] = ["limit": 42]
            }
            let (id, _) = h.create(bundle)
            #expect(Self.cgroupFile(h, id, ["memory.limit_in_bytes", "memory.max"]) == String(64 * 1024 * 1024))
            #expect(Self.cgroupFile(h, id, ["pids.max"]) == "42")
        }

        @Test func pidsLimitIsEnforced() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["linux.resources.pids"] = ["limit": 5]
                c.shell("for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; echo spawned")
            }
            let r = h.run(bundle, timeout: 20)
            #expect(r.stderr.contains("can't fork") || r.stderr.contains("Resource temporarily unavailable"),
                    "8 children with pids.max=5: \(r)")
        }

        @Test func seccompErrno() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["linux.seccomp"] = [
                    "defaultAction": "SCMP_ACT_ALLOW",
                    "architectures": ["SCMP_ARCH_X86_64"],
                    "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1]],
                ] as [String: Any]
                c.shell("mkdir /dev/shm/d && echo made; touch /dev/shm/f && echo touched")
            }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == ["touched"], "\(r)")
            #expect(r.stderr.contains("Operation not permitted"), "\(r)")
        }
    }
}

extension Integration {
    /// A memory hog over linux.resources.memory.limit is OOM-killed, and the cgroup says so.
    @Suite struct OOM {
        @Test func memoryHogIsKilled() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["linux.resources"] = ["memory": ["limit": 16 * 1024 * 1024]] as [String: Any]
                // dd allocates and fills a 64 MiB buffer: four times the limit.
                c.shell("dd if=/dev/zero of=/dev/null bs=64M count=1; echo survived")
            }
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            #expect(waitUntil(timeout: 30) { h.status(id) == "stopped" })
            let dirs = h.cgroupDirs(id)
            let oomControl = dirs.map { $0 + "/memory.oom_control" }.first { fileExists($0) }
            let events = dirs.map { $0 + "/memory.events" }.first { fileExists($0) }
            // cat: cgroupfs files report size 0, which trips up whole-file readers.
            let text = [oomControl, events].compactMap { $0 }.map { h.sh("cat \($0)").out }.joined(separator: "\n")
            let kills = text.split(separator: "\n").compactMap { line -> Int? in
                let f = line.split(separator: " ")
                return f.count == 2 && f[0] == "oom_kill" ? Int(f[1]) : nil
            }
            #expect(kills.contains { $0 >= 1 }, "no oom_kill recorded: \(text)")
            #expect(h.skiff("delete", id).status == 0)
            h.expectNothingLeft(id)
        }
    }
}
