// The JSON conversions of the config model, one extension per type (see SpecCoding.swift).
// Members are read and written in declaration order, as the synthesized Codable conformances do;
// SpecCodingTests compares the two on every fixture, so a member added to the model but not
// here fails there.

extension Spec {
    /// Only the hooks of a config document (nil when it has none), without decoding the rest.
    public static func hooks(in document: JSONValue) throws(DecodingError) -> Hooks? {
        guard let value = document["hooks"], value != .null else { return nil }
        return try Hooks(json: value, at: .key(.root([]), "hooks"))
    }

    public init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _ociVersion = try o.string("ociVersion")
        let _process = try o.value(ifPresent: "process", Process.init(json:at:))
        let _root = try o.value(ifPresent: "root", Root.init(json:at:))
        let _hostname = try o.string(ifPresent: "hostname")
        let _domainname = try o.string(ifPresent: "domainname")
        let _mounts = try o.value(ifPresent: "mounts", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", Mount.init(json:at:)) })
        let _hooks = try o.value(ifPresent: "hooks", Hooks.init(json:at:))
        let _annotations = try o.stringMap(ifPresent: "annotations")
        let _linux = try o.value(ifPresent: "linux", Linux.init(json:at:))
        self.init(ociVersion: _ociVersion, process: _process, root: _root, hostname: _hostname, domainname: _domainname, mounts: _mounts, hooks: _hooks, annotations: _annotations, linux: _linux)
    }

    public var json: JSONValue {
        var o = ObjectEncoding(capacity: 9)
        o.add("ociVersion", self.ociVersion)
        o.add("process", ifPresent: self.process) { $0.json }
        o.add("root", ifPresent: self.root) { $0.json }
        o.add("hostname", ifPresent: self.hostname)
        o.add("domainname", ifPresent: self.domainname)
        o.add("mounts", ifPresent: self.mounts) { CollectionEncoding.array($0) { $0.json } }
        o.add("hooks", ifPresent: self.hooks) { $0.json }
        o.add("annotations", ifPresent: self.annotations)
        o.add("linux", ifPresent: self.linux) { $0.json }
        return o.value
    }
}

extension Root {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _path = try o.string("path")
        let _readonly = try o.bool(ifPresent: "readonly")
        self.init(path: _path, readonly: _readonly)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 2)
        o.add("path", self.path)
        o.add("readonly", ifPresent: self.readonly)
        return o.value
    }
}

extension Mount {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _destination = try o.string("destination")
        let _type = try o.string(ifPresent: "type")
        let _source = try o.string(ifPresent: "source")
        let _options = try o.strings(ifPresent: "options")
        let _uidMappings = try o.value(ifPresent: "uidMappings", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", LinuxIDMapping.init(json:at:)) })
        let _gidMappings = try o.value(ifPresent: "gidMappings", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", LinuxIDMapping.init(json:at:)) })
        self.init(destination: _destination, type: _type, source: _source, options: _options, uidMappings: _uidMappings, gidMappings: _gidMappings)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 6)
        o.add("destination", self.destination)
        o.add("type", ifPresent: self.type)
        o.add("source", ifPresent: self.source)
        o.add("options", ifPresent: self.options)
        o.add("uidMappings", ifPresent: self.uidMappings) { CollectionEncoding.array($0) { $0.json } }
        o.add("gidMappings", ifPresent: self.gidMappings) { CollectionEncoding.array($0) { $0.json } }
        return o.value
    }
}

extension Hook {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _path = try o.string("path")
        let _args = try o.strings(ifPresent: "args")
        let _env = try o.strings(ifPresent: "env")
        let _timeout = try o.integer(ifPresent: "timeout", Int.self)
        self.init(path: _path, args: _args, env: _env, timeout: _timeout)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 4)
        o.add("path", self.path)
        o.add("args", ifPresent: self.args)
        o.add("env", ifPresent: self.env)
        o.add("timeout", ifPresent: self.timeout)
        return o.value
    }
}

