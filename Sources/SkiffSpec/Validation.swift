// Semantic checks of a decoded config, reporting every problem with its JSON path.

extension Spec {
    /// Decodes config.json and validates it; throws the first problem found.
    public static func load(bytes: [UInt8], file: String = "config.json") throws(SpecError) -> Spec {
        let spec = try SpecDecoder.decode(Spec.self, from: bytes, file: file)
        if let problem = spec.validate(file: file).first { throw problem }
        return spec
    }

    /// Every problem in this config, in document order. Empty when the config is valid.
    public func validate(file: String = "config.json") -> [SpecError] {
        var validator = Validator(file: file, spec: self)
        validator.run()
        return validator.problems
    }

    /// `validate()` plus what creating a container needs beyond a valid config: a process.
    public func validateForCreate(file: String = "config.json") -> [SpecError] {
        var problems = validate(file: file)
        if process == nil {
            let position = problems.firstIndex { $0.path != "ociVersion" } ?? problems.endIndex
            problems.insert(SpecError(file: file, path: "process", message: "required field is missing"), at: position)
        }
        return problems
    }

    /// Whether `linux.namespaces` lists a namespace of `type` (created or joined).
    public func hasNamespace(_ type: String) -> Bool {
        linux?.namespaces?.contains { $0.type == type } ?? false
    }
}

extension Process {
    /// Every problem of a process object, the one validation `create` (config.json's
    /// `process`, prefix "process") and `exec` (its --process file, prefix "", or the process
    /// built from its flags) share. `linux`: the container's (its user namespace maps ids).
    public func validate(file: String = "config.json", prefix: String = "process", linux: Linux? = nil) -> [SpecError] {
        var validator = Validator(file: file, spec: Spec(linux: linux))
        validator.check(self, prefix: prefix, linux: linux)
        return validator.problems
    }
}

/// The kernel's limits that validation checks values against.
public enum KernelLimits {
    /// __NEW_UTS_LEN: hostname and domainname, in bytes.
    public static let utsNameBytes = 64
    /// cgroup v1 cpu.shares (MIN_SHARES, MAX_SHARES); 0 means unset.
    public static let cpuShares: ClosedRange<UInt64> = 2...262_144
    /// mknod(2) through glibc's makedev: 12-bit major, 20-bit minor.
    public static let deviceMajor: ClosedRange<Int64> = 0...4095
    public static let deviceMinor: ClosedRange<Int64> = 0...1_048_575
    /// timens offsets: |secs| ≤ KTIME_SEC_MAX / 2, nanosecs < NSEC_PER_SEC.
    public static let timeOffsetSeconds: ClosedRange<Int64> = -4_611_686_018...4_611_686_018
    public static let nanosecondsPerSecond: UInt32 = 1_000_000_000
    /// The smallest memory limit skiff's init (and the exec that follows) starts under:
    /// measured on kernel 6.18 (cgroup v1), init dies below ~200 KiB with no message.
    public static let minimumMemoryLimit: Int64 = 256 * 1024
}

private struct Validator {
    let file: String
    let spec: Spec
    private(set) var problems: [SpecError] = []

    init(file: String, spec: Spec) {
        self.file = file
        self.spec = spec
    }

    mutating func run() {
        checkVersion()
        if let process = spec.process { check(process, prefix: "process", linux: spec.linux) }
        checkRoot()
        checkNamespaceRequirement(spec.hostname != nil, path: "hostname", namespace: "uts")
        checkNamespaceRequirement(spec.domainname != nil, path: "domainname", namespace: "uts")
        for (path, name) in [("hostname", spec.hostname), ("domainname", spec.domainname)] {
            if let name, name.utf8.count > KernelLimits.utsNameBytes {
                fail(path, "is \(name.utf8.count) bytes long; the kernel's limit is \(KernelLimits.utsNameBytes)")
            }
        }
        for (i, mount) in (spec.mounts ?? []).enumerated() where mount.destination.isEmpty {
            fail(JSONPath.appending(JSONPath.appending("mounts", index: i), key: "destination"), "must not be empty")
        }
        if let hooks = spec.hooks { check(hooks) }
        if let linux = spec.linux { check(linux) }
    }

