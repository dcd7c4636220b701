import CSeccomp
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
