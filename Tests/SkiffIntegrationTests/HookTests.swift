import Foundation
import Glibc
import Testing

extension Integration {
    @Suite struct Hooks {
        /// Writes a host hook script that appends its name to <log>/order, saves its stdin (the
        /// state JSON) as <log>/<name>.json and records its namespaces and pid.
        static func hookScript(name: String, logDir: String, at path: String, extra: String = "") throws {
            try writeFile(path, """
                #!/bin/sh
                echo \(name) >> \(logDir)/order
                /bin/cat > \(logDir)/\(name).json
                /bin/readlink /proc/self/ns/uts > \(logDir)/\(name).uts
                /bin/readlink /proc/self/ns/mnt > \(logDir)/\(name).mnt
                \(extra)
                """, mode: 0o755)
        }

        @Test func allHooksRunAtTheRightStep() throws {
            let h = try Harness()
            let log = h.path("hooklog")
            try FileManager.default.createDirectory(atPath: log, withIntermediateDirectories: true)
            let hostKinds = ["prestart", "createRuntime", "createContainer", "poststart", "poststop"]
            for kind in hostKinds { try Self.hookScript(name: kind, logDir: log, at: "\(h.dir)/\(kind).sh") }
            let bundle = try Bundle.make(in: h) { c in
                c.bind(log, at: "/hooklog", options: ["rbind", "rw"])
                var hooks: [String: Any] = [:]
                for kind in hostKinds { hooks[kind] = [["path": "\(h.dir)/\(kind).sh", "args": ["\(kind).sh", "arg1"]]] }
                // startContainer runs inside the container: its path resolves in the rootfs.
                hooks["startContainer"] = [["path": "/hook-start.sh"]]
                c["hooks"] = hooks
                c.args = ["sleep", "30"]
            }
            // The rootfs is a hard-link copy: a new file there is private to this bundle.
            try Self.hookScript(name: "startContainer", logDir: "/hooklog", at: bundle.rootfs + "/hook-start.sh")
            func order() -> [String] { (readFile(log + "/order") ?? "").split(separator: "\n").map(String.init) }

            let (id, _) = h.create(bundle)
            let pid = h.pid(id)
            #expect(order() == ["prestart", "createRuntime", "createContainer"])
            #expect(h.skiff("start", id).status == 0)
            #expect(order() == ["prestart", "createRuntime", "createContainer", "startContainer", "poststart"])
            #expect(h.skiff("kill", id, "KILL").status == 0)
            #expect(waitUntil { h.status(id) == "stopped" })
            #expect(order().count == 5, "poststop ran before delete: \(order())")
            let d = h.skiff("delete", id)
            #expect(d.status == 0, "\(d)")
            #expect(order() == ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"])

            // The state each hook got on stdin.
            // createContainer's status is checked in createContainerHookSeesCreating.
            let expectedStatus: [String: Set<String>] = [
                "prestart": ["creating"], "createRuntime": ["creating"], "createContainer": ["creating", "created"],
                "startContainer": ["created", "running"], "poststart": ["running"], "poststop": ["stopped"],
            ]
            for kind in hostKinds + ["startContainer"] {
                let state = parseJSONObject(readFile("\(log)/\(kind).json") ?? "")
                #expect(state != nil, "\(kind): stdin was not a JSON state: \(readFile("\(log)/\(kind).json") ?? "nil")")
                #expect(state?["id"] as? String == id, "\(kind)")
                #expect(state?["bundle"] as? String == bundle.path, "\(kind)")
                let status = state?["status"] as? String ?? ""
                #expect(expectedStatus[kind]!.contains(status), "\(kind) got status \(status)")
                // pid is omitted (omitempty in runc) once stopped.
                let hookPid = (state?["pid"] as? NSNumber)?.intValue ?? 0
                switch kind {
                case "createContainer", "startContainer": #expect(hookPid == pid || hookPid == 1, "\(kind) pid \(hookPid)")
                case "poststop": #expect(hookPid == 0 || hookPid == pid, "\(kind) pid \(hookPid)")
                default: #expect(hookPid == pid, "\(kind) pid \(hookPid), container pid \(pid)")
                }
            }
            // Where they ran: prestart/createRuntime/poststart/poststop in the runtime's
            // namespaces, createContainer/startContainer in the container's.
            let hostUTS = hostNamespace("uts")
            for kind in ["prestart", "createRuntime", "poststart", "poststop"] {
                #expect(readFile("\(log)/\(kind).uts")?.trimmingCharacters(in: .whitespacesAndNewlines) == hostUTS, "\(kind)")
            }
            for kind in ["createContainer", "startContainer"] {
                let uts = readFile("\(log)/\(kind).uts")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                #expect(uts.hasPrefix("uts:[") && uts != hostUTS, "\(kind) did not run in the container's uts namespace: \(uts)")
                let mnt = readFile("\(log)/\(kind).mnt")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                #expect(mnt.hasPrefix("mnt:[") && mnt != hostNamespace("mnt"), "\(kind) mnt ns: \(mnt)")
            }
            h.expectNothingLeft(id)
        }

