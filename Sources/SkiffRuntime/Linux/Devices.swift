import Glibc
import SkiffSpec
import SkiffSystem

/// A device node to create in the container's /dev.
public struct DevicePlan: Equatable, Sendable {
    public var path: String
    public var type: Character  // c, b, u, p
    public var major: UInt32
    public var minor: UInt32
    public var fileMode: UInt32
    public var uid: UInt32
    public var gid: UInt32

    /// The devices every container gets (runc's AllowedDevices defaults).
    public static let defaults: [DevicePlan] = [
        DevicePlan(path: "/dev/null", type: "c", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0),
        DevicePlan(path: "/dev/zero", type: "c", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0),
        DevicePlan(path: "/dev/full", type: "c", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0),
        DevicePlan(path: "/dev/random", type: "c", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0),
        DevicePlan(path: "/dev/urandom", type: "c", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0),
        DevicePlan(path: "/dev/tty", type: "c", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0),
    ]

    public static func plan(_ devices: [LinuxDevice], defaults: Bool) throws(RuntimeError) -> [DevicePlan] {
        var result = defaults ? Self.defaults : []
        for (i, d) in devices.enumerated() {
            let field = "config.json: linux.devices[\(i)]"
            guard let type = d.type.first, d.type.count == 1, "cbup".contains(type) else {
                throw RuntimeError("\(field).type: unknown device type \"\(d.type)\"")
            }
            // The spec asks only for a full path inside the container (runc creates devices
            // anywhere in the rootfs); the root itself cannot be a device.
            guard d.path.hasPrefix("/"), cleanPath(d.path) != "/" else {
                throw RuntimeError("\(field).path: \"\(d.path)\" is not an absolute path of a file in the container")
            }
            if type != "p" && (d.major == nil || d.minor == nil) {
                throw RuntimeError("\(field): major and minor are required for a \"\(type)\" device")
            }
            let plan = DevicePlan(path: cleanPath(d.path), type: type == "u" ? "c" : type,
                                  major: UInt32(truncatingIfNeeded: d.major ?? 0), minor: UInt32(truncatingIfNeeded: d.minor ?? 0),
                                  fileMode: UInt32(d.fileMode ?? 0o666) & 0o7777, uid: d.uid ?? 0, gid: d.gid ?? 0)
            result.removeAll { $0.path == plan.path }
            result.append(plan)
        }
        return result
    }

    var modeBits: UInt32 {
        let kind: UInt32 = switch type {
        case "b": UInt32(S_IFBLK)
        case "p": UInt32(S_IFIFO)
        default: UInt32(S_IFCHR)
        }
        return kind | fileMode
    }
}

extension Devices {
    /// mknod every device inside the rootfs, relative to a resolved handle on its directory.
    static func create(_ devices: [DevicePlan], in root: RootFS, bindFromHost: Bool = false) throws(SystemError) {
        let oldMask = umask(0)
        defer { umask(oldMask) }
        for device in devices {
            let (parent, name) = RootFS.split(device.path)
            let dir = try root.mkdirAll(parent)
            defer { dir.close() }
            try root.verifyInside(dir, parent)
            Devices.unlinkAt(dir, name)
            if bindFromHost {
                // mknod is not allowed in a user namespace: bind the host's node instead.
                let fd = Glibc.openat(dir.raw, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o644)
                if fd < 0 { throw SystemError("create", device.path) }
                Glibc.close(fd)
                let target = try root.open(device.path, O_PATH | O_NOFOLLOW)
                defer { target.close() }
                do {
                    try Mounts.mount(device.path, target.procPath, "", MountFlags.bind)
                } catch {
                    throw SystemError("bind-mount device", device.path, errno: error.errno)
                }
                continue
            }
            try Devices.mknod(dir, name, mode: device.modeBits, major: device.major, minor: device.minor, path: device.path)
            try Devices.chown(dir, name, uid: device.uid, gid: device.gid, path: device.path)
        }
    }

    /// /dev/fd, stdin, stdout, stderr, core and ptmx → pts/ptmx.
    static func createSymlinks(in root: RootFS) throws(SystemError) {
        let dev = try root.mkdirAll("/dev")
        defer { dev.close() }
        var links = [("/proc/self/fd", "fd"), ("/proc/self/fd/0", "stdin"), ("/proc/self/fd/1", "stdout"), ("/proc/self/fd/2", "stderr")]
        if FileSystem.exists("/proc/kcore") { links.append(("/proc/kcore", "core")) }
        for (target, name) in links {
            try Devices.symlink(target, in: dev, name, path: "/dev/" + name)
        }
        Devices.unlinkAt(dev, "ptmx")
        try Devices.symlink("pts/ptmx", in: dev, "ptmx", path: "/dev/ptmx")
    }
}
