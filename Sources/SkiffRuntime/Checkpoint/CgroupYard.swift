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
/// The yard is what criu would make itself (a tmpfs holding the hierarchy in `unified`),
/// except that `unified` is a bind of the host's cgroup2 mount rather than a new mount; criu
/// then neither mounts nor unmounts anything there. It lives in a private mount namespace of
/// a small helper process and criu reaches it through `/proc/<helper>/root`: a yard mounted in
/// the host's namespace would propagate into containers that see the directory (a bind of the
/// bundle holding the work directory, as in runc's checkpoint.bats), and criu would then dump
/// it as one of the container's mounts. The helper exits when skiff closes its end of a pipe
/// (or exits), and its namespace goes with it: nothing is left behind.
struct CriuCgroupYard {
    let path: String
    private let helper: pid_t
    private let keepAlive: FD

    /// A yard, or nil where criu's own is harmless or the yard cannot be made (then criu makes
    /// its own, as with runc): not a pure cgroup v2 host, or skiff not in the initial cgroup
    /// and user namespaces (the kernel applies a new mount's options only from there).
    static func make(layout: CgroupLayout = .host()) -> CriuCgroupYard? {
        guard layout.kind == .v2, let v2 = layout.hierarchies.first,
              IDMaps.isInitialUserNamespace(), RootfsBuilder.inInitialCgroupNamespace() else { return nil }
        // Any directory serves as the mount point: the tmpfs covers it in the helper's copy of
        // the mount table only.
        guard let dir = ["/tmp", "/run", "/mnt"].first(where: { FileSystem.isDirectory($0) }) else { return nil }
        guard let ready = try? pipe() else { return nil }
        guard let hold = try? pipe() else {
            ready.read.close(); ready.write.close()
            return nil
        }
        let source = v2.mountPoint
        let pid = fork()
        if pid == 0 {
            ready.read.close()
            hold.write.close()
            _ = try? ProcessControl.prctl(PR_SET_PDEATHSIG, UInt(SIGKILL), what: "PR_SET_PDEATHSIG")
            var ok: UInt8 = 0
            if (try? ProcessControl.unshare(ProcessControl.newNS)) != nil,
               (try? Mounts.mount("", "/", "", MountFlags.rec | MountFlags.private)) != nil,
               (try? Mounts.mount("none", dir, "tmpfs", MountFlags.nosuid | MountFlags.nodev | MountFlags.noexec, "mode=700,size=64k")) != nil,
               (try? FileSystem.mkdir(dir + "/unified", mode: 0o700)) != nil,
               (try? Mounts.mount(source, dir + "/unified", "", MountFlags.bind)) != nil {
                ok = 1
            }
            _ = withUnsafeBytes(of: ok) { Glibc.write(ready.write.raw, $0.baseAddress, 1) }
            ready.write.close()
            var byte: UInt8 = 0
            _ = Glibc.read(hold.read.raw, &byte, 1)  // until skiff closes its end or exits
            ProcessControl.exit(0)
        }
        ready.write.close()
        hold.read.close()
        if pid < 0 {
            ready.read.close(); hold.write.close()
            return nil
        }
        var ok: UInt8 = 0
        let n = Glibc.read(ready.read.raw, &ok, 1)
        ready.read.close()
        let yard = CriuCgroupYard(path: "/proc/\(pid)/root\(dir)", helper: pid, keepAlive: hold.write)
        guard n == 1, ok == 1 else {
            yard.remove()
            return nil
        }
        return yard
    }

    /// Ends the helper (and with it the yard's mount namespace) and reaps it.
    func remove() {
        keepAlive.close()
        _ = kill(helper, SIGKILL)
        _ = try? ProcessControl.wait(helper)
    }
}