    private mutating func fail(_ path: String, _ message: String) {
        problems.append(SpecError(file: file, path: path, message: message))
    }

    // MARK: Top level

    private mutating func checkVersion() {
        guard let version = SemanticVersion(spec.ociVersion) else {
            return fail("ociVersion", "\(jsonQuoted(spec.ociVersion)) is not a valid semantic version")
        }
        if version.major != 1 {
            fail("ociVersion", "unsupported version \(jsonQuoted(spec.ociVersion)) (want 1.x.y)")
        }
    }

    private mutating func checkRoot() {
        guard let root = spec.root else { return fail("root", "required field is missing") }
        if root.path.isEmpty { fail("root.path", "must not be empty") }
    }

    /// Reports `path` when `isSet` but `linux.namespaces` has no `namespace`.
    private mutating func checkNamespaceRequirement(_ isSet: Bool, path: String, namespace: String) {
        if isSet && !spec.hasNamespace(namespace) {
            fail(path, "requires a new \(namespace) namespace (linux.namespaces has no \(jsonQuoted(namespace)))")
        }
    }

    // MARK: process

    /// `prefix`: "process" in config.json, "" in exec's --process file. `linux`: the
    /// container's, whose user namespace decides which ids exist.
    mutating func check(_ process: Process, prefix: String, linux: Linux?) {
        func at(_ suffix: String) -> String { prefix.isEmpty ? suffix : prefix + "." + suffix }
        if process.consoleSize != nil && process.terminal != true {
            fail(at("consoleSize"), "requires \(at("terminal")) to be true")
        }
        if let args = process.args {
            if args.isEmpty { fail(at("args"), "must not be empty") }
        } else {
            fail(at("args"), "required field is missing")
        }
        checkAbsolute(process.cwd, at("cwd"))
        checkIDs(process.user, prefix: at("user"), linux: linux)
        if let capabilities = process.capabilities {
            let sets = [
                ("bounding", capabilities.bounding), ("effective", capabilities.effective),
                ("inheritable", capabilities.inheritable), ("permitted", capabilities.permitted),
                ("ambient", capabilities.ambient),
            ]
            for (name, set) in sets {
                checkNames(set, in: Spec.knownCapabilities, "capability", path: at("capabilities." + name))
            }
            // capset(2) fails (EPERM) for an effective capability that is not permitted.
            let permitted = Set(capabilities.permitted ?? [])
            for (i, name) in (capabilities.effective ?? []).enumerated()
            where Spec.knownCapabilities.contains(name) && !permitted.contains(name) {
                fail(JSONPath.appending(at("capabilities.effective"), index: i),
                     "\(name) is not in \(at("capabilities.permitted")) (effective capabilities must be permitted)")
            }
        }
        var seenRlimits: Set<String> = []
        for (i, rlimit) in (process.rlimits ?? []).enumerated() {
            let path = JSONPath.appending(at("rlimits"), index: i)
            if !Spec.knownRlimits.contains(rlimit.type) {
                fail(path + ".type", "unknown rlimit \(jsonQuoted(rlimit.type))")
            } else if !seenRlimits.insert(rlimit.type).inserted {
                fail(path + ".type", "duplicate rlimit \(jsonQuoted(rlimit.type))")
            }
            if rlimit.soft > rlimit.hard {
                fail(path, "soft limit \(rlimit.soft) exceeds hard limit \(rlimit.hard)")
            }
        }
        if let score = process.oomScoreAdj, !(-1000...1000).contains(score) {
            fail(at("oomScoreAdj"), "must be between -1000 and 1000, got \(score)")
        }
        if let scheduler = process.scheduler {
            checkName(scheduler.policy, in: Spec.knownSchedulerPolicies, "scheduler policy", path: at("scheduler.policy"))
            checkNames(scheduler.flags, in: Spec.knownSchedulerFlags, "scheduler flag", path: at("scheduler.flags"))
            if let nice = scheduler.nice, !(-20...19).contains(nice) {
                fail(at("scheduler.nice"), "must be between -20 and 19, got \(nice)")
            }
        }
        if let ioPriority = process.ioPriority {
            checkName(ioPriority.class, in: Spec.knownIOPriorityClasses, "I/O priority class", path: at("ioPriority.class"))
            if !(0...7).contains(ioPriority.priority) {
                fail(at("ioPriority.priority"), "must be between 0 and 7, got \(ioPriority.priority)")
            }
        }
        if let affinity = process.execCPUAffinity {
            checkCPUList(affinity.initial, path: at("execCPUAffinity.initial"))
            checkCPUList(affinity.final, path: at("execCPUAffinity.final"))
        }
    }

