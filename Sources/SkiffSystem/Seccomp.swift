import CSeccomp
import CSkiffSys
import Glibc

/// A seccomp filter built through libseccomp. Names are resolved here; unknown syscalls are
/// reported back so the caller can skip them as runc does.
public final class SeccompFilter {
    private let ctx: scmp_filter_ctx

    public struct Condition: Sendable {
        public var index: UInt32
        public var op: UInt32   // SCMP_CMP_*
        public var value: UInt64
        public var valueTwo: UInt64
        public init(index: UInt32, op: UInt32, value: UInt64, valueTwo: UInt64) {
            self.index = index
            self.op = op
            self.value = value
            self.valueTwo = valueTwo
        }
    }

    public init(defaultAction: UInt32) throws(SystemError) {
        guard let ctx = seccomp_init(defaultAction) else { throw SystemError("seccomp_init", nil, errno: EINVAL) }
        self.ctx = ctx
        // no_new_privs is the runtime's decision (process.noNewPrivileges), not libseccomp's.
        _ = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)
    }

    deinit { seccomp_release(ctx) }

    /// Adds an architecture by libseccomp token ("x86_64", "aarch64", …); false if unknown.
    public func addArchitecture(_ token: String) throws(SystemError) -> Bool {
        let arch = seccomp_arch_resolve_name(token)
        if arch == 0 { return false }
        let r = seccomp_arch_add(ctx, arch)
        if r != 0 && r != -EEXIST { throw SystemError("seccomp_arch_add", token, errno: -r) }
        return true
    }

    public func setAttribute(_ attr: scmp_filter_attr, _ value: UInt32, name: String) throws(SystemError) {
        let r = seccomp_attr_set(ctx, attr, value)
        if r != 0 { throw SystemError("seccomp_attr_set", name, errno: -r) }
    }

    public static func syscallNumber(_ name: String) -> Int32? {
        let nr = seccomp_syscall_resolve_name(name)
        return nr == __NR_SCMP_ERROR ? nil : nr
    }

    /// libseccomp's architecture value (an AUDIT_ARCH_* constant) for a token such as "x86_64".
    public static func architecture(_ token: String) -> UInt32? {
        let arch = seccomp_arch_resolve_name(token)
        return arch == 0 ? nil : arch
    }

    /// The syscall's number on `arch` (x32 numbers include the x32 bit), nil if it has none.
    public static func syscallNumber(_ name: String, arch: UInt32) -> Int32? {
        let nr = seccomp_syscall_resolve_name_arch(arch, name)
        return nr == __NR_SCMP_ERROR || nr < 0 ? nil : nr
    }

    public func addRule(action: UInt32, syscall: Int32, conditions: [Condition], name: String) throws(SystemError) {
        var args = conditions.map { c in
            scmp_arg_cmp(arg: c.index, op: scmp_compare(c.op), datum_a: c.value, datum_b: c.valueTwo)
        }
        let r = args.withUnsafeMutableBufferPointer { buf in
            seccomp_rule_add_array(ctx, action, syscall, UInt32(buf.count), buf.baseAddress)
        }
        if r != 0 { throw SystemError("seccomp_rule_add", name, errno: -r) }
    }

    public func load() throws(SystemError) {
        let r = seccomp_load(ctx)
        if r != 0 { throw SystemError("seccomp_load", nil, errno: -r) }
    }

    /// Loads the filter with seccomp(2) directly, for what libseccomp 2.5 cannot do (flags
    /// such as SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, a prefix such as runc's -ENOSYS stub):
    /// libseccomp generates the BPF, `prefix` (raw struct sock_filter bytes) goes before it,
    /// and the kernel gets it with `flags`. Returns the listener fd when `flags` has
    /// NEW_LISTENER.
    public func loadRaw(flags: UInt32, prefix: [UInt8] = []) throws(SystemError) -> FD? {
        let memfd = sk_memfd_create("skiff-bpf", 1 /* MFD_CLOEXEC */)
        if memfd < 0 { throw SystemError("memfd_create", "seccomp bpf") }
        let fd = FD(memfd)
        defer { fd.close() }
        let r = seccomp_export_bpf(ctx, memfd)
        if r != 0 { throw SystemError("seccomp_export_bpf", nil, errno: -r) }
        _ = lseek(memfd, 0, SEEK_SET)
        let program = prefix + (try fd.readAll())
        let result = program.withUnsafeBytes { sk_seccomp_load_bpf($0.baseAddress, program.count, flags) }
        if result < 0 { throw SystemError("seccomp(SECCOMP_SET_MODE_FILTER)") }
        return result > 0 ? FD(result) : nil
    }

    /// The user-notification listener fd (after load, when a rule uses SCMP_ACT_NOTIFY).
    public func notifyFD() throws(SystemError) -> FD {
        let fd = seccomp_notify_fd(ctx)
        if fd < 0 { throw SystemError("seccomp_notify_fd", nil, errno: -fd) }
        return FD(fd)
    }
}

public let SCMP_FLTATR_CTL_LOG_VALUE = SCMP_FLTATR_CTL_LOG
public let SCMP_FLTATR_CTL_SSB_VALUE = SCMP_FLTATR_CTL_SSB
public let SCMP_FLTATR_CTL_TSYNC_VALUE = SCMP_FLTATR_CTL_TSYNC
