// What the engine tests with the engines' default (systemd) cgroup settings need from the host:
// systemd as PID 1 and a pure cgroup v2 hierarchy, as on most machines that run containers.
// There every engine picks the systemd cgroup manager by itself (podman cgroup_manager, Docker's
// cgroup driver, the CRI plugin's SystemdCgroup) and skiff is only named as the runtime. The
// CI host (hybrid cgroups, no systemd) skips these suites; scripts/vm/test.sh runs them in the
// test VM (docs/vm.md).
import Foundation
import Glibc

enum SystemdHost {
    /// /run/systemd/system exists (systemd is PID 1: sd_booted()) and /sys/fs/cgroup is the
    /// cgroup2 root (it has cgroup.controllers; on a hybrid host cgroup2 is at …/unified).
    static let isSystemdCgroup2: Bool = {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
            && FileManager.default.fileExists(atPath: "/run/systemd/system", isDirectory: &isDir) && isDir.boolValue
    }()

    /// nil when `engine` can run here with its systemd defaults; else why not.
    static func skipReason(engine: String, binaries: [String]) -> String? {
        if !isSystemdCgroup2 {
            return "\(engine) with systemd cgroups: needs systemd as PID 1 and a pure cgroup v2 host (run in the VM: scripts/vm/test.sh)"
        }
        return EnginePaths.skipReason(engine: engine, binaries: binaries)
    }

    /// The unified-hierarchy cgroup of `pid` ("/machine.slice/libpod-….scope"), or nil.
    static func cgroup(of pid: Int) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("0::") {
            return String(line.dropFirst(3))
        }
        return nil
    }

    /// A cgroup file below /sys/fs/cgroup, trimmed ("67108864"), or nil.
    static func read(_ cgroup: String, _ file: String) -> String? {
        (try? String(contentsOfFile: "/sys/fs/cgroup" + cgroup + "/" + file, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func exists(_ cgroup: String) -> Bool {
        FileManager.default.fileExists(atPath: "/sys/fs/cgroup" + cgroup)
    }

    /// `systemctl show UNIT -p NAME…`: [name: value]. With `user` (uid, gid), the unit of that
    /// user's manager (systemd --user), asked as the user over its session bus.
    static func unitProperties(_ unit: String, _ names: [String], user: (uid: Int, gid: Int)? = nil) -> [String: String] {
        var argv = ["systemctl", "show", unit] + names.flatMap { ["-p", $0] }
        var env: [String: String] = [:]
        if let user {
            argv = ["setpriv", "--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups", "--", "systemctl", "--user", "show", unit]
                + names.flatMap { ["-p", $0] }
            env = ["XDG_RUNTIME_DIR": "/run/user/\(user.uid)", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/\(user.uid)/bus"]
        }
        let r = run(argv, env: env, timeout: 30, workDir: "/tmp")
        var props: [String: String] = [:]
        for line in r.lines {
            guard let eq = line.firstIndex(of: "=") else { continue }
            props[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return props
    }

    /// systemd's ActiveState of `unit` ("active", "inactive", "failed", …).
    static func activeState(_ unit: String, user: (uid: Int, gid: Int)? = nil) -> String {
        unitProperties(unit, ["ActiveState"], user: user)["ActiveState"] ?? ""
    }

    /// readlink /proc/PID/ns/NAME ("ipc:[4026531839]"), or "".
    static func namespace(_ pid: Int, _ name: String) -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(name)")) ?? ""
    }
}