extension Hooks {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _prestart = try o.value(ifPresent: "prestart", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", Hook.init(json:at:)) })
        let _createRuntime = try o.value(ifPresent: "createRuntime", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", Hook.init(json:at:)) })
        let _createContainer = try o.value(ifPresent: "createContainer", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", Hook.init(json:at:)) })
        let _startContainer = try o.value(ifPresent: "startContainer", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", Hook.init(json:at:)) })
        let _poststart = try o.value(ifPresent: "poststart", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", Hook.init(json:at:)) })
        let _poststop = try o.value(ifPresent: "poststop", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", Hook.init(json:at:)) })
        self.init(prestart: _prestart, createRuntime: _createRuntime, createContainer: _createContainer, startContainer: _startContainer, poststart: _poststart, poststop: _poststop)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 6)
        o.add("prestart", ifPresent: self.prestart) { CollectionEncoding.array($0) { $0.json } }
        o.add("createRuntime", ifPresent: self.createRuntime) { CollectionEncoding.array($0) { $0.json } }
        o.add("createContainer", ifPresent: self.createContainer) { CollectionEncoding.array($0) { $0.json } }
        o.add("startContainer", ifPresent: self.startContainer) { CollectionEncoding.array($0) { $0.json } }
        o.add("poststart", ifPresent: self.poststart) { CollectionEncoding.array($0) { $0.json } }
        o.add("poststop", ifPresent: self.poststop) { CollectionEncoding.array($0) { $0.json } }
        return o.value
    }
}

extension Process {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _terminal = try o.bool(ifPresent: "terminal")
        let _consoleSize = try o.value(ifPresent: "consoleSize", Box.init(json:at:))
        // Optional in the schema (only cwd is required): runc's zero value is uid 0, gid 0.
        let _user = try o.value(ifPresent: "user", User.init(json:at:)) ?? User()
        let _args = try o.strings(ifPresent: "args")
        let _env = try o.strings(ifPresent: "env")
        let _cwd = try o.string("cwd")
        let _capabilities = try o.value(ifPresent: "capabilities", LinuxCapabilities.init(json:at:))
        let _rlimits = try o.value(ifPresent: "rlimits", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", POSIXRlimit.init(json:at:)) })
        let _noNewPrivileges = try o.bool(ifPresent: "noNewPrivileges")
        let _apparmorProfile = try o.string(ifPresent: "apparmorProfile")
        let _oomScoreAdj = try o.integer(ifPresent: "oomScoreAdj", Int.self)
        let _scheduler = try o.value(ifPresent: "scheduler", Scheduler.init(json:at:))
        let _selinuxLabel = try o.string(ifPresent: "selinuxLabel")
        let _ioPriority = try o.value(ifPresent: "ioPriority", LinuxIOPriority.init(json:at:))
        let _execCPUAffinity = try o.value(ifPresent: "execCPUAffinity", CPUAffinity.init(json:at:))
        self.init(terminal: _terminal, consoleSize: _consoleSize, user: _user, args: _args, env: _env, cwd: _cwd, capabilities: _capabilities, rlimits: _rlimits, noNewPrivileges: _noNewPrivileges, apparmorProfile: _apparmorProfile, oomScoreAdj: _oomScoreAdj, scheduler: _scheduler, selinuxLabel: _selinuxLabel, ioPriority: _ioPriority, execCPUAffinity: _execCPUAffinity)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 15)
        o.add("terminal", ifPresent: self.terminal)
        o.add("consoleSize", ifPresent: self.consoleSize) { $0.json }
        o.add("user", self.user.json)
        o.add("args", ifPresent: self.args)
        o.add("env", ifPresent: self.env)
        o.add("cwd", self.cwd)
        o.add("capabilities", ifPresent: self.capabilities) { $0.json }
        o.add("rlimits", ifPresent: self.rlimits) { CollectionEncoding.array($0) { $0.json } }
        o.add("noNewPrivileges", ifPresent: self.noNewPrivileges)
        o.add("apparmorProfile", ifPresent: self.apparmorProfile)
        o.add("oomScoreAdj", ifPresent: self.oomScoreAdj)
        o.add("scheduler", ifPresent: self.scheduler) { $0.json }
        o.add("selinuxLabel", ifPresent: self.selinuxLabel)
        o.add("ioPriority", ifPresent: self.ioPriority) { $0.json }
        o.add("execCPUAffinity", ifPresent: self.execCPUAffinity) { $0.json }
        return o.value
    }
}

extension Box {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _height = try o.integer("height", UInt.self)
        let _width = try o.integer("width", UInt.self)
        self.init(height: _height, width: _width)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 2)
        o.add("height", self.height)
        o.add("width", self.width)
        return o.value
    }
}

extension User {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _uid = try o.integer(ifPresent: "uid", UInt32.self) ?? 0
        let _gid = try o.integer(ifPresent: "gid", UInt32.self) ?? 0
        let _umask = try o.integer(ifPresent: "umask", UInt32.self)
        let _additionalGids = try o.value(ifPresent: "additionalGids", { (v, p) throws(DecodingError) in try CollectionDecoding.integers(v, p, UInt32.self) })
        self.init(uid: _uid, gid: _gid, umask: _umask, additionalGids: _additionalGids)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 4)
        o.add("uid", self.uid)
        o.add("gid", self.gid)
        o.add("umask", ifPresent: self.umask)
        o.add("additionalGids", ifPresent: self.additionalGids) { CollectionEncoding.integers($0) }
        return o.value
    }
}

