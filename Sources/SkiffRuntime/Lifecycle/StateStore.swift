import Glibc
import SkiffSpec
import SkiffSystem

/// What skiff keeps about a container in <root>/<id>/state.json (private; engines never read it).
public struct StoredState: Sendable {
    public var id: String
    public var initPid: Int32
    /// Start time of init in clock ticks (field 22 of /proc/<pid>/stat): guards against pid reuse.
    public var initStartTime: UInt64
    public var created: String
    public var bundle: String
    public var rootfs: String
    /// config.json as create read it, kept as its document: most commands need at most its
    /// annotations or hooks, read straight from it; `config()` decodes all of it (the Spec
    /// model's ~60 types cost their first use on every command that decoded it).
    public var configDocument: JSONValue
    /// Cgroup directories, one per hierarchy (absolute host paths).
    public var cgroupPaths: [String]
    /// Namespace files of init (/proc/<pid>/ns/<type>) by OCI namespace type, for exec.
    public var namespacePaths: NamespacePaths
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
    /// The systemd unit holding the container's cgroup (`--systemd-cgroup`); delete stops it.
    public var systemdUnit: String? = nil

    public init(id: String, initPid: Int32, initStartTime: UInt64, created: String, bundle: String, rootfs: String,
                config: Spec, cgroupPaths: [String], namespacePaths: NamespacePaths, privatePidNamespace: Bool,
                noPivot: Bool, noNewKeyring: Bool, systemdCgroup: Bool, owner: UInt32,
                cgroupParents: [String]? = nil, hostRootfsBelow: Int? = nil) {
        self.init(id: id, initPid: initPid, initStartTime: initStartTime, created: created, bundle: bundle,
                  rootfs: rootfs, configDocument: config.json, cgroupPaths: cgroupPaths, namespacePaths: namespacePaths,
                  privatePidNamespace: privatePidNamespace, noPivot: noPivot, noNewKeyring: noNewKeyring,
                  systemdCgroup: systemdCgroup, owner: owner, cgroupParents: cgroupParents, hostRootfsBelow: hostRootfsBelow)
    }

    init(id: String, initPid: Int32, initStartTime: UInt64, created: String, bundle: String, rootfs: String,
         configDocument: JSONValue, cgroupPaths: [String], namespacePaths: NamespacePaths, privatePidNamespace: Bool,
         noPivot: Bool, noNewKeyring: Bool, systemdCgroup: Bool, owner: UInt32,
         cgroupParents: [String]?, hostRootfsBelow: Int?) {
        self.id = id
        self.initPid = initPid
        self.initStartTime = initStartTime
        self.created = created
        self.bundle = bundle
        self.rootfs = rootfs
        self.configDocument = configDocument
        self.cgroupPaths = cgroupPaths
        self.namespacePaths = namespacePaths
        self.privatePidNamespace = privatePidNamespace
        self.noPivot = noPivot
        self.noNewKeyring = noNewKeyring
        self.systemdCgroup = systemdCgroup
        self.owner = owner
        self.cgroupParents = cgroupParents
        self.hostRootfsBelow = hostRootfsBelow
    }

    /// The whole config.
    public func config() throws(RuntimeError) -> Spec {
        do { return try Spec(json: configDocument, at: .root([])) } catch {
            throw RuntimeError("corrupt state of container \(id): config: \(error)")
        }
    }

    public mutating func setConfig(_ spec: Spec) { configDocument = spec.json }

    /// The config's annotations, read from the document alone.
    public var annotations: [String: String]? {
        guard let value = configDocument["annotations"] else { return nil }
        return try? CollectionDecoding.stringMap(value, .root([]))
    }

    /// The config's hooks, read from the document alone.
    public func hooks() throws(RuntimeError) -> Hooks? {
        do { return try Spec.hooks(in: configDocument) } catch {
            throw RuntimeError("corrupt state of container \(id): config: \(error)")
        }
    }
}

/// Namespace file by OCI namespace type. A short list, not a `[String: String]`: every command
/// reads state.json, and that dictionary type's first use costs a scan of the Swift runtime's
/// conformance records (~80k instructions).
public struct NamespacePaths: Equatable, Sendable, ExpressibleByDictionaryLiteral {
    public private(set) var entries: [KeyValue]

