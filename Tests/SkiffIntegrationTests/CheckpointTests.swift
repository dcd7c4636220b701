import Foundation
import Glibc
import SkiffTestSupport
import Testing

/// `criu check` passes here (the Debian 12 test VM; not this repository's usual CI host).
let criuWorks: Bool = {
    guard getuid() == 0 else { return false }
    let r = ChildProcess.run("/bin/sh", ["-c", "PATH=$PATH:/usr/sbin:/sbin criu check"], stdoutPath: "/dev/null",
                             stderrPath: "/dev/null", timeout: 60)
    return r.status == 0
}()

extension Integration {
    /// checkpoint and restore through criu (runc's checkpoint.bats, in spirit). Only where
    /// `criu check` passes; the failure paths run everywhere.
    @Suite struct Checkpoint {
        /// A bundle whose init counts 1, 2, 3… into `file` (a path inside the container), once a second.
        static func counter(_ h: Harness, file: String = "/tmp/count", _ edit: (Config) -> Void = { _ in }) throws -> Bundle {
            try Bundle.make(in: h) { c in
                c["root.readonly"] = false
                // A token picked at start: a restored process still has it, a new one would not.
                c.shell("t=$(cat /proc/sys/kernel/random/uuid); i=0; while true; do i=$((i+1)); echo \"$i $t\" > \(file); sleep 1; done")
                edit(c)
            }
        }

        static func count(_ path: String) -> Int? {
            readFile(path).flatMap { $0.split(whereSeparator: { $0 == " " || $0 == "\n" }).first.flatMap { Int($0) } }
        }

        /// The token the counter picked at start ("" for a counter without one).
        static func token(_ path: String) -> String? {
            readFile(path).map { $0.split(whereSeparator: { $0 == " " || $0 == "\n" }).dropFirst().first.map(String.init) ?? "" }
        }

        /// Waits until the counter file reaches `at least`; returns its value.
        @discardableResult
        static func waitCount(_ path: String, atLeast n: Int) -> Int? {
            var v: Int? = nil
            waitUntil(timeout: 20) { v = count(path); return (v ?? 0) >= n }
            return v
        }

        /// After a restore, the counter goes on from `last` (a new process would start at 1).
        static func expectContinues(_ path: String, from last: Int, sourceLocation: SourceLocation = #_sourceLocation) {
            let before = token(path)
            defer {
                #expect(token(path) == before, "a new process, not the restored one, writes the counter", sourceLocation: sourceLocation)
            }
            var next: Int? = nil
            let moved = waitUntil(timeout: 20) { next = count(path); return next != nil && next != last }
            #expect(moved, "counter stuck at \(last) after restore", sourceLocation: sourceLocation)
            #expect((next ?? 0) > last, "counter restarted: \(last) before, \(next ?? -1) after restore", sourceLocation: sourceLocation)
        }

        static func isDirectory(_ path: String) -> Bool {
            var st = stat()
            return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
        }

        func checkpoint(_ h: Harness, _ id: String, _ image: String, _ extra: [String] = []) -> RunResult {
            h.skiff(args: ["checkpoint", "--image-path", image] + extra + [id], timeout: 300)
        }

        func restore(_ h: Harness, _ id: String, _ bundle: Bundle, _ image: String, _ extra: [String] = []) -> RunResult {
            h.skiff(args: ["restore", "-d", "-b", bundle.path, "--image-path", image] + extra + [id], timeout: 300)
        }

        @Test(.enabled(if: criuWorks)) func counterGoesOnAfterCheckpointAndRestore() throws {
            let h = try Harness()
            let bundle = try Self.counter(h)
            let file = bundle.rootfs + "/tmp/count"
            let id = h.newID("ckpt")
            #expect(h.skiff("run", "-d", "-b", bundle.path, id).status == 0)
            Self.waitCount(file, atLeast: 3)
            let image = h.path("image")
            let c = checkpoint(h, id, image)
            #expect(c.status == 0, "\(c)")
            // Without --leave-running the container is gone, as with runc.
            #expect(h.skiff("state", id).status != 0)
            #expect(fileExists(image + "/descriptors.json") && fileExists(image + "/dump.log") && fileExists(image + "/inventory.img"))
            let last = try #require(Self.count(file))
            usleep(1_500_000)
            #expect(Self.count(file) == last, "counter moved while checkpointed")
            let r = restore(h, id, bundle, image)
            #expect(r.status == 0, "\(r)\n\(readFile(image + "/restore.log")?.suffix(2000) ?? "")")
            #expect(fileExists(image + "/restore.log"))
            #expect(h.status(id) == "running")
            Self.expectContinues(file, from: last)
            // state, exec, kill and delete work on the restored container.
            let e = h.skiff("exec", id, "cat", "/tmp/count")
            #expect(e.status == 0 && (e.stdout.split(separator: " ").first.flatMap { Int($0) } ?? 0) > last, "\(e)")
            #expect(h.skiff("kill", id, "KILL").status == 0)
            waitUntil(timeout: 30) { h.status(id) == "stopped" }
            #expect(h.skiff("delete", id).status == 0)
            h.expectNothingLeft(id)
        }

