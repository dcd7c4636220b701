import Foundation
import Glibc
import Testing

extension Integration {
    @Suite struct Lifecycle {
        /// A bundle whose process touches <marker dir>/started, then waits; it exits 0 on TERM
        /// and records USR1 in <marker dir>/usr1.
        static func markerBundle(_ h: Harness) throws -> (Bundle, String) {
            let markers = h.path("markers")
            try FileManager.default.createDirectory(atPath: markers, withIntermediateDirectories: true)
            let bundle = try Bundle.make(in: h) { c in
                c.bind(markers, at: "/m")
                c.shell("trap 'exit 0' TERM; trap 'echo usr1 >> /m/usr1' USR1; touch /m/started; while true; do sleep 0.1; done")
            }
            return (bundle, markers)
        }

        /// Keys of a 2-space-indented JSON object's top level, in order of appearance.
        static func topLevelKeys(_ json: String) -> [String] {
            json.split(separator: "\n").compactMap { line -> String? in
                guard line.hasPrefix("  \""), !line.hasPrefix("   ") else { return nil }
                return String(line.dropFirst(3).prefix { $0 != "\"" })
            }
        }

        @Test func createThenStartRunsTheProcess() throws {
            let h = try Harness()
            let (bundle, markers) = try Self.markerBundle(h)
            let (id, _) = h.create(bundle)
            let state = try #require(h.state(id))
            #expect(state["status"] as? String == "created")
            let pid = (state["pid"] as? NSNumber)?.intValue ?? 0
            #expect(pid > 0)
            #expect(fileExists("/proc/\(pid)"))
            usleep(300_000)
            #expect(!fileExists(markers + "/started"), "the user process ran before start")

            let start = h.skiff("start", id)
            #expect(start.status == 0, "\(start)")
            #expect(start.stdout.isEmpty && start.stderr.isEmpty, "\(start)")
            #expect(waitUntil { fileExists(markers + "/started") }, "the user process did not run after start")
            #expect(h.status(id) == "running")
            #expect(h.pid(id) == pid)
        }

        /// create's stdio becomes the container's: output written after start lands in the
        /// file create's stdout pointed to, though create exited long before.
        @Test func createStdioIsTheContainers() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { $0.shell("echo to-stdout; echo to-stderr >&2") }
            let out = h.path("create-stdout")
            let err = h.path("create-stderr")
            let id = h.newID()
            let c = h.skiff(args: ["create", "-b", bundle.path, id], stdoutPath: out, stderrPath: err)
            #expect(c.status == 0, "\(c)")
            #expect(readFile(out) == "", "output before start: \(readFile(out) ?? "")")
            #expect(h.skiff("start", id).status == 0)
            #expect(waitUntil { h.status(id) == "stopped" })
            #expect(readFile(out) == "to-stdout\n")
            #expect(readFile(err) == "to-stderr\n")
        }

        @Test func killDefaultIsTERM() throws {
            let h = try Harness()
            let (bundle, markers) = try Self.markerBundle(h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            #expect(waitUntil { fileExists(markers + "/started") })
            let pid = h.pid(id)
            let k = h.skiff("kill", id)
            #expect(k.status == 0, "\(k)")
            #expect(waitUntil { h.status(id) == "stopped" }, "TERM did not stop the container")
            let state = try #require(h.state(id))
            #expect((state["pid"] as? NSNumber)?.intValue == 0, "stopped state must report pid 0: \(state)")
            #expect(waitUntil { !fileExists("/proc/\(pid)") || (readFile("/proc/\(pid)/stat") ?? "").contains(") Z ") })
        }

        @Test(arguments: ["KILL", "9", "SIGKILL"])
        func killWithSIGKILLSpellings(signal: String) throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            #expect(h.status(id) == "running")
            let k = h.skiff("kill", id, signal)
            #expect(k.status == 0, "\(k)")
            #expect(waitUntil { h.status(id) == "stopped" }, "kill \(signal) did not stop the container")
        }

