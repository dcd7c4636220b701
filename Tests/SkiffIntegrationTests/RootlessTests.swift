import Foundation
import Glibc
import SkiffTestSupport
import Testing

extension Integration {
    /// Rootless mode: skiff run by an unprivileged user (created here once, `skiff-rootless`),
    /// with a config from `skiff spec --rootless`, state under $XDG_RUNTIME_DIR/skiff, no
    /// cgroups unless delegated, id maps beyond the user's own ids through newuidmap/newgidmap.
    @Suite struct Rootless {
        typealias User = RootlessTestUser

        /// A rootless run: the test user's own copy of the binary, an XDG_RUNTIME_DIR and a
        /// bundle it owns (config from `skiff spec --rootless`, rootfs files owned by host root).
        final class Setup {
            let h: Harness
            let user: User
            let binary: String
            let xdg: String
            let bundle: String
            var ids: [String] = []

            init() throws {
                h = try Harness()
                user = try RootlessTestUser.shared.get()
                // Its own copy: the build tree may sit below a directory the user cannot enter.
                binary = h.dir + "/skiff"
                try FileManager.default.copyItem(atPath: Paths.binary, toPath: binary)
                chmod(binary, 0o755)
                xdg = h.dir + "/xdg"
                bundle = h.dir + "/bundle"
                for dir in [xdg, bundle] {
                    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                    chown(dir, uid_t(user.uid), gid_t(user.gid))
                }
                chmod(xdg, 0o700)
                let cp = h.sh("cp -a '\(Paths.sharedRootfs)' '\(bundle)/rootfs' && chown \(user.uid):\(user.gid) '\(bundle)/rootfs' '\(bundle)/rootfs/tmp'")
                guard cp.status == 0 else { throw HarnessError("rootfs copy: \(cp)") }
                let spec = asUser(["spec", "--rootless"], in: bundle)
                guard spec.status == 0 else { throw HarnessError("skiff spec --rootless as \(User.name): \(spec)") }
            }

            deinit {
                // Root removes whatever a failed test left (state under the user's XDG dir).
                for id in ids {
                    _ = ChildProcess.run(binary, ["--root", xdg + "/skiff", "delete", "--force", id], stdoutPath: "/dev/null",
                                         stderrPath: "/dev/null")
                }
            }

            func newID() -> String {
                let id = h.newID("rl")
                ids.append(id)
                return id
            }

            /// `skiff args…` as the test user, with only PATH and XDG_RUNTIME_DIR set.
            @discardableResult
            func asUser(_ args: [String], in dir: String? = nil, timeout: TimeInterval = 30) -> RunResult {
                let env = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "XDG_RUNTIME_DIR=" + xdg]
                let cd = dir.map { ["--", "/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0] } ?? ["--"]
                let path = h.path("user-run")
                return ChildProcess.run("/usr/bin/setpriv",
                                        ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--init-groups"] + cd + env + [binary] + args,
                                        stdoutPath: path + ".out", stderrPath: path + ".err", timeout: timeout)
            }

            /// Edits the bundle's config.json (root writes it; the user only reads it).
            func edit(_ change: (Config) -> Void) throws {
                let path = bundle + "/config.json"
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw HarnessError("config.json") }
                let config = Config(object)
                config["process.terminal"] = false
                change(config)
                let out = try JSONSerialization.data(withJSONObject: config.object, options: [.prettyPrinted, .withoutEscapingSlashes])
                try out.write(to: URL(fileURLWithPath: path))
            }

            func shell(_ script: String) throws {
                try edit { $0["process.args"] = ["sh", "-c", script] }
            }

            /// No state dir under the user's XDG root, no process naming the id.
            func expectNothingLeft(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) {
                #expect(!fileExists(xdg + "/skiff/" + id), "state dir left", sourceLocation: sourceLocation)
                h.expectNothingLeft(id, sourceLocation: sourceLocation)
            }
        }

        static var ready: Bool { Paths.ready && fileExists("/usr/bin/setpriv") }

