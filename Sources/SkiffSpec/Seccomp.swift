// config.json `linux.seccomp`.

/// A seccomp filter.
public struct LinuxSeccomp: Codable, Equatable, Sendable {
    /// `SCMP_ACT_*` action for syscalls no rule matches.
    public var defaultAction: String
    /// errno returned by a default action of SCMP_ACT_ERRNO (EPERM when nil).
    public var defaultErrnoRet: UInt?
    /// `SCMP_ARCH_*` names in addition to the native one.
    public var architectures: [String]?
    /// `SECCOMP_FILTER_FLAG_*` names.
    public var flags: [String]?
    /// Unix socket receiving the notify fd when a rule uses SCMP_ACT_NOTIFY.
    public var listenerPath: String?
    public var listenerMetadata: String?
    public var syscalls: [LinuxSyscall]?

    public init(
        defaultAction: String,
        defaultErrnoRet: UInt? = nil,
        architectures: [String]? = nil,
        flags: [String]? = nil,
        listenerPath: String? = nil,
        listenerMetadata: String? = nil,
        syscalls: [LinuxSyscall]? = nil
    ) {
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.architectures = architectures
        self.flags = flags
        self.listenerPath = listenerPath
        self.listenerMetadata = listenerMetadata
        self.syscalls = syscalls
    }
}

/// A seccomp rule for one or more syscalls.
public struct LinuxSyscall: Codable, Equatable, Sendable {
    public var names: [String]
    /// `SCMP_ACT_*`.
    public var action: String
    public var errnoRet: UInt?
    public var args: [LinuxSeccompArg]?

    public init(names: [String], action: String, errnoRet: UInt? = nil, args: [LinuxSeccompArg]? = nil) {
        self.names = names
        self.action = action
        self.errnoRet = errnoRet
        self.args = args
    }
}

/// A condition on one syscall argument.
public struct LinuxSeccompArg: Codable, Equatable, Sendable {
    public var index: UInt
    public var value: UInt64
    public var valueTwo: UInt64?
    /// `SCMP_CMP_*`.
    public var op: String

    public init(index: UInt, value: UInt64, valueTwo: UInt64? = nil, op: String) {
        self.index = index
        self.value = value
        self.valueTwo = valueTwo
        self.op = op
    }
}