    /// uid, gid and additionalGids: never 4294967295 ((uid_t)-1, which setresuid/setresgid
    /// read as "leave unchanged": the process would keep root), and inside the user
    /// namespace's maps when the config creates one with maps.
    private mutating func checkIDs(_ user: User, prefix: String, linux: Linux?) {
        let ids: [(String, UInt32, [LinuxIDMapping]?, String)] =
            [(prefix + ".uid", user.uid, linux?.uidMappings, "linux.uidMappings"),
             (prefix + ".gid", user.gid, linux?.gidMappings, "linux.gidMappings")]
            + (user.additionalGids ?? []).enumerated().map {
                (JSONPath.appending(prefix + ".additionalGids", index: $0.offset), $0.element, linux?.gidMappings, "linux.gidMappings")
            }
        let newUserNamespace = linux?.namespaces?.contains { $0.type == "user" && ($0.path ?? "").isEmpty } ?? false
        for (path, id, mappings, mapsPath) in ids {
            if id == UInt32.max {
                fail(path, "4294967295 is not a valid id (the kernel reads (uid_t)-1 as \"no change\")")
            } else if newUserNamespace, let mappings, !mappings.isEmpty,
                      !mappings.contains(where: { id >= $0.containerID && UInt64(id) < UInt64($0.containerID) + UInt64($0.size) }) {
                fail(path, "\(id) is not mapped in the container's user namespace (\(mapsPath))")
            }
        }
    }

    // MARK: hooks

    private mutating func check(_ hooks: Hooks) {
        let lists = [
            ("prestart", hooks.prestart), ("createRuntime", hooks.createRuntime),
            ("createContainer", hooks.createContainer), ("startContainer", hooks.startContainer),
            ("poststart", hooks.poststart), ("poststop", hooks.poststop),
        ]
        for (name, list) in lists {
            for (i, hook) in (list ?? []).enumerated() {
                let path = JSONPath.appending("hooks." + name, index: i)
                checkAbsolute(hook.path, path + ".path")
                if let timeout = hook.timeout, timeout <= 0 {
                    fail(path + ".timeout", "must be greater than zero, got \(timeout)")
                }
            }
        }
    }

    // MARK: linux

