// The engines with their DEFAULT cgroup settings on a systemd + cgroup v2 host, skiff named as
// the runtime and nothing else skiff-specific: podman (cgroup_manager systemd, events and logs
// in journald), dockerd (cgroup driver systemd), buildah. The engine suites next door
// (PodmanTests, DockerTests, …) force cgroupfs so they also run on the CI host; these check what
// most machines do: the container in a transient systemd scope that skiff asks systemd for over
// D-Bus, the limits both as unit properties and in the cgroup files, and the scope gone after
// removal. The rootless podman suite (systemd --user) is SystemdRootlessPodmanTests.swift; the
// Kubernetes-style pod through containerd's CRI plugin is CRIPodTests.swift.
//
// Only on a systemd + cgroup v2 host (SystemdHost); scripts/vm/test.sh runs them in the test VM.
// Storage, state and sockets live under a temp directory as in the other engine suites, and
// containers use `--network none` (no bridge or CNI plugins needed).
import Foundation
import Glibc
import SkiffTestSupport
import Testing

// MARK: - podman

/// podman with no containers.conf of its own: the system's defaults, `--runtime SKIFF` only.
struct SystemdPodmanWorld: EngineWorld {
    @TaskLocal static var current: SystemdPodmanWorld?
    static var slot: TaskLocal<SystemdPodmanWorld?> { $current }

    let dir: String
    var env: [String: String] { ["TMPDIR": dir + "/tmp"] }
    var globalArgs: [String] {
        ["--root", dir + "/storage", "--runroot", dir + "/run", "--tmpdir", dir + "/libpod", "--runtime", EnginePaths.skiff]
    }

    static func start() async throws -> SystemdPodmanWorld {
        let world = SystemdPodmanWorld(dir: try Scratch.makeDir("sdpod"))
        do {
            try FileManager.default.createDirectory(atPath: world.dir + "/tmp", withIntermediateDirectories: true)
            let image = try Scratch.buildImage(into: world.dir)
            let load = world.podman(["load", "-q", "-i", image], timeout: 300)
            guard load.status == 0 else { throw EngineError("podman load failed: \(load)") }
        } catch {
            await world.stop()
            throw error
        }
        return world
    }

    func stop() async {
        _ = podman(["pod", "rm", "-a", "-f", "-t", "0"], timeout: 120)
        _ = podman(["rm", "-a", "-f", "-t", "0"], timeout: 120)
        _ = podman(["rmi", "-a", "-f"], timeout: 120)
        Scratch.remove(dir)
    }

    func podman(_ args: [String], timeout: TimeInterval = 60) -> CmdResult {
        run(["podman"] + globalArgs + args, env: env, timeout: timeout, workDir: dir)
    }

    func inspect(_ name: String, _ format: String) -> String {
        podman(["inspect", "-f", format, name]).out
    }
}

private let podmanBinaries = ["podman", "conmon", "systemctl", "journalctl"]

