import Foundation
import Glibc
import SkiffTestSupport
import Testing

// Issue 13, items 3 and 4 and fuzz target (c): every file skiff reads, replaced by a special
// file (fifo, /dev/zero, directory, dangling and looping symlinks, oversized, unreadable), and
// state files that are damaged, forged, foreign or writable by others.

/// The special files a read must survive, table-driven: each kind knows how to put itself at a path.
enum SpecialFile: String, CaseIterable, CustomStringConvertible {
    case fifo, devZero, directory, danglingSymlink, loopingSymlink, oversized, garbage, empty

    var description: String { rawValue }

    /// Replaces whatever is at `path` with this kind of file. `oversize`: bytes for `.oversized`
    /// (a sparse file, so it costs no disk).
    func install(at path: String, oversize: Int = 5 << 20) {
        _ = unlink(path)
        _ = rmdir(path)
        switch self {
        case .fifo: mkfifo(path, 0o600)
        case .devZero: symlink("/dev/zero", path)
        case .directory: mkdir(path, 0o700)
        case .danglingSymlink: symlink(path + ".missing-target", path)
        case .loopingSymlink: symlink(path, path)  // ELOOP
        case .oversized:
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            _ = ftruncate(fd, off_t(oversize))
            close(fd)
        case .garbage: try? writeFile(path, "\u{1}\u{2}{{{ not json \u{7f}", mode: 0o600)
        case .empty: try? writeFile(path, "", mode: 0o600)
        }
    }

    /// Kinds that make sense for a file skiff only opens for appending (--log).
    static let forLog: [SpecialFile] = [.fifo, .devZero, .directory, .loopingSymlink]
}

extension Integration {
    @Suite struct HostileState {
        static let deadline: TimeInterval = 20

        /// A JSON object file (state.json), or a thrown error.
        static func json(_ path: String) throws -> [String: Any] {
            guard let text = readFile(path), let object = parseJSONObject(text) else { throw HarnessError("cannot read \(path) as JSON") }
            return object
        }

        /// A clean, bounded failure: exit 1 (no signal, no timeout), one error line mentioning
        /// every needle.
        static func expectCleanFailure(_ r: RunResult, _ needles: [String], _ context: String, status: Int32 = 1,
                                       sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(!r.timedOut, "\(context): timed out (blocked?): \(r)", sourceLocation: sourceLocation)
            #expect(r.status == status, "\(context): \(r)", sourceLocation: sourceLocation)
            let lines = r.err.split(separator: "\n").filter { !$0.contains("warning") }
            #expect(lines.count == 1, "\(context): expected one error line: \(r)", sourceLocation: sourceLocation)
            for needle in needles {
                #expect(r.stderr.contains(needle), "\(context): stderr lacks \(needle.debugDescription): \(r)", sourceLocation: sourceLocation)
            }
        }

        /// A detached, started sleep container.
        static func running(_ h: Harness) throws -> (id: String, bundle: Bundle) {
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            return (id, bundle)
        }

        // MARK: Fuzz (c): special files for every file skiff reads

        @Test(arguments: SpecialFile.allCases)
        func configJSON(kind: SpecialFile) throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            kind.install(at: bundle.configPath)
            for verb in ["create", "run"] {
                let id = h.newID()
                let r = h.skiff(args: [verb, "-b", bundle.path, id], timeout: Self.deadline)
                Self.expectCleanFailure(r, ["config.json"], "\(verb) with config.json as \(kind)")
                h.expectNothingLeft(id)
            }
            let c = h.skiff(args: ["check", "-b", bundle.path], timeout: Self.deadline)
            #expect(!c.timedOut && c.status == 1, "check with config.json as \(kind): \(c)")
            #expect(c.stdout.contains("config.json") || c.stderr.contains("config.json"), "\(c)")
        }