        @Test(.enabled(if: criuWorks)) func leaveRunningThenRestoreUnderAnotherID() throws {
            let h = try Harness()
            let bundle = try Self.counter(h)
            let file = bundle.rootfs + "/tmp/count"
            let id = h.newID("ckpt")
            #expect(h.skiff("run", "-d", "-b", bundle.path, id).status == 0)
            Self.waitCount(file, atLeast: 2)
            let image = h.path("image")
            let work = h.path("work")
            let c = checkpoint(h, id, image, ["--leave-running", "--work-path", work])
            #expect(c.status == 0, "\(c)")
            #expect(fileExists(work + "/dump.log"), "criu's log is not in --work-path")
            #expect(h.status(id) == "running")
            let before = Self.count(file) ?? 0
            Self.waitCount(file, atLeast: before + 2)
            #expect(h.skiff("delete", "-f", id).status == 0)
            let last = try #require(Self.count(file))
            let other = h.newID("restored")
            let pidFile = h.path("pid")
            let token = Self.token(file)
            let r = restore(h, other, bundle, image, ["--pid-file", pidFile])
            #expect(r.status == 0, "\(r)")
            #expect(h.status(other) == "running")
            #expect(readFile(pidFile).flatMap { Int($0) } == h.pid(other))
            // The image holds the counter as it was at the checkpoint: the restored process
            // (same token) goes on from there, overwriting the later values.
            var next: Int? = nil
            waitUntil(timeout: 20) { next = Self.count(file); return next != nil && next != last }
            #expect((next ?? 0) > 1 && Self.token(file) == token, "restored counter: \(next ?? -1), checkpoint near \(before), last \(last)")
            #expect(h.skiff("delete", "-f", other).status == 0)
            h.expectNothingLeft(other)
            h.expectNothingLeft(id)
        }

