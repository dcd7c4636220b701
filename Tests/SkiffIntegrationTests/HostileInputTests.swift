import Foundation
import Glibc
import Testing

extension Integration {
    /// Issue #13 (items 1, 2, 5, 6, 7): hostile values are refused by `check` exactly where
    /// `create` refuses them, with the JSON path and nothing left behind; huge hook timeouts
    /// do not trap; errors stay one escaped line; exec validates its process like create.
    @Suite struct HostileInput {
        struct Case: CustomStringConvertible, Sendable {
            let name: String
            let path: String
            let edit: @Sendable (Config) -> Void
            var description: String { name }
        }

        static let cases: [Case] = [
            Case(name: "uid -1", path: "process.user.uid") { $0["process.user.uid"] = 4294967295 },
            Case(name: "gid -1", path: "process.user.gid") { $0["process.user.gid"] = 4294967295 },
            Case(name: "additionalGids -1", path: "process.user.additionalGids[0]") { $0["process.user.additionalGids"] = [4294967295] },
            Case(name: "effective not permitted", path: "process.capabilities.effective[3]") {
                $0.append("process.capabilities.effective", "CAP_SYS_ADMIN")
            },
            Case(name: "hostname 65 bytes", path: "hostname") {
                $0["hostname"] = String(repeating: "h", count: 65)
                if !($0["linux.namespaces"] as? [[String: Any]] ?? []).contains(where: { $0["type"] as? String == "uts" }) {
                    $0.append("linux.namespaces", ["type": "uts"])
                }
            },
            Case(name: "NUL in hostname", path: "hostname") { $0["hostname"] = "a\u{0}b" },
            Case(name: "NUL in args", path: "process.args[0]") { $0["process.args"] = ["/bin/sh\u{0}x"] },
            Case(name: "cpu.shares 1", path: "linux.resources.cpu.shares") { $0["linux.resources.cpu"] = ["shares": 1] },
            Case(name: "cpu.shares 262145", path: "linux.resources.cpu.shares") { $0["linux.resources.cpu"] = ["shares": 262145] },
            Case(name: "device major 4096", path: "linux.devices[0].major") {
                $0["linux.devices"] = [["path": "/dev/x", "type": "c", "major": 4096, "minor": 1]]
            },
            Case(name: "swap below limit", path: "linux.resources.memory.swap") {
                $0["linux.resources.memory"] = ["limit": 10_000_000, "swap": 5_000_000]
            },
            Case(name: "memory limit too small", path: "linux.resources.memory.limit") { $0["linux.resources.memory"] = ["limit": 4096] },
            Case(name: "time offset nanosecs", path: "linux.timeOffsets.monotonic.nanosecs") {
                $0.append("linux.namespaces", ["type": "time"])
                $0["linux.timeOffsets"] = ["monotonic": ["secs": 1, "nanosecs": 4_000_000_000]]
            },
            Case(name: "time offset below zero", path: "linux.timeOffsets.boottime.secs") {
                $0.append("linux.namespaces", ["type": "time"])
                $0["linux.timeOffsets"] = ["boottime": ["secs": -4_000_000_000]]
            },
            Case(name: "throttle on a missing device", path: "linux.resources.blockIO.throttleReadBpsDevice[0]") {
                $0["linux.resources.blockIO"] = ["throttleReadBpsDevice": [["major": 4095, "minor": 1_048_575, "rate": 1000]]]
            },
            Case(name: "apparmor without AppArmor", path: "process.apparmorProfile") { $0["process.apparmorProfile"] = "unconfined-x" },
        ]

        @Test(arguments: cases)
        func checkAndCreateRefuseTheSame(c: Case) throws {
            if c.name.contains("apparmor") && fileExists("/sys/kernel/security/apparmor") { return }
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c.edit($0) }
            let check = h.skiff("check", "--bundle", bundle.path)
            #expect(check.status == 1, "\(check)")
            #expect(check.stdout.contains("config.json: \(c.path): ") || check.stderr.contains("config.json: \(c.path): "), "\(check)")
            for verb in ["create", "run"] {
                let id = h.newID()
                let r = h.skiff(verb, "-b", bundle.path, id)
                BadInput.expectRejected(h, r, id: id, mentioning: ["config.json: \(c.path): "])
            }
        }

