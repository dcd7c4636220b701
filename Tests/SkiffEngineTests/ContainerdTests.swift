// containerd (runc v2 shim) + ctr running containers on skiff.
//
// Private world: a containerd daemon on a socket, root and state under a temp directory (CRI
// plugin disabled), a private namespace, and the busybox image imported with `ctr images
// import`. Each `ctr run` names skiff with `--runc-binary`, so the shim calls
// `skiff --root /run/containerd/runc/<ns> --log <bundle>/log.json --log-format json …`.
// ctr's default spec already lowers RLIMIT_NOFILE to 1024.
import Foundation
import Glibc
import SkiffTestSupport
import Testing

struct ContainerdWorld: EngineWorld {
    @TaskLocal static var current: ContainerdWorld?
    static var slot: TaskLocal<ContainerdWorld?> { $current }

    let dir: String
    let namespace: String
    let daemon: ChildProcess

    var socket: String { dir + "/containerd.sock" }
    /// Where the shim keeps skiff's state for this namespace.
    var skiffRoot: String { "/run/containerd/runc/\(namespace)" }

    static func start() async throws -> ContainerdWorld {
        let dir = try Scratch.makeDir("ctrd")
        let namespace = "skiff-eng-\(getpid())"
        let config = """
            version = 2
            root = "\(dir)/root"
            state = "\(dir)/state"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]
            [grpc]
              address = "\(dir)/containerd.sock"
            [ttrpc]
              address = "\(dir)/containerd.sock.ttrpc"
            [debug]
              address = "\(dir)/debug.sock"
              level = "info"
            [metrics]
              address = ""
            """
        try config.write(toFile: dir + "/config.toml", atomically: true, encoding: .utf8)
        let daemon: ChildProcess
        do {
            daemon = try startProcess(["containerd", "--config", dir + "/config.toml"],
                                      stdoutPath: dir + "/containerd.log", stderrPath: dir + "/containerd.log")
        } catch {
            Scratch.remove(dir)
            throw error
        }
        let world = ContainerdWorld(dir: dir, namespace: namespace, daemon: daemon)
        do {
            let up = waitUntil(timeout: 30) {
                daemon.poll() == nil && world.ctr(["version"], timeout: 10).status == 0
            }
            guard up else {
                let log = (try? String(contentsOfFile: dir + "/containerd.log", encoding: .utf8)) ?? ""
                throw EngineError("containerd did not come up: \(log.suffix(2000))")
            }
            let image = try Scratch.buildImage(into: dir)
            let imp = world.ctr(["images", "import", image], timeout: 120)
            guard imp.status == 0 else { throw EngineError("ctr images import failed: \(imp)") }
        } catch {
            await world.stop()
            throw error
        }
        return world
    }

    func stop() async {
        if daemon.poll() == nil {
            // Kill and delete every task, then every container, so no shim is left behind.
            for task in ctr(["tasks", "ls", "-q"], timeout: 20).lines where !task.isEmpty {
                _ = ctr(["tasks", "kill", "-a", "-s", "SIGKILL", task], timeout: 20)
                _ = waitUntil(timeout: 10) { ctr(["tasks", "delete", task], timeout: 20).status == 0 }
                _ = ctr(["tasks", "delete", "-f", task], timeout: 20)
            }
            for c in ctr(["containers", "ls", "-q"], timeout: 20).lines where !c.isEmpty {
                _ = ctr(["containers", "delete", c], timeout: 20)
            }
            for i in ctr(["images", "ls", "-q"], timeout: 20).lines where !i.isEmpty {
                _ = ctr(["images", "rm", "--sync", i], timeout: 20)
            }
            _ = ctr(["namespaces", "remove", namespace], timeout: 20)
        }
        daemon.stop(grace: 15)
        Scratch.removeCgroups(namespace)
        _ = run(["rm", "-rf", skiffRoot], timeout: 20, workDir: "/tmp")
        Scratch.remove(dir)
    }

    func ctr(_ args: [String], timeout: TimeInterval = 60) -> CmdResult {
        run(["ctr", "--address", socket, "--namespace", namespace] + args, timeout: timeout, workDir: dir)
    }