    private mutating func check(_ linux: Linux) {
        if linux.uidMappings?.isEmpty == false || linux.gidMappings?.isEmpty == false {
            checkNamespaceRequirement(true, path: linux.uidMappings?.isEmpty == false ? "linux.uidMappings" : "linux.gidMappings",
                                      namespace: "user")
        }
        if let userNamespace = linux.namespaces?.first(where: { $0.type == "user" }), userNamespace.path == nil {
            if linux.uidMappings?.isEmpty != false { fail("linux.uidMappings", "required when creating a new user namespace") }
            if linux.gidMappings?.isEmpty != false { fail("linux.gidMappings", "required when creating a new user namespace") }
        }
        for (name, mappings) in [("linux.uidMappings", linux.uidMappings), ("linux.gidMappings", linux.gidMappings)] {
            for (i, m) in (mappings ?? []).enumerated() {
                let path = JSONPath.appending(name, index: i)
                // The kernel refuses empty ranges and ranges past 4294967294 (-1 is never an id).
                if m.size == 0 {
                    fail(path + ".size", "must be greater than zero")
                } else if UInt64(m.containerID) + UInt64(m.size) > UInt64(UInt32.max) {
                    fail(path, "containerID \(m.containerID) + size \(m.size) runs past 4294967294")
                } else if UInt64(m.hostID) + UInt64(m.size) > UInt64(UInt32.max) {
                    fail(path, "hostID \(m.hostID) + size \(m.size) runs past 4294967294")
                }
            }
        }
        for key in sortedKeys(linux.sysctl) where !isValidSysctlName(key) {
            fail(JSONPath.appending("linux.sysctl", key: key), "invalid sysctl name \(jsonQuoted(key))")
        }
        if let resources = linux.resources { check(resources) }
        var seenNamespaces: Set<String> = []
        for (i, namespace) in (linux.namespaces ?? []).enumerated() {
            let path = JSONPath.appending("linux.namespaces", index: i)
            if !Spec.knownNamespaceTypes.contains(namespace.type) {
                fail(path + ".type", "unknown namespace type \(jsonQuoted(namespace.type))")
            } else if !seenNamespaces.insert(namespace.type).inserted {
                fail(path + ".type", "duplicate namespace type \(jsonQuoted(namespace.type))")
            }
            if let nsPath = namespace.path { checkAbsolute(nsPath, path + ".path") }
        }
        for (i, device) in (linux.devices ?? []).enumerated() {
            let path = JSONPath.appending("linux.devices", index: i)
            checkAbsolute(device.path, path + ".path")
            if !Spec.knownDeviceTypes.contains(device.type) {
                fail(path + ".type", "unknown device type \(jsonQuoted(device.type)) (want c, b, u or p)")
            } else if device.type != "p" {
                if device.major == nil { fail(path + ".major", "required for device type \(jsonQuoted(device.type))") }
                if device.minor == nil { fail(path + ".minor", "required for device type \(jsonQuoted(device.type))") }
                if let major = device.major, !KernelLimits.deviceMajor.contains(major) {
                    fail(path + ".major", "must be between 0 and \(KernelLimits.deviceMajor.upperBound), got \(major)")
                }
                if let minor = device.minor, !KernelLimits.deviceMinor.contains(minor) {
                    fail(path + ".minor", "must be between 0 and \(KernelLimits.deviceMinor.upperBound), got \(minor)")
                }
            }
        }
        if linux.netDevices?.isEmpty == false {
            checkNamespaceRequirement(true, path: "linux.netDevices", namespace: "network")
        }
        if let seccomp = linux.seccomp { check(seccomp) }
        if let propagation = linux.rootfsPropagation {
            checkName(propagation, in: Spec.knownRootfsPropagations, "propagation mode", path: "linux.rootfsPropagation")
        }
        for (i, path) in (linux.maskedPaths ?? []).enumerated() {
            checkAbsolute(path, JSONPath.appending("linux.maskedPaths", index: i))
        }
        for (i, path) in (linux.readonlyPaths ?? []).enumerated() {
            checkAbsolute(path, JSONPath.appending("linux.readonlyPaths", index: i))
        }
        if let policy = linux.memoryPolicy {
            checkName(policy.mode, in: Spec.knownMemoryPolicyModes, "memory policy mode", path: "linux.memoryPolicy.mode")
            checkNames(policy.flags, in: Spec.knownMemoryPolicyFlags, "memory policy flag", path: "linux.memoryPolicy.flags")
        }
        if let personality = linux.personality {
            checkName(personality.domain, in: Spec.knownPersonalityDomains, "personality domain", path: "linux.personality.domain")
        }
        if let offsets = linux.timeOffsets, !offsets.isEmpty {
            checkNamespaceRequirement(true, path: "linux.timeOffsets", namespace: "time")
            for clock in sortedKeys(offsets) where !Spec.knownTimeOffsetClocks.contains(clock) {
                fail(JSONPath.appending("linux.timeOffsets", key: clock),
                     "unknown clock \(jsonQuoted(clock)) (want \"monotonic\" or \"boottime\")")
            }
            for clock in sortedKeys(offsets) {
                let path = JSONPath.appending("linux.timeOffsets", key: clock)
                if let secs = offsets[clock]?.secs, !KernelLimits.timeOffsetSeconds.contains(secs) {
                    fail(path + ".secs", "must be between \(KernelLimits.timeOffsetSeconds.lowerBound) and \(KernelLimits.timeOffsetSeconds.upperBound), got \(secs)")
                }
                if let nanos = offsets[clock]?.nanosecs, nanos >= KernelLimits.nanosecondsPerSecond {
                    fail(path + ".nanosecs", "must be below 1000000000, got \(nanos)")
                }
            }
        }
    }