        @Test func rootPathThroughASymlinkIsRefusedByCheckAndCreate() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { $0["root.path"] = "rootfs-link" }
            try FileManager.default.createSymbolicLink(atPath: bundle.path + "/rootfs-link", withDestinationPath: bundle.rootfs)
            let check = h.skiff("check", "--bundle", bundle.path)
            #expect(check.status == 1 && (check.stdout + check.stderr).contains("root.path: "), "\(check)")
            let id = h.newID()
            BadInput.expectRejected(h, h.skiff("create", "-b", bundle.path, id), id: id, mentioning: ["root.path: ", "symlink"])
            // A bundle reached through a symlink, with a relative rootfs, is fine (as with runc).
            let fine = try Bundle.make(from: "baseline", in: h)
            let link = h.path("bundle-link")
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: fine.path)
            let run = h.skiff("run", "-b", link, h.newID())
            #expect(run.status == 0 && run.stdout == "hello\n", "\(run)")
        }

        /// 9223372036854775 s (valid per the schema) overflowed the deadline: SIGILL in create,
        /// and a poststop hook with it made every delete -f crash.
        @Test func hugeHookTimeoutsDoNotTrap() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h) {
                let hook: [String: Any] = ["path": "/bin/true", "timeout": 9_223_372_036_854_775]
                $0["hooks"] = ["prestart": [hook], "createRuntime": [hook], "poststop": [hook]]
            }
            let (id, created) = h.create(bundle)
            #expect(created.status == 0, "\(created)")
            let delete = h.skiff("delete", "-f", id)
            #expect(delete.status == 0, "\(delete)")
            h.expectNothingLeft(id)
        }

        /// A mount error carrying a 300 kB value used to exceed the init→parent message and
        /// the user saw only "container init exited unexpectedly".
        @Test func hugeValuesKeepInitsError() throws {
            let h = try Harness()
            let source = "/nonexistent-" + String(repeating: "s", count: 300_000)
            let bundle = try Bundle.make(in: h) { $0.bind(source, at: "/mnt/x") }
            let id = h.newID()
            let r = h.skiff("create", "-b", bundle.path, id)
            #expect(r.status == 1, "\(r.status)")
            #expect(!r.stderr.contains("exited unexpectedly"), "\(r.stderr.prefix(300))")
            #expect(r.stderr.contains("mounts[") && r.stderr.contains("bytes elided"), "\(r.stderr.prefix(300))")
            // The end (the errno) is kept too: ENAMETOOLONG for a 300 kB path.
            #expect(r.stderr.hasSuffix(": file name too long\n"), "\(r.stderr.suffix(200))")
            h.expectNothingLeft(id)
        }

        /// Newlines and ESC sequences from config values cannot forge log lines or drive the
        /// terminal: text and json logs and stderr get them escaped.
        @Test func controlCharactersInValuesAreEscaped() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) {
                $0.append("mounts", ["destination": "/mnt/x", "type": "nofs\nlevel=error msg=forged\u{1B}[2J", "source": "none"] as [String: Any])
            }
            for format in ["text", "json"] {
                let id = h.newID()
                let log = h.path("log-\(format)")
                let r = h.skiff(args: ["create", "-b", bundle.path, id], globals: ["--log", log, "--log-format", format])
                #expect(r.status == 1, "\(r)")
                #expect(r.err.split(separator: "\n").count == 1, "\(r)")
                #expect(!r.stderr.contains("\u{1B}") && r.stderr.contains(#"nofs\nlevel=error msg=forged\u001b[2J"#), "\(r)")
                let logged = readFile(log) ?? ""
                #expect(logged.split(separator: "\n").count == 1 && !logged.contains("\u{1B}"), "\(logged)")
                h.expectNothingLeft(id)
            }
        }

        /// --preserve-fds 99999999999 trapped (SIGILL) converting to Int32; with LISTEN_FDS the
        /// sum could overflow too.
        @Test func hugePreserveFdsAreRefused() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h)
            let id = h.newID()
            let r = h.skiff(args: ["create", "-b", bundle.path, "--preserve-fds", "99999999999", id])
            BadInput.expectRejected(h, r, id: id, mentioning: ["--preserve-fds"])
            // A LISTEN_FDS no process can have (above 65536) is not socket activation: ignored,
            // as any malformed LISTEN_FDS is, and never an overflow.
            let other = h.newID()
            let c = h.skiff(args: ["create", "-b", bundle.path, "--preserve-fds", "1", other],
                            env: ["LISTEN_FDS=9223372036854775807", "LISTEN_PID=\(getpid())"])
            #expect(c.status == 0 && c.stderr.isEmpty, "\(c)")
            #expect(h.skiff("delete", "-f", other).status == 0)
            h.expectNothingLeft(other)
        }

        @Test func execRefusesWhatCreateRefuses() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, created) = h.create(bundle)
            try #require(created.status == 0, "\(created)")
            let process: [String: Any] = ["args": ["id", "-u"], "cwd": "/", "user": ["uid": 0, "gid": 0]]
            var refused: [([String: Any], String)] = [
                (["oomScoreAdj": 5000], "oomScoreAdj"),
                (["user": ["uid": 4294967295, "gid": 0]], "user.uid"),
                (["user": ["uid": 0, "gid": 4294967295]], "user.gid"),
                (["user": ["uid": 0, "gid": 0, "additionalGids": [4294967295]]], "user.additionalGids[0]"),
                (["ioPriority": ["class": "IOPRIO_CLASS_BE", "priority": 1_099_511_627_776]], "ioPriority.priority"),
                (["args": ["/bin/id\u{0}x"]], "args[0]"),
            ]
            if !fileExists("/sys/kernel/security/apparmor") { refused.append((["apparmorProfile": "x"], "apparmorProfile")) }
            if !fileExists("/sys/fs/selinux/enforce") { refused.append((["selinuxLabel": "system_u:system_r:x:s0"], "selinuxLabel")) }
            for (change, path) in refused {
                let file = h.path("process-\(path).json")
                let merged = process.merging(change) { $1 }
                try JSONSerialization.data(withJSONObject: merged).write(to: URL(fileURLWithPath: file))
                let r = h.skiff("exec", "--process", file, id)
                #expect(r.status != 0 && r.stderr.contains("\(file): \(path): "), "\(path): \(r)")
                #expect(!r.stdout.contains("0"), "ran as root: \(r)")
            }
            for user in ["4294967295:4294967295", "4294967295", "0:4294967295", "", ":", "5:"] {
                let r = h.skiff("exec", "--user", user, id, "id", "-u")
                #expect(r.status != 0 && r.stderr.contains("--user: "), "\(user): \(r)")
                #expect(r.stdout.isEmpty, "ran: \(r)")
            }
            let gids = h.skiff("exec", "--additional-gids", "4294967295", id, "id")
            #expect(gids.status != 0 && gids.stderr.contains("additionalGids[0]"), "\(gids)")
            // The same process file with sane values still runs.
            let ok = h.path("process-ok.json")
            try JSONSerialization.data(withJSONObject: process).write(to: URL(fileURLWithPath: ok))
            let r = h.skiff("exec", "--process", ok, id)
            #expect(r.status == 0 && r.stdout == "0\n", "\(r)")
        }
    }
}