    func ctrTTY(_ args: [String], rows: Int = 24, cols: Int = 80) -> CmdResult {
        runInTerminal(["ctr", "--address", socket, "--namespace", namespace] + args, rows: rows, cols: cols, workDir: dir)
    }

    /// `ctr run --runc-binary SKIFF <flags> IMAGE ID args…`
    func runArgs(_ id: String, _ args: [String], flags: [String] = []) -> [String] {
        ["run", "--runc-binary", EnginePaths.skiff] + flags + [EngineImage.ref, id] + args
    }

    /// The STATUS column of `ctr tasks ls` for `id`, or nil.
    func taskStatus(_ id: String) -> String? {
        for line in ctr(["tasks", "ls"]).lines.dropFirst() {
            let cols = line.split(separator: " ", omittingEmptySubsequences: true)
            if cols.count >= 3, cols[0] == id { return String(cols[2]) }
        }
        return nil
    }

    func remove(_ id: String) {
        _ = ctr(["tasks", "kill", "-a", "-s", "SIGKILL", id], timeout: 20)
        _ = waitUntil(timeout: 10) { taskStatus(id) != "RUNNING" && taskStatus(id) != "PAUSED" }
        _ = ctr(["tasks", "delete", "-f", id], timeout: 20)
        _ = ctr(["containers", "delete", id], timeout: 20)
    }
}

private let containerdBinaries = ["containerd", "ctr", "containerd-shim-runc-v2", "script"]

@Suite(
    "containerd on skiff",
    .serialized,
    .enabled(if: EnginePaths.skipReason(engine: "containerd", binaries: containerdBinaries) == nil,
             Comment(rawValue: EnginePaths.skipReason(engine: "containerd", binaries: containerdBinaries) ?? "")),
    EngineScope<ContainerdWorld>()
)
struct ContainerdTests {
    @Test("ctr run --rm echo prints the output and exits 0")
    func runEcho() throws {
        let w = try currentWorld(ContainerdWorld.self)
        let r = w.ctr(w.runArgs(uniqueName("c"), ["echo", "hello from skiff"], flags: ["--rm"]))
        #expect(r.status == 0, "\(r)")
        #expect(r.out == "hello from skiff", "\(r)")
    }

    @Test("exit codes: the container's status; a missing command fails create with runc's wording")
    func exitCodes() throws {
        let w = try currentWorld(ContainerdWorld.self)
        let three = w.ctr(w.runArgs(uniqueName("c"), ["sh", "-c", "exit 3"], flags: ["--rm"]))
        #expect(three.status == 3, "\(three)")

        let id = uniqueName("c")
        let missing = w.ctr(w.runArgs(id, ["no-such-command"], flags: ["--rm"]))
        defer { w.remove(id) }
        #expect(missing.status != 0, "\(missing)")
        // containerd reads the last error from the shim's log.json, which skiff wrote.
        #expect(missing.stderr.contains("OCI runtime create failed"), "\(missing)")
        #expect(missing.stderr.contains("executable file not found in $PATH"), "\(missing)")
    }

