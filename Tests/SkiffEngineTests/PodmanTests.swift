// podman (with conmon) running containers on skiff.
//
// Private world: a containers.conf that names skiff as the default runtime (and lists it in
// runtime_supports_json, so podman passes `--log-format=json --log …/oci-log` as it does for
// runc and crun), cgroupfs manager, file events; storage, run and tmp directories under a temp
// directory; the busybox image loaded with `podman load`. podman passes no `--root`, so skiff
// keeps its state in its default /run/skiff.
//
// Every container gets `--network none` (no netavark/iptables needed). containers.conf lowers
// the default nofile/nproc rlimits (`default_ulimits`, also used by pod infra containers):
// podman's defaults (1048576 nofile) need CAP_SYS_RESOURCE, which some hosts (this CI's) lack
// in the bounding set; runc fails the same way there.
import Foundation
import Glibc
import Testing

struct PodmanWorld: EngineWorld {
    @TaskLocal static var current: PodmanWorld?
    static var slot: TaskLocal<PodmanWorld?> { $current }

    let dir: String
    let env: [String: String]
    let globalArgs: [String]

    static let runFlags = ["--network", "none"]

    static func start() async throws -> PodmanWorld {
        let dir = try Scratch.makeDir("podman")
        let conf = """
            [containers]
            default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

            [engine]
            cgroup_manager = "cgroupfs"
            events_logger = "file"
            runtime = "skiff"
            runtime_supports_json = ["skiff"]
            runtime_supports_nocgroups = []
            [engine.runtimes]
            skiff = ["\(EnginePaths.skiff)"]
            """
        try conf.write(toFile: dir + "/containers.conf", atomically: true, encoding: .utf8)
        let world = PodmanWorld(
            dir: dir,
            env: ["CONTAINERS_CONF": dir + "/containers.conf", "TMPDIR": dir + "/tmp"],
            globalArgs: ["--root", dir + "/storage", "--runroot", dir + "/run", "--tmpdir", dir + "/libpod",
                         "--runtime", EnginePaths.skiff])
        try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: true)
        do {
            let image = try Scratch.buildImage(into: dir)
            let load = world.podman(["load", "-q", "-i", image], timeout: 120)
            guard load.status == 0 else { throw EngineError("podman load failed: \(load)") }
        } catch {
            await world.stop()
            throw error
        }
        return world
    }

    func stop() async {
        _ = podman(["rm", "-a", "-f", "-t", "0"], timeout: 60)
        _ = podman(["rmi", "-a", "-f"], timeout: 60)
        Scratch.remove(dir)
    }

    func podman(_ args: [String], stdin: String? = nil, timeout: TimeInterval = 60) -> CmdResult {
        run(["podman"] + globalArgs + args, env: env, stdin: stdin, timeout: timeout, workDir: dir)
    }

    func podmanTTY(_ args: [String], input: String? = nil, rows: Int = 24, cols: Int = 80) -> CmdResult {
        runInTerminal(["podman"] + globalArgs + args, env: env, input: input, rows: rows, cols: cols, workDir: dir)
    }

    /// `podman run --rm <flags> IMAGE args…`
    func runRm(_ args: [String], flags: [String] = []) -> CmdResult {
        podman(["run", "--rm"] + Self.runFlags + flags + [EngineImage.ref] + args)
    }

    func inspect(_ name: String, _ format: String) -> String {
        podman(["inspect", "-f", format, name]).out
    }
}