        @Test(.enabled(if: criuWorks)) func tmpfsAndBindMountsAreRestored() throws {
            let h = try Harness()
            let shared = h.path("shared")
            try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
            let bundle = try Self.counter(h, file: "/host/count") { c in
                c.append("mounts", ["destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]] as [String: Any])
                c.bind(shared, at: "/host")
                c.shell("echo in-tmpfs > /scratch/marker; i=0; while true; do i=$((i+1)); echo $i > /host/count; sleep 1; done")
            }
            let file = shared + "/count"
            let id = h.newID("ckpt")
            #expect(h.skiff("run", "-d", "-b", bundle.path, id).status == 0)
            Self.waitCount(file, atLeast: 2)
            let image = h.path("image")
            let c = checkpoint(h, id, image)
            #expect(c.status == 0, "\(c)\n\(readFile(image + "/dump.log")?.suffix(2000) ?? "")")
            let last = try #require(Self.count(file))
            let r = restore(h, id, bundle, image)
            #expect(r.status == 0, "\(r)\n\(readFile(image + "/restore.log")?.suffix(2000) ?? "")")
            Self.expectContinues(file, from: last)
            let marker = h.skiff("exec", id, "cat", "/scratch/marker")
            #expect(marker.stdout == "in-tmpfs\n", "\(marker)")
            let mounts = h.skiff("exec", id, "cat", "/proc/mounts")
            #expect(mounts.stdout.contains(" /scratch tmpfs ") && mounts.stdout.contains(" /host "), "\(mounts.stdout)")
            #expect(h.skiff("delete", "-f", id).status == 0)
            h.expectNothingLeft(id)
        }

        /// runc's checkpoint.bats "nested bind mounts": the mount point of a bind mount nested
        /// in another bind mount lives in the outer one's source; when it is gone at restore,
        /// restore makes it again there (runc's temporary bind mounts in
        /// prepareCriuRestoreMounts) and leaves no temporary mount behind.
        @Test(.enabled(if: criuWorks)) func nestedBindMountPointIsMadeAgainAtRestore() throws {
            let h = try Harness()
            let outer = h.path("outer")
            let inner = h.path("inner")
            for dir in [outer, inner] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            let bundle = try Self.counter(h, file: "/test/for/nested/count") { c in
                c.bind(outer, at: "/test", options: ["rw", "bind"])
                c.bind(inner, at: "/test/for/nested", options: ["rw", "bind"])
            }
            let file = inner + "/count"
            let id = h.newID("nested")
            let run = h.skiff("run", "-d", "-b", bundle.path, id)
            #expect(run.status == 0, "\(run)")
            Self.waitCount(file, atLeast: 2)
            #expect(Self.isDirectory(outer + "/for/nested"), "create made the nested mount point in the outer source")
            let image = h.path("image")
            let c = checkpoint(h, id, image)
            #expect(c.status == 0, "\(c)\n\(readFile(image + "/dump.log")?.suffix(2000) ?? "")")
            let last = try #require(Self.count(file))
            try FileManager.default.removeItem(atPath: outer + "/for")
            let r = restore(h, id, bundle, image)
            #expect(r.status == 0, "\(r)\n\(readFile(image + "/restore.log")?.suffix(2000) ?? "")")
            #expect(h.status(id) == "running")
            Self.expectContinues(file, from: last)
            #expect(Self.isDirectory(outer + "/for/nested"), "restore did not make the mount point in the outer source")
            #expect(mountPoints(under: bundle.rootfs + "/test").isEmpty, "temporary mounts left: \(mountPoints(under: bundle.rootfs + "/test"))")
            let mounts = h.skiff("exec", id, "cat", "/proc/mounts")
            #expect(mounts.stdout.contains(" /test ") && mounts.stdout.contains(" /test/for/nested "), "\(mounts)")
            #expect(h.skiff("delete", "-f", id).status == 0)
            h.expectNothingLeft(id)
        }

        @Test(.enabled(if: criuWorks)) func preDumpThenDumpWithParentPath() throws {
            let h = try Harness()
            let bundle = try Self.counter(h)
            let file = bundle.rootfs + "/tmp/count"
            let id = h.newID("ckpt")
            #expect(h.skiff("run", "-d", "-b", bundle.path, id).status == 0)
            Self.waitCount(file, atLeast: 2)
            let base = h.path("images")
            let p = checkpoint(h, id, base + "/pre", ["--pre-dump"])
            #expect(p.status == 0, "\(p)\n\(readFile(base + "/pre/dump.log")?.suffix(2000) ?? "")")
            #expect(h.status(id) == "running", "pre-dump stopped the container")
            let bad = checkpoint(h, id, base + "/final", ["--parent-path", "/abs"])
            #expect(bad.status == 1 && bad.stderr.contains("--parent-path must be relative"), "\(bad)")
            let c = checkpoint(h, id, base + "/final", ["--parent-path", "../pre"])
            #expect(c.status == 0, "\(c)\n\(readFile(base + "/final/dump.log")?.suffix(2000) ?? "")")
            #expect(h.skiff("state", id).status != 0)
            let last = try #require(Self.count(file))
            let r = restore(h, id, bundle, base + "/final")
            #expect(r.status == 0, "\(r)\n\(readFile(base + "/final/restore.log")?.suffix(2000) ?? "")")
            Self.expectContinues(file, from: last)
            #expect(h.skiff("delete", "-f", id).status == 0)
            h.expectNothingLeft(id)
        }

        /// An established loopback TCP connection inside the container (busybox nc) survives.
        @Test(.enabled(if: criuWorks)) func establishedTCPConnection() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["root.readonly"] = false
                // skiff leaves lo down (runc brings it up): the container does it. The server's
                // stdin must stay open (busybox nc closes the connection at its EOF).
                for set in ["bounding", "effective", "permitted"] {
                    c.append("process.capabilities.\(set)", "CAP_NET_ADMIN")
                }
                c.shell("""
                    ip link set lo up; sleep 100000 | nc -l -p 5555 > /tmp/received & sleep 1; \
                    i=0; while true; do i=$((i+1)); echo $i; sleep 1; done | nc 127.0.0.1 5555
                    """)
            }
            let file = bundle.rootfs + "/tmp/received"
            func lastLine() -> Int? {
                readFile(file)?.split(separator: "\n").last.flatMap { Int($0) }
            }
            let id = h.newID("tcp")
            #expect(h.skiff("run", "-d", "-b", bundle.path, id).status == 0)
            waitUntil(timeout: 20) { (lastLine() ?? 0) >= 2 }
            try #require((lastLine() ?? 0) >= 2, "no data over the loopback connection: \(readFile(file) ?? "nil")")
            let image = h.path("image")
            let without = checkpoint(h, id, image + "-refused")
            #expect(without.status == 1 && without.stderr.contains("criu failed"), "\(without)")
            #expect(h.status(id) == "running", "a failed checkpoint must leave the container running")
            let c = checkpoint(h, id, image, ["--tcp-established"])
            #expect(c.status == 0, "\(c)\n\(readFile(image + "/dump.log")?.suffix(2000) ?? "")")
            let last = try #require(lastLine())
            let r = restore(h, id, bundle, image, ["--tcp-established"])
            #expect(r.status == 0, "\(r)\n\(readFile(image + "/restore.log")?.suffix(2000) ?? "")")
            var now: Int? = nil
            let moved = waitUntil(timeout: 20) { now = lastLine(); return (now ?? 0) > last }
            #expect(moved, "no data over the restored connection (last \(last), now \(now ?? -1))")
            #expect(h.skiff("delete", "-f", id).status == 0)
            h.expectNothingLeft(id)
        }

