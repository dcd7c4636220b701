// Rootless podman on skiff: an unprivileged user (`skiff-rootless`, created here when missing,
// with /etc/subuid and /etc/subgid ranges) runs podman with skiff as its runtime. podman makes
// the user namespace itself (newuidmap/newgidmap) and calls skiff as that namespace's root
// with XDG_RUNTIME_DIR set, so skiff must detect rootless mode on its own: state under
// $XDG_RUNTIME_DIR/skiff, device nodes bind-mounted (no mknod), no cgroups on a v1 host.
//
// Private world: HOME, XDG_RUNTIME_DIR, vfs storage (no overlay mounts to leak) and a copy of
// the skiff binary under one scratch directory, a containers.conf that lowers the nofile/nproc
// defaults, `--network none` (slirp4netns needs /dev/net/tun, root-only on some hosts).
import Foundation
import Glibc
import SkiffTestSupport
import Testing

struct RootlessPodman {
    static var userName: String { RootlessTestUser.name }

    let dir: String
    let home: String
    let xdg: String
    let skiff: String
    let uid: Int
    let gid: Int

    init() throws {
        let user = try RootlessTestUser.shared.get()
        uid = user.uid
        gid = user.gid
        dir = try Scratch.makeDir("rlpod")
        chmod(dir, 0o755)
        home = dir + "/home"
        xdg = dir + "/xdg"
        skiff = dir + "/skiff"
        // The user's own copy: the build tree may sit below a directory it cannot enter.
        try FileManager.default.copyItem(atPath: EnginePaths.skiff, toPath: skiff)
        chmod(skiff, 0o755)
        for d in [home, xdg] {
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            chown(d, uid_t(uid), gid_t(gid))
        }
        chmod(xdg, 0o700)
        let conf = """
            [containers]
            default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

            [engine]
            cgroup_manager = "cgroupfs"
            events_logger = "file"
            runtime = "skiff"
            runtime_supports_json = ["skiff"]
            [engine.runtimes]
            skiff = ["\(skiff)"]
            """
        try conf.write(toFile: dir + "/containers.conf", atomically: true, encoding: .utf8)
        chmod(dir + "/containers.conf", 0o644)
        let image = try Scratch.buildImage(into: dir)
        chmod(image, 0o644)
        let load = podman(["load", "-q", "-i", image], timeout: 120)
        guard load.status == 0 else { throw EngineError("rootless podman load: \(load)") }
    }

    /// `podman args…` as the user, in its private world.
    func podman(_ args: [String], timeout: TimeInterval = 60) -> CmdResult {
        let env = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home, "USER=" + Self.userName,
                   "XDG_RUNTIME_DIR=" + xdg, "CONTAINERS_CONF=" + dir + "/containers.conf"]
        let argv = ["setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--init-groups", "--"] + env
            + ["podman", "--storage-driver", "vfs", "--root", home + "/storage", "--runroot", xdg + "/run", "--runtime", skiff] + args
        return run(argv, timeout: timeout, workDir: "/tmp")
    }

    /// Removes the containers, the user's podman pause process (it holds the user namespace)
    /// and the whole directory.
    func stop() {
        _ = podman(["rm", "-a", "-f", "-t", "0"])
        _ = podman(["system", "migrate"])  // stops the pause process
        for pidFile in [xdg + "/libpod/tmp/pause.pid"] {
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                kill(pid, SIGKILL)
            }
        }
        Scratch.remove(dir)
    }
}

@Suite(
    "rootless podman on skiff",
    .serialized,
    .enabled(if: EnginePaths.skipReason(engine: "podman", binaries: ["podman", "conmon", "setpriv", "newuidmap", "newgidmap"]) == nil,
             Comment(rawValue: EnginePaths.skipReason(engine: "podman", binaries: ["podman", "conmon", "setpriv", "newuidmap", "newgidmap"]) ?? ""))
)
struct PodmanRootlessTests {
    @Test("run --rm as an unprivileged user: mapped ids, own network, devices usable")
    func runAsUser() throws {
        let w = try RootlessPodman()
        defer { w.stop() }
        let r = w.podman(["run", "--rm", "--network", "none", EngineImage.ref, "sh", "-c",
                          "id -u; head -1 /proc/self/uid_map; echo x > /dev/null && echo null-ok; ls /sys/class/net"])
        #expect(r.status == 0, "\(r)")
        let lines = r.lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines == ["0", "0 \(w.uid) 1", "null-ok", "lo"], "\(r)")
    }

    @Test("detached: skiff keeps state under $XDG_RUNTIME_DIR/skiff; exec, stop, rm")
    func detachedAsUser() throws {
        let w = try RootlessPodman()
        defer { w.stop() }
        let started = w.podman(["run", "-d", "--network", "none", EngineImage.ref, "sh", "-c",
                                "trap 'exit 0' TERM; while :; do sleep 0.1; done"])
        try #require(started.status == 0, "\(started)")
        let id = started.out
        #expect(FileManager.default.fileExists(atPath: "\(w.xdg)/skiff/\(id)/state.json"), "no skiff state under \(w.xdg)/skiff")
        let exec = w.podman(["exec", id, "sh", "-c", "echo in-exec; id -u; exit 4"])
        #expect(exec.status == 4 && exec.lines == ["in-exec", "0"], "\(exec)")
        let stop = w.podman(["stop", "-t", "10", id])
        #expect(stop.status == 0, "\(stop)")
        let rm = w.podman(["rm", id])
        #expect(rm.status == 0, "\(rm)")
        #expect(!FileManager.default.fileExists(atPath: "\(w.xdg)/skiff/\(id)"), "skiff state left after rm")
    }
}
