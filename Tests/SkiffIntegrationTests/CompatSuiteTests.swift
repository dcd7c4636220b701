import Foundation
import Glibc
import Testing

/// What runc's v1.1.5 and crun's 1.8.1 integration suites check and skiff failed on
/// (docs/compatibility.md): `spec` on a hybrid host, `exec -p <(…)`, the wording runc's tests
/// match, the domainname/sysctl conflict, device access letters and `unified` on v1.
extension Integration {
    @Suite struct CompatSuite {
        /// /sys/fs/cgroup is cgroup2 (runc's IsCgroup2UnifiedMode): only cgroup2 has
        /// cgroup.controllers at its root.
        static var hostIsCgroup2Unified: Bool { fileExists("/sys/fs/cgroup/cgroup.controllers") }

        /// A started `sleep` container.
        static func running(_ h: Harness) throws -> String {
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            return id
        }

        static let processJSON = #"{"terminal":false,"user":{"uid":0,"gid":0},"args":["echo","from-a-pipe"],"cwd":"/"}"#

        // MARK: spec (runc 16, 46, 72)

        /// `skiff spec` adds a cgroup namespace only on a cgroup2-only host, as runc 1.1.5's
        /// specconv.Example(); on this hybrid host it has none.
        @Test func specAddsCgroupNamespaceOnlyOnCgroup2Host() throws {
            let h = try Harness()
            let dir = h.path("spec")
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let r = h.skiff(args: ["spec", "-b", dir])
            #expect(r.status == 0, "\(r)")
            let config = try #require(parseJSONObject(readFile(dir + "/config.json") ?? ""))
            let namespaces = ((config["linux"] as? [String: Any])?["namespaces"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
            #expect(Set(namespaces).isSuperset(of: ["pid", "network", "ipc", "uts", "mount"]), "\(namespaces)")
            #expect(namespaces.contains("cgroup") == Self.hostIsCgroup2Unified, "\(namespaces)")
        }

        // MARK: loopback

        /// A new network namespace has lo up, as runc 1.1.5 (its "loopback" network) and crun
        /// give it: flags 0x9 (IFF_UP|IFF_LOOPBACK), operstate "unknown", 127.0.0.1 reachable.
        /// Also with a user namespace (init is root in it). Before: lo stayed down (0x8).
        @Test(arguments: [false, true]) func newNetworkNamespaceHasLoopbackUp(userNamespace: Bool) throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                if userNamespace { Integration.UserNamespaces.mapped(c) }
                c.shell("cat /sys/class/net/lo/flags /sys/class/net/lo/operstate; " +
                        "(nc -l -p 7777 -e echo via-lo &) ; sleep 1; nc -w 5 127.0.0.1 7777 </dev/null")
            }
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 0, "\(r)")
            let lines = r.out.split(separator: "\n").map(String.init)
            #expect(lines.first == "0x9", "\(r)")
            #expect(lines.dropFirst().first == "unknown", "\(r)")
            #expect(lines.last == "via-lo", "\(r)")
            h.expectNothingLeft(id)
        }

        // MARK: exec -p / update -r from a pipe (runc 151)

        /// `exec -p <(cat file)` (bash process substitution: a pipe at /dev/fd/N) works, as in runc.
        @Test func execProcessFromProcessSubstitution() throws {
            let h = try Harness()
            let id = try Self.running(h)
            let file = h.path("process.json")
            try writeFile(file, Self.processJSON)
            let script = h.path("exec.sh")
            try writeFile(script, "exec \(Paths.binary) --root \(h.root) exec -p <(cat \(file)) \(id)\n")
            let r = h.sh("bash \(script)", timeout: 40)
            #expect(!r.timedOut && r.status == 0, "\(r)")
            #expect(r.stdout == "from-a-pipe\n", "\(r)")
            #expect(h.skiff("delete", "--force", id).status == 0)
            h.expectNothingLeft(id)
        }