        /// A terminal container (runc's simple_cr): the restored one gets a new pty master,
        /// sent to --console-socket (criu's orphan-pts-master), and its output goes on there.
        @Test(.enabled(if: criuWorks)) func terminalContainerWithConsoleSocket() throws {
            let h = try Harness()
            let listener = try ConsoleListener(path: h.path("console") + ".sock")
            let bundle = try Bundle.make(in: h) { c in
                c["root.readonly"] = false
                c["process.terminal"] = true
                c.shell("i=0; while true; do i=$((i+1)); echo $i > /tmp/count; echo tick-$i; sleep 1; done")
            }
            let file = bundle.rootfs + "/tmp/count"
            let id = h.newID("tty")
            #expect(h.skiff("run", "-d", "--console-socket", listener.path, "-b", bundle.path, id).status == 0)
            let first = try #require(listener.receive(timeout: 30)?.fds.first, "no pty master")
            #expect(readUntil(first, marker: "tick-2", timeout: 60).contains("tick-2"))
            let image = h.path("image")
            let c = checkpoint(h, id, image)
            close(first)
            #expect(c.status == 0, "\(c)\n\(readFile(image + "/dump.log")?.suffix(2000) ?? "")")
            let last = try #require(Self.count(file))
            let r = restore(h, id, bundle, image, ["--console-socket", listener.path])
            #expect(r.status == 0, "\(r)\n\(readFile(image + "/restore.log")?.suffix(2000) ?? "")")
            let master = try #require(listener.receive(timeout: 30)?.fds.first, "no pty master after restore")
            defer { close(master) }
            #expect(ptsName(master)?.hasPrefix("/dev/pts/") == true)
            let marker = "tick-\(last + 2)"
            let out = readUntil(master, marker: marker, timeout: 60)
            #expect(out.contains(marker), "restored output: \(out.debugDescription)")
            Self.expectContinues(file, from: last)
            #expect(h.skiff("delete", "-f", id).status == 0)
            h.expectNothingLeft(id)
        }

        /// --systemd-cgroup: the restored container gets its own transient unit (criu is
        /// started in it) and lands in that unit's cgroup, under the new id.
        @Test(.enabled(if: criuWorks && fileExists("/run/systemd/system"))) func systemdCgroupDriverRestoreUnderANewID() throws {
            let h = try Harness()
            let bundle = try Self.counter(h)
            let file = bundle.rootfs + "/tmp/count"
            let id = h.newID("sd")
            let sd = ["--systemd-cgroup"]
            #expect(h.skiff(args: ["run", "-d", "-b", bundle.path, id], globals: sd).status == 0)
            Self.waitCount(file, atLeast: 2)
            let image = h.path("image")
            let c = h.skiff(args: ["checkpoint", "--image-path", image, id], globals: sd, timeout: 300)
            #expect(c.status == 0, "\(c)\n\(readFile(image + "/dump.log")?.suffix(2000) ?? "")")
            let last = try #require(Self.count(file))
            let other = h.newID("sd-new")
            let r = h.skiff(args: ["restore", "-d", "-b", bundle.path, "--image-path", image, other], globals: sd, timeout: 300)
            #expect(r.status == 0, "\(r)\n\(readFile(image + "/restore.log")?.suffix(2000) ?? "")")
            Self.expectContinues(file, from: last)
            let pid = h.pid(other)
            let cgroup = readFile("/proc/\(pid)/cgroup") ?? ""
            #expect(cgroup.contains("skiff-\(other).scope"), "restored init's cgroup: \(cgroup)")
            #expect(h.skiff(args: ["delete", "-f", other], globals: sd).status == 0)
            h.expectNothingLeft(other)
            h.expectNothingLeft(id)
        }

