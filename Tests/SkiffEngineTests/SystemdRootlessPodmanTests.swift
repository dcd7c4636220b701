// Rootless podman with a systemd --user session on skiff: the unprivileged test user
// (`skiff-rootless`, RootlessTestUser) gets its user manager with `loginctl enable-linger`
// (user@UID.service, /run/user/UID, its session bus), and runs podman with its defaults for a
// rootless user on cgroup v2: cgroup manager systemd (the user's manager, over the session bus),
// events in journald. skiff, named with `--runtime`, detects rootless mode, asks the user's
// systemd for the container's scope and keeps its state under $XDG_RUNTIME_DIR/skiff.
//
// Private world: HOME, vfs storage (no overlay mounts to leak) and a copy of the skiff binary
// under a temp directory. `--network none` (no slirp4netns). At the end the containers are
// removed, podman's pause process stopped and the linger disabled again (when it was off), which
// stops the user manager.
//
// Only on a systemd + cgroup v2 host (SystemdHost); scripts/vm/test.sh runs it in the test VM.
import Foundation
import Glibc
import SkiffTestSupport
import Testing

struct SystemdRootlessWorld: EngineWorld {
    @TaskLocal static var current: SystemdRootlessWorld?
    static var slot: TaskLocal<SystemdRootlessWorld?> { $current }

    let dir: String
    let uid: Int
    let gid: Int
    let lingerWasOn: Bool

    var home: String { dir + "/home" }
    var skiff: String { dir + "/skiff" }
    var xdg: String { "/run/user/\(uid)" }
    var user: (uid: Int, gid: Int) { (uid, gid) }
    /// The user manager's cgroup; its user.slice holds the containers' scopes.
    var managerCgroup: String { "/user.slice/user-\(uid).slice/user@\(uid).service" }

    static func start() async throws -> SystemdRootlessWorld {
        let u = try RootlessTestUser.shared.get()
        let name = RootlessTestUser.name
        let lingerWasOn = FileManager.default.fileExists(atPath: "/var/lib/systemd/linger/\(name)")
        let dir = try Scratch.makeDir("sdrl")
        chmod(dir, 0o755)
        let world = SystemdRootlessWorld(dir: dir, uid: u.uid, gid: u.gid, lingerWasOn: lingerWasOn)
        do {
            try FileManager.default.createDirectory(atPath: world.home, withIntermediateDirectories: true)
            chown(world.home, uid_t(u.uid), gid_t(u.gid))
            // The user's own copy: the build tree may sit below a directory it cannot enter.
            try FileManager.default.copyItem(atPath: EnginePaths.skiff, toPath: world.skiff)
            chmod(world.skiff, 0o755)
            let linger = run(["loginctl", "enable-linger", name], timeout: 60, workDir: "/tmp")
            guard linger.status == 0 else { throw EngineError("loginctl enable-linger: \(linger)") }
            let up = waitUntil(timeout: 60) {
                FileManager.default.fileExists(atPath: world.xdg + "/bus")
                    && SystemdHost.activeState("user@\(u.uid).service") == "active"
            }
            guard up else { throw EngineError("user@\(u.uid).service did not start (no \(world.xdg)/bus)") }
            let image = try Scratch.buildImage(into: dir)
            chmod(image, 0o644)
            let load = world.podman(["load", "-q", "-i", image], timeout: 300)
            guard load.status == 0 else { throw EngineError("rootless podman load: \(load)") }
        } catch {
            await world.stop()
            throw error
        }
        return world
    }

    func stop() async {
        _ = podman(["rm", "-a", "-f", "-t", "0"], timeout: 120)
        _ = podman(["rmi", "-a", "-f"], timeout: 120)
        _ = podman(["system", "migrate"], timeout: 120)  // stops the pause process
        if let text = try? String(contentsOfFile: xdg + "/libpod/tmp/pause.pid", encoding: .utf8),
           let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            kill(pid, SIGKILL)
        }
        if !lingerWasOn {
            _ = run(["loginctl", "disable-linger", RootlessTestUser.name], timeout: 60, workDir: "/tmp")
            _ = run(["systemctl", "stop", "user@\(uid).service"], timeout: 120, workDir: "/tmp")
        }
        Scratch.remove(dir)
    }

    /// `podman args…` as the user, with its session's environment.
    func podman(_ args: [String], timeout: TimeInterval = 120) -> CmdResult {
        let env = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home, "USER=" + RootlessTestUser.name,
                   "XDG_RUNTIME_DIR=" + xdg, "DBUS_SESSION_BUS_ADDRESS=unix:path=\(xdg)/bus"]
        let argv = ["setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--init-groups", "--"] + env
            + ["podman", "--storage-driver", "vfs", "--root", home + "/storage", "--runroot", home + "/run", "--runtime", skiff] + args
        return run(argv, timeout: timeout, workDir: "/tmp")
    }

    func inspect(_ name: String, _ format: String) -> String {
        podman(["inspect", "-f", format, name]).out
    }
}

