import CSkiffSys
import Glibc

public enum BPF {
    /// Loads a cgroup device program and attaches it to the cgroup2 directory `cgroup`.
    public static func attachDeviceProgram(_ bytes: [UInt8], to cgroup: String) throws(SystemError) {
        var prog = bytes.withUnsafeBytes { sk_bpf_load_device_program($0.baseAddress, UInt32(bytes.count / 8), nil, 0) }
        var text = ""
        if prog < 0 {
            // Again with the verifier's log, for the error message.
            var log = [CChar](repeating: 0, count: 1 << 20)
            prog = bytes.withUnsafeBytes { sk_bpf_load_device_program($0.baseAddress, UInt32(bytes.count / 8), &log, UInt32(1 << 20)) }
            text = String(cString: log).split(separator: "\n").suffix(2).joined(separator: "; ")
        }
        if prog < 0 {
            let e = currentErrno()
            throw SystemError("bpf(BPF_PROG_LOAD)" + (text.isEmpty ? "" : " [\(text)]"), cgroup, errno: e)
        }
        defer { Glibc.close(prog) }
        let dir = try FileSystem.open(cgroup, O_RDONLY | O_DIRECTORY)
        defer { dir.close() }
        try check("bpf(BPF_PROG_ATTACH)", cgroup) { sk_bpf_attach_device_program(dir.raw, prog) }
    }
}