        @Test(arguments: ["USR1", "SIGUSR1", "10"])
        func killDeliversTheNamedSignal(signal: String) throws {
            let h = try Harness()
            let (bundle, markers) = try Self.markerBundle(h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            #expect(waitUntil { fileExists(markers + "/started") })
            let k = h.skiff("kill", id, signal)
            #expect(k.status == 0, "\(k)")
            #expect(waitUntil { readFile(markers + "/usr1") == "usr1\n" }, "SIGUSR1 not delivered")
            #expect(h.status(id) == "running")
        }

        @Test func killCreatedContainer() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            let k = h.skiff("kill", id, "KILL")
            #expect(k.status == 0, "\(k)")
            #expect(waitUntil { h.status(id) == "stopped" })
        }

        @Test func deleteRemovesEverything() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            let pid = h.pid(id)
            // Not vacuous: while it runs there are a state dir and cgroup dirs.
            #expect(fileExists("\(h.root)/\(id)"))
            let existing = h.cgroupDirs(id).filter(fileExists)
            #expect(!existing.isEmpty, "no cgroup dir found for a running container")
            let procCgroup = readFile("/proc/\(pid)/cgroup") ?? ""
            #expect(procCgroup.contains(id), "init is not in the container's cgroup: \(procCgroup)")

            #expect(h.skiff("kill", id, "KILL").status == 0)
            #expect(waitUntil { h.status(id) == "stopped" })
            let d = h.skiff("delete", id)
            #expect(d.status == 0, "\(d)")
            #expect(d.stdout.isEmpty, "\(d)")
            h.expectNothingLeft(id)
            for dir in existing { #expect(!fileExists(dir), "cgroup dir \(dir) left") }
            let s = h.skiff("state", id)
            #expect(s.status == 1)
            #expect(s.stderr.contains("does not exist"), "\(s)")
        }