private let rootlessBinaries = ["podman", "conmon", "setpriv", "newuidmap", "newgidmap", "loginctl", "systemctl"]

@Suite(
    "rootless podman with systemd --user on skiff",
    .serialized,
    .enabled(if: SystemdHost.skipReason(engine: "rootless podman", binaries: rootlessBinaries) == nil,
             Comment(rawValue: SystemdHost.skipReason(engine: "rootless podman", binaries: rootlessBinaries) ?? "")),
    EngineScope<SystemdRootlessWorld>()
)
struct SystemdRootlessPodmanTests {
    @Test("podman info as the user: rootless, systemd cgroup manager, journald events")
    func info() throws {
        let w = try currentWorld(SystemdRootlessWorld.self)
        let r = w.podman(["info", "--format", "{{.Host.Security.Rootless}} {{.Host.CgroupManager}} {{.Host.EventLogger}} {{.Host.CgroupsVersion}}"])
        #expect(r.status == 0 && r.out == "true systemd journald v2", "\(r)")
    }

    @Test("run/exec/stop/rm: a libpod-<id>.scope of the user's manager with the memory limit, state under $XDG_RUNTIME_DIR/skiff")
    func lifecycle() throws {
        let w = try currentWorld(SystemdRootlessWorld.self)
        let started = w.podman(["run", "-d", "--network", "none", "--memory", "64m", "--pids-limit", "50", EngineImage.ref,
                                "sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"])
        try #require(started.status == 0, "\(started)")
        let id = started.out
        defer { _ = w.podman(["rm", "-f", "-t", "0", id]) }
        let unit = "libpod-\(id).scope"
        let scope = w.managerCgroup + "/user.slice/" + unit

        let pid = Int(w.inspect(id, "{{.State.Pid}}")) ?? 0
        #expect(pid > 0)
        #expect(SystemdHost.cgroup(of: pid) == scope)
        #expect(SystemdHost.read(scope, "memory.max") == "67108864")
        #expect(SystemdHost.read(scope, "pids.max") == "50")
        let props = SystemdHost.unitProperties(unit, ["ActiveState", "Slice", "MemoryMax", "TasksMax"], user: w.user)
        #expect(props["ActiveState"] == "active" && props["Slice"] == "user.slice", "\(props)")
        #expect(props["MemoryMax"] == "67108864" && props["TasksMax"] == "50", "\(props)")
        #expect(FileManager.default.fileExists(atPath: "\(w.xdg)/skiff/\(id)/state.json"), "no skiff state under \(w.xdg)/skiff")

        let exec = w.podman(["exec", id, "sh", "-c", "id -u; cat /proc/self/cgroup /sys/fs/cgroup/memory.max; exit 4"])
        #expect(exec.status == 4 && exec.lines == ["0", "0::/", "67108864"], "\(exec)")

        let stop = w.podman(["stop", "-t", "30", id])
        #expect(stop.status == 0, "\(stop)")
        #expect(w.inspect(id, "{{.State.Status}} {{.State.ExitCode}}") == "exited 0")
        let rm = w.podman(["rm", id])
        #expect(rm.status == 0, "\(rm)")
        #expect(!FileManager.default.fileExists(atPath: "\(w.xdg)/skiff/\(id)"), "skiff state left after rm")
        #expect(waitUntil(timeout: 10) { !SystemdHost.exists(scope) }, "\(scope) left after rm")
        #expect(SystemdHost.activeState(unit, user: w.user) != "active")

        let events = w.podman(["events", "--since", "30m", "--until", "1s", "--filter", "container=\(id)", "--format", "{{.Status}}"])
        #expect(events.status == 0, "\(events)")
        for e in ["create", "start", "exec", "died", "remove"] {
            #expect(events.lines.contains(e), "no \(e) event: \(events)")
        }
    }
}