extension LinuxCapabilities {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _bounding = try o.strings(ifPresent: "bounding")
        let _effective = try o.strings(ifPresent: "effective")
        let _inheritable = try o.strings(ifPresent: "inheritable")
        let _permitted = try o.strings(ifPresent: "permitted")
        let _ambient = try o.strings(ifPresent: "ambient")
        self.init(bounding: _bounding, effective: _effective, inheritable: _inheritable, permitted: _permitted, ambient: _ambient)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 5)
        o.add("bounding", ifPresent: self.bounding)
        o.add("effective", ifPresent: self.effective)
        o.add("inheritable", ifPresent: self.inheritable)
        o.add("permitted", ifPresent: self.permitted)
        o.add("ambient", ifPresent: self.ambient)
        return o.value
    }
}

extension POSIXRlimit {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _type = try o.string("type")
        let _hard = try o.integer("hard", UInt64.self)
        let _soft = try o.integer("soft", UInt64.self)
        self.init(type: _type, hard: _hard, soft: _soft)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 3)
        o.add("type", self.type)
        o.add("hard", self.hard)
        o.add("soft", self.soft)
        return o.value
    }
}

extension Scheduler {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _policy = try o.string("policy")
        let _nice = try o.integer(ifPresent: "nice", Int32.self)
        let _priority = try o.integer(ifPresent: "priority", Int32.self)
        let _flags = try o.strings(ifPresent: "flags")
        let _runtime = try o.integer(ifPresent: "runtime", UInt64.self)
        let _deadline = try o.integer(ifPresent: "deadline", UInt64.self)
        let _period = try o.integer(ifPresent: "period", UInt64.self)
        self.init(policy: _policy, nice: _nice, priority: _priority, flags: _flags, runtime: _runtime, deadline: _deadline, period: _period)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 7)
        o.add("policy", self.policy)
        o.add("nice", ifPresent: self.nice)
        o.add("priority", ifPresent: self.priority)
        o.add("flags", ifPresent: self.flags)
        o.add("runtime", ifPresent: self.runtime)
        o.add("deadline", ifPresent: self.deadline)
        o.add("period", ifPresent: self.period)
        return o.value
    }
}

extension LinuxIOPriority {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _class = try o.string("class")
        let _priority = try o.integer(ifPresent: "priority", Int.self) ?? 0
        self.init(class: _class, priority: _priority)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 2)
        o.add("class", self.`class`)
        o.add("priority", self.priority)
        return o.value
    }
}

extension CPUAffinity {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _initial = try o.string(ifPresent: "initial")
        let _final = try o.string(ifPresent: "final")
        self.init(initial: _initial, final: _final)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 2)
        o.add("initial", ifPresent: self.initial)
        o.add("final", ifPresent: self.final)
        return o.value
    }
}