@Suite(
    "podman on skiff",
    .serialized,
    .enabled(if: EnginePaths.skipReason(engine: "podman", binaries: ["podman", "conmon", "script"]) == nil,
             Comment(rawValue: EnginePaths.skipReason(engine: "podman", binaries: ["podman", "conmon", "script"]) ?? "")),
    EngineScope<PodmanWorld>()
)
struct PodmanTests {
    @Test("podman reports skiff as its OCI runtime")
    func info() throws {
        let w = try currentWorld(PodmanWorld.self)
        let r = w.podman(["info", "--format", "{{.Host.OCIRuntime.Path}}"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out == EnginePaths.skiff, "\(r)")
    }

    @Test("run --rm echo prints the output and exits 0")
    func runEcho() throws {
        let w = try currentWorld(PodmanWorld.self)
        let r = w.runRm(["echo", "hello from skiff"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out == "hello from skiff", "\(r)")
    }

    @Test("exit codes: the container's status, 127 for a missing command, 126 for a non-executable")
    func exitCodes() throws {
        let w = try currentWorld(PodmanWorld.self)
        let three = w.runRm(["sh", "-c", "exit 3"])
        #expect(three.status == 3, "\(three)")

        let missing = w.runRm(["no-such-command"])
        #expect(missing.status == 127, "\(missing)")
        #expect(missing.stderr.contains("executable file not found in $PATH"), "\(missing)")

        let notExec = w.runRm(["/etc/passwd"])
        #expect(notExec.status == 126, "\(notExec)")
        #expect(notExec.stderr.lowercased().contains("permission denied"), "\(notExec)")

        let killed = w.runRm(["sh", "-c", "sh -c 'kill -9 $$'; echo inner=$?"])
        #expect(killed.status == 0 && killed.out == "inner=137", "\(killed)")
    }

    @Test("config reaches the container: env, workdir, hostname, user, read-only rootfs, caps")
    func config() throws {
        let w = try currentWorld(PodmanWorld.self)
        let r = w.runRm(["sh", "-c", "echo $FOO $(pwd) $(hostname) $(id -u):$(id -g)"],
                        flags: ["-e", "FOO=bar", "-w", "/tmp", "--hostname", "eng-host", "--user", "1000:1000"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out == "bar /tmp eng-host 1000:1000", "\(r)")

        let limits = w.runRm(["sh", "-c", "ulimit -n; ulimit -Hn"], flags: ["--ulimit", "nofile=512:768", "--ulimit", "nproc=1024:1024"])
        #expect(limits.status == 0 && limits.lines == ["512", "768"], "\(limits)")

        let ro = w.runRm(["sh", "-c", "touch /x 2>/dev/null && echo writable || echo read-only; touch /tmp/y && echo tmp-ok"],
                         flags: ["--read-only"])
        #expect(ro.status == 0 && ro.lines == ["read-only", "tmp-ok"], "\(ro)")

        let caps = w.runRm(["sh", "-c", "grep CapEff /proc/self/status"], flags: ["--cap-drop", "all"])
        #expect(caps.status == 0 && caps.out.hasSuffix("0000000000000000"), "\(caps)")

        let vol = w.runRm(["cat", "/host/containers.conf"], flags: ["-v", "\(w.dir):/host:ro"])
        #expect(vol.status == 0 && vol.out.contains("runtime = \"skiff\""), "\(vol)")
    }

    @Test("resource limits: --memory and --pids-limit land in the container's cgroup")
    func resources() throws {
        let w = try currentWorld(PodmanWorld.self)
        let r = w.runRm(["sh", "-c", cgroupLimitsScript], flags: ["--memory", "64m", "--pids-limit", "50"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out == "67108864 50", "\(r)")
    }

    @Test("detached container: logs, exec, top, pause/unpause, stop, start, kill, rm")
    func detachedLifecycle() throws {
        let w = try currentWorld(PodmanWorld.self)
        let name = uniqueName("pm")
        let script = "trap 'echo got-term; exit 0' TERM; echo started; while :; do sleep 0.1; done"
        let started = w.podman(["run", "-d", "--name", name] + PodmanWorld.runFlags + [EngineImage.ref, "sh", "-c", script])
        try #require(started.status == 0, "\(started)")
        let id = started.out
        defer { _ = w.podman(["rm", "-f", "-t", "0", name]) }

        #expect(waitUntil(timeout: 10) { w.podman(["logs", name]).out.contains("started") }, "no 'started' in logs")
        #expect(w.inspect(name, "{{.State.Status}}") == "running")
        #expect(skiffStatus(root: nil, id: id) == "running", "skiff (default root /run/skiff) does not know container \(id)")

        let exec = w.podman(["exec", name, "sh", "-c", "echo in-exec; exit 5"])
        #expect(exec.status == 5 && exec.out == "in-exec", "\(exec)")
        let execUser = w.podman(["exec", "-u", "1000:1000", "-w", "/tmp", "-e", "X=1", name,
                                 "sh", "-c", "echo $X $(pwd) $(id -u)"])
        #expect(execUser.status == 0 && execUser.out == "1 /tmp 1000", "\(execUser)")
        let execMissing = w.podman(["exec", name, "no-such-command"])
        #expect(execMissing.status == 127, "\(execMissing)")
        #expect(execMissing.stderr.contains("executable file not found"), "\(execMissing)")
        let execDetached = w.podman(["exec", "-d", name, "sleep", "300"])
        #expect(execDetached.status == 0, "\(execDetached)")

        let top = w.podman(["top", name, "pid", "args"])
        #expect(top.status == 0, "\(top)")
        #expect(top.out.contains("sleep 300"), "\(top)")

        let pause = w.podman(["pause", name])
        #expect(pause.status == 0, "\(pause)")
        #expect(w.inspect(name, "{{.State.Status}}") == "paused")
        #expect(skiffStatus(root: nil, id: id) == "paused")
        let unpause = w.podman(["unpause", name])
        #expect(unpause.status == 0, "\(unpause)")
        #expect(w.inspect(name, "{{.State.Status}}") == "running")

        let stop = w.podman(["stop", "-t", "10", name])
        #expect(stop.status == 0, "\(stop)")
        #expect(w.inspect(name, "{{.State.Status}} {{.State.ExitCode}}") == "exited 0")
        #expect(w.podman(["logs", name]).out.contains("got-term"))

        let restart = w.podman(["start", name])
        #expect(restart.status == 0, "\(restart)")
        #expect(w.inspect(name, "{{.State.Status}}") == "running")
        let kill = w.podman(["kill", name])  // SIGKILL by default
        #expect(kill.status == 0, "\(kill)")
        #expect(waitUntil(timeout: 10) { w.inspect(name, "{{.State.Status}} {{.State.ExitCode}}") == "exited 137" })

        let rm = w.podman(["rm", name])
        #expect(rm.status == 0, "\(rm)")
        #expect(skiffStatus(root: nil, id: id) == nil, "skiff still has state for \(id) after podman rm")
    }

    @Test("create + start -a, wait returns the exit code")
    func createStartWait() throws {
        let w = try currentWorld(PodmanWorld.self)
        let name = uniqueName("pm")
        let create = w.podman(["create", "--name", name] + PodmanWorld.runFlags + [EngineImage.ref, "sh", "-c", "echo created-then-started; exit 2"])
        try #require(create.status == 0, "\(create)")
        defer { _ = w.podman(["rm", "-f", "-t", "0", name]) }
        let start = w.podman(["start", "-a", name])
        #expect(start.status == 2, "\(start)")
        #expect(start.out == "created-then-started", "\(start)")
        let wait = w.podman(["wait", name])
        #expect(wait.out == "2", "\(wait)")
    }

    @Test("-t: the container gets a terminal of the caller's size, and its exit status")
    func terminal() throws {
        let w = try currentWorld(PodmanWorld.self)
        let r = w.podmanTTY(["run", "--rm", "-t"] + PodmanWorld.runFlags + [EngineImage.ref, "sh", "-c", "tty; \(waitSizeScript); exit 7"],
                            rows: 30, cols: 100)
        #expect(r.status == 7, "\(r)")
        #expect(r.out.contains("/dev/pts/"), "\(r)")
        #expect(r.out.contains("size=30 100"), "\(r)")
    }

    @Test("-it: input typed at the terminal reaches the container's shell")
    func interactive() throws {
        let w = try currentWorld(PodmanWorld.self)
        // `sleep` before each line: the shell must be up before input arrives.
        let r = run(["sh", "-c", "(sleep 2; echo 'echo typed-$((6*7))'; sleep 1; echo 'exit 4') | script -qec "
                     + shellQuote((["podman"] + w.globalArgs + ["run", "--rm", "-it"] + PodmanWorld.runFlags + [EngineImage.ref, "sh"])
                         .map(shellQuote).joined(separator: " ")) + " /dev/null"],
                    env: w.env, timeout: 60, workDir: w.dir)
        #expect(r.status == 4, "\(r)")
        #expect(r.stdout.contains("typed-42"), "\(r)")
    }

    @Test("exec -t and exec -i")
    func execTerminal() throws {
        let w = try currentWorld(PodmanWorld.self)
        let name = uniqueName("pm")
        let started = w.podman(["run", "-d", "--name", name] + PodmanWorld.runFlags + [EngineImage.ref, "sleep", "300"])
        try #require(started.status == 0, "\(started)")
        defer { _ = w.podman(["rm", "-f", "-t", "0", name]) }
        let tty = w.podmanTTY(["exec", "-t", name, "sh", "-c", "tty; \(waitSizeScript); exit 6"], rows: 21, cols: 91)
        #expect(tty.status == 6, "\(tty)")
        #expect(tty.out.contains("/dev/pts/") && tty.out.contains("size=21 91"), "\(tty)")
        let piped = w.podman(["exec", "-i", name, "cat"], stdin: "piped input\n")
        #expect(piped.status == 0 && piped.out == "piped input", "\(piped)")
    }

    /// Not on a systemd + cgroup v2 host: there podman 4.3's infra container, with this suite's
    /// cgroupfs manager, fails at create with "mknod /dev/null: operation not permitted" with
    /// crun 1.8.1 as much as with skiff (seen in the VM guest); pods with podman's default
    /// settings there are SystemdPodmanTests' pod test.
    @Test("pod: containers share the infra container's network, IPC and UTS namespaces",
          .enabled(if: !SystemdHost.isSystemdCgroup2, "cgroupfs pods on a systemd + cgroup v2 host fail with crun too"))
    func pod() throws {
        let w = try currentWorld(PodmanWorld.self)
        let pod = uniqueName("pod")
        let create = w.podman(["pod", "create", "--name", pod, "--network", "none"])
        try #require(create.status == 0, "\(create)")
        defer { _ = w.podman(["pod", "rm", "-f", "-t", "0", pod]) }
        let nsScript = "for n in net ipc uts pid; do printf '%s ' $(ls -l /proc/self/ns/$n | sed 's/.*-> //'); done"
        var seen: [[String]] = []
        for i in 0..<2 {
            let name = "\(pod)-c\(i)"
            let r = w.podman(["run", "-d", "--pod", pod, "--name", name, EngineImage.ref, "sleep", "300"])
            try #require(r.status == 0, "\(r)")
            let ns = w.podman(["exec", name, "sh", "-c", nsScript])
            #expect(ns.status == 0, "\(ns)")
            seen.append(ns.out.split(separator: " ").map(String.init))
        }
        try #require(seen.count == 2 && seen[0].count == 4 && seen[1].count == 4, "\(seen)")
        #expect(seen[0][0] == seen[1][0], "net namespaces differ: \(seen)")
        #expect(seen[0][1] == seen[1][1], "ipc namespaces differ: \(seen)")
        #expect(seen[0][2] == seen[1][2], "uts namespaces differ: \(seen)")
        #expect(seen[0][3] != seen[1][3], "pid namespaces should be private: \(seen)")
        let stop = w.podman(["pod", "stop", "-t", "1", pod])
        #expect(stop.status == 0, "\(stop)")
    }

    @Test("user namespace: --uidmap/--gidmap map root to an unprivileged host range")
    func userNamespace() throws {
        let w = try currentWorld(PodmanWorld.self)
        let maps = ["--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536"]
        let r = w.runRm(["sh", "-c", "cat /proc/self/uid_map; id -u; touch /x && echo write-ok"], flags: maps)
        #expect(r.status == 0, "\(r)")
        #expect(r.lines.first?.split(separator: " ").map(String.init) == ["0", "100000", "65536"], "\(r)")
        #expect(r.lines.dropFirst() == ["0", "write-ok"], "\(r)")

        let name = uniqueName("pm")
        let started = w.podman(["run", "-d", "--name", name] + PodmanWorld.runFlags + maps + [EngineImage.ref, "sleep", "300"])
        try #require(started.status == 0, "\(started)")
        defer { _ = w.podman(["rm", "-f", "-t", "0", name]) }
        let hostUID = w.podman(["top", name, "huser"])
        #expect(hostUID.status == 0 && hostUID.out.contains("100000"), "\(hostUID)")
        let exec = w.podman(["exec", name, "sh", "-c", "cat /proc/self/uid_map"])
        #expect(exec.status == 0 && exec.out.split(separator: " ").map(String.init) == ["0", "100000", "65536"], "\(exec)")
    }
}
