// Container state documents.

/// Container state in the shape `runc state` prints: ociVersion, id, pid, status, bundle,
/// rootfs, created, annotations (omitted when nil or empty), owner. Encode with
/// `SpecEncoder.encode(state, indent: 2)` for runc's exact output (no trailing newline).
public struct OCIState: Codable, Equatable, Sendable {
    public var ociVersion: String
    public var id: String
    /// Init process pid in the runtime's pid namespace; 0 once stopped.
    public var pid: Int
    /// `creating`, `created`, `running`, `paused` or `stopped`.
    public var status: String
    /// Absolute path of the bundle directory.
    public var bundle: String
    /// Absolute path of the root filesystem.
    public var rootfs: String
    /// Creation time, RFC 3339 with nanoseconds in UTC (`2024-05-01T10:00:00.123456789Z`).
    public var created: String
    public var annotations: [String: String]?
    /// Owner of the container (runc prints "" when running as root).
    public var owner: String

    public init(
        ociVersion: String = SpecVersion.current,
        id: String,
        pid: Int,
        status: String,
        bundle: String,
        rootfs: String,
        created: String,
        annotations: [String: String]? = nil,
        owner: String = ""
    ) {
        self.ociVersion = ociVersion
        self.id = id
        self.pid = pid
        self.status = status
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.annotations = annotations
        self.owner = owner
    }

    private enum CodingKeys: String, CodingKey {
        case ociVersion, id, pid, status, bundle, rootfs, created, annotations, owner
    }

    /// Lenient about the runc-specific fields so that a runtime-spec state (as hooks receive it)
    /// also decodes: pid, rootfs, created and owner default to 0 / "".
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        ociVersion = try container.decode(String.self, forKey: .ociVersion)
        id = try container.decode(String.self, forKey: .id)
        pid = try container.decodeIfPresent(Int.self, forKey: .pid) ?? 0
        status = try container.decode(String.self, forKey: .status)
        bundle = try container.decode(String.self, forKey: .bundle)
        rootfs = try container.decodeIfPresent(String.self, forKey: .rootfs) ?? ""
        created = try container.decodeIfPresent(String.self, forKey: .created) ?? ""
        annotations = try container.decodeIfPresent([String: String].self, forKey: .annotations)
        owner = try container.decodeIfPresent(String.self, forKey: .owner) ?? ""
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ociVersion, forKey: .ociVersion)
        try container.encode(id, forKey: .id)
        try container.encode(pid, forKey: .pid)
        try container.encode(status, forKey: .status)
        try container.encode(bundle, forKey: .bundle)
        try container.encode(rootfs, forKey: .rootfs)
        try container.encode(created, forKey: .created)
        if let annotations, !annotations.isEmpty {
            try container.encode(annotations, forKey: .annotations)
        }
        try container.encode(owner, forKey: .owner)
    }

    /// The runtime-spec state passed to hooks on stdin (specs-go `State`): ociVersion, id,
    /// status, pid (omitted when 0), bundle, annotations (omitted when empty). Compact JSON.
    public func hookStateJSON() -> String {
        var object = JSONObject()
        object["ociVersion"] = .string(ociVersion)
        object["id"] = .string(id)
        object["status"] = .string(status)
        if pid != 0 { object["pid"] = .number(JSONNumber(pid)) }
        object["bundle"] = .string(bundle)
        if let annotations, !annotations.isEmpty {
            var members = JSONObject()
            for key in annotations.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                members[key] = .string(annotations[key]!)
            }
            object["annotations"] = .object(members)
        }
        return JSONValue.object(object).serialized()
    }
}