        /// createContainer runs during create, before the container is created: its state says
        /// "creating" (runtime-spec; runc 1.1.5 passes "creating" too).
        @Test
        func createContainerHookSeesCreating() throws {
            let h = try Harness()
            let log = h.path("hooklog")
            try FileManager.default.createDirectory(atPath: log, withIntermediateDirectories: true)
            try Self.hookScript(name: "createContainer", logDir: log, at: "\(h.dir)/createContainer.sh")
            let bundle = try Bundle.make(from: "sleep", in: h) { c in
                c["hooks"] = ["createContainer": [["path": "\(h.dir)/createContainer.sh"]]]
            }
            let (id, _) = h.create(bundle)
            let state = parseJSONObject(readFile("\(log)/createContainer.json") ?? "")
            #expect(state?["id"] as? String == id)
            #expect(state?["status"] as? String == "creating", "\(String(describing: state))")
        }

        @Test func failingPrestartHookFailsCreate() throws {
            let h = try Harness()
            let script = h.dir + "/fail.sh"
            try writeFile(script, "#!/bin/sh\necho hook-said-no >&2\nexit 7\n", mode: 0o755)
            let bundle = try Bundle.make(in: h) { c in
                c["hooks"] = ["prestart": [["path": script]]]
            }
            let id = h.newID()
            let r = h.skiff("create", "-b", bundle.path, id)
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.contains("prestart"), "\(r)")
            h.expectNothingLeft(id)
        }

        @Test func hookTimeoutKillsTheHook() throws {
            let h = try Harness()
            let script = h.dir + "/slow.sh"
            let pidFile = h.dir + "/slow.pid"
            let childFile = h.dir + "/child.pid"
            // A process the hook started goes too (the hook's process group is killed).
            try writeFile(script, "#!/bin/sh\n/bin/sleep 61 &\necho $! > \(childFile)\necho $$ > \(pidFile)\nexec /bin/sleep 60\n", mode: 0o755)
            let bundle = try Bundle.make(in: h) { c in
                c["hooks"] = ["createRuntime": [["path": script, "timeout": 1]]]
            }
            let id = h.newID()
            let started = Date()
            let r = h.skiff(args: ["create", "-b", bundle.path, id], timeout: 20)
            let elapsed = Date().timeIntervalSince(started)
            #expect(r.status == 1, "\(r)")
            #expect(!r.timedOut)
            #expect(elapsed < 10 * Paths.timeoutScale, "create took \(elapsed)s despite a 1s hook timeout")
            #expect(r.stderr.contains("createRuntime"), "\(r)")
            let hookPid = Int(readFile(pidFile)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
            #expect(hookPid > 0)
            #expect(waitUntil(timeout: 5) { !fileExists("/proc/\(hookPid)") || (readFile("/proc/\(hookPid)/stat") ?? "").contains(") Z ") },
                    "the timed-out hook \(hookPid) is still running")
            let childPid = Int(readFile(childFile)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
            #expect(childPid > 0)
            #expect(waitUntil(timeout: 5) { !fileExists("/proc/\(childPid)") || (readFile("/proc/\(childPid)/stat") ?? "").contains(") Z ") },
                    "the timed-out hook's child \(childPid) is still running")
            h.expectNothingLeft(id)
        }

        @Test func failingPoststopHookOnlyWarns() throws {
            let h = try Harness()
            let script = h.dir + "/poststop.sh"
            let ran = h.dir + "/poststop.ran"
            try writeFile(script, "#!/bin/sh\ntouch \(ran)\nexit 3\n", mode: 0o755)
            let bundle = try Bundle.make(in: h) { c in
                c["hooks"] = ["poststop": [["path": script]]]
                c.args = ["true"]
            }
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            #expect(waitUntil { h.status(id) == "stopped" })
            let d = h.skiff("delete", id)
            #expect(d.status == 0, "\(d)")
            #expect(fileExists(ran), "poststop hook did not run")
            #expect(d.stderr.contains("poststop"), "expected a warning naming the hook: \(d)")
            h.expectNothingLeft(id)
        }

