import Foundation
import Glibc
import Testing

extension Integration {
    /// Commands that need no container: --version, features, spec.
    @Suite struct CLI {
        @Test func version() throws {
            let h = try Harness()
            let r = h.skiff("--version")
            #expect(r.status == 0, "\(r)")
            let lines = r.lines
            #expect(lines.count >= 3, "\(r)")
            #expect(lines.first?.range(of: #"^\S+ version \d+\.\d+\.\d+"#, options: .regularExpression) != nil, "\(r)")
            #expect(lines.contains { $0.hasPrefix("commit: ") }, "\(r)")
            #expect(lines.contains { $0.hasPrefix("spec: ") }, "\(r)")
        }

        @Test func features() throws {
            let h = try Harness()
            let r = h.skiff("features")
            #expect(r.status == 0, "\(r)")
            #expect(r.stderr.isEmpty, "CRI-O parses stdout+stderr: \(r.stderr)")
            let f = try #require(parseJSONObject(r.stdout), "not JSON: \(r.stdout)")
            #expect(f["ociVersionMin"] as? String == "1.0.0")
            #expect((f["ociVersionMax"] as? String)?.hasPrefix("1.") == true)
            let hooks = Set(f["hooks"] as? [String] ?? [])
            #expect(hooks.isSuperset(of: ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]))
            let namespaces = Set((f["linux"] as? [String: Any])?["namespaces"] as? [String] ?? [])
            #expect(namespaces.isSuperset(of: ["pid", "network", "ipc", "uts", "mount", "cgroup"]), "\(namespaces)")
            let caps = Set((f["linux"] as? [String: Any])?["capabilities"] as? [String] ?? [])
            #expect(caps.isSuperset(of: ["CAP_KILL", "CAP_SYS_ADMIN", "CAP_NET_BIND_SERVICE"]), "\(caps)")
        }

        /// `spec` writes runc's default config in the current directory and refuses to overwrite.
        @Test func specWritesARunnableDefault() throws {
            let h = try Harness()
            let dir = h.path("spec")
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let r = h.sh("cd \(dir) && \(Paths.binary) spec")
            #expect(r.status == 0, "\(r)")
            let text = try #require(readFile(dir + "/config.json"))
            let config = try #require(parseJSONObject(text), "spec output is not JSON")
            let process = config["process"] as? [String: Any]
            #expect(process?["terminal"] as? Bool == true)
            #expect(process?["args"] as? [String] == ["sh"])
            #expect((config["root"] as? [String: Any])?["path"] as? String == "rootfs")

            let again = h.sh("cd \(dir) && \(Paths.binary) spec")
            #expect(again.status != 0, "spec overwrote config.json: \(again)")
            #expect(readFile(dir + "/config.json") == text)

            // The default, with terminal off and a command, runs on the test rootfs.
            let edited = Config(config)
            edited["process.terminal"] = false
            edited.args = ["sh", "-c", "echo from-default-spec"]
            let cp = h.sh("cp -al \(Paths.sharedRootfs) \(dir)/rootfs")
            #expect(cp.status == 0)
            let bundle = Bundle(path: dir, rootfs: dir + "/rootfs")
            try bundle.write(edited)
            let run = h.run(bundle)
            #expect(run.status == 0, "\(run)")
            #expect(run.out == "from-default-spec")
        }
    }
}

extension Integration {
    /// `skiff check`: every problem at once, each with its JSON path and spec section; exit 0
    /// only for a bundle that would run here. Nothing is created.
    @Suite struct Check {
        @Test func baselinePasses() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h)
            let r = h.skiff("check", "--bundle", bundle.path)
            #expect(r.status == 0, "\(r)")
            #expect(r.out.contains("OK"), "\(r)")
        }

        @Test func listsEveryProblemWithItsPathAndSection() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["process.capabilities.bounding"] = ["CAP_KILL", "CAP_BOGUS"]
                c["process.rlimits"] = [["type": "RLIMIT_NOFILE", "soft": 1048576, "hard": 1048576],
                                        ["type": "RLIMIT_TEST", "soft": 1, "hard": 1]]
                c.append("linux.namespaces", ["type": "bogus"])
                c["process.args"] = ["no-such-program"]
                c["root.path"] = "/nonexistent-rootfs"
            }
            let r = h.skiff("check", "-b", bundle.path)
            #expect(r.status == 1, "\(r)")
            for expected in ["process.capabilities.bounding[1]: unknown capability \"CAP_BOGUS\"",
                             "process.rlimits[1].type: unknown rlimit \"RLIMIT_TEST\"",
                             "unknown namespace type \"bogus\"",
                             "root.path: /nonexistent-rootfs: no such directory",
                             "config.md#posix-process", "config-linux.md#namespaces"] {
                #expect(r.out.contains(expected), "missing \(expected) in \(r)")
            }
            #expect(r.out.contains("problems found"), "\(r)")
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: h.root)) ?? []
            #expect(entries.isEmpty, "check must not create state: \(entries)")
        }

        @Test func hostLimitsAreReported() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["process.rlimits"] = [["type": "RLIMIT_NOFILE", "soft": 1048576, "hard": 1048576]]
                c["process.args"] = ["no-such-program"]
            }
            let r = h.skiff("check", "-b", bundle.path)
            #expect(r.status == 1, "\(r)")
            #expect(r.out.contains("executable file not found"), "\(r)")
            if !(readFile("/proc/self/status") ?? "").contains("CapBnd:\t000001ffffffffff") {
                #expect(r.out.contains("process.rlimits[0]"), "\(r)")
            }
        }
    }
}