    public init(_ entries: [KeyValue]) { self.entries = entries }

    public init(dictionaryLiteral elements: (String, String)...) {
        entries = elements.map { KeyValue(key: $0.0, value: $0.1) }
    }

    public subscript(type: String) -> String? {
        get { entries.first { $0.key == type }?.value }
        set {
            entries.removeAll { $0.key == type }
            if let newValue { entries.append(KeyValue(key: type, value: newValue)) }
        }
    }

    /// Same types and paths, in any order.
    public static func == (a: NamespacePaths, b: NamespacePaths) -> Bool {
        a.entries.count == b.entries.count && a.entries.allSatisfy { b[$0.key] == $0.value }
    }
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
    /// the process exits. Throws "does not exist" when there is no such container. The
    /// directory itself, never a symlink to another one.
    public func lock(_ id: String) throws(RuntimeError) -> FD {
        let fd = try openDirectory(id)
        do {
            try FileSystem.lock(fd, path: directory(id))
        } catch {
            fd.close()
            throw RuntimeError("\(error)")
        }
        return fd
    }

    private func openDirectory(_ id: String) throws(RuntimeError) -> FD {
        do {
            return try FileSystem.open(directory(id), O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        } catch {
            if error.errno == ENOENT { throw RuntimeError.notExist(id) }
            if error.errno == ELOOP || error.errno == ENOTDIR {
                let what = (try? FileSystem.lstat(directory(id))).map { FileSystem.fileTypeName($0.st_mode) } ?? "not a directory"
                throw Self.unusable(id, "\(directory(id)) is \(what), not a directory")
            }
            throw Self.unusable(id, "\(error)")
        }
    }

    /// Reads <root>/<id>/state.json, trusting it only as far as it deserves: the directory must
    /// be a directory (not a symlink), state.json a regular file (not a symlink, fifo or
    /// device) of at most `FileSystem.stateSizeLimit` bytes, both owned by root or the caller
    /// and writable by no one else, and the document must name this id. Anything else is an
    /// error saying what is wrong; `delete --force` then removes the directory without acting
    /// on anything the file says (no hooks, no signals, no cgroups).
    public func load(_ id: String) throws(RuntimeError) -> StoredState {
        let dir = try openDirectory(id)
        defer { dir.close() }
        let path = stateFile(id)
        let caller = Identity.euid
        let bytes: [UInt8]
        do {
            let fd: FD
            do {
                fd = try FileSystem.openAt(dir, "state.json", O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW)
            } catch {
                if error.errno == ENOENT { throw RuntimeError.notExist(id) }
                if error.errno == ELOOP { throw Self.unusable(id, "\(path) is a symbolic link (skiff never writes one)") }
                throw Self.unusable(id, "\(SystemError("open", path, errno: error.errno))")
            }
            defer { fd.close() }
            if let problem = Self.trustProblem(try dir.stat(), caller: caller, what: directory(id)) {
                throw Self.unusable(id, problem)
            }
            let st = try fd.stat()
            // Type before trust: "a fifo" says more than its mode bits.
            try FileSystem.requireRegular(st, path: path, call: "read")
            if let problem = Self.trustProblem(st, caller: caller, what: path) { throw Self.unusable(id, problem) }
            bytes = try FileSystem.readRegular(fd, path: path, limit: FileSystem.stateSizeLimit)
        } catch let error as SystemError {
            throw Self.unusable(id, "\(error)")
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw Self.unusable(id, "\(error)")
        }
        let state: StoredState
        do {
            let document = try JSONValue.parse(bytes)
            state = try StoredState(json: document, at: .root([]))
        } catch let error as DecodingError {
            throw RuntimeError("corrupt state: \(SpecError(file: path, decodingError: error))")
        } catch {
            throw RuntimeError("corrupt state: \(path): \(error)")
        }
        // The directory name is the identity (issue 13, 4a): a state naming another container
        // is never acted on under this one's name.
        if state.id != id {
            throw Self.unusable(id, "\(path) names another container (\"\(state.id)\")")
        }
        return state
    }

    static func unusable(_ id: String, _ reason: String) -> RuntimeError {
        RuntimeError("cannot use the state of container \"\(id)\": \(reason)")
    }

    /// PURE. Why a state file (or its directory) with this owner and mode cannot be trusted:
    /// owned by someone other than root or the caller, or writable by group or others (anyone
    /// who can write it could add hooks that run as root at delete). nil when it can.
    public static func trustProblem(_ st: stat, caller: UInt32, what: String) -> String? {
        trustProblem(uid: st.st_uid, mode: st.st_mode, caller: caller, what: what)
    }

    public static func trustProblem(uid: UInt32, mode: mode_t, caller: UInt32, what: String) -> String? {
        if uid != 0 && uid != caller {
            return "\(what) is owned by uid \(uid), neither root nor the caller (uid \(caller)); refusing to trust it"
        }
        if mode & 0o022 != 0 {
            return "\(what) is writable by group or others (mode \(String(mode & 0o7777, radix: 8))); refusing to trust it"
        }
        return nil
    }

    public func save(_ state: StoredState) throws(RuntimeError) {
        do { try stage(state).commit() } catch { throw RuntimeError("\(error)") }
    }

    /// state.json written beside its place, not yet visible: `commit()` publishes it.
    public func stage(_ state: StoredState) throws(RuntimeError) -> FileSystem.StagedFile {
        let text = state.json.serialized(indentString: nil)
        do {
            return try FileSystem.writeStaged(stateFile(state.id), Array(text.utf8), mode: 0o600)
        } catch {
            throw RuntimeError("\(error)")
        }
    }

    /// Removes the container's directory: its usual files by name (no listing, no stat per
    /// entry), anything else through a full walk.
    public func remove(_ id: String) {
        let dir = directory(id)
        // A symlink (or any non-directory) in place of the directory: remove that entry only,
        // never what it points to.
        if let st = try? FileSystem.lstat(dir), (st.st_mode & S_IFMT) != S_IFDIR {
            FileSystem.unlink(dir)
            return
        }
        for name in ["state.json", "exec.fifo"] { FileSystem.unlink(dir + "/" + name) }
        if rmdir(dir) == 0 || currentErrno() == ENOENT { return }
        try? FileSystem.removeAll(dir)
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
            configDocument: try o.value("config", { (v, _) throws(DecodingError) -> JSONValue in v }),
            cgroupPaths: try o.value("cgroupPaths", CollectionDecoding.strings),
            namespacePaths: NamespacePaths(try o.value("namespacePaths", CollectionDecoding.keyValues)),
            privatePidNamespace: try o.bool("privatePidNamespace"),
            noPivot: try o.bool("noPivot"),
            noNewKeyring: try o.bool("noNewKeyring"),
            systemdCgroup: try o.bool("systemdCgroup"),
            owner: try o.integer("owner", UInt32.self),
            cgroupParents: try o.strings(ifPresent: "cgroupParents"),
            hostRootfsBelow: try o.integer(ifPresent: "hostRootfsBelow", Int.self))
        systemdUnit = try o.string(ifPresent: "systemdUnit")
    }

    var json: JSONValue {
        var e = ObjectEncoding(capacity: 16)
        e.add("id", id)
        e.add("initPid", initPid)
        e.add("initStartTime", initStartTime)
        e.add("created", created)
        e.add("bundle", bundle)
        e.add("rootfs", rootfs)
        e.add("config", configDocument)
        e.add("cgroupPaths", CollectionEncoding.strings(cgroupPaths))
        e.add("namespacePaths", CollectionEncoding.keyValues(namespacePaths.entries))
        e.add("privatePidNamespace", privatePidNamespace)
        e.add("noPivot", noPivot)
        e.add("noNewKeyring", noNewKeyring)
        e.add("systemdCgroup", systemdCgroup)
        e.add("owner", owner)
        e.add("cgroupParents", ifPresent: cgroupParents)
        e.add("hostRootfsBelow", ifPresent: hostRootfsBelow)
        e.add("systemdUnit", ifPresent: systemdUnit)
        return e.value
    }
}
