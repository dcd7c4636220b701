// config.json `process` and the types it uses.

/// The container process.
public struct Process: Codable, Equatable, Sendable {
    public var terminal: Bool?
    /// Console size; only meaningful with `terminal`.
    public var consoleSize: Box?
    public var user: User
    /// argv; REQUIRED (non-empty) on Linux when the process is started.
    public var args: [String]?
    public var env: [String]?
    /// Absolute working directory inside the container.
    public var cwd: String
    public var capabilities: LinuxCapabilities?
    public var rlimits: [POSIXRlimit]?
    public var noNewPrivileges: Bool?
    public var apparmorProfile: String?
    public var oomScoreAdj: Int?
    public var scheduler: Scheduler?
    public var selinuxLabel: String?
    public var ioPriority: LinuxIOPriority?
    public var execCPUAffinity: CPUAffinity?

    public init(
        terminal: Bool? = nil,
        consoleSize: Box? = nil,
        user: User = User(),
        args: [String]? = nil,
        env: [String]? = nil,
        cwd: String = "/",
        capabilities: LinuxCapabilities? = nil,
        rlimits: [POSIXRlimit]? = nil,
        noNewPrivileges: Bool? = nil,
        apparmorProfile: String? = nil,
        oomScoreAdj: Int? = nil,
        scheduler: Scheduler? = nil,
        selinuxLabel: String? = nil,
        ioPriority: LinuxIOPriority? = nil,
        execCPUAffinity: CPUAffinity? = nil
    ) {
        self.terminal = terminal
        self.consoleSize = consoleSize
        self.user = user
        self.args = args
        self.env = env
        self.cwd = cwd
        self.capabilities = capabilities
        self.rlimits = rlimits
        self.noNewPrivileges = noNewPrivileges
        self.apparmorProfile = apparmorProfile
        self.oomScoreAdj = oomScoreAdj
        self.scheduler = scheduler
        self.selinuxLabel = selinuxLabel
        self.ioPriority = ioPriority
        self.execCPUAffinity = execCPUAffinity
    }
}

/// The size of a console, in characters.
public struct Box: Codable, Equatable, Sendable {
    public var height: UInt
    public var width: UInt

    public init(height: UInt, width: UInt) {
        self.height = height
        self.width = width
    }
}

/// The identity of the container process.
public struct User: Codable, Equatable, Sendable {
    public var uid: UInt32
    public var gid: UInt32
    public var umask: UInt32?
    public var additionalGids: [UInt32]?

    public init(uid: UInt32 = 0, gid: UInt32 = 0, umask: UInt32? = nil, additionalGids: [UInt32]? = nil) {
        self.uid = uid
        self.gid = gid
        self.umask = umask
        self.additionalGids = additionalGids
    }
}

/// Capability sets of the container process; names are `CAP_*` strings
/// (see `Spec.knownCapabilities`).
public struct LinuxCapabilities: Codable, Equatable, Sendable {
    public var bounding: [String]?
    public var effective: [String]?
    public var inheritable: [String]?
    public var permitted: [String]?
    public var ambient: [String]?

    public init(
        bounding: [String]? = nil,
        effective: [String]? = nil,
        inheritable: [String]? = nil,
        permitted: [String]? = nil,
        ambient: [String]? = nil
    ) {
        self.bounding = bounding
        self.effective = effective
        self.inheritable = inheritable
        self.permitted = permitted
        self.ambient = ambient
    }
}

/// A resource limit; `type` is an `RLIMIT_*` name (see `Spec.knownRlimits`).
public struct POSIXRlimit: Codable, Equatable, Sendable {
    public var type: String
    public var hard: UInt64
    public var soft: UInt64

    public init(type: String, hard: UInt64, soft: UInt64) {
        self.type = type
        self.hard = hard
        self.soft = soft
    }
}

/// Scheduling attributes for sched_setattr(2).
public struct Scheduler: Codable, Equatable, Sendable {
    /// `SCHED_OTHER`, `SCHED_FIFO`, `SCHED_RR`, `SCHED_BATCH`, `SCHED_ISO`, `SCHED_IDLE`, `SCHED_DEADLINE`.
    public var policy: String
    public var nice: Int32?
    public var priority: Int32?
    /// `SCHED_FLAG_*` names.
    public var flags: [String]?
    /// SCHED_DEADLINE parameters, in nanoseconds.
    public var runtime: UInt64?
    public var deadline: UInt64?
    public var period: UInt64?

