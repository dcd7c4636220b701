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
