import CSkiffSys
import Glibc

public enum Kernel {
    /// A detached procfs instance (fsopen/fsmount) of the caller's pid namespace, verified to
    /// be procfs. nil when the new mount API is unavailable.
    public static func privateProcfs() -> FD? {
        let fs = sk_fsopen("proc", 1 /* FSOPEN_CLOEXEC */)
        guard fs >= 0 else { return nil }
        defer { Glibc.close(fs) }
        guard sk_fsconfig(fs, 6 /* FSCONFIG_CMD_CREATE */, nil, nil, 0) == 0 else { return nil }
        let mnt = sk_fsmount(fs, 1 /* FSMOUNT_CLOEXEC */, 0x2 | 0x4 | 0x8 /* nosuid nodev noexec */)
        guard mnt >= 0 else { return nil }
        let fd = FD(mnt)
        guard Mounts.filesystemType(fd) == Mounts.procSuperMagic else { fd.close(); return nil }
        return fd
    }

    public static func setPersonality(_ persona: UInt) throws(SystemError) {
        try check("personality") { sk_personality(persona) }
    }

    /// Writes a /proc file (uid_map, gid_map, oom_score_adj, timens_offsets) after checking
    /// the opened file really is on procfs.
    public static func writeProc(_ path: String, _ value: String) throws(SystemError) {
        let fd = try FileSystem.open(path, O_WRONLY)
        defer { fd.close() }
        if Mounts.filesystemType(fd) != Mounts.procSuperMagic {
            throw SystemError("write", path + " (not on procfs)", errno: EXDEV)
        }
        do { try fd.write(value) } catch { throw SystemError("write", path, errno: error.errno) }
    }

    /// Writes /proc/sys/<key> (dots become slashes) after checking that /proc is procfs.
    public static func writeSysctl(_ key: String, _ value: String) throws(SystemError) {
        try writeProc("/proc/sys/" + key.split(separator: ".", omittingEmptySubsequences: false).joined(separator: "/"), value)
    }
}
