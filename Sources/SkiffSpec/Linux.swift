// config.json `linux`.

/// Linux-specific configuration.
public struct Linux: Codable, Equatable, Sendable {
    public var uidMappings: [LinuxIDMapping]?
    public var gidMappings: [LinuxIDMapping]?
    /// Kernel parameters to set, keyed by name (`net.ipv4.ip_forward`).
    public var sysctl: [String: String]?
    public var resources: LinuxResources?
    public var cgroupsPath: String?
    public var namespaces: [LinuxNamespace]?
    public var devices: [LinuxDevice]?
    /// Host network devices to move into the container, keyed by host name (runtime-spec 1.3).
    public var netDevices: [String: LinuxNetDevice]?
    public var seccomp: LinuxSeccomp?
    /// `shared`, `slave`, `private`, `unbindable`, or their recursive `r` forms.
    public var rootfsPropagation: String?
    public var maskedPaths: [String]?
    public var readonlyPaths: [String]?
    public var mountLabel: String?
    public var intelRdt: LinuxIntelRdt?
    /// NUMA memory policy (runtime-spec 1.3).
    public var memoryPolicy: LinuxMemoryPolicy?
    public var personality: LinuxPersonality?
    /// Offsets for a time namespace, keyed by clock (`monotonic`, `boottime`).
    public var timeOffsets: [String: LinuxTimeOffset]?

    public init(
        uidMappings: [LinuxIDMapping]? = nil,
        gidMappings: [LinuxIDMapping]? = nil,
        sysctl: [String: String]? = nil,
        resources: LinuxResources? = nil,
        cgroupsPath: String? = nil,
        namespaces: [LinuxNamespace]? = nil,
        devices: [LinuxDevice]? = nil,
        netDevices: [String: LinuxNetDevice]? = nil,
        seccomp: LinuxSeccomp? = nil,
        rootfsPropagation: String? = nil,
        maskedPaths: [String]? = nil,
        readonlyPaths: [String]? = nil,
        mountLabel: String? = nil,
        intelRdt: LinuxIntelRdt? = nil,
        memoryPolicy: LinuxMemoryPolicy? = nil,
        personality: LinuxPersonality? = nil,
        timeOffsets: [String: LinuxTimeOffset]? = nil
    ) {
        self.uidMappings = uidMappings
        self.gidMappings = gidMappings
        self.sysctl = sysctl
        self.resources = resources
        self.cgroupsPath = cgroupsPath
        self.namespaces = namespaces
        self.devices = devices
        self.netDevices = netDevices
        self.seccomp = seccomp
        self.rootfsPropagation = rootfsPropagation
        self.maskedPaths = maskedPaths
        self.readonlyPaths = readonlyPaths
        self.mountLabel = mountLabel
        self.intelRdt = intelRdt
        self.memoryPolicy = memoryPolicy
        self.personality = personality
        self.timeOffsets = timeOffsets
    }
}

/// A namespace to create, or to join when `path` is set.
public struct LinuxNamespace: Codable, Equatable, Sendable {
    /// `pid`, `network`, `mount`, `ipc`, `uts`, `user`, `cgroup` or `time`.
    public var type: String
    public var path: String?

    public init(type: String, path: String? = nil) {
        self.type = type
        self.path = path
    }
}

/// A range of user or group IDs mapped into a user namespace or an idmapped mount.
public struct LinuxIDMapping: Codable, Equatable, Sendable {
    public var containerID: UInt32
    public var hostID: UInt32
    public var size: UInt32

    public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
        self.containerID = containerID
        self.hostID = hostID
        self.size = size
    }
}

/// A clock offset in a time namespace.
public struct LinuxTimeOffset: Codable, Equatable, Sendable {
    public var secs: Int64?
    public var nanosecs: UInt32?

    public init(secs: Int64? = nil, nanosecs: UInt32? = nil) {
        self.secs = secs
        self.nanosecs = nanosecs
    }
}

/// A device node to create in the container.
public struct LinuxDevice: Codable, Equatable, Sendable {
    /// Absolute path inside the container.
    public var path: String
    /// `c`, `b`, `u` (unbuffered character) or `p` (FIFO).
    public var type: String
    /// Major and minor numbers; REQUIRED unless `type` is `p` (checked by `validate()`).
    public var major: Int64?
    public var minor: Int64?
    /// Permission bits (Go's os.FileMode).
    public var fileMode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?

    public init(
        path: String, type: String, major: Int64? = nil, minor: Int64? = nil,
        fileMode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil
    ) {
        self.path = path
        self.type = type
        self.major = major
        self.minor = minor
        self.fileMode = fileMode
        self.uid = uid
        self.gid = gid
    }
}

/// A host network device moved into the container's network namespace.
public struct LinuxNetDevice: Codable, Equatable, Sendable {
    /// Name inside the container; defaults to the host name.
    public var name: String?

    public init(name: String? = nil) {
        self.name = name
    }
}

/// Intel RDT (resctrl) settings. Carries both the 1.2 (`enableCMT`, `enableMBM`) and the 1.3
/// (`schemata`, `enableMonitoring`) fields.
public struct LinuxIntelRdt: Codable, Equatable, Sendable {
    public var closID: String?
    public var schemata: [String]?
    public var l3CacheSchema: String?
    public var memBwSchema: String?
    public var enableMonitoring: Bool?
    public var enableCMT: Bool?
    public var enableMBM: Bool?

    public init(
        closID: String? = nil,
        schemata: [String]? = nil,
        l3CacheSchema: String? = nil,
        memBwSchema: String? = nil,
        enableMonitoring: Bool? = nil,
        enableCMT: Bool? = nil,
        enableMBM: Bool? = nil
    ) {
        self.closID = closID
        self.schemata = schemata
        self.l3CacheSchema = l3CacheSchema
        self.memBwSchema = memBwSchema
        self.enableMonitoring = enableMonitoring
        self.enableCMT = enableCMT
        self.enableMBM = enableMBM
    }
}

/// NUMA memory policy for set_mempolicy(2).
public struct LinuxMemoryPolicy: Codable, Equatable, Sendable {
    /// `MPOL_DEFAULT`, `MPOL_BIND`, `MPOL_INTERLEAVE`, `MPOL_WEIGHTED_INTERLEAVE`,
    /// `MPOL_PREFERRED`, `MPOL_PREFERRED_MANY` or `MPOL_LOCAL`.
    public var mode: String
    /// Node list ("0-3,7").
    public var nodes: String?
    /// `MPOL_F_*` names.
    public var flags: [String]?

    public init(mode: String, nodes: String? = nil, flags: [String]? = nil) {
        self.mode = mode
        self.nodes = nodes
        self.flags = flags
    }
}

/// Execution domain for personality(2).
public struct LinuxPersonality: Codable, Equatable, Sendable {
    /// `LINUX` or `LINUX32`.
    public var domain: String
    public var flags: [String]?

    public init(domain: String, flags: [String]? = nil) {
        self.domain = domain
        self.flags = flags
    }
}