        @Test(.enabled(if: Rootless.ready)) func specRootlessRunsUnprivilegedWithItsOwnNetwork() throws {
            let s = try Setup()
            let hostNet = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")) ?? "?"
            try s.shell("cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; readlink /proc/self/ns/net; ls /sys/class/net; hostname")
            try s.edit { $0["hostname"] = "rootless-box" }
            let id = s.newID()
            let r = s.asUser(["run", id], in: s.bundle)
            #expect(r.status == 0, "\(r)")
            let lines = r.lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
            #expect(lines.prefix(4) == ["0 \(s.user.uid) 1", "0 \(s.user.gid) 1", "0", "0"], "\(r)")
            // Its own network namespace (spec --rootless keeps it, unlike runc): loopback only.
            #expect(lines.count == 7 && lines[4] != hostNet && lines[5] == "lo" && lines[6] == "rootless-box", "\(r)")
            s.expectNothingLeft(id)
        }

        @Test(.enabled(if: Rootless.ready)) func lifecycleKeepsStateUnderXDGRuntimeDir() throws {
            let s = try Setup()
            try s.edit { $0["process.args"] = ["sleep", "100"] }
            let id = s.newID()
            #expect(s.asUser(["create", "--bundle", s.bundle, id]).status == 0)
            #expect(fileExists(s.xdg + "/skiff/\(id)/state.json"), "state not under $XDG_RUNTIME_DIR/skiff")
            var st = stat()
            #expect(stat(s.xdg + "/skiff/\(id)/state.json", &st) == 0 && Int(st.st_uid) == s.user.uid)
            #expect(s.asUser(["start", id]).status == 0)
            let state = s.asUser(["state", id])
            #expect(state.stdout.contains("\"running\""), "\(state)")
            // The container's init runs as the user on the host.
            let pid = (parseJSONObject(state.stdout)?["pid"] as? NSNumber)?.intValue ?? -1
            #expect(stat("/proc/\(pid)", &st) == 0 && Int(st.st_uid) == s.user.uid, "init \(pid) owner \(st.st_uid)")
            let exec = s.asUser(["exec", id, "sh", "-c", "id -u; cat /proc/self/uid_map; echo $$"])
            #expect(exec.status == 0 && exec.lines.first == "0", "\(exec)")
            #expect(s.asUser(["list"]).stdout.contains(id))
            #expect(s.asUser(["kill", id, "KILL"]).status == 0)
            #expect(waitUntil { s.asUser(["state", id]).stdout.contains("\"stopped\"") })
            #expect(s.asUser(["delete", id]).status == 0)
            s.expectNothingLeft(id)
        }

        @Test(.enabled(if: Rootless.ready)) func containerRootCannotTouchHostRootFiles() throws {
            let s = try Setup()
            // rootfs/ and rootfs/tmp belong to the user (root inside); the rest to host root.
            try s.shell("""
                stat -c '%u %n' / /etc/passwd; \
                if echo x >> /etc/passwd; then echo wrote-passwd; else echo passwd-denied; fi; \
                if chown 0 /etc/hostname; then echo chowned; else echo chown-denied; fi; \
                touch /tmp/made-inside && echo made
                """)
            try s.edit { $0["root.readonly"] = false }
            let id = s.newID()
            let r = s.asUser(["run", id], in: s.bundle)
            #expect(r.lines == ["0 /", "65534 /etc/passwd", "passwd-denied", "chown-denied", "made"], "\(r)")
            var st = stat()
            #expect(stat(s.bundle + "/rootfs/tmp/made-inside", &st) == 0 && Int(st.st_uid) == s.user.uid && Int(st.st_gid) == s.user.gid,
                    "owner \(st.st_uid):\(st.st_gid)")
            #expect(stat(s.bundle + "/rootfs/etc/passwd", &st) == 0 && st.st_uid == 0 && st.st_size > 0)
            s.expectNothingLeft(id)
        }