extension Linux {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _uidMappings = try o.value(ifPresent: "uidMappings", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", LinuxIDMapping.init(json:at:)) })
        let _gidMappings = try o.value(ifPresent: "gidMappings", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", LinuxIDMapping.init(json:at:)) })
        let _sysctl = try o.stringMap(ifPresent: "sysctl")
        let _resources = try o.value(ifPresent: "resources", LinuxResources.init(json:at:))
        let _cgroupsPath = try o.string(ifPresent: "cgroupsPath")
        let _namespaces = try o.value(ifPresent: "namespaces", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", LinuxNamespace.init(json:at:)) })
        let _devices = try o.value(ifPresent: "devices", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", LinuxDevice.init(json:at:)) })
        let _netDevices = try o.value(ifPresent: "netDevices", { (v, p) throws(DecodingError) in try CollectionDecoding.map(v, p, LinuxNetDevice.init(json:at:)) })
        let _seccomp = try o.value(ifPresent: "seccomp", LinuxSeccomp.init(json:at:))
        let _rootfsPropagation = try o.string(ifPresent: "rootfsPropagation")
        let _maskedPaths = try o.strings(ifPresent: "maskedPaths")
        let _readonlyPaths = try o.strings(ifPresent: "readonlyPaths")
        let _mountLabel = try o.string(ifPresent: "mountLabel")
        let _intelRdt = try o.value(ifPresent: "intelRdt", LinuxIntelRdt.init(json:at:))
        let _memoryPolicy = try o.value(ifPresent: "memoryPolicy", LinuxMemoryPolicy.init(json:at:))
        let _personality = try o.value(ifPresent: "personality", LinuxPersonality.init(json:at:))
        let _timeOffsets = try o.value(ifPresent: "timeOffsets", { (v, p) throws(DecodingError) in try CollectionDecoding.map(v, p, LinuxTimeOffset.init(json:at:)) })
        self.init(uidMappings: _uidMappings, gidMappings: _gidMappings, sysctl: _sysctl, resources: _resources, cgroupsPath: _cgroupsPath, namespaces: _namespaces, devices: _devices, netDevices: _netDevices, seccomp: _seccomp, rootfsPropagation: _rootfsPropagation, maskedPaths: _maskedPaths, readonlyPaths: _readonlyPaths, mountLabel: _mountLabel, intelRdt: _intelRdt, memoryPolicy: _memoryPolicy, personality: _personality, timeOffsets: _timeOffsets)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 17)
        o.add("uidMappings", ifPresent: self.uidMappings) { CollectionEncoding.array($0) { $0.json } }
        o.add("gidMappings", ifPresent: self.gidMappings) { CollectionEncoding.array($0) { $0.json } }
        o.add("sysctl", ifPresent: self.sysctl)
        o.add("resources", ifPresent: self.resources) { $0.json }
        o.add("cgroupsPath", ifPresent: self.cgroupsPath)
        o.add("namespaces", ifPresent: self.namespaces) { CollectionEncoding.array($0) { $0.json } }
        o.add("devices", ifPresent: self.devices) { CollectionEncoding.array($0) { $0.json } }
        o.add("netDevices", ifPresent: self.netDevices) { CollectionEncoding.map($0) { $0.json } }
        o.add("seccomp", ifPresent: self.seccomp) { $0.json }
        o.add("rootfsPropagation", ifPresent: self.rootfsPropagation)
        o.add("maskedPaths", ifPresent: self.maskedPaths)
        o.add("readonlyPaths", ifPresent: self.readonlyPaths)
        o.add("mountLabel", ifPresent: self.mountLabel)
        o.add("intelRdt", ifPresent: self.intelRdt) { $0.json }
        o.add("memoryPolicy", ifPresent: self.memoryPolicy) { $0.json }
        o.add("personality", ifPresent: self.personality) { $0.json }
        o.add("timeOffsets", ifPresent: self.timeOffsets) { CollectionEncoding.map($0) { $0.json } }
        return o.value
    }
}

extension LinuxNamespace {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _type = try o.string("type")
        let _path = try o.string(ifPresent: "path")
        self.init(type: _type, path: _path)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 2)
        o.add("type", self.type)
        o.add("path", ifPresent: self.path)
        return o.value
    }
}

extension LinuxIDMapping {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _containerID = try o.integer("containerID", UInt32.self)
        let _hostID = try o.integer("hostID", UInt32.self)
        let _size = try o.integer("size", UInt32.self)
        self.init(containerID: _containerID, hostID: _hostID, size: _size)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 3)
        o.add("containerID", self.containerID)
        o.add("hostID", self.hostID)
        o.add("size", self.size)
        return o.value
    }
}

