import Foundation
import Glibc
import Testing

extension Integration {
    /// Every rejected create: exit 1, one clear error line naming the culprit, nothing left.
    @Suite struct BadInput {
        /// Expects `r` to be a clean failure: exit 1, `needle` in stderr, and no trace of `id`.
        static func expectRejected(_ h: Harness, _ r: RunResult, id: String, mentioning needles: [String],
                                   sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(r.status == 1, "\(r)", sourceLocation: sourceLocation)
            for needle in needles {
                #expect(r.stderr.contains(needle), "stderr does not mention \(needle.debugDescription): \(r)", sourceLocation: sourceLocation)
            }
            #expect(!r.err.isEmpty, sourceLocation: sourceLocation)
            #expect(r.err.split(separator: "\n").count == 1, "expected a one-line error: \(r)", sourceLocation: sourceLocation)
            #expect(r.stdout.isEmpty, "stdout: \(r.stdout.debugDescription)", sourceLocation: sourceLocation)
            h.expectNothingLeft(id, sourceLocation: sourceLocation)
        }

        @Test func missingBundleDirectory() throws {
            let h = try Harness()
            let id = h.newID()
            let missing = h.dir + "/no-such-bundle"
            let r = h.skiff("create", "-b", missing, id)
            Self.expectRejected(h, r, id: id, mentioning: [missing])
        }