        @Test func deleteRunningWithoutForceFails() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            let d = h.skiff("delete", id)
            #expect(d.status == 1, "\(d)")
            #expect(d.stderr.contains("cannot delete container \(id) that is not stopped: running"), "\(d)")
            #expect(h.status(id) == "running")
        }

        @Test func deleteForceRunning() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            let pid = h.pid(id)
            let d = h.skiff("delete", "--force", id)
            #expect(d.status == 0, "\(d)")
            h.expectNothingLeft(id)
            #expect(waitUntil { !fileExists("/proc/\(pid)") || (readFile("/proc/\(pid)/stat") ?? "").contains(") Z ") })
        }

        @Test func deleteCreatedWithoutForce() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            let pid = h.pid(id)
            #expect(pid > 0)
            let d = h.skiff("delete", id)
            #expect(d.status == 0, "\(d)")
            h.expectNothingLeft(id)
            #expect(waitUntil { !fileExists("/proc/\(pid)") || (readFile("/proc/\(pid)/stat") ?? "").contains(") Z ") })
        }

        @Test func startRunningFails() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            let s = h.skiff("start", id)
            #expect(s.status == 1, "\(s)")
            #expect(s.stderr.contains("cannot start an already running container"), "\(s)")
        }

        @Test func startStoppedFails() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { $0.args = ["true"] }
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            #expect(waitUntil { h.status(id) == "stopped" })
            let s = h.skiff("start", id)
            #expect(s.status == 1, "\(s)")
            #expect(s.stderr.contains("cannot start a container that has stopped"), "\(s)")
        }

        @Test func killStoppedFailsButAllSucceeds() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { $0.args = ["true"] }
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            #expect(waitUntil { h.status(id) == "stopped" })
            let k = h.skiff("kill", id, "KILL")
            #expect(k.status == 1, "\(k)")
            #expect(k.stderr.contains("container not running"), "\(k)")
            let all = h.skiff("kill", "--all", id, "9")
            #expect(all.status == 0, "\(all)")
        }

        @Test func stoppedStateAfterExit() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { $0.args = ["true"] }
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            #expect(waitUntil { h.status(id) == "stopped" })
            let state = try #require(h.state(id))
            #expect((state["pid"] as? NSNumber)?.intValue == 0)
            #expect(state["id"] as? String == id)
            #expect(h.skiff("delete", id).status == 0)
            h.expectNothingLeft(id)
        }

        @Test func pidFileHasThePidWithoutNewline() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let pidFile = h.path("init.pid")
            let (id, _) = h.create(bundle, extra: ["--pid-file", pidFile])
            let text = try #require(readFile(pidFile))
            #expect(!text.hasSuffix("\n"), "pid file ends with a newline: \(text.debugDescription)")
            #expect(Int(text) == h.pid(id), "pid file \(text.debugDescription) vs state pid \(h.pid(id))")
        }

        @Test func pidFileRelativePath() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let id = h.newID()
            // Relative to the caller's cwd, not the bundle: run via sh with cwd = temp dir.
            let r = h.sh("cd \(h.dir) && \(Paths.binary) --root \(h.root) create -b \(bundle.path) --pid-file rel.pid \(id)")
            #expect(r.status == 0, "\(r)")
            let text = readFile(h.dir + "/rel.pid")
            #expect(text != nil && Int(text!) == h.pid(id), "pid file not at \(h.dir)/rel.pid")
        }

        @Test func listFormats() throws {
            let h = try Harness()
            let empty = h.skiff("list", "--format", "json")
            #expect(empty.status == 0, "\(empty)")
            #expect(empty.out == "null", "\(empty)")

            let bundle = try Bundle.make(from: "sleep", in: h)
            let (a, _) = h.create(bundle)
            let (b, _) = h.create(bundle)
            #expect(h.skiff("start", b).status == 0)

            let table = h.skiff("list")
            #expect(table.status == 0, "\(table)")
            let rows = table.lines
            #expect(rows.count == 3, "\(table)")
            #expect(rows.first?.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                    == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"])
            let rowA = rows.first { $0.hasPrefix(a + " ") }?.split(separator: " ").map(String.init) ?? []
            let rowB = rows.first { $0.hasPrefix(b + " ") }?.split(separator: " ").map(String.init) ?? []
            #expect(rowA.count == 6 && rowA[1] == String(h.pid(a)) && rowA[2] == "created" && rowA[3] == bundle.path && rowA[5] == "root", "\(rowA)")
            #expect(rowB.count == 6 && rowB[2] == "running", "\(rowB)")

            let quiet = h.skiff("list", "-q")
            #expect(quiet.status == 0)
            #expect(Set(quiet.lines) == [a, b], "\(quiet)")

            let json = h.skiff("list", "--format", "json")
            #expect(json.status == 0)
            let array = (try? JSONSerialization.jsonObject(with: Data(json.stdout.utf8))) as? [[String: Any]]
            #expect(array?.count == 2, "\(json)")
            let byID = Dictionary(uniqueKeysWithValues: (array ?? []).map { ($0["id"] as? String ?? "", $0) })
            #expect(byID[a]?["status"] as? String == "created")
            #expect(byID[b]?["status"] as? String == "running")
            #expect(byID[b]?["owner"] as? String == "root")
            #expect(byID[a]?["bundle"] as? String == bundle.path)
        }

        @Test func stateJSONShape() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h) { c in
                c["annotations"] = ["org.example.key": "value", "b": "2"]
            }
            let (id, _) = h.create(bundle)
            let r = h.skiff("state", id)
            #expect(r.status == 0, "\(r)")
            #expect(r.stderr.isEmpty, "state must keep stderr silent: \(r)")
            // Top-level keys (2-space indent) in runc's order.
            let keys = Self.topLevelKeys(r.stdout)
            #expect(keys == ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "annotations", "owner"], "\(r.stdout)")
            let state = try #require(parseJSONObject(r.stdout))
            #expect(state["id"] as? String == id)
            #expect(state["bundle"] as? String == bundle.path)
            #expect(state["rootfs"] as? String == bundle.rootfs)
            #expect(state["owner"] as? String == "")
            #expect((state["annotations"] as? [String: String]) == ["org.example.key": "value", "b": "2"])
            let created = state["created"] as? String ?? ""
            #expect(created.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"#, options: .regularExpression) != nil, "created: \(created)")
        }

        @Test func stateWithoutAnnotationsOmitsThem() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            let r = h.skiff("state", id)
            #expect(r.status == 0)
            let state = try #require(parseJSONObject(r.stdout))
            #expect(state["annotations"] == nil, "\(r.stdout)")
            #expect(Self.topLevelKeys(r.stdout) == ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"], "\(r.stdout)")
            #expect(!r.stdout.hasSuffix("\n"), "runc prints state without a trailing newline")
        }

        @Test func runRemovesTheContainer() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h)
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 0, "\(r)")
            let s = h.skiff("state", id)
            #expect(s.status == 1 && s.stderr.contains("does not exist"), "\(s)")
            h.expectNothingLeft(id)
        }

        @Test func runDetach() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let id = h.newID()
            let r = h.skiff("run", "-d", "-b", bundle.path, id)
            #expect(r.status == 0, "\(r)")
            #expect(h.status(id) == "running")
        }

        @Test func pauseAndResume() throws {
            let h = try Harness()
            let (bundle, markers) = try Self.markerBundle(h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            #expect(waitUntil { fileExists(markers + "/started") })
            let p = h.skiff("pause", id)
            #expect(p.status == 0, "\(p)")
            #expect(h.status(id) == "paused")
            // Frozen: a signal is queued but not handled until resume.
            #expect(h.skiff("kill", id, "USR1").status == 0)
            usleep(300_000)
            #expect(!fileExists(markers + "/usr1"), "a paused container handled a signal")
            let d = h.skiff("delete", id)
            #expect(d.status == 1 && d.stderr.contains("that is not stopped: paused"), "\(d)")
            let r = h.skiff("resume", id)
            #expect(r.status == 0, "\(r)")
            #expect(h.status(id) == "running")
            #expect(waitUntil { fileExists(markers + "/usr1") }, "signal not handled after resume")
            let again = h.skiff("resume", id)
            #expect(again.status == 1 && again.stderr.contains("container not paused"), "\(again)")
        }

        @Test func psListsTheContainerProcesses() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            let r = h.skiff("ps", "--format", "json", id)
            #expect(r.status == 0, "\(r)")
            #expect(r.stdout.hasSuffix("\n"))
            let pids = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [Int]
            #expect(pids == [h.pid(id)], "\(r)")
        }

        @Test func deleteForceUnknownIsOK() throws {
            let h = try Harness()
            let r = h.skiff("delete", "--force", "no-such-container")
            #expect(r.status == 0, "\(r)")
        }
    }
}

extension Integration {
    /// An engine SIGKILLs `create` midway (runc #4757): init dies with it (parent-death
    /// signal), and the container it leaves is "stopped" and fully removed by `delete`.
    @Suite struct KilledCreate {
        @Test func leavesOnlyDeletableState() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["hooks"] = ["prestart": [["path": "/bin/sleep", "args": ["sleep", "3"]]]]
            }
            let id = h.newID()
            let create = h.background(["create", "-b", bundle.path, id])
            #expect(waitUntil { h.cgroupDirs(id).contains { fileExists($0) } }, "create did not get as far as its cgroups")
            kill(create.pid, SIGKILL)
            _ = create.wait(timeout: 10)
            #expect(waitUntil { h.status(id) == "stopped" },
                    "state: \(String(describing: h.state(id))); create said: \(readFile(create.stderrPath) ?? "")")
            let d = h.skiff("delete", id)
            #expect(d.status == 0, "\(d)")
            h.expectNothingLeft(id)
        }
    }
}