extension LinuxTimeOffset {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _secs = try o.integer(ifPresent: "secs", Int64.self)
        let _nanosecs = try o.integer(ifPresent: "nanosecs", UInt32.self)
        self.init(secs: _secs, nanosecs: _nanosecs)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 2)
        o.add("secs", ifPresent: self.secs)
        o.add("nanosecs", ifPresent: self.nanosecs)
        return o.value
    }
}

extension LinuxDevice {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _path = try o.string("path")
        let _type = try o.string("type")
        let _major = try o.integer(ifPresent: "major", Int64.self)
        let _minor = try o.integer(ifPresent: "minor", Int64.self)
        let _fileMode = try o.integer(ifPresent: "fileMode", UInt32.self)
        let _uid = try o.integer(ifPresent: "uid", UInt32.self)
        let _gid = try o.integer(ifPresent: "gid", UInt32.self)
        self.init(path: _path, type: _type, major: _major, minor: _minor, fileMode: _fileMode, uid: _uid, gid: _gid)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 7)
        o.add("path", self.path)
        o.add("type", self.type)
        o.add("major", ifPresent: self.major)
        o.add("minor", ifPresent: self.minor)
        o.add("fileMode", ifPresent: self.fileMode)
        o.add("uid", ifPresent: self.uid)
        o.add("gid", ifPresent: self.gid)
        return o.value
    }
}

extension LinuxNetDevice {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _name = try o.string(ifPresent: "name")
        self.init(name: _name)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 1)
        o.add("name", ifPresent: self.name)
        return o.value
    }
}

extension LinuxIntelRdt {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _closID = try o.string(ifPresent: "closID")
        let _schemata = try o.strings(ifPresent: "schemata")
        let _l3CacheSchema = try o.string(ifPresent: "l3CacheSchema")
        let _memBwSchema = try o.string(ifPresent: "memBwSchema")
        let _enableMonitoring = try o.bool(ifPresent: "enableMonitoring")
        let _enableCMT = try o.bool(ifPresent: "enableCMT")
        let _enableMBM = try o.bool(ifPresent: "enableMBM")
        self.init(closID: _closID, schemata: _schemata, l3CacheSchema: _l3CacheSchema, memBwSchema: _memBwSchema, enableMonitoring: _enableMonitoring, enableCMT: _enableCMT, enableMBM: _enableMBM)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 7)
        o.add("closID", ifPresent: self.closID)
        o.add("schemata", ifPresent: self.schemata)
        o.add("l3CacheSchema", ifPresent: self.l3CacheSchema)
        o.add("memBwSchema", ifPresent: self.memBwSchema)
        o.add("enableMonitoring", ifPresent: self.enableMonitoring)
        o.add("enableCMT", ifPresent: self.enableCMT)
        o.add("enableMBM", ifPresent: self.enableMBM)
        return o.value
    }
}

extension LinuxMemoryPolicy {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _mode = try o.string("mode")
        let _nodes = try o.string(ifPresent: "nodes")
        let _flags = try o.strings(ifPresent: "flags")
        self.init(mode: _mode, nodes: _nodes, flags: _flags)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 3)
        o.add("mode", self.mode)
        o.add("nodes", ifPresent: self.nodes)
        o.add("flags", ifPresent: self.flags)
        return o.value
    }
}

extension LinuxPersonality {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _domain = try o.string("domain")
        let _flags = try o.strings(ifPresent: "flags")
        self.init(domain: _domain, flags: _flags)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 2)
        o.add("domain", self.domain)
        o.add("flags", ifPresent: self.flags)
        return o.value
    }
}