    @Test("detached task: exec, ps, pause/resume, metrics, kill, delete")
    func detachedLifecycle() throws {
        let w = try currentWorld(ContainerdWorld.self)
        let id = uniqueName("c")
        let script = "trap 'exit 0' TERM; while :; do sleep 0.1; done"
        let started = w.ctr(w.runArgs(id, ["sh", "-c", script], flags: ["-d"]))
        try #require(started.status == 0, "\(started)")
        defer { w.remove(id) }

        #expect(w.taskStatus(id) == "RUNNING")
        #expect(skiffStatus(root: w.skiffRoot, id: id) == "running", "skiff has no state for \(id) under \(w.skiffRoot)")

        let exec = w.ctr(["tasks", "exec", "--exec-id", "e1", id, "sh", "-c", "echo in-exec; exit 5"])
        #expect(exec.status == 5 && exec.out == "in-exec", "\(exec)")
        let missing = w.ctr(["tasks", "exec", "--exec-id", "e2", id, "no-such-command"])
        #expect(missing.status != 0, "\(missing)")
        #expect(missing.stderr.contains("executable file not found in $PATH"), "\(missing)")

        let ps = w.ctr(["tasks", "ps", id])
        #expect(ps.status == 0 && ps.lines.count >= 2, "\(ps)")

        let pause = w.ctr(["tasks", "pause", id])
        #expect(pause.status == 0, "\(pause)")
        #expect(w.taskStatus(id) == "PAUSED")
        #expect(skiffStatus(root: w.skiffRoot, id: id) == "paused")
        let resume = w.ctr(["tasks", "resume", id])
        #expect(resume.status == 0, "\(resume)")
        #expect(w.taskStatus(id) == "RUNNING")

        let metrics = w.ctr(["tasks", "metrics", id])
        #expect(metrics.status == 0, "\(metrics)")
        #expect(metrics.out.contains("pids.current") || metrics.out.contains("pids"), "\(metrics)")

        let term = w.ctr(["tasks", "kill", "-s", "SIGTERM", id])
        #expect(term.status == 0, "\(term)")
        #expect(waitUntil(timeout: 10) { w.taskStatus(id) == "STOPPED" })
        let del = w.ctr(["tasks", "delete", id])
        #expect(del.status == 0, "\(del)")
        #expect(skiffStatus(root: w.skiffRoot, id: id) == nil, "skiff still has state for \(id) after ctr tasks delete")
    }

    @Test("SIGKILL: the task stops with status 137")
    func killTask() throws {
        let w = try currentWorld(ContainerdWorld.self)
        let id = uniqueName("c")
        let started = w.ctr(w.runArgs(id, ["sleep", "300"], flags: ["-d"]))
        try #require(started.status == 0, "\(started)")
        defer { w.remove(id) }
        let kill = w.ctr(["tasks", "kill", "-s", "SIGKILL", id])
        #expect(kill.status == 0, "\(kill)")
        #expect(waitUntil(timeout: 10) { w.taskStatus(id) == "STOPPED" })
        let del = w.ctr(["tasks", "delete", id])
        #expect(del.status == 0, "\(del)")
        #expect(del.combined.contains("137"), "ctr tasks delete should report exit code 137: \(del)")
    }

    @Test("-t: a terminal of the caller's size for run and exec")
    func terminal() throws {
        let w = try currentWorld(ContainerdWorld.self)
        let tty = w.ctrTTY(w.runArgs(uniqueName("c"), ["sh", "-c", "tty; \(waitSizeScript); exit 7"], flags: ["--rm", "-t"]),
                           rows: 20, cols: 90)
        #expect(tty.status == 7, "\(tty)")
        #expect(tty.out.contains("/dev/pts/") && tty.out.contains("size=20 90"), "\(tty)")

        let id = uniqueName("c")
        let started = w.ctr(w.runArgs(id, ["sleep", "300"], flags: ["-d"]))
        try #require(started.status == 0, "\(started)")
        defer { w.remove(id) }
        let exec = w.ctrTTY(["tasks", "exec", "-t", "--exec-id", "et", id, "sh", "-c", "tty; \(waitSizeScript); exit 8"],
                            rows: 21, cols: 91)
        #expect(exec.status == 8, "\(exec)")
        #expect(exec.out.contains("/dev/pts/") && exec.out.contains("size=21 91"), "\(exec)")
    }

    @Test("the shim's log.json stays valid JSON lines from skiff")
    func logJSON() throws {
        let w = try currentWorld(ContainerdWorld.self)
        let id = uniqueName("c")
        let started = w.ctr(w.runArgs(id, ["sleep", "300"], flags: ["-d"]))
        try #require(started.status == 0, "\(started)")
        defer { w.remove(id) }
        _ = w.ctr(["tasks", "exec", "--exec-id", "bad", id, "no-such-command"])
        let log = "\(w.dir)/state/io.containerd.runtime.v2.task/\(w.namespace)/\(id)/log.json"
        let text = try String(contentsOfFile: log, encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(!lines.isEmpty, "log.json is empty")
        for line in lines {
            let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(obj?["level"] is String && obj?["msg"] is String && obj?["time"] is String,
                    "not a {level,msg,time} JSON line: \(line)")
        }
    }
}
