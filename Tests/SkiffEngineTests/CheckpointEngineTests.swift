// podman container checkpoint/restore with skiff as the runtime (podman drives `skiff
// checkpoint` itself and `skiff restore` through conmon). Only where `criu check` passes (the
// test VM).
import Foundation
import Glibc
import SkiffTestSupport
import Testing

let engineCriuWorks: Bool = {
    guard getuid() == 0 else { return false }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", "PATH=$PATH:/usr/sbin:/sbin criu check >/dev/null 2>&1"]
    do { try p.run() } catch { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
}()

@Suite(
    "podman checkpoint/restore on skiff",
    .serialized,
    .enabled(if: engineCriuWorks && EnginePaths.skipReason(engine: "podman", binaries: ["podman", "conmon"]) == nil,
             "needs podman, conmon and a working criu (criu check)"),
    EngineScope<PodmanWorld>()
)
struct PodmanCheckpointTests {
    static let counter = "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; echo $i; sleep 1; done"

    func count(_ w: PodmanWorld, _ name: String) -> Int? {
        Int(w.podman(["exec", name, "cat", "/tmp/count"]).out)
    }

    func waitCount(_ w: PodmanWorld, _ name: String, atLeast n: Int) -> Int? {
        var v: Int? = nil
        for _ in 0..<300 {
            v = count(w, name)
            if (v ?? 0) >= n { return v }
            usleep(200_000)
        }
        return v
    }

    @Test("checkpoint stops the container, restore brings it back counting on")
    func checkpointRestore() throws {
        let w = try currentWorld(PodmanWorld.self)
        let name = uniqueName("ck")
        let run = w.podman(["run", "-d", "--name", name] + PodmanWorld.runFlags + [EngineImage.ref, "sh", "-c", Self.counter])
        try #require(run.status == 0, "\(run)")
        let before = try #require(waitCount(w, name, atLeast: 3))
        let c = w.podman(["container", "checkpoint", name], timeout: 300)
        #expect(c.status == 0, "\(c)")
        #expect(w.inspect(name, "{{.State.Status}}") == "exited", "\(w.inspect(name, "{{.State.Status}}"))")
        let r = w.podman(["container", "restore", name], timeout: 300)
        #expect(r.status == 0, "\(r)")
        #expect(w.inspect(name, "{{.State.Status}}") == "running")
        let after = waitCount(w, name, atLeast: before + 1) ?? 0
        #expect(after > before, "counter restarted or stuck: \(before) then \(after)")
        let logs = w.podman(["logs", name]).lines
        #expect(logs.first == "1" && logs.contains("\(before + 1)"), "\(logs)")
        _ = w.podman(["rm", "-f", "-t", "0", name])
    }

    @Test("checkpoint --export, restore --import under a new name")
    func exportImport() throws {
        let w = try currentWorld(PodmanWorld.self)
        let name = uniqueName("ckx")
        let run = w.podman(["run", "-d", "--name", name] + PodmanWorld.runFlags + [EngineImage.ref, "sh", "-c", Self.counter])
        try #require(run.status == 0, "\(run)")
        let before = try #require(waitCount(w, name, atLeast: 2))
        let archive = w.dir + "/\(name).tar.gz"
        let c = w.podman(["container", "checkpoint", "--export", archive, name], timeout: 300)
        #expect(c.status == 0, "\(c)")
        let other = name + "-imported"
        let r = w.podman(["container", "restore", "--import", archive, "--name", other], timeout: 300)
        #expect(r.status == 0, "\(r)")
        let after = waitCount(w, other, atLeast: before + 1) ?? 0
        #expect(after > before, "imported counter: \(before) then \(after)")
        _ = w.podman(["rm", "-f", "-t", "0", name, other])
    }
}

/// dockerd as DockerWorld starts it, with --experimental (docker checkpoint needs it).
struct DockerCheckpointWorld: EngineWorld {
    @TaskLocal static var current: DockerCheckpointWorld?
    static var slot: TaskLocal<DockerCheckpointWorld?> { $current }

    let dir: String
    let daemon: ChildProcess
    let cgroupParent: String
    var env: [String: String] { ["DOCKER_CONFIG": dir + "/client", "DOCKER_HOST": "unix://\(dir)/docker.sock"] }

    static func start() async throws -> DockerCheckpointWorld {
        let dir = try Scratch.makeDir("docker-ckpt")
        let cgroupParent = "skiff-eng-dockerck-\(getpid())"
        try "{}".write(toFile: dir + "/daemon.json", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/client", withIntermediateDirectories: true)
        let daemon = try Dockerd.start(dir: dir, [
            "--experimental", "--config-file", dir + "/daemon.json",
            "--exec-opt", "native.cgroupdriver=cgroupfs", "--cgroup-parent", "/" + cgroupParent,
        ])
        let world = DockerCheckpointWorld(dir: dir, daemon: daemon, cgroupParent: cgroupParent)
        do {
            try Dockerd.ready(daemon, dir: dir, loadTimeout: 120) { world.docker($0, timeout: $1) }
        } catch {
            await world.stop()
            throw error
        }
        return world
    }

    func stop() async {
        Dockerd.stop(daemon) { docker($0, timeout: $1) }
        Scratch.removeCgroups(cgroupParent)
        Scratch.remove(dir)
    }

    func docker(_ args: [String], timeout: TimeInterval = 60) -> CmdResult {
        run(["docker"] + args, env: env, stdin: nil, timeout: timeout, workDir: dir)
    }
}

@Suite(
    "docker checkpoint/start --checkpoint on skiff",
    .serialized,
    .enabled(if: engineCriuWorks && EnginePaths.skipReason(engine: "docker", binaries: ["dockerd", "docker", "containerd", "containerd-shim-runc-v2"]) == nil,
             "needs dockerd, containerd and a working criu (criu check)"),
    EngineScope<DockerCheckpointWorld>()
)
struct DockerCheckpointTests {
    @Test("docker checkpoint create, then start --checkpoint: the counter goes on")
    func checkpointCreateAndStart() throws {
        let w = try currentWorld(DockerCheckpointWorld.self)
        let name = uniqueName("dck")
        let run = w.docker(["run", "-d", "--runtime", "skiff", "--network", "none", "--name", name, EngineImage.ref,
                            "sh", "-c", PodmanCheckpointTests.counter])
        try #require(run.status == 0, "\(run)")
        func count() -> Int? { Int(w.docker(["exec", name, "cat", "/tmp/count"]).out) }
        var before: Int? = nil
        for _ in 0..<300 {
            before = count()
            if (before ?? 0) >= 3 { break }
            usleep(200_000)
        }
        let last = try #require(before)
        let c = w.docker(["checkpoint", "create", name, "cp1"], timeout: 300)
        #expect(c.status == 0, "\(c)")
        #expect(w.docker(["inspect", "-f", "{{.State.Running}}", name]).out == "false")
        let s = w.docker(["start", "--checkpoint", "cp1", name], timeout: 300)
        #expect(s.status == 0, "\(s)")
        var after: Int? = nil
        for _ in 0..<300 {
            after = count()
            if (after ?? 0) > last { break }
            usleep(200_000)
        }
        #expect((after ?? 0) > last, "counter restarted or stuck: \(last) then \(after ?? -1)")
        _ = w.docker(["rm", "-f", name])
    }
}