extension LinuxResources {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _devices = try o.value(ifPresent: "devices", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", LinuxDeviceCgroup.init(json:at:)) })
        let _memory = try o.value(ifPresent: "memory", LinuxMemory.init(json:at:))
        let _cpu = try o.value(ifPresent: "cpu", LinuxCPU.init(json:at:))
        let _pids = try o.value(ifPresent: "pids", LinuxPids.init(json:at:))
        let _blockIO = try o.value(ifPresent: "blockIO", LinuxBlockIO.init(json:at:))
        let _hugepageLimits = try o.value(ifPresent: "hugepageLimits", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", LinuxHugepageLimit.init(json:at:)) })
        let _network = try o.value(ifPresent: "network", LinuxNetwork.init(json:at:))
        let _rdma = try o.value(ifPresent: "rdma", { (v, p) throws(DecodingError) in try CollectionDecoding.map(v, p, LinuxRdma.init(json:at:)) })
        let _unified = try o.stringMap(ifPresent: "unified")
        self.init(devices: _devices, memory: _memory, cpu: _cpu, pids: _pids, blockIO: _blockIO, hugepageLimits: _hugepageLimits, network: _network, rdma: _rdma, unified: _unified)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 9)
        o.add("devices", ifPresent: self.devices) { CollectionEncoding.array($0) { $0.json } }
        o.add("memory", ifPresent: self.memory) { $0.json }
        o.add("cpu", ifPresent: self.cpu) { $0.json }
        o.add("pids", ifPresent: self.pids) { $0.json }
        o.add("blockIO", ifPresent: self.blockIO) { $0.json }
        o.add("hugepageLimits", ifPresent: self.hugepageLimits) { CollectionEncoding.array($0) { $0.json } }
        o.add("network", ifPresent: self.network) { $0.json }
        o.add("rdma", ifPresent: self.rdma) { CollectionEncoding.map($0) { $0.json } }
        o.add("unified", ifPresent: self.unified)
        return o.value
    }
}

extension LinuxDeviceCgroup {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _allow = try o.bool("allow")
        let _type = try o.string(ifPresent: "type")
        let _major = try o.integer(ifPresent: "major", Int64.self)
        let _minor = try o.integer(ifPresent: "minor", Int64.self)
        let _access = try o.string(ifPresent: "access")
        self.init(allow: _allow, type: _type, major: _major, minor: _minor, access: _access)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 5)
        o.add("allow", self.allow)
        o.add("type", ifPresent: self.type)
        o.add("major", ifPresent: self.major)
        o.add("minor", ifPresent: self.minor)
        o.add("access", ifPresent: self.access)
        return o.value
    }
}

extension LinuxMemory {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _limit = try o.integer(ifPresent: "limit", Int64.self)
        let _reservation = try o.integer(ifPresent: "reservation", Int64.self)
        let _swap = try o.integer(ifPresent: "swap", Int64.self)
        let _kernel = try o.integer(ifPresent: "kernel", Int64.self)
        let _kernelTCP = try o.integer(ifPresent: "kernelTCP", Int64.self)
        let _swappiness = try o.integer(ifPresent: "swappiness", UInt64.self)
        let _disableOOMKiller = try o.bool(ifPresent: "disableOOMKiller")
        let _useHierarchy = try o.bool(ifPresent: "useHierarchy")
        let _checkBeforeUpdate = try o.bool(ifPresent: "checkBeforeUpdate")
        self.init(limit: _limit, reservation: _reservation, swap: _swap, kernel: _kernel, kernelTCP: _kernelTCP, swappiness: _swappiness, disableOOMKiller: _disableOOMKiller, useHierarchy: _useHierarchy, checkBeforeUpdate: _checkBeforeUpdate)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 9)
        o.add("limit", ifPresent: self.limit)
        o.add("reservation", ifPresent: self.reservation)
        o.add("swap", ifPresent: self.swap)
        o.add("kernel", ifPresent: self.kernel)
        o.add("kernelTCP", ifPresent: self.kernelTCP)
        o.add("swappiness", ifPresent: self.swappiness)
        o.add("disableOOMKiller", ifPresent: self.disableOOMKiller)
        o.add("useHierarchy", ifPresent: self.useHierarchy)
        o.add("checkBeforeUpdate", ifPresent: self.checkBeforeUpdate)
        return o.value
    }
}

extension LinuxCPU {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _shares = try o.integer(ifPresent: "shares", UInt64.self)
        let _quota = try o.integer(ifPresent: "quota", Int64.self)
        let _burst = try o.integer(ifPresent: "burst", UInt64.self)
        let _period = try o.integer(ifPresent: "period", UInt64.self)
        let _realtimeRuntime = try o.integer(ifPresent: "realtimeRuntime", Int64.self)
        let _realtimePeriod = try o.integer(ifPresent: "realtimePeriod", UInt64.self)
        let _cpus = try o.string(ifPresent: "cpus")
        let _mems = try o.string(ifPresent: "mems")
        let _idle = try o.integer(ifPresent: "idle", Int64.self)
        self.init(shares: _shares, quota: _quota, burst: _burst, period: _period, realtimeRuntime: _realtimeRuntime, realtimePeriod: _realtimePeriod, cpus: _cpus, mems: _mems, idle: _idle)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 9)
        o.add("shares", ifPresent: self.shares)
        o.add("quota", ifPresent: self.quota)
        o.add("burst", ifPresent: self.burst)
        o.add("period", ifPresent: self.period)
        o.add("realtimeRuntime", ifPresent: self.realtimeRuntime)
        o.add("realtimePeriod", ifPresent: self.realtimePeriod)
        o.add("cpus", ifPresent: self.cpus)
        o.add("mems", ifPresent: self.mems)
        o.add("idle", ifPresent: self.idle)
        return o.value
    }
}