        @Test func configJSONRefusesTheKindByName() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            for (kind, words) in [(SpecialFile.fifo, "a fifo"), (.devZero, "a character device"), (.directory, "a directory"),
                                  (.oversized, "larger than 4194304 bytes")] {
                kind.install(at: bundle.configPath)
                let id = h.newID()
                let r = h.skiff(args: ["create", "-b", bundle.path, id], timeout: Self.deadline)
                Self.expectCleanFailure(r, ["config.json", words], "config.json as \(kind)")
            }
        }

        @Test func execProcessAndUpdateResourcesFiles() throws {
            let h = try Harness()
            let (id, _) = try Self.running(h)
            for kind in SpecialFile.allCases {
                let file = h.path("file-\(kind)")
                kind.install(at: file)
                // A fifo is accepted for these two (runc reads `exec -p <(…)`); one nobody
                // writes to fails with "is empty" after a bounded wait, never a hang.
                let needles = kind == .fifo ? [file, "is empty"] : [file]
                let e = h.skiff(args: ["exec", "--process", file, id], timeout: Self.deadline)
                // exec's own failures exit 255, as runc's.
                Self.expectCleanFailure(e, needles, "exec --process as \(kind)", status: 255)
                let u = h.skiff(args: ["update", "-r", file, id], timeout: Self.deadline)
                Self.expectCleanFailure(u, needles, "update -r as \(kind)")
            }
            // stdin stays allowed for update -r, and is bounded too.
            let ok = h.skiff(args: ["update", "-r", "-", id], stdin: "{\"pids\":{\"limit\":100}}", timeout: Self.deadline)
            #expect(ok.status == 0, "\(ok)")
            #expect(h.status(id) == "running")
        }

        @Test(arguments: SpecialFile.forLog)
        func logFile(kind: SpecialFile) throws {
            let h = try Harness()
            let (id, _) = try Self.running(h)
            let log = h.path("log")
            kind.install(at: log)
            let r = h.skiff(args: ["state", id], globals: ["--log", log], timeout: Self.deadline)
            Self.expectCleanFailure(r, ["log", log], "--log as \(kind)")
            // /dev/null stays allowed (a regular sink for callers that want no log).
            let null = h.skiff(args: ["state", id], globals: ["--log", "/dev/null"], timeout: Self.deadline)
            #expect(null.status == 0, "\(null)")
        }

        @Test(arguments: SpecialFile.allCases)
        func stateJSON(kind: SpecialFile) throws {
            let h = try Harness()
            let (id, _) = try Self.running(h)
            let stateFile = "\(h.root)/\(id)/state.json"
            kind.install(at: stateFile, oversize: 17 << 20)
            let s = h.skiff(args: ["state", id], timeout: Self.deadline)
            Self.expectCleanFailure(s, [id], "state with state.json as \(kind)")
            for verb in [["kill", id, "KILL"], ["delete", id], ["kill", "--all", id, "KILL"]] {
                let r = h.skiff(args: verb, timeout: Self.deadline)
                #expect(!r.timedOut && r.status == 1, "\(verb) with state.json as \(kind): \(r)")
            }
            let d = h.skiff(args: ["delete", "-f", id], timeout: Self.deadline)
            #expect(!d.timedOut && d.status == 0, "delete -f with state.json as \(kind): \(d)")
            #expect(!fileExists("\(h.root)/\(id)"), "delete -f left the state dir (state.json as \(kind))")
            // A damaged state proves nothing about init: it is left alone (and told).
            #expect(d.stderr.contains("warning"), "\(d)")
            // Its default cgroup (/skiff/<id>, from the id alone) is torn down with its init.
            h.expectNothingLeft(id)
        }

        @Test func stateDirectoryIsASymlinkToAnotherContainer() throws {
            let h = try Harness()
            let (a, _) = try Self.running(h)
            let b = h.newID()
            symlink("\(h.root)/\(a)", "\(h.root)/\(b)")
            let s = h.skiff(args: ["state", b], timeout: Self.deadline)
            Self.expectCleanFailure(s, [b], "state of a symlinked state dir")
            let d = h.skiff(args: ["delete", "-f", b], timeout: Self.deadline)
            #expect(d.status == 0, "\(d)")
            #expect(!fileExists("\(h.root)/\(b)"))
            #expect(h.status(a) == "running", "delete -f \(b) touched \(a)")
            #expect(fileExists("\(h.root)/\(a)/state.json"))
            #expect(h.skiff("delete", "-f", a).status == 0)
            h.expectNothingLeft(a)
        }

        // MARK: Item 4 (a): the directory name is the identity

        @Test func stateNamingAnotherContainerIsRefusedAndDeleteForceCleansOnlyItsOwn() throws {
            let h = try Harness()
            let (a, _) = try Self.running(h)
            let (b, _) = try Self.running(h)
            let pidA = h.pid(a)
            let pidB = h.pid(b)
            #expect(pidA > 0 && pidB > 0)
            // B's state.json now says it is A (a copy of A's).
            let copy = h.sh("cp -p \(h.root)/\(a)/state.json \(h.root)/\(b)/state.json")
            #expect(copy.status == 0, "\(copy)")
            let s = h.skiff(args: ["state", b], timeout: Self.deadline)
            Self.expectCleanFailure(s, [b, "another container", a], "state of B naming A")
            let d = h.skiff(args: ["delete", "-f", b], timeout: Self.deadline)
            #expect(d.status == 0, "\(d)")
            #expect(!fileExists("\(h.root)/\(b)"), "B's state dir is still there")
            h.expectNothingLeft(b)
            // A is untouched: state dir, init, cgroups.
            #expect(fileExists("\(h.root)/\(a)/state.json"), "delete -f \(b) removed \(a)'s state")
            #expect(h.status(a) == "running")
            #expect(kill(pid_t(pidA), 0) == 0, "A's init was killed")
            #expect(h.cgroupDirs(a).contains { fileExists($0) }, "A's cgroups were removed")
            #expect(h.skiff("delete", "-f", a).status == 0)
            h.expectNothingLeft(a)
        }

        // MARK: Item 4 (b): state others can write is not acted on

        @Test(arguments: ["file", "directory", "owner"])
        func untrustedStateRunsNoHooks(what: String) throws {
            let h = try Harness()
            let (id, _) = try Self.running(h)
            let dir = "\(h.root)/\(id)"
            let marker = h.path("hook-ran")
            // Inject a poststop hook, as someone who can write the file would.
            let state = try #require(readFile("\(dir)/state.json"))
            var object = try #require(parseJSONObject(state))
            var config = object["config"] as? [String: Any] ?? [:]
            config["hooks"] = ["poststop": [["path": "/bin/sh", "args": ["sh", "-c", "touch \(marker)"]]]]
            object["config"] = config
            let data = try JSONSerialization.data(withJSONObject: object)
            try data.write(to: URL(fileURLWithPath: "\(dir)/state.json"))
            switch what {
            case "file": chmod("\(dir)/state.json", 0o666)
            case "directory": chmod(dir, 0o777)
            default: chown("\(dir)/state.json", 65534, 65534)
            }
            let s = h.skiff(args: ["state", id], timeout: Self.deadline)
            Self.expectCleanFailure(s, [id, what == "owner" ? "owned by uid 65534" : "writable by group or others"],
                                    "state with an untrusted \(what)")
            let d = h.skiff(args: ["delete", "-f", id], timeout: Self.deadline)
            #expect(d.status == 0, "\(d)")
            #expect(!fileExists(dir))
            #expect(!fileExists(marker), "a hook from a state others can write ran as root")
            h.expectNothingLeft(id)
        }

        // MARK: Item 4 (c): recorded cgroups are signalled only when init is in them

        @Test func killAllIgnoresCgroupsInitIsNotIn() throws {
            let h = try Harness()
            let (a, _) = try Self.running(h)
            let (b, _) = try Self.running(h)
            let pidA = h.pid(a)
            // B's state (still root's, 0600) records A's cgroups.
            let stateA = try Self.json("\(h.root)/\(a)/state.json")
            var stateB = try Self.json("\(h.root)/\(b)/state.json")
            stateB["cgroupPaths"] = stateA["cgroupPaths"]
            let data = try JSONSerialization.data(withJSONObject: stateB)
            try data.write(to: URL(fileURLWithPath: "\(h.root)/\(b)/state.json"))
            chmod("\(h.root)/\(b)/state.json", 0o600)
            let k = h.skiff(args: ["kill", "--all", b, "KILL"], timeout: Self.deadline)
            #expect(k.status == 0, "\(k)")
            #expect(k.stderr.contains("not in the cgroups"), "\(k)")
            #expect(waitUntil { h.status(b) == "stopped" }, "B's own init still runs")
            usleep(200_000)
            #expect(kill(pid_t(pidA), 0) == 0 && h.status(a) == "running", "kill --all \(b) killed \(a)'s processes")
            let d = h.skiff(args: ["delete", "-f", b], timeout: Self.deadline)
            #expect(d.status == 0, "\(d)")
            #expect(kill(pid_t(pidA), 0) == 0 && h.status(a) == "running", "delete -f \(b) killed \(a)'s processes")
            #expect(h.skiff("delete", "-f", a).status == 0)
            h.expectNothingLeft(a)
        }

        @Test func recordedInitWithAnotherStartTimeIsNotSignalled() throws {
            let h = try Harness()
            let (a, _) = try Self.running(h)
            let (b, _) = try Self.running(h)
            let pidA = h.pid(a)
            // B's state names A's init (with B's start time) and A's cgroups.
            let stateA = try Self.json("\(h.root)/\(a)/state.json")
            var stateB = try Self.json("\(h.root)/\(b)/state.json")
            stateB["initPid"] = stateA["initPid"]
            stateB["cgroupPaths"] = stateA["cgroupPaths"]
            let data = try JSONSerialization.data(withJSONObject: stateB)
            try data.write(to: URL(fileURLWithPath: "\(h.root)/\(b)/state.json"))
            chmod("\(h.root)/\(b)/state.json", 0o600)
            for args in [["kill", "--all", b, "KILL"], ["delete", "-f", b]] {
                let r = h.skiff(args: args, timeout: Self.deadline)
                #expect(r.status == 0, "\(args): \(r)")
                usleep(100_000)
                #expect(kill(pid_t(pidA), 0) == 0 && h.status(a) == "running", "\(args) killed \(a)'s init")
            }
            #expect(h.skiff("delete", "-f", a).status == 0)
            h.expectNothingLeft(a)
        }

        // MARK: unreadable files, as a user who cannot read them

        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
        func unreadableConfigAsAnotherUser() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            chmod(bundle.configPath, 0o600)
            let r = ChildProcess.run("/usr/bin/setpriv", ["--reuid", "65534", "--regid", "65534", "--clear-groups",
                                                         Paths.binary, "check", "-b", bundle.path],
                                     stdoutPath: h.path("out"), stderrPath: h.path("err"), timeout: Self.deadline)
            #expect(!r.timedOut && r.status == 1, "\(r)")
            #expect((r.stdout + r.stderr).contains("permission denied"), "\(r)")
        }
    }
}