    private mutating func check(_ resources: LinuxResources) {
        for (i, rule) in (resources.devices ?? []).enumerated() {
            let path = JSONPath.appending("linux.resources.devices", index: i)
            if let type = rule.type, !Spec.knownDeviceCgroupTypes.contains(type) {
                fail(path + ".type", "unknown device type \(jsonQuoted(type)) (want a, b or c)")
            }
            // runc 1.1.5 keeps r, w and m and ignores any other letter ("rwa" is "rw"; the
            // runtime warns); an access with none of the three is refused.
            if let access = rule.access, !access.isEmpty, !access.contains(where: { "rwm".contains($0) }) {
                fail(path + ".access", "invalid access \(jsonQuoted(access)) (want a combination of r, w and m)")
            }
            // -1 (or absent) is the wildcard; the kernel's numbers are 32-bit (a larger one
            // would silently match another device once truncated).
            for (name, value) in [("major", rule.major), ("minor", rule.minor)] {
                if let value, value < -1 || value > Int64(UInt32.max) {
                    fail(path + "." + name, "must be -1 (any) or between 0 and 4294967295, got \(value)")
                }
            }
        }
        if let memory = resources.memory {
            let limits = [
                ("limit", memory.limit), ("reservation", memory.reservation), ("swap", memory.swap),
                ("kernel", memory.kernel), ("kernelTCP", memory.kernelTCP),
            ]
            for (name, value) in limits {
                if let value, value < -1 {
                    fail("linux.resources.memory." + name, "must be -1 (unlimited) or a byte count, got \(value)")
                }
            }
            if let limit = memory.limit, limit > 0 {
                if limit < KernelLimits.minimumMemoryLimit {
                    fail("linux.resources.memory.limit", "\(limit) bytes is too small for the container's init to start (minimum \(KernelLimits.minimumMemoryLimit))")
                }
                // swap is memory+swap: the kernel refuses one below the memory limit.
                if let swap = memory.swap, swap > 0, swap < limit {
                    fail("linux.resources.memory.swap", "memory+swap limit \(swap) is below the memory limit \(limit) (linux.resources.memory.limit)")
                }
            }
        }
        if let cpu = resources.cpu {
            if let shares = cpu.shares, shares != 0 {
                if shares < KernelLimits.cpuShares.lowerBound {
                    fail("linux.resources.cpu.shares", "the minimum allowed cpu-shares is \(KernelLimits.cpuShares.lowerBound)")
                } else if shares > KernelLimits.cpuShares.upperBound {
                    fail("linux.resources.cpu.shares", "the maximum allowed cpu-shares is \(KernelLimits.cpuShares.upperBound)")
                }
            }
            checkCPUList(cpu.cpus, path: "linux.resources.cpu.cpus")
            checkCPUList(cpu.mems, path: "linux.resources.cpu.mems")
        }
    }

    private mutating func check(_ seccomp: LinuxSeccomp) {
        checkName(seccomp.defaultAction, in: Spec.knownSeccompActions, "seccomp action", path: "linux.seccomp.defaultAction")
        checkNames(seccomp.architectures, in: Spec.knownSeccompArchitectures, "seccomp architecture",
                   path: "linux.seccomp.architectures")
        checkNames(seccomp.flags, in: Spec.knownSeccompFlags, "seccomp flag", path: "linux.seccomp.flags")
        var usesNotify = seccomp.defaultAction == "SCMP_ACT_NOTIFY"
        for (i, syscall) in (seccomp.syscalls ?? []).enumerated() {
            let path = JSONPath.appending("linux.seccomp.syscalls", index: i)
            if syscall.names.isEmpty { fail(path + ".names", "must not be empty") }
            checkName(syscall.action, in: Spec.knownSeccompActions, "seccomp action", path: path + ".action")
            usesNotify = usesNotify || syscall.action == "SCMP_ACT_NOTIFY"
            for (j, arg) in (syscall.args ?? []).enumerated() {
                let argPath = JSONPath.appending(path + ".args", index: j)
                checkName(arg.op, in: Spec.knownSeccompOperators, "seccomp operator", path: argPath + ".op")
                if arg.index > 5 { fail(argPath + ".index", "must be between 0 and 5, got \(arg.index)") }
            }
        }
        if usesNotify && (seccomp.listenerPath ?? "").isEmpty {
            fail("linux.seccomp.listenerPath", "required when an action is SCMP_ACT_NOTIFY")
        }
    }