        /// A fifo whose writer comes later: `exec --process` and `update -r` wait for it and read
        /// the whole document.
        @Test func execProcessAndUpdateResourcesFromFifoWithWriter() throws {
            let h = try Harness()
            let id = try Self.running(h)
            let fifo = h.path("fifo")
            #expect(mkfifo(fifo, 0o600) == 0)
            let data = h.path("process.json")
            try writeFile(data, Self.processJSON)
            let e = h.sh("(sleep 1; cat \(data) > \(fifo)) & exec \(Paths.binary) --root \(h.root) exec --process \(fifo) \(id)", timeout: 40)
            #expect(!e.timedOut && e.status == 0, "\(e)")
            #expect(e.stdout == "from-a-pipe\n", "\(e)")

            try writeFile(data, #"{"pids":{"limit":123}}"#)
            let u = h.sh("(sleep 1; cat \(data) > \(fifo)) & exec \(Paths.binary) --root \(h.root) update -r \(fifo) \(id)", timeout: 40)
            #expect(!u.timedOut && u.status == 0, "\(u)")
            if !Self.hostIsCgroup2Unified {
                let max = readFile(Integration.CgroupV2.defaultDirectory(id) + "/pids.max")
                #expect(max == "123\n", "\(max ?? "missing")")
            }
            #expect(h.skiff("delete", "--force", id).status == 0)
            h.expectNothingLeft(id)
        }

        /// A fifo nobody writes to: a clear error after a bounded wait, never a hang; the
        /// container is untouched.
        @Test func fifoWithoutWriterIsAClearError() throws {
            let h = try Harness()
            let id = try Self.running(h)
            let fifo = h.path("fifo")
            #expect(mkfifo(fifo, 0o600) == 0)
            let e = h.skiff(args: ["exec", "--process", fifo, id], timeout: 40)
            #expect(!e.timedOut && e.status == 255, "\(e)")
            #expect(e.stderr.contains("--process") && e.stderr.contains(fifo) && e.stderr.contains("is empty"), "\(e)")
            let u = h.skiff(args: ["update", "-r", fifo, id], timeout: 40)
            #expect(!u.timedOut && u.status == 1, "\(u)")
            #expect(u.stderr.contains(fifo) && u.stderr.contains("is empty"), "\(u)")
            #expect(h.status(id) == "running")
            #expect(h.skiff("delete", "--force", id).status == 0)
            h.expectNothingLeft(id)
        }

        // MARK: wording runc's and crun's tests match

        /// runc 72: `exec --cgroup nonexistent` says what runc says.
        @Test func execIntoMissingSubCgroupUsesRuncWording() throws {
            let h = try Harness()
            let id = try Self.running(h)
            let r = h.skiff("exec", "--cgroup", "nonexistent", id, "true")
            #expect(r.status != 0, "\(r)")
            #expect(r.stderr.contains("error adding pid "), "\(r)")
            #expect(r.stderr.contains("/nonexistent/cgroup.procs: no such file or directory"), "\(r)")
            #expect(h.skiff("delete", "--force", id).status == 0)
            h.expectNothingLeft(id)
        }

        /// runc 82: /proc in the rootfs as a symlink: "must be mounted on ordinary directory".
        @Test func procSymlinkUsesRuncWording() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in c.shell("echo ran") }
            let setup = h.sh("rmdir '\(bundle.rootfs)/proc' && mkdir '\(bundle.rootfs)/elsewhere' && ln -s elsewhere '\(bundle.rootfs)/proc'")
            try #require(setup.status == 0, "\(setup)")
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.contains("must be mounted on ordinary directory"), "\(r)")
            h.expectNothingLeft(id)
        }

        /// runc 116: no agent at listenerPath.
        @Test func missingSeccompAgentUsesRuncWording() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["linux.seccomp"] = [
                    "defaultAction": "SCMP_ACT_ALLOW",
                    "listenerPath": h.path("nobody-listens.sock"),
                    "syscalls": [["names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"]],
                ] as [String: Any]
            }
            let id = h.newID()
            let r = h.skiff(args: ["run", "-b", bundle.path, id])
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.contains("failed to connect with seccomp agent specified in the seccomp profile"), "\(r)")
            h.expectNothingLeft(id)
        }

        /// runc 126: a hook killed by a signal: "error running hook" and Go's signal text.
        @Test func hookKilledBySignalUsesGoSignalText() throws {
            let h = try Harness()
            for (signal, text) in [("SYS", "signal: bad system call"), ("KILL", "signal: killed")] {
                let bundle = try Bundle.make(in: h) { c in
                    c.args = ["true"]
                    c["hooks"] = ["createRuntime": [["path": "/bin/sh", "args": ["sh", "-c", "kill -\(signal) $$"]]]]
                }
                let id = h.newID()
                let r = h.skiff(args: ["run", "-b", bundle.path, id])
                #expect(r.status == 1, "\(r)")
                #expect(r.stderr.contains("error running hook #0"), "\(r)")
                #expect(r.stderr.contains(text), "\(r)")
                h.expectNothingLeft(id)
            }
        }

        /// crun test-detach-tty: a terminal with no console socket names --console-socket.
        @Test func detachedTerminalWithoutConsoleSocketSaysUseConsoleSocket() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in c["process.terminal"] = true }
            let id = h.newID()
            let r = h.skiff(args: ["run", "-d", "-b", bundle.path, id])
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.contains("process.terminal") && r.stderr.contains("use --console-socket"), "\(r)")
            h.expectNothingLeft(id)
        }

        // MARK: behaviour

        /// crun's "domainname conflict with sysctl": the domainname field and
        /// kernel.domainname together are refused by create and by check.
        @Test func domainnameFieldConflictsWithSysctl() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["domainname"] = "foomachine"
                c["linux.sysctl"] = ["kernel.domainname": "foo"]
                c.args = ["cat", "/proc/sys/kernel/domainname"]
            }
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.contains(#"linux.sysctl["kernel.domainname"]"#) && r.stderr.contains(#"conflicts with the OCI "domainname" field"#), "\(r)")
            h.expectNothingLeft(id)
            let check = h.skiff("check", "-b", bundle.path)
            #expect(check.status != 0, "check accepted what create refuses: \(check)")
            #expect((check.stdout + check.stderr).contains(#"conflicts with the OCI "domainname" field"#), "\(check)")
        }

        /// crun's "domainname with syctl": the same value in the field and in
        /// kernel.domainname is no conflict; the container sees it.
        @Test func domainnameFieldEqualToSysctlRuns() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["domainname"] = "foo"
                c["linux.sysctl"] = ["kernel.domainname": "foo"]
                c.args = ["cat", "/proc/sys/kernel/domainname"]
            }
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 0 && r.stdout.contains("foo"), "\(r)")
            h.expectNothingLeft(id)
            let check = h.skiff("check", "-b", bundle.path)
            #expect(check.status == 0, "\(check)")
        }

        /// runc 168: device access "rwa" keeps r and w (the rule works) and warns once,
        /// naming the field.
        @Test func deviceAccessWithOtherLettersKeepsRWM() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["linux.resources.devices"] = [
                    ["allow": false, "access": "rwm"],
                    ["allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwa"],
                ] as [[String: Any]]
                c.shell("echo x > /dev/null && echo write-ok")
            }
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 0, "\(r)")
            #expect(r.stdout == "write-ok\n", "\(r)")
            let warnings = r.stderr.split(separator: "\n").filter { $0.contains("linux.resources.devices[1].access") }
            #expect(warnings.count == 1 && warnings[0].contains("warning"), "\(r)")
            h.expectNothingLeft(id)
        }

        /// runc 10: a unified key skiff cannot apply on this host says "invalid configuration".
        @Test func unifiedKeyOnV1HostSaysInvalidConfiguration() throws {
            if Self.hostIsCgroup2Unified { return }
            let controllers = readFile("/sys/fs/cgroup/unified/cgroup.controllers") ?? ""
            if controllers.split(separator: " ").contains(where: { $0.hasPrefix("memory") }) { return }
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in c["linux.resources.unified"] = ["memory.min": "131072"] }
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.contains(#"linux.resources.unified["memory.min"]"#) && r.stderr.contains("invalid configuration"), "\(r)")
            h.expectNothingLeft(id)
        }
    }
}