    public init(
        policy: String,
        nice: Int32? = nil,
        priority: Int32? = nil,
        flags: [String]? = nil,
        runtime: UInt64? = nil,
        deadline: UInt64? = nil,
        period: UInt64? = nil
    ) {
        self.policy = policy
        self.nice = nice
        self.priority = priority
        self.flags = flags
        self.runtime = runtime
        self.deadline = deadline
        self.period = period
    }
}

/// I/O priority for ioprio_set(2).
public struct LinuxIOPriority: Codable, Equatable, Sendable {
    /// `IOPRIO_CLASS_RT`, `IOPRIO_CLASS_BE` or `IOPRIO_CLASS_IDLE`.
    public var `class`: String
    /// 0 (highest) to 7 (lowest).
    public var priority: Int

    public init(class: String, priority: Int) {
        self.class = `class`
        self.priority = priority
    }
}

/// CPU affinity for `exec`'d processes, as cpuset lists ("0-3,7").
public struct CPUAffinity: Codable, Equatable, Sendable {
    /// Affinity while the runtime joins the container.
    public var initial: String?
    /// Affinity of the process once it runs.
    public var final: String?

    public init(initial: String? = nil, final: String? = nil) {
        self.initial = initial
        self.final = final
    }
}

// Members the schema leaves optional but the model keeps non-optional get runc's zero value
// when absent (process.user → uid 0, gid 0; user.uid, user.gid → 0; ioPriority.priority → 0),
// the same in the Codable conformance as in SpecModelCoding.swift.
extension Process {
    private enum CodingKeys: String, CodingKey {
        case terminal, consoleSize, user, args, env, cwd, capabilities, rlimits, noNewPrivileges, apparmorProfile,
             oomScoreAdj, scheduler, selinuxLabel, ioPriority, execCPUAffinity
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            terminal: try c.decodeIfPresent(Bool.self, forKey: .terminal),
            consoleSize: try c.decodeIfPresent(Box.self, forKey: .consoleSize),
            user: try c.decodeIfPresent(User.self, forKey: .user) ?? User(),
            args: try c.decodeIfPresent([String].self, forKey: .args),
            env: try c.decodeIfPresent([String].self, forKey: .env),
            cwd: try c.decode(String.self, forKey: .cwd),
            capabilities: try c.decodeIfPresent(LinuxCapabilities.self, forKey: .capabilities),
            rlimits: try c.decodeIfPresent([POSIXRlimit].self, forKey: .rlimits),
            noNewPrivileges: try c.decodeIfPresent(Bool.self, forKey: .noNewPrivileges),
            apparmorProfile: try c.decodeIfPresent(String.self, forKey: .apparmorProfile),
            oomScoreAdj: try c.decodeIfPresent(Int.self, forKey: .oomScoreAdj),
            scheduler: try c.decodeIfPresent(Scheduler.self, forKey: .scheduler),
            selinuxLabel: try c.decodeIfPresent(String.self, forKey: .selinuxLabel),
            ioPriority: try c.decodeIfPresent(LinuxIOPriority.self, forKey: .ioPriority),
            execCPUAffinity: try c.decodeIfPresent(CPUAffinity.self, forKey: .execCPUAffinity))
    }
}

extension User {
    private enum CodingKeys: String, CodingKey { case uid, gid, umask, additionalGids }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(uid: try c.decodeIfPresent(UInt32.self, forKey: .uid) ?? 0,
                  gid: try c.decodeIfPresent(UInt32.self, forKey: .gid) ?? 0,
                  umask: try c.decodeIfPresent(UInt32.self, forKey: .umask),
                  additionalGids: try c.decodeIfPresent([UInt32].self, forKey: .additionalGids))
    }
}

extension LinuxIOPriority {
    private enum CodingKeys: String, CodingKey { case `class`, priority }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(class: try c.decode(String.self, forKey: .class),
                  priority: try c.decodeIfPresent(Int.self, forKey: .priority) ?? 0)
    }
}