    // MARK: Helpers

    private mutating func checkAbsolute(_ value: String, _ path: String) {
        if !value.hasPrefix("/") {
            fail(path, value.isEmpty ? "must not be empty" : "must be an absolute path, got \(jsonQuoted(value))")
        }
    }

    private mutating func checkName(_ name: String, in known: [String], _ what: String, path: String) {
        if !known.contains(name) { fail(path, "unknown \(what) \(jsonQuoted(name))") }
    }

    private mutating func checkNames(_ names: [String]?, in known: [String], _ what: String, path: String) {
        for (i, name) in (names ?? []).enumerated() {
            checkName(name, in: known, what, path: JSONPath.appending(path, index: i))
        }
    }

    /// cpuset list syntax: comma-separated numbers or ranges, e.g. "0-3,7".
    private mutating func checkCPUList(_ list: String?, path: String) {
        guard let list, !list.isEmpty else { return }
        let valid = list.split(separator: ",", omittingEmptySubsequences: false).allSatisfy { item in
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let low = UInt(bounds[0]) else { return false }
            guard bounds.count == 2 else { return true }
            guard let high = UInt(bounds[1]) else { return false }
            return low <= high
        }
        if !valid { fail(path, "invalid list \(jsonQuoted(list)) (want e.g. \"0-3,7\")") }
    }

    private func sortedKeys<V>(_ dictionary: [String: V]?) -> [String] {
        (dictionary?.keys).map { $0.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } } ?? []
    }

    /// Dotted (`net.ipv4.ip_forward`) or slashed (`net/ipv4/conf/eth0.1/forwarding`) names:
    /// non-empty components, no whitespace or control characters, no `..` component.
    private func isValidSysctlName(_ name: String) -> Bool {
        guard let first = name.utf8.first, let last = name.utf8.last else { return false }
        let separators: [UInt8] = [UInt8(ascii: "."), UInt8(ascii: "/")]
        if separators.contains(first) || separators.contains(last) { return false }
        if name.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) { return false }
        if name.includes("..") || name.includes("//") || name.includes("./") || name.includes("/.") { return false }
        return true
    }
}

/// SemVer 2.0.0: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD].
struct SemanticVersion {
    let major: UInt, minor: UInt, patch: UInt

    init?(_ text: String) {
        var rest = Substring(text)
        if let plus = rest.firstIndex(of: "+") {
            guard SemanticVersion.validIdentifiers(rest[rest.index(after: plus)...], numeric: false) else { return nil }
            rest = rest[..<plus]
        }
        if let dash = rest.firstIndex(of: "-") {
            guard SemanticVersion.validIdentifiers(rest[rest.index(after: dash)...], numeric: true) else { return nil }
            rest = rest[..<dash]
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy(SemanticVersion.isNumber),
              let major = UInt(parts[0]), let minor = UInt(parts[1]), let patch = UInt(parts[2])
        else { return nil }
        (self.major, self.minor, self.patch) = (major, minor, patch)
    }

    /// A number without leading zeros.
    private static func isNumber(_ part: Substring) -> Bool {
        !part.isEmpty && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) && (part == "0" || part.first != "0")
    }

    /// Dot-separated [0-9A-Za-z-] identifiers; pre-release numeric ones must not have leading zeros.
    private static func validIdentifiers(_ text: Substring, numeric checkLeadingZeros: Bool) -> Bool {
        text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { identifier in
            guard !identifier.isEmpty,
                  identifier.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
            else { return false }
            let allDigits = identifier.allSatisfy(\.isNumber)
            return !(checkLeadingZeros && allDigits && identifier.count > 1 && identifier.first == "0")
        }
    }
}
