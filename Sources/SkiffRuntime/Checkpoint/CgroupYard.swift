import Glibc
import SkiffSystem

/// The cgroup "yard" skiff hands criu (criu_opts.cgroup_yard, criu's `--cgroup-yard`) on a
/// pure cgroup v2 host.
///
/// Without one, criu mounts a NEW cgroup2 filesystem to walk and restore the container's
/// cgroups (fsopen/fsconfig in collect_cgroups at dump, mount in prepare_cgroup_sfd at
/// restore). Made from the initial cgroup namespace, a new cgroup2 mount applies its (empty)
/// options to the one cgroup2 superblock: nsdelegate, memory_recursiveprot and
/// memory_localevents go off for the whole host, so every container with a cgroup namespace
/// and a writable /sys/fs/cgroup can then change its own root's limits. Measured in the test
/// VM: after `runc checkpoint` or `skiff checkpoint` of a container the host's /sys/fs/cgroup
/// options went from `rw,nsdelegate,memory_recursiveprot` to `rw`.
///
/// The yard is what criu would make itself (a private tmpfs holding the hierarchy in
/// `unified`), except that `unified` is a bind of the host's cgroup2 mount rather than a
/// new mount; criu then neither mounts nor unmounts anything there.
struct CriuCgroupYard {
    let path: String

    /// A yard in `dir` (the criu work directory), or nil where criu's own is harmless or the
    /// yard cannot be made (then criu makes its own, as with runc): not a pure cgroup v2 host,
    /// or skiff not in the initial cgroup namespace (the kernel applies a new mount's options
    /// only from there).
    static func make(in dir: String, layout: CgroupLayout = .host()) -> CriuCgroupYard? {
        guard layout.kind == .v2, let v2 = layout.hierarchies.first, RootfsBuilder.inInitialCgroupNamespace() else {
            return nil
        }
        let base = (try? FileSystem.realPath(dir)) ?? dir
        var template = Array((base + "/.skiff-cgyard.XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let start = buffer.baseAddress else { return false }
            return mkdtemp(start) != nil
        }
        guard made else { return nil }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let yard = CriuCgroupYard(path: path)
        do {
            try Mounts.mount("none", path, "tmpfs", MountFlags.nosuid | MountFlags.nodev | MountFlags.noexec, "mode=700,size=64k")
            try Mounts.mount("", path, "", MountFlags.private)
            try FileSystem.mkdir(path + "/unified", mode: 0o700)
            try Mounts.mount(v2.mountPoint, path + "/unified", "", MountFlags.bind)
        } catch {
            yard.remove()
            return nil
        }
        return yard
    }

    /// Unmounts the yard (the tmpfs and the bind below it) and removes its directory.
    func remove() {
        _ = umount2(path, Int32(MNT_DETACH))
        _ = Glibc.rmdir(path)
    }
}