        /// Attached restore waits for the container and exits with its status, then removes it.
        @Test(.enabled(if: criuWorks)) func attachedRestoreWaitsAndReturnsTheExitStatus() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["root.readonly"] = false
                c.shell("i=0; while [ ! -e /tmp/stop ]; do i=$((i+1)); echo $i > /tmp/count; sleep 1; done; exit 7")
            }
            let id = h.newID("ckpt")
            #expect(h.skiff("run", "-d", "-b", bundle.path, id).status == 0)
            Self.waitCount(bundle.rootfs + "/tmp/count", atLeast: 2)
            let image = h.path("image")
            #expect(checkpoint(h, id, image).status == 0)
            let bg = h.background(["restore", "-b", bundle.path, "--image-path", image, id])
            waitUntil(timeout: 120) { h.status(id) == "running" }
            #expect(h.status(id) == "running")
            try writeFile(bundle.rootfs + "/tmp/stop", "")
            let done = bg.wait(timeout: 120)
            #expect(done.status == 7, "\(done)")
            h.expectNothingLeft(id)
        }

        /// A restore criu refuses fails with criu's words and leaves nothing behind.
        @Test(.enabled(if: criuWorks)) func failedRestoreNamesCriuAndLeavesNothing() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let image = h.path("image")
            try FileManager.default.createDirectory(atPath: image, withIntermediateDirectories: true)
            try writeFile(image + "/descriptors.json", #"["/dev/null","/dev/null","/dev/null"]"#)
            let id = h.newID("bad")
            let r = restore(h, id, bundle, image)
            #expect(r.status == 1)
            #expect(r.stderr.contains("criu failed: type RESTORE") && r.stderr.contains(image + "/restore.log"), "\(r)")
            h.expectNothingLeft(id)
        }

        /// Where criu cannot work (its check fails, or it is missing), checkpoint says so and
        /// the container keeps running. A stand-in criu makes the check fail on any host.
        @Test func checkpointSaysWhyCriuCannotWork() throws {
            let h = try Harness()
            let fake = h.path("criu")
            try writeFile(fake, "#!/bin/sh\necho 'Error (criu/cr-check.c:1): stand-in criu: no kernel support' >&2\nexit 1\n", mode: 0o755)
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            let image = h.path("image")
            let r = h.skiff(args: ["checkpoint", "--image-path", image, id], globals: ["--criu", fake])
            #expect(r.status == 1)
            #expect(r.stderr.contains("criu check failed") && r.stderr.contains("no kernel support"), "\(r)")
            #expect(h.status(id) == "running")
            if !criuWorks {
                // The real criu, as installed (or not) on this host.
                let real = h.skiff("checkpoint", "--image-path", image, id)
                #expect(real.status == 1)
                #expect(real.stderr.contains("criu check failed") || real.stderr.contains("cannot find criu"), "\(real)")
                #expect(h.status(id) == "running")
            }
            // runc's wording for bad flag values.
            for (flags, message) in [(["--manage-cgroups-mode", "bogus"], "Invalid manage cgroups mode"),
                                     (["--empty-ns", "ipc"], "namespace \"ipc\" is not supported"),
                                     (["--page-server", "nohost"], "Use --page-server ADDRESS:PORT to specify page server"),
                                     (["--page-server", "127.0.0.1:x"], "Invalid port number")] {
                let bad = h.skiff(args: ["checkpoint", "--image-path", image] + flags + [id], globals: ["--criu", fake])
                #expect(bad.status == 1 && bad.stderr.contains(message), "\(flags): \(bad)")
            }
            #expect(h.status(id) == "running")
            let created = h.create(bundle).0
            let notRunning = h.skiff("checkpoint", "--image-path", image, created)
            #expect(notRunning.status == 1 && notRunning.stderr.contains("Container cannot be checkpointed in created state"), "\(notRunning)")
        }
    }
}
