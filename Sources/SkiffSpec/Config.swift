// The OCI runtime-spec config.json model (runtime-spec v1.2, Linux), mirroring specs-go/config.go.
// Type names are the Go type names and property names are the JSON keys. Fields the spec marks
// OPTIONAL (Go `omitempty` or pointers) are Swift optionals; REQUIRED ones are not, so decoding
// reports them missing. Enumerated values are kept as String and checked by `validate()`.
// Windows, Solaris, VM, z/OS and FreeBSD sections are not modelled; their keys are ignored.

/// The version of the runtime specification this package implements.
public enum SpecVersion {
    public static let current = "1.3.0"
}

/// The root of config.json.
public struct Spec: Codable, Equatable, Sendable {
    /// Version of the runtime specification the bundle complies with (SemVer 2.0.0).
    public var ociVersion: String
    public var process: Process?
    public var root: Root?
    public var hostname: String?
    public var domainname: String?
    public var mounts: [Mount]?
    public var hooks: Hooks?
    public var annotations: [String: String]?
    public var linux: Linux?

    public init(
        ociVersion: String = SpecVersion.current,
        process: Process? = nil,
        root: Root? = nil,
        hostname: String? = nil,
        domainname: String? = nil,
        mounts: [Mount]? = nil,
        hooks: Hooks? = nil,
        annotations: [String: String]? = nil,
        linux: Linux? = nil
    ) {
        self.ociVersion = ociVersion
        self.process = process
        self.root = root
        self.hostname = hostname
        self.domainname = domainname
        self.mounts = mounts
        self.hooks = hooks
        self.annotations = annotations
        self.linux = linux
    }
}

/// The container's root filesystem.
public struct Root: Codable, Equatable, Sendable {
    /// Path to the root filesystem, absolute or relative to the bundle.
    public var path: String
    public var readonly: Bool?

    public init(path: String, readonly: Bool? = nil) {
        self.path = path
        self.readonly = readonly
    }
}

/// A mount, in addition to the root filesystem.
public struct Mount: Codable, Equatable, Sendable {
    /// Where the mount goes inside the container.
    public var destination: String
    /// Filesystem type (`proc`, `tmpfs`, `bind`, `none`, ...).
    public var type: String?
    public var source: String?
    /// fstab-style options (`nosuid`, `ro`, `rbind`, `mode=755`, ...).
    public var options: [String]?
    /// ID mappings for an idmapped mount.
    public var uidMappings: [LinuxIDMapping]?
    public var gidMappings: [LinuxIDMapping]?

    public init(
        destination: String,
        type: String? = nil,
        source: String? = nil,
        options: [String]? = nil,
        uidMappings: [LinuxIDMapping]? = nil,
        gidMappings: [LinuxIDMapping]? = nil
    ) {
        self.destination = destination
        self.type = type
        self.source = source
        self.options = options
        self.uidMappings = uidMappings
        self.gidMappings = gidMappings
    }
}

/// A command run at a point in the container lifecycle.
public struct Hook: Codable, Equatable, Sendable {
    /// Absolute path of the executable.
    public var path: String
    /// Full argv, including argv[0].
    public var args: [String]?
    public var env: [String]?
    /// Seconds before the hook is aborted; must be positive.
    public var timeout: Int?

    public init(path: String, args: [String]? = nil, env: [String]? = nil, timeout: Int? = nil) {
        self.path = path
        self.args = args
        self.env = env
        self.timeout = timeout
    }
}

/// Lifecycle hooks.
public struct Hooks: Codable, Equatable, Sendable {
    /// Deprecated by the spec in favour of createRuntime, createContainer and startContainer.
    public var prestart: [Hook]?
    public var createRuntime: [Hook]?
    public var createContainer: [Hook]?
    public var startContainer: [Hook]?
    public var poststart: [Hook]?
    public var poststop: [Hook]?

    public init(
        prestart: [Hook]? = nil,
        createRuntime: [Hook]? = nil,
        createContainer: [Hook]? = nil,
        startContainer: [Hook]? = nil,
        poststart: [Hook]? = nil,
        poststop: [Hook]? = nil
    ) {
        self.prestart = prestart
        self.createRuntime = createRuntime
        self.createContainer = createContainer
        self.startContainer = startContainer
        self.poststart = poststart
        self.poststop = poststop
    }
}