        @Test(.enabled(if: Rootless.ready && fileExists("/usr/bin/newuidmap"))) func multipleRangesGoThroughNewuidmap() throws {
            let s = try Setup()
            let sub = s.user.subStart
            try s.edit { c in
                c["linux.uidMappings"] = [["containerID": 0, "hostID": s.user.uid, "size": 1], ["containerID": 1, "hostID": sub, "size": 65536]]
                c["linux.gidMappings"] = [["containerID": 0, "hostID": s.user.gid, "size": 1], ["containerID": 1, "hostID": sub, "size": 65536]]
                c["process.user"] = ["uid": 1000, "gid": 1000, "additionalGids": [5]]
                c["root.readonly"] = false
                c["process.args"] = ["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -G; cat /proc/self/setgroups; touch /tmp/by-1000"]
            }
            chmod(s.bundle + "/rootfs/tmp", 0o1777)
            let id = s.newID()
            let r = s.asUser(["run", id], in: s.bundle)
            #expect(r.status == 0, "\(r)")
            let lines = r.lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
            #expect(lines == ["0 \(s.user.uid) 1", "1 \(sub) 65536", "0 \(s.user.gid) 1", "1 \(sub) 65536", "1000", "1000 5", "allow"], "\(r)")
            var st = stat()
            #expect(stat(s.bundle + "/rootfs/tmp/by-1000", &st) == 0 && Int(st.st_uid) == sub + 999, "owner \(st.st_uid)")
            s.expectNothingLeft(id)
        }

        @Test(.enabled(if: Rootless.ready)) func limitsWithoutADelegatedCgroupFailClearly() throws {
            let s = try Setup()
            try s.edit { c in
                c["linux.resources"] = ["memory": ["limit": 100_000_000]]
                c["process.args"] = ["true"]
            }
            let id = s.newID()
            let r = s.asUser(["run", id], in: s.bundle)
            #expect(r.status == 1, "\(r)")
            #expect(r.err.contains("config.json: linux.resources.memory.limit: cannot apply this limit as a rootless user: the memory cgroup is not delegated to uid \(s.user.uid)"), "\(r)")
            #expect(r.err.split(separator: "\n").count == 1, "\(r)")
            s.expectNothingLeft(id)
        }

        @Test(.enabled(if: Rootless.ready)) func additionalGidsNeedMoreThanTheUsersOwnGid() throws {
            let s = try Setup()
            try s.edit { $0["process.user.additionalGids"] = [5] }
            let id = s.newID()
            let r = s.asUser(["run", id], in: s.bundle)
            #expect(r.status == 1 && r.err.contains("process.user.additionalGids"), "\(r)")
            s.expectNothingLeft(id)
        }

        /// A v1 pids hierarchy directory delegated (chowned) to the user: the limit applies there.
        @Test(.enabled(if: Rootless.ready && fileExists("/sys/fs/cgroup/pids/tasks")))
        func delegatedCgroupTakesTheLimit() throws {
            let s = try Setup()
            let delegated = "skiff-rl-deleg-\(UInt32.random(in: 0..<UInt32.max))"
            let dir = "/sys/fs/cgroup/pids/" + delegated
            try #require(mkdir(dir, 0o755) == 0)
            defer { waitUntil(timeout: 5) { rmdir(dir) == 0 || errno == ENOENT } }
            for file in ["", "/cgroup.procs", "/tasks"] { chown(dir + file, uid_t(s.user.uid), gid_t(s.user.gid)) }
            try s.edit { c in
                c["linux.cgroupsPath"] = "/\(delegated)/c"
                c["linux.resources"] = ["pids": ["limit": 42]]
                c["process.args"] = ["cat", "/sys/fs/cgroup/pids/pids.max"]
            }
            let id = s.newID()
            let r = s.asUser(["run", id], in: s.bundle)
            #expect(r.status == 0 && r.out == "42", "\(r)")
            #expect(!fileExists(dir + "/c"), "container cgroup left")
            s.expectNothingLeft(id)
        }
    }
}
