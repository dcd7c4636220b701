import Glibc
import SkiffSpec
import SkiffSystem

/// What skiff keeps about a container in <root>/<id>/state.json (private; engines never read it).
public struct StoredState: Codable, Sendable {
    public var id: String
    public var initPid: Int32
    /// Start time of init in clock ticks (field 22 of /proc/<pid>/stat): guards against pid reuse.
    public var initStartTime: UInt64
    public var created: String
    public var bundle: String
    public var rootfs: String
    public var config: Spec
    /// Cgroup directories, one per hierarchy (absolute host paths).
    public var cgroupPaths: [String]
    /// Namespace files of init (/proc/<pid>/ns/<type>) by OCI namespace type, for exec.
    public var namespacePaths: [String: String]
    /// True when init has its own pid namespace (SIGKILL to init then ends every process).
    public var privatePidNamespace: Bool
    public var noPivot: Bool
    public var noNewKeyring: Bool
    public var systemdCgroup: Bool
    public var owner: UInt32
    /// Ancestors of cgroupPaths that create made (Cgroups.missingParents); delete removes them when empty.
    public var cgroupParents: [String]? = nil
    /// Set when create bound the rootfs onto itself in the host's mount namespace (no mount
    /// namespace, RootfsBuilder.prepareInHost): the id of the mount that was on top at the
    /// rootfs before (-1: none). Delete unmounts whatever now sits above it.
    public var hostRootfsBelow: Int? = nil
}

/// The directory of per-container state, with one lock per container.
public struct StateStore: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public func directory(_ id: String) -> String { root + "/" + id }
    public func stateFile(_ id: String) -> String { root + "/" + id + "/state.json" }
    public func fifoPath(_ id: String) -> String { root + "/" + id + "/exec.fifo" }

    /// Creates <root>/<id> exclusively (mkdir is the atomic "does it exist" test).
    public func createDirectory(_ id: String) throws(RuntimeError) {
        do {
            try FileSystem.mkdirAll(root, mode: 0o711)
        } catch {
            throw RuntimeError("cannot create state root: \(error)")
        }
        if mkdir(directory(id), 0o711) != 0 {
            let e = currentErrno()
            if e == EEXIST { throw RuntimeError("container with given ID already exists: \"\(id)\"") }
            throw RuntimeError("\(SystemError("mkdir", directory(id), errno: e))")
        }
    }

    /// Takes the container's lock (flock on its directory). Released when the FD is closed or
    /// the process exits. Throws "does not exist" when there is no such container.
    public func lock(_ id: String) throws(RuntimeError) -> FD {
        let fd: FD
        do {
            fd = try FileSystem.open(directory(id), O_RDONLY | O_DIRECTORY)
        } catch {
            if error.errno == ENOENT { throw RuntimeError.notExist(id) }
            throw RuntimeError("\(error)")
        }
        do {
            try FileSystem.lock(fd, path: directory(id))
        } catch {
            fd.close()
            throw RuntimeError("\(error)")
        }
        return fd
    }

    public func load(_ id: String) throws(RuntimeError) -> StoredState {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(stateFile(id))
        } catch {
            if error.errno == ENOENT { throw RuntimeError.notExist(id) }
            throw RuntimeError("\(error)")
        }
        do {
            let document = try JSONValue.parse(bytes)
            return try StoredState(json: document, at: .root([]))
        } catch let error as DecodingError {
            throw RuntimeError("corrupt state: \(SpecError(file: stateFile(id), decodingError: error))")
        } catch {
            throw RuntimeError("corrupt state: \(stateFile(id)): \(error)")
        }
    }

    public func save(_ state: StoredState) throws(RuntimeError) {
        let text = state.json.serialized(indentString: nil)
        do {
            try FileSystem.writeAtomic(stateFile(state.id), Array(text.utf8), mode: 0o600)
        } catch {
            throw RuntimeError("\(error)")
        }
    }

    public func remove(_ id: String) {
        try? FileSystem.removeAll(directory(id))
    }

    /// Ids of every container under the root (directories holding state.json).
    public func ids() throws(RuntimeError) -> [String] {
        guard FileSystem.isDirectory(root) else { return [] }
        do {
            return try FileSystem.list(root).filter { FileSystem.exists(stateFile($0)) }.sorted()
        } catch {
            throw RuntimeError("\(error)")
        }
    }
}

/// state.json converted directly, like the config (SkiffSpec's SpecCoding: Codable's generic
/// containers cost ~1M instructions per load). Same keys and layout as the Codable form.
extension StoredState {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        self.init(
            id: try o.string("id"),
            initPid: try o.integer("initPid", Int32.self),
            initStartTime: try o.integer("initStartTime", UInt64.self),
            created: try o.string("created"),
            bundle: try o.string("bundle"),
            rootfs: try o.string("rootfs"),
            config: try o.value("config", Spec.init(json:at:)),
            cgroupPaths: try o.value("cgroupPaths", CollectionDecoding.strings),
            namespacePaths: try o.value("namespacePaths", CollectionDecoding.stringMap),
            privatePidNamespace: try o.bool("privatePidNamespace"),
            noPivot: try o.bool("noPivot"),
            noNewKeyring: try o.bool("noNewKeyring"),
            systemdCgroup: try o.bool("systemdCgroup"),
            owner: try o.integer("owner", UInt32.self),
            cgroupParents: try o.strings(ifPresent: "cgroupParents"),
            hostRootfsBelow: try o.integer(ifPresent: "hostRootfsBelow", Int.self))
    }

    var json: JSONValue {
        var e = ObjectEncoding(capacity: 16)
        e.add("id", id)
        e.add("initPid", initPid)
        e.add("initStartTime", initStartTime)
        e.add("created", created)
        e.add("bundle", bundle)
        e.add("rootfs", rootfs)
        e.add("config", config.json)
        e.add("cgroupPaths", CollectionEncoding.strings(cgroupPaths))
        e.add("namespacePaths", CollectionEncoding.stringMap(namespacePaths))
        e.add("privatePidNamespace", privatePidNamespace)
        e.add("noPivot", noPivot)
        e.add("noNewKeyring", noNewKeyring)
        e.add("systemdCgroup", systemdCgroup)
        e.add("owner", owner)
        e.add("cgroupParents", ifPresent: cgroupParents)
        e.add("hostRootfsBelow", ifPresent: hostRootfsBelow)
        return e.value
    }
}