        @Test func runRunsAllHooks() throws {
            let h = try Harness()
            let log = h.path("hooklog")
            try FileManager.default.createDirectory(atPath: log, withIntermediateDirectories: true)
            let kinds = ["prestart", "createRuntime", "poststart", "poststop"]
            for kind in kinds { try Self.hookScript(name: kind, logDir: log, at: "\(h.dir)/\(kind).sh") }
            let bundle = try Bundle.make(in: h) { c in
                var hooks: [String: Any] = [:]
                for kind in kinds { hooks[kind] = [["path": "\(h.dir)/\(kind).sh"]] }
                c["hooks"] = hooks
            }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.stdout == "hello\n")
            #expect((readFile(log + "/order") ?? "").split(separator: "\n") == ["prestart", "createRuntime", "poststart", "poststop"])
        }
    }

    @Suite struct Logging {
        @Test func failedCreateWritesOneJSONLine() throws {
            let h = try Harness()
            let logFile = h.dir + "/log.json"
            let id = h.newID()
            let r = h.skiff(args: ["create", "-b", h.dir + "/no-such-bundle", id], globals: ["--log", logFile, "--log-format", "json"])
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.contains("no-such-bundle"), "the error is also printed on stderr: \(r)")
            let text = try #require(readFile(logFile))
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
            #expect(lines.count == 1, "log: \(text)")
            #expect(text.hasSuffix("\n"))
            let entry = try #require(parseJSONObject(String(lines.first ?? "")), "not JSON: \(text)")
            #expect(entry["level"] as? String == "error")
            #expect((entry["msg"] as? String)?.contains("no-such-bundle") == true, "\(entry)")
            let time = entry["time"] as? String ?? ""
            #expect(time.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"#, options: .regularExpression) != nil, "time: \(time)")
            h.expectNothingLeft(id)
        }

        @Test func failedCreateOfExecutableNotFoundLogsJSON() throws {
            let h = try Harness()
            let logFile = h.dir + "/log.json"
            let bundle = try Bundle.make(in: h) { $0.args = ["no-such-binary-xyz"] }
            let id = h.newID()
            let r = h.skiff(args: ["create", "-b", bundle.path, id], globals: ["--log", logFile, "--log-format", "json"])
            #expect(r.status == 1, "\(r)")
            let text = readFile(logFile) ?? ""
            let lines = text.split(separator: "\n").filter { !$0.isEmpty }
            #expect(lines.count == 1, "log: \(text)")
            let entry = parseJSONObject(String(lines.first ?? ""))
            #expect(entry?["level"] as? String == "error", "\(text)")
            #expect((entry?["msg"] as? String)?.contains("executable file not found in $PATH") == true, "\(text)")
            h.expectNothingLeft(id)
        }

        @Test func successfulStateOutputsOnlyJSON() throws {
            let h = try Harness()
            let logFile = h.dir + "/log.json"
            let bundle = try Bundle.make(from: "sleep", in: h)
            let id = h.newID()
            let c = h.skiff(args: ["create", "-b", bundle.path, id], globals: ["--log", logFile, "--log-format", "json"])
            #expect(c.status == 0, "\(c)")
            #expect(c.stdout.isEmpty && c.stderr.isEmpty, "\(c)")
            let r = h.skiff(args: ["state", id], globals: ["--log", logFile, "--log-format", "json"])
            #expect(r.status == 0, "\(r)")
            #expect(r.stderr.isEmpty, "\(r)")
            #expect(parseJSONObject(r.stdout)?["id"] as? String == id, "\(r)")
            // Nothing but (optional) JSON lines in the log: no error entries.
            for line in (readFile(logFile) ?? "").split(separator: "\n") where !line.isEmpty {
                let entry = parseJSONObject(String(line))
                #expect(entry != nil, "non-JSON log line: \(line)")
                #expect(entry?["level"] as? String != "error", "\(line)")
            }
        }

        @Test func textLogFormat() throws {
            let h = try Harness()
            let logFile = h.dir + "/log.txt"
            let id = h.newID()
            let r = h.skiff(args: ["create", "-b", h.dir + "/no-such-bundle", id], globals: ["--log", logFile, "--log-format", "text"])
            #expect(r.status == 1)
            let text = readFile(logFile) ?? ""
            #expect(text.hasPrefix("time=\""), "\(text)")
            #expect(text.contains("level=error"), "\(text)")
            #expect(text.contains("msg=\""), "\(text)")
        }

        @Test func invalidLogFormat() throws {
            let h = try Harness()
            let r = h.skiff(args: ["list"], globals: ["--log-format", "xml"])
            #expect(r.status != 0, "\(r)")
            #expect(r.stderr.contains("xml"), "\(r)")
        }
    }
}