        @Test func missingConfigJSON() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h)
            try FileManager.default.removeItem(atPath: bundle.configPath)
            let id = h.newID()
            let r = h.skiff("create", "-b", bundle.path, id)
            Self.expectRejected(h, r, id: id, mentioning: ["config.json"])
        }

        @Test func malformedJSON() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h)
            try writeFile(bundle.configPath, "{\"ociVersion\": \"1.1.0\", \"process\": {")
            let id = h.newID()
            let r = h.skiff("create", "-b", bundle.path, id)
            Self.expectRejected(h, r, id: id, mentioning: ["invalid JSON"])
        }

        static let invalidCases: [String] = {
            let dir = Paths.fixtures + "/invalid"
            return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
                .filter { fileExists("\(dir)/\($0)/config.json") }.sorted()
        }()

        @Test func invalidFixturesExist() {
            #expect(Self.invalidCases.count >= 7, "\(Self.invalidCases)")
        }

        @Test(arguments: invalidCases)
        func invalidFixture(name: String) throws {
            let h = try Harness()
            let source = "\(Paths.fixtures)/invalid/\(name)"
            let expected = try #require(readFile(source + "/expected-error")).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(!expected.isEmpty)
            // The fixture as is, in a private bundle dir (its rootfs as a hard-link copy).
            let bundle = h.path("bundle-\(name)")
            let cp = h.sh("mkdir -p \(bundle) && cp \(source)/config.json \(bundle)/ && cp -al \(Paths.sharedRootfs) \(bundle)/rootfs")
            #expect(cp.status == 0, "\(cp)")
            for verb in ["create", "run"] {
                let id = h.newID()
                let r = h.skiff(verb, "-b", bundle, id)
                Self.expectRejected(h, r, id: id, mentioning: [expected])
            }
        }

        @Test func missingRootfs() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { $0["root.path"] = "no-such-rootfs" }
            let id = h.newID()
            let r = h.skiff("create", "-b", bundle.path, id)
            Self.expectRejected(h, r, id: id, mentioning: ["no-such-rootfs"])
        }

        @Test func duplicateID() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            let pid = h.pid(id)
            let r = h.skiff("create", "-b", bundle.path, id)
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.contains("already exists"), "\(r)")
            // The first container is untouched.
            #expect(h.status(id) == "created")
            #expect(h.pid(id) == pid)
            let run = h.skiff("run", "-b", bundle.path, id)
            #expect(run.status == 1 && run.stderr.contains("already exists"), "\(run)")
            #expect(h.status(id) == "created")
        }

        @Test(arguments: ["bad/id", "..", "bad id", "a:b", "é"])
        func invalidID(id: String) throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h)
            let r = h.skiff("create", "-b", bundle.path, id)
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.contains("invalid container ID format"), "\(r)")
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: h.root)) ?? []
            #expect(entries.isEmpty, "left in root: \(entries)")
        }

        @Test(arguments: ["start", "state", "kill", "delete", "pause", "resume", "ps"])
        func unknownID(verb: String) throws {
            let h = try Harness()
            let r = h.skiff(verb, "no-such-id")
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.contains("does not exist"), "\(r)")
        }

        @Test func executableNotFound() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { $0.args = ["no-such-binary-xyz"] }
            let id = h.newID()
            let r = h.skiff("create", "-b", bundle.path, id)
            Self.expectRejected(h, r, id: id, mentioning: ["no-such-binary-xyz", "executable file not found in $PATH"])
        }

        @Test func executableNotFoundAbsolute() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { $0.args = ["/bin/no-such-binary-xyz"] }
            let id = h.newID()
            let r = h.skiff("create", "-b", bundle.path, id)
            Self.expectRejected(h, r, id: id, mentioning: ["/bin/no-such-binary-xyz", "no such file or directory"])
        }

        static var hostNofileHardLimit: UInt {
            var current = rlimit()
            getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &current)
            return UInt(current.rlim_max)
        }

        /// Whether this process may raise hard limits (CAP_SYS_RESOURCE effective): the CI host
        /// lacks it in the bounding set, the VM guest's root has it.
        static var mayRaiseHardLimits: Bool {
            let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
            let line = status.split(separator: "\n").first { $0.hasPrefix("CapEff:") }
            let eff = line.flatMap { UInt64($0.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16) } ?? 0
            return eff & (1 << 24) != 0
        }

        /// Needs CAP_SYS_RESOURCE to raise a hard limit; the runtime checks up front. Where the
        /// runtime has it, the limit is raised and the container sees it.
        @Test(.enabled(if: hostNofileHardLimit < 1_048_576, "host hard limit already allows 1048576"))
        func rlimitAboveHardLimit() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["process.rlimits"] = [["type": "RLIMIT_NOFILE", "hard": 1_048_576, "soft": 1_048_576]]
                c.shell("ulimit -Hn")
            }
            if Self.mayRaiseHardLimits {
                let r = h.run(bundle)
                #expect(r.status == 0, "\(r)")
                #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1048576", "\(r)")
                return
            }
            let id = h.newID()
            let r = h.skiff("create", "-b", bundle.path, id)
            Self.expectRejected(h, r, id: id, mentioning: ["process.rlimits", "CAP_SYS_RESOURCE"])
        }

        @Test func terminalWithoutConsoleSocket() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { $0["process.terminal"] = true }
            let id = h.newID()
            let r = h.skiff("create", "-b", bundle.path, id)
            Self.expectRejected(h, r, id: id, mentioning: ["terminal"])
        }

        @Test func consoleSocketWithoutTerminal() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h)
            let id = h.newID()
            let r = h.skiff("create", "-b", bundle.path, "--console-socket", h.dir + "/sock", id)
            Self.expectRejected(h, r, id: id, mentioning: ["console-socket"])
        }

        /// A limit the host refuses is written after init was cloned (the parent sets up the
        /// cgroups while init makes its network namespace): init, the cgroup directories in
        /// every hierarchy and the state dir must all go.
        @Test func limitRefusedAfterClone() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { $0["linux.resources.cpu.cpus"] = "1023" }
            let id = h.newID()
            for verb in ["create", "run"] {
                let r = h.skiff(verb, "-b", bundle.path, id)
                Self.expectRejected(h, r, id: id, mentioning: ["linux.resources.cpu.cpus"])
            }
        }

        @Test func mountSourceMissing() throws {
            let h = try Harness()
            let missing = h.dir + "/no-such-source"
            let bundle = try Bundle.make(in: h) { $0.bind(missing, at: "/mnt") }
            let id = h.newID()
            let r = h.skiff("create", "-b", bundle.path, id)
            Self.expectRejected(h, r, id: id, mentioning: [missing])
        }
    }
}