extension LinuxPids {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _limit = try o.integer(ifPresent: "limit", Int64.self) ?? 0
        self.init(limit: _limit)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 1)
        o.add("limit", self.limit)
        return o.value
    }
}

extension LinuxBlockIO {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _weight = try o.integer(ifPresent: "weight", UInt16.self)
        let _leafWeight = try o.integer(ifPresent: "leafWeight", UInt16.self)
        let _weightDevice = try o.value(ifPresent: "weightDevice", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", LinuxWeightDevice.init(json:at:)) })
        let _throttleReadBpsDevice = try o.value(ifPresent: "throttleReadBpsDevice", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", LinuxThrottleDevice.init(json:at:)) })
        let _throttleWriteBpsDevice = try o.value(ifPresent: "throttleWriteBpsDevice", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", LinuxThrottleDevice.init(json:at:)) })
        let _throttleReadIOPSDevice = try o.value(ifPresent: "throttleReadIOPSDevice", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", LinuxThrottleDevice.init(json:at:)) })
        let _throttleWriteIOPSDevice = try o.value(ifPresent: "throttleWriteIOPSDevice", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", LinuxThrottleDevice.init(json:at:)) })
        self.init(weight: _weight, leafWeight: _leafWeight, weightDevice: _weightDevice, throttleReadBpsDevice: _throttleReadBpsDevice, throttleWriteBpsDevice: _throttleWriteBpsDevice, throttleReadIOPSDevice: _throttleReadIOPSDevice, throttleWriteIOPSDevice: _throttleWriteIOPSDevice)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 7)
        o.add("weight", ifPresent: self.weight)
        o.add("leafWeight", ifPresent: self.leafWeight)
        o.add("weightDevice", ifPresent: self.weightDevice) { CollectionEncoding.array($0) { $0.json } }
        o.add("throttleReadBpsDevice", ifPresent: self.throttleReadBpsDevice) { CollectionEncoding.array($0) { $0.json } }
        o.add("throttleWriteBpsDevice", ifPresent: self.throttleWriteBpsDevice) { CollectionEncoding.array($0) { $0.json } }
        o.add("throttleReadIOPSDevice", ifPresent: self.throttleReadIOPSDevice) { CollectionEncoding.array($0) { $0.json } }
        o.add("throttleWriteIOPSDevice", ifPresent: self.throttleWriteIOPSDevice) { CollectionEncoding.array($0) { $0.json } }
        return o.value
    }
}

extension LinuxWeightDevice {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _major = try o.integer("major", Int64.self)
        let _minor = try o.integer("minor", Int64.self)
        let _weight = try o.integer(ifPresent: "weight", UInt16.self)
        let _leafWeight = try o.integer(ifPresent: "leafWeight", UInt16.self)
        self.init(major: _major, minor: _minor, weight: _weight, leafWeight: _leafWeight)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 4)
        o.add("major", self.major)
        o.add("minor", self.minor)
        o.add("weight", ifPresent: self.weight)
        o.add("leafWeight", ifPresent: self.leafWeight)
        return o.value
    }
}

extension LinuxThrottleDevice {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _major = try o.integer("major", Int64.self)
        let _minor = try o.integer("minor", Int64.self)
        let _rate = try o.integer(ifPresent: "rate", UInt64.self) ?? 0
        self.init(major: _major, minor: _minor, rate: _rate)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 3)
        o.add("major", self.major)
        o.add("minor", self.minor)
        o.add("rate", self.rate)
        return o.value
    }
}