extension Integration.HostileState {
    /// Without a pid namespace, processes can outlive init. Once init is gone the trusted state's
    /// recorded cgroups (the default /skiff/<id>, or the config's own cgroupsPath, as docker and
    /// containerd give) are still cleaned: `kill --all` (containerd's shim sends it when init of
    /// a host-pid container exits) and `delete`.
    @Test(arguments: [false, true])
    func processesThatOutliveInitAreStillKilled(ownCgroupsPath: Bool) throws {
        let h = try Harness()
        let custom = "/skiff-outlive-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))"
        let bundle = try Bundle.make(from: "sleep", in: h) { c in
            c["linux.namespaces"] = (c["linux.namespaces"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != "pid" }
            if ownCgroupsPath { c["linux.cgroupsPath"] = custom }
            c.shell("sleep 1000 >/dev/null 2>&1 </dev/null & exit 0")
        }
        let (id, _) = h.create(bundle)
        #expect(h.skiff("start", id).status == 0)
        #expect(waitUntil { h.status(id) == "stopped" })
        // The pids cgroup on a v1/hybrid host, the one cgroup on pure v2, as state.json records it.
        let recorded = (try Self.json("\(h.root)/\(id)/state.json")["cgroupPaths"] as? [String]) ?? []
        let cgroupDir = recorded.first { $0.hasPrefix("/sys/fs/cgroup/pids/") } ?? recorded.first ?? "(none recorded)"
        #expect(cgroupDir.hasSuffix(ownCgroupsPath ? custom : "/skiff/\(id)"), "\(recorded)")
        let procs = (try? String(contentsOfFile: cgroupDir + "/cgroup.procs", encoding: .utf8)) ?? ""
        #expect(!procs.isEmpty, "the background sleep should outlive init in \(cgroupDir)")
        let k = h.skiff(args: ["kill", "--all", id, "KILL"], timeout: Self.deadline)
        #expect(k.status == 0, "\(k)")
        #expect(waitUntil { ((try? String(contentsOfFile: cgroupDir + "/cgroup.procs", encoding: .utf8)) ?? "").isEmpty },
                "kill --all left processes in \(cgroupDir)")
        let d = h.skiff(args: ["delete", id], timeout: Self.deadline)
        #expect(d.status == 0, "\(d)")
        #expect(!FileManager.default.fileExists(atPath: cgroupDir), "\(cgroupDir) left behind")
        h.expectNothingLeft(id)
    }
}
