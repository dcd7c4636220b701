import CSkiffSys
import Glibc

/// Id-mapped bind mounts (mount_setattr MOUNT_ATTR_IDMAP): the mount shows files through a
/// user namespace's mappings without touching them on disk.
public enum IDMappedMount {
    /// A user namespace with these maps ("containerID hostID size" lines), held by an fd: a
    /// short-lived child unshares it, we write its maps, keep its ns file, and let it go.
    public static func userNamespace(uidMap: String, gidMap: String) throws(SystemError) -> FD {
        let (ready, go) = (try pipe(), try pipe())
        let pid = fork()
        if pid < 0 { throw SystemError("fork") }
        if pid == 0 {
            ready.read.close()
            go.write.close()
            if sk_unshare(Int32(ProcessControl.newUser)) != 0 { ProcessControl.exit(1) }
            _ = try? ready.write.write("r")
            _ = try? go.read.read(max: 1)
            ProcessControl.exit(0)
        }
        ready.write.close()
        go.read.close()
        defer {
            go.write.close()
            _ = Glibc.kill(pid, SIGKILL)
            _ = try? ProcessControl.wait(pid)
        }
        let got = (try? ready.read.read(max: 1)) ?? []
        ready.read.close()
        if got.isEmpty { throw SystemError("unshare(CLONE_NEWUSER)", "id-mapped mount helper", errno: EPERM) }
        // A procfs of our own pid namespace: the host's /proc would name another process
        // when we already live in the container's pid namespace.
        guard let proc = Kernel.privateProcfs() else {
            throw SystemError("fsopen", "proc", errno: ENOSYS)
        }
        defer { proc.close() }
        for (file, text) in [("uid_map", uidMap), ("gid_map", gidMap)] {
            let fd = try FileSystem.openAt(proc, "\(pid)/\(file)", O_WRONLY)
            defer { fd.close() }
            do { try fd.write(text) } catch { throw SystemError("write", "/proc/\(pid)/\(file)", errno: error.errno) }
        }
        return try FileSystem.openAt(proc, "\(pid)/ns/user", O_RDONLY)
    }

    /// A detached, id-mapped clone of `source` (recursive with `recursive`). Made by the
    /// runtime on the host side: id-mapping needs privilege over the source's filesystem,
    /// which init inside a user namespace no longer has.
    public static func detachedTree(_ source: String, userNamespace: FD, recursive: Bool) throws(SystemError) -> FD {
        let OPEN_TREE_CLONE: UInt32 = 1, OPEN_TREE_CLOEXEC: UInt32 = 0o2000000, AT_RECURSIVE: UInt32 = 0x8000
        let tree = try check("open_tree", source) {
            sk_open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0))
        }
        if sk_mount_setattr_idmap(tree, recursive ? AT_RECURSIVE : 0, userNamespace.raw) != 0 {
            let e = currentErrno()
            Glibc.close(tree)
            throw SystemError("mount_setattr(MOUNT_ATTR_IDMAP)", source, errno: e)
        }
        return FD(tree)
    }

    /// Attaches a detached tree on `target` (an O_PATH handle).
    public static func attach(_ tree: FD, onto target: FD, label: String) throws(SystemError) {
        let MOVE_MOUNT_F_EMPTY_PATH: UInt32 = 4, MOVE_MOUNT_T_EMPTY_PATH: UInt32 = 0x40
        try check("move_mount", label) {
            sk_move_mount(tree.raw, "", target.raw, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
        }
    }
}