extension LinuxHugepageLimit {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _pageSize = try o.string("pageSize")
        let _limit = try o.integer("limit", UInt64.self)
        self.init(pageSize: _pageSize, limit: _limit)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 2)
        o.add("pageSize", self.pageSize)
        o.add("limit", self.limit)
        return o.value
    }
}

extension LinuxNetwork {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _classID = try o.integer(ifPresent: "classID", UInt32.self)
        let _priorities = try o.value(ifPresent: "priorities", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", LinuxInterfacePriority.init(json:at:)) })
        self.init(classID: _classID, priorities: _priorities)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 2)
        o.add("classID", ifPresent: self.classID)
        o.add("priorities", ifPresent: self.priorities) { CollectionEncoding.array($0) { $0.json } }
        return o.value
    }
}

extension LinuxInterfacePriority {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _name = try o.string("name")
        let _priority = try o.integer("priority", UInt32.self)
        self.init(name: _name, priority: _priority)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 2)
        o.add("name", self.name)
        o.add("priority", self.priority)
        return o.value
    }
}

extension LinuxRdma {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _hcaHandles = try o.integer(ifPresent: "hcaHandles", UInt32.self)
        let _hcaObjects = try o.integer(ifPresent: "hcaObjects", UInt32.self)
        self.init(hcaHandles: _hcaHandles, hcaObjects: _hcaObjects)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 2)
        o.add("hcaHandles", ifPresent: self.hcaHandles)
        o.add("hcaObjects", ifPresent: self.hcaObjects)
        return o.value
    }
}

extension LinuxSeccomp {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _defaultAction = try o.string("defaultAction")
        let _defaultErrnoRet = try o.integer(ifPresent: "defaultErrnoRet", UInt.self)
        let _architectures = try o.strings(ifPresent: "architectures")
        let _flags = try o.strings(ifPresent: "flags")
        let _listenerPath = try o.string(ifPresent: "listenerPath")
        let _listenerMetadata = try o.string(ifPresent: "listenerMetadata")
        let _syscalls = try o.value(ifPresent: "syscalls", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", LinuxSyscall.init(json:at:)) })
        self.init(defaultAction: _defaultAction, defaultErrnoRet: _defaultErrnoRet, architectures: _architectures, flags: _flags, listenerPath: _listenerPath, listenerMetadata: _listenerMetadata, syscalls: _syscalls)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 7)
        o.add("defaultAction", self.defaultAction)
        o.add("defaultErrnoRet", ifPresent: self.defaultErrnoRet)
        o.add("architectures", ifPresent: self.architectures)
        o.add("flags", ifPresent: self.flags)
        o.add("listenerPath", ifPresent: self.listenerPath)
        o.add("listenerMetadata", ifPresent: self.listenerMetadata)
        o.add("syscalls", ifPresent: self.syscalls) { CollectionEncoding.array($0) { $0.json } }
        return o.value
    }
}

extension LinuxSyscall {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _names = try o.value("names", CollectionDecoding.strings)
        let _action = try o.string("action")
        let _errnoRet = try o.integer(ifPresent: "errnoRet", UInt.self)
        let _args = try o.value(ifPresent: "args", { (v, p) throws(DecodingError) in try CollectionDecoding.array(v, p, "array of objects", LinuxSeccompArg.init(json:at:)) })
        self.init(names: _names, action: _action, errnoRet: _errnoRet, args: _args)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 4)
        o.add("names", CollectionEncoding.strings(self.names))
        o.add("action", self.action)
        o.add("errnoRet", ifPresent: self.errnoRet)
        o.add("args", ifPresent: self.args) { CollectionEncoding.array($0) { $0.json } }
        return o.value
    }
}

extension LinuxSeccompArg {
    init(json value: JSONValue, at path: ValuePath) throws(DecodingError) {
        let o = try ObjectDecoding(value, path)
        let _index = try o.integer("index", UInt.self)
        let _value = try o.integer("value", UInt64.self)
        let _valueTwo = try o.integer(ifPresent: "valueTwo", UInt64.self)
        let _op = try o.string("op")
        self.init(index: _index, value: _value, valueTwo: _valueTwo, op: _op)
    }

    var json: JSONValue {
        var o = ObjectEncoding(capacity: 4)
        o.add("index", self.index)
        o.add("value", self.value)
        o.add("valueTwo", ifPresent: self.valueTwo)
        o.add("op", self.op)
        return o.value
    }
}