@Suite(
    "podman with systemd defaults on skiff",
    .serialized,
    .enabled(if: SystemdHost.skipReason(engine: "podman", binaries: podmanBinaries) == nil,
             Comment(rawValue: SystemdHost.skipReason(engine: "podman", binaries: podmanBinaries) ?? "")),
    EngineScope<SystemdPodmanWorld>()
)
struct SystemdPodmanTests {
    @Test("podman info: systemd cgroup manager, journald events, cgroup v2, skiff as the OCI runtime")
    func info() throws {
        let w = try currentWorld(SystemdPodmanWorld.self)
        let r = w.podman(["info", "--format", "{{.Host.CgroupManager}} {{.Host.EventLogger}} {{.Host.CgroupsVersion}} {{.Host.OCIRuntime.Path}}"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out == "systemd journald v2 \(EnginePaths.skiff)", "\(r)")
    }

    @Test("run/exec/pause/stop/rm: a libpod-<id>.scope in machine.slice with the limits, events in journald, nothing left")
    func lifecycle() throws {
        let w = try currentWorld(SystemdPodmanWorld.self)
        let name = uniqueName("sdp")
        let script = "trap 'echo got-term; exit 0' TERM; echo started; while :; do sleep 0.1; done"
        let started = w.podman(["run", "-d", "--name", name, "--network", "none", "--memory", "64m", "--pids-limit", "50",
                                EngineImage.ref, "sh", "-c", script])
        try #require(started.status == 0, "\(started)")
        let id = started.out
        defer { _ = w.podman(["rm", "-f", "-t", "0", name]) }
        let unit = "libpod-\(id).scope"
        let scope = "/machine.slice/" + unit

        let pid = Int(w.inspect(name, "{{.State.Pid}}")) ?? 0
        #expect(pid > 0)
        #expect(SystemdHost.cgroup(of: pid) == scope)
        #expect(SystemdHost.read(scope, "memory.max") == "67108864")
        #expect(SystemdHost.read(scope, "pids.max") == "50")
        let props = SystemdHost.unitProperties(unit, ["ActiveState", "Slice", "MemoryMax", "TasksMax", "Delegate"])
        #expect(props["ActiveState"] == "active" && props["Slice"] == "machine.slice", "\(props)")
        #expect(props["MemoryMax"] == "67108864" && props["TasksMax"] == "50", "skiff should set the limits as unit properties: \(props)")
        #expect(skiffStatus(root: nil, id: id) == "running", "skiff (default root /run/skiff) does not know container \(id)")
        #expect(waitUntil(timeout: 10) { w.podman(["logs", name]).out.contains("started") }, "no 'started' in the (journald) log")

        let exec = w.podman(["exec", name, "sh", "-c", "cat /proc/self/cgroup /sys/fs/cgroup/memory.max; exit 4"])
        #expect(exec.status == 4 && exec.lines == ["0::/", "67108864"], "\(exec)")

        #expect(w.podman(["pause", name]).status == 0)
        #expect(w.inspect(name, "{{.State.Status}}") == "paused")
        #expect(SystemdHost.read(scope, "cgroup.freeze") == "1")
        #expect(SystemdHost.read(scope, "cgroup.events")?.contains("frozen 1") == true)
        #expect(w.podman(["unpause", name]).status == 0)
        #expect(SystemdHost.read(scope, "cgroup.events")?.contains("frozen 0") == true)

        let stop = w.podman(["stop", "-t", "30", name])
        #expect(stop.status == 0, "\(stop)")
        #expect(w.inspect(name, "{{.State.Status}} {{.State.ExitCode}}") == "exited 0")
        #expect(w.podman(["logs", name]).out.contains("got-term"))
        #expect(waitUntil(timeout: 10) { !SystemdHost.exists(scope) }, "\(scope) left after stop")

        let rm = w.podman(["rm", name])
        #expect(rm.status == 0, "\(rm)")
        #expect(skiffStatus(root: nil, id: id) == nil, "skiff still has state for \(id) after podman rm")
        #expect(SystemdHost.activeState(unit) != "active")

        // The events podman wrote to the journal, read back by podman and by journalctl.
        let events = w.podman(["events", "--since", "30m", "--until", "1s", "--filter", "container=\(id)", "--format", "{{.Status}}"],
                              timeout: 120)
        #expect(events.status == 0, "\(events)")
        for e in ["create", "init", "start", "exec", "pause", "unpause", "died", "remove"] {
            #expect(events.lines.contains(e), "no \(e) event: \(events)")
        }
        let journal = run(["journalctl", "--no-pager", "-o", "cat", "--output-fields", "PODMAN_EVENT", "PODMAN_ID=\(id)"],
                          timeout: 60, workDir: "/tmp")
        #expect(journal.lines.contains("start") && journal.lines.contains("died"), "\(journal)")
    }

    @Test("run --rm with limits: the container reads them from its own cgroup")
    func runLimits() throws {
        let w = try currentWorld(SystemdPodmanWorld.self)
        let r = w.podman(["run", "--rm", "--network", "none", "--memory", "48m", "--pids-limit", "40", "--cpus", "0.5",
                          EngineImage.ref, "sh", "-c", "cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max"])
        #expect(r.status == 0, "\(r)")
        #expect(r.lines == ["0::/", "50331648", "40", "50000 100000"], "\(r)")
    }

    @Test("pod: the infra and app containers in the pod's slice machine-libpod_pod_<id>.slice")
    func pod() throws {
        let w = try currentWorld(SystemdPodmanWorld.self)
        let podName = uniqueName("sdpod")
        let create = w.podman(["pod", "create", "--name", podName, "--network", "none"])
        try #require(create.status == 0, "\(create)")
        let podID = create.out
        defer { _ = w.podman(["pod", "rm", "-f", "-t", "0", podName]) }
        let slice = "machine-libpod_pod_\(podID).slice"
        let started = w.podman(["run", "-d", "--pod", podName, "--memory", "32m", EngineImage.ref, "sleep", "300"])
        try #require(started.status == 0, "\(started)")
        let id = started.out
        let sliceCgroup = "/machine.slice/" + slice
        let pid = Int(w.inspect(id, "{{.State.Pid}}")) ?? 0
        #expect(SystemdHost.cgroup(of: pid) == sliceCgroup + "/libpod-\(id).scope")
        #expect(SystemdHost.read(sliceCgroup + "/libpod-\(id).scope", "memory.max") == "33554432")
        let infraID = w.podman(["pod", "inspect", "-f", "{{.InfraContainerID}}", podName]).out
        let infraPid = Int(w.inspect(infraID, "{{.State.Pid}}")) ?? 0
        #expect(SystemdHost.cgroup(of: infraPid) == sliceCgroup + "/libpod-\(infraID).scope")
        #expect(SystemdHost.namespace(pid, "ipc") == SystemdHost.namespace(infraPid, "ipc"))
        #expect(SystemdHost.namespace(pid, "uts") == SystemdHost.namespace(infraPid, "uts"))

        let rm = w.podman(["pod", "rm", "-f", "-t", "0", podName])
        #expect(rm.status == 0, "\(rm)")
        #expect(waitUntil(timeout: 10) { !SystemdHost.exists(sliceCgroup + "/libpod-\(id).scope") }, "the container's scope is left")
        for cid in [id, infraID] { #expect(skiffStatus(root: nil, id: cid) == nil, "skiff still has state for \(cid)") }
    }
}

// MARK: - Docker

/// dockerd with its defaults (cgroup driver systemd on a v2 host), skiff registered and made the
/// default runtime: `--add-runtime skiff=SKIFF --default-runtime skiff`.
struct SystemdDockerWorld: EngineWorld {
    @TaskLocal static var current: SystemdDockerWorld?
    static var slot: TaskLocal<SystemdDockerWorld?> { $current }

    let dir: String
    let daemon: ChildProcess

    var env: [String: String] { ["DOCKER_CONFIG": dir + "/client", "DOCKER_HOST": "unix://\(dir)/docker.sock"] }
    /// Where the shim keeps skiff's state (Docker 20.10: <exec-root>/runtime-runc/<containerd
    /// namespace>, whatever the runtime's name).
    var skiffRoot: String { dir + "/exec/runtime-runc/moby" }

    static func start() async throws -> SystemdDockerWorld {
        let dir = try Scratch.makeDir("sddock")
        try FileManager.default.createDirectory(atPath: dir + "/client", withIntermediateDirectories: true)
        let daemon = try Dockerd.start(dir: dir, ["--default-runtime", "skiff"])
        let world = SystemdDockerWorld(dir: dir, daemon: daemon)
        do {
            try Dockerd.ready(daemon, dir: dir, loadTimeout: 300) { world.docker($0, timeout: $1) }
        } catch {
            await world.stop()
            throw error
        }
        return world
    }

    func stop() async {
        Dockerd.stop(daemon, slow: true) { docker($0, timeout: $1) }
        Scratch.remove(dir)
    }

    func docker(_ args: [String], timeout: TimeInterval = 60) -> CmdResult {
        run(["docker"] + args, env: env, timeout: timeout, workDir: dir)
    }

    func inspect(_ name: String, _ format: String) -> String {
        docker(["inspect", "-f", format, name]).out
    }
}

private let dockerBinaries = ["dockerd", "docker", "containerd", "containerd-shim-runc-v2", "systemctl"]

@Suite(
    "docker with its default (systemd) cgroup driver on skiff",
    .serialized,
    .enabled(if: SystemdHost.skipReason(engine: "docker", binaries: dockerBinaries) == nil,
             Comment(rawValue: SystemdHost.skipReason(engine: "docker", binaries: dockerBinaries) ?? "")),
    EngineScope<SystemdDockerWorld>()
)
struct SystemdDockerTests {
    @Test("docker info: systemd cgroup driver, cgroup v2, skiff the default runtime")
    func info() throws {
        let w = try currentWorld(SystemdDockerWorld.self)
        let r = w.docker(["info", "--format", "{{.CgroupDriver}} {{.CgroupVersion}} {{.DefaultRuntime}}"])
        #expect(r.status == 0 && r.out == "systemd 2 skiff", "\(r)")
    }

    @Test("run/exec/update/pause/stop/rm: a docker-<id>.scope in system.slice with the limits, nothing left")
    func lifecycle() throws {
        let w = try currentWorld(SystemdDockerWorld.self)
        let name = uniqueName("sdd")
        let script = "trap 'echo got-term; exit 0' TERM; echo started; while :; do sleep 0.1; done"
        let started = w.docker(["run", "-d", "--name", name, "--network", "none", "--memory", "64m", "--pids-limit", "50",
                                EngineImage.ref, "sh", "-c", script])
        try #require(started.status == 0, "\(started)")
        let id = started.out
        defer { _ = w.docker(["rm", "-f", name]) }
        let unit = "docker-\(id).scope"
        let scope = "/system.slice/" + unit

        let pid = Int(w.inspect(name, "{{.State.Pid}}")) ?? 0
        #expect(pid > 0)
        #expect(SystemdHost.cgroup(of: pid) == scope)
        #expect(SystemdHost.read(scope, "memory.max") == "67108864")
        #expect(SystemdHost.read(scope, "pids.max") == "50")
        let props = SystemdHost.unitProperties(unit, ["ActiveState", "Slice", "MemoryMax", "TasksMax"])
        #expect(props["ActiveState"] == "active" && props["Slice"] == "system.slice", "\(props)")
        #expect(props["MemoryMax"] == "67108864" && props["TasksMax"] == "50", "\(props)")
        #expect(skiffStatus(root: w.skiffRoot, id: id) == "running", "skiff has no state for \(id) under \(w.skiffRoot)")
        #expect(waitUntil(timeout: 10) { w.docker(["logs", name]).out.contains("started") }, "no 'started' in logs")

        let exec = w.docker(["exec", name, "sh", "-c", "cat /proc/self/cgroup /sys/fs/cgroup/memory.max; exit 5"])
        #expect(exec.status == 5 && exec.lines == ["0::/", "67108864"], "\(exec)")

        // docker update: skiff sets the unit properties again and writes the files.
        let update = w.docker(["update", "--memory", "96m", "--memory-swap", "96m", "--pids-limit", "77", name])
        #expect(update.status == 0, "\(update)")
        #expect(SystemdHost.read(scope, "memory.max") == "100663296" && SystemdHost.read(scope, "pids.max") == "77")
        let updated = SystemdHost.unitProperties(unit, ["MemoryMax", "TasksMax"])
        #expect(updated["MemoryMax"] == "100663296" && updated["TasksMax"] == "77", "\(updated)")

        #expect(w.docker(["pause", name]).status == 0)
        #expect(w.inspect(name, "{{.State.Status}}") == "paused")
        #expect(SystemdHost.read(scope, "cgroup.events")?.contains("frozen 1") == true)
        #expect(w.docker(["unpause", name]).status == 0)
        #expect(w.inspect(name, "{{.State.Status}}") == "running")

        let stop = w.docker(["stop", "-t", "30", name])
        #expect(stop.status == 0, "\(stop)")
        #expect(w.inspect(name, "{{.State.Status}} {{.State.ExitCode}}") == "exited 0")
        #expect(w.docker(["logs", name]).out.contains("got-term"))
        let rm = w.docker(["rm", name])
        #expect(rm.status == 0, "\(rm)")
        #expect(skiffStatus(root: w.skiffRoot, id: id) == nil, "skiff still has state for \(id) after docker rm")
        #expect(waitUntil(timeout: 10) { !SystemdHost.exists(scope) }, "\(scope) left after docker rm")
        #expect(SystemdHost.activeState(unit) != "active")
    }

    @Test("run --rm with limits: the container reads them from its own cgroup")
    func runLimits() throws {
        let w = try currentWorld(SystemdDockerWorld.self)
        let r = w.docker(["run", "--rm", "--network", "none", "--memory", "48m", "--pids-limit", "40", "--cpus", "0.5",
                          EngineImage.ref, "sh", "-c", "cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max"])
        #expect(r.status == 0, "\(r)")
        #expect(r.lines == ["0::/", "50331648", "40", "50000 100000"], "\(r)")
    }
}

// MARK: - buildah

/// buildah with no containers.conf of its own (cgroup manager systemd), `--runtime SKIFF` only.
struct SystemdBuildahWorld: EngineWorld {
    @TaskLocal static var current: SystemdBuildahWorld?
    static var slot: TaskLocal<SystemdBuildahWorld?> { $current }

    let dir: String
    var env: [String: String] { ["TMPDIR": dir + "/tmp"] }
    var globalArgs: [String] { ["--root", dir + "/storage", "--runroot", dir + "/run"] }

    static func start() async throws -> SystemdBuildahWorld {
        let world = SystemdBuildahWorld(dir: try Scratch.makeDir("sdbuild"))
        do {
            try FileManager.default.createDirectory(atPath: world.dir + "/tmp", withIntermediateDirectories: true)
            let image = try Scratch.buildImage(into: world.dir)
            let pull = world.buildah(["pull", "-q", "docker-archive:\(image)"], timeout: 300)
            guard pull.status == 0 else { throw EngineError("buildah pull docker-archive failed: \(pull)") }
        } catch {
            await world.stop()
            throw error
        }
        return world
    }

    func stop() async {
        _ = buildah(["rm", "--all"], timeout: 120)
        _ = buildah(["rmi", "--all", "--force"], timeout: 120)
        Scratch.remove(dir)
    }

    func buildah(_ args: [String], timeout: TimeInterval = 300) -> CmdResult {
        run(["buildah"] + globalArgs + args, env: env, timeout: timeout, workDir: dir)
    }
}

@Suite(
    "buildah with systemd defaults on skiff",
    .serialized,
    .enabled(if: SystemdHost.skipReason(engine: "buildah", binaries: ["buildah"]) == nil,
             Comment(rawValue: SystemdHost.skipReason(engine: "buildah", binaries: ["buildah"]) ?? "")),
    EngineScope<SystemdBuildahWorld>()
)
struct SystemdBuildahTests {
    @Test("from + run and bud --memory: RUN steps on skiff, the limit in the step's cgroup")
    func fromRunBud() throws {
        let w = try currentWorld(SystemdBuildahWorld.self)
        let from = w.buildah(["from", "--pull=never", EngineImage.ref])
        try #require(from.status == 0, "\(from)")
        let container = from.lines.last ?? ""
        defer { _ = w.buildah(["rm", container]) }
        let r = w.buildah(["run", "--runtime", EnginePaths.skiff, container, "--", "sh", "-c",
                           "echo run-on-skiff > /marker; cat /marker; exit 3"])
        #expect(r.status == 3 && r.out == "run-on-skiff", "\(r)")
        // With the host's cgroup namespace the step shows its cgroup: buildah 1.28 passes neither
        // --systemd-cgroup nor linux.cgroupsPath for RUN (whatever its cgroup manager), so the
        // runtime's default applies, as runc 1.1.5's fs2: the id below the parent of the
        // runtime's own cgroup (here the test's: skiff-vm.service, so /system.slice/<id>).
        let own = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) } ?? "/"
        let parent = own.split(separator: "/").dropLast().joined(separator: "/")
        let expected = "0::/" + (parent.isEmpty ? "" : parent + "/") + "buildah-"
        let cg = w.buildah(["run", "--cgroupns", "host", "--runtime", EnginePaths.skiff, container, "--", "cat", "/proc/self/cgroup"])
        #expect(cg.status == 0 && cg.out.hasPrefix(expected), "expected \(expected)…: \(cg)")

        let ctx = w.dir + "/" + uniqueName("ctx")
        try FileManager.default.createDirectory(atPath: ctx, withIntermediateDirectories: true)
        try """
            FROM \(EngineImage.ref)
            RUN echo "mem=$(cat /sys/fs/cgroup/memory.max)" && echo built > /built
            """.write(toFile: ctx + "/Containerfile", atomically: true, encoding: .utf8)
        let tag = "localhost/sdbuilt:\(getpid())"
        let bud = w.buildah(["bud", "--runtime", EnginePaths.skiff, "--memory", "64m", "-t", tag, ctx])
        #expect(bud.status == 0, "\(bud)")
        #expect(bud.stdout.contains("mem=67108864"), "\(bud)")
        let built = w.buildah(["from", "--pull=never", tag])
        try #require(built.status == 0, "\(built)")
        let c2 = built.lines.last ?? ""
        defer { _ = w.buildah(["rm", c2]) }
        let read = w.buildah(["run", "--runtime", EnginePaths.skiff, c2, "--", "cat", "/built"])
        #expect(read.status == 0 && read.out == "built", "\(read)")
    }
}
