import Glibc
import SkiffSpec
import SkiffSystem

/// `skiff check`: every problem a bundle has, at once, without running anything — config
/// errors with their JSON path and the spec section they break, then what this host lacks.
public enum BundleCheck {
    public struct Problem: Sendable, CustomStringConvertible {
        public var path: String
        public var message: String
        public var section: String
        /// Reported, but the bundle still runs (e.g. a capability the host cannot grant).
        public var isWarning = false
        public var description: String {
            let at = path.isEmpty ? "" : path + ": "
            return escapingControlCharacters("\(isWarning ? "warning: " : "")config.json: \(at)\(message) [\(section)]")
        }
    }

    static let base = "https://github.com/opencontainers/runtime-spec/blob/v1.2.0/"

    /// The runtime-spec section a JSON path belongs to.
    public static func section(for path: String) -> String {
        let table: [(String, String)] = [
            ("process.capabilities", "config.md#linux-process"), ("process.rlimits", "config.md#posix-process"),
            ("process.user", "config.md#user"), ("process", "config.md#process"),
            ("root", "config.md#root"), ("mounts", "config.md#mounts"), ("hooks", "config.md#posix-platform-hooks"),
            ("hostname", "config.md#hostname"), ("domainname", "config.md#domainname"),
            ("annotations", "config.md#annotations"), ("ociVersion", "config.md#specification-version"),
            ("linux.namespaces", "config-linux.md#namespaces"), ("linux.uidMappings", "config-linux.md#user-namespace-mappings"),
            ("linux.gidMappings", "config-linux.md#user-namespace-mappings"), ("linux.timeOffsets", "config-linux.md#offset-for-time-namespace"),
            ("linux.devices", "config-linux.md#devices"), ("linux.cgroupsPath", "config-linux.md#cgroups-path"),
            ("linux.resources", "config-linux.md#control-groups"), ("linux.sysctl", "config-linux.md#sysctl"),
            ("linux.seccomp", "config-linux.md#seccomp"), ("linux.rootfsPropagation", "config-linux.md#rootfs-mount-propagation"),
            ("linux.maskedPaths", "config-linux.md#masked-paths"), ("linux.readonlyPaths", "config-linux.md#readonly-paths"),
            ("linux.mountLabel", "config-linux.md#mount-label"), ("linux.personality", "config-linux.md#personality"),
            ("linux", "config-linux.md"),
        ]
        for (prefix, sec) in table where path == prefix || path.hasPrefix(prefix + ".") || path.hasPrefix(prefix + "[") {
            return base + sec
        }
        return base + "config.md"
    }

    /// Splits "config.json: a.b[2]: what" into path and message.
    static func problem(_ text: String) -> Problem {
        var rest = Substring(text)
        if rest.hasPrefix("unable to start container process: ") { rest = rest.dropFirst(35) }
        if rest.hasPrefix("config.json: ") { rest = rest.dropFirst(13) }
        let parts = rest.components(separatedBy: ": ", maxSplits: 1)
        if parts.count == 2, let first = parts[0].first, first.isLetter, !parts[0].includes(" ") {
            let path = String(parts[0])
            return Problem(path: path, message: String(parts[1]), section: section(for: path))
        }
        return Problem(path: "", message: String(rest), section: base + "config.md")
    }

    public static func run(bundle: String) -> [Problem] {
        let bundle = FileSystem.absolute(bundle)
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readRegularFile(bundle + "/config.json", limit: FileSystem.configSizeLimit)
        } catch {
            return [Problem(path: "", message: "cannot read \(bundle)/config.json: \(error.detail ?? SystemError.message(error.errno))", section: base + "bundle.md")]
        }
        let spec: Spec
        do {
            spec = try SpecDecoder.decode(Spec.self, from: bytes)
        } catch {
            return [Problem(path: error.path, message: error.message, section: section(for: error.path))]
        }
        var problems = spec.validateForCreate().map { Problem(path: $0.path, message: $0.message, section: section(for: $0.path)) }
        // The runtime's own planning (what create would refuse), one problem each.
        func attempt(_ body: () throws -> Void) {
            do { try body() } catch {
                let p = problem("\(error)")
                // One problem per field: the model's validation already named it.
                if !problems.contains(where: { $0.path == p.path && (!p.path.isEmpty || $0.message == p.message) }) {
                    problems.append(p)
                }
            }
        }
        var namespaces: NamespacePlan? = nil
        attempt { namespaces = try NamespacePlan(spec.linux?.namespaces ?? []) }
        if let namespaces {
            let sysctl = spec.linux?.sysctl ?? [:]
            for key in sysctl.keys.sorted() {
                if let text = Kernel.sysctlProblem(key, namespaces: namespaces, domainname: spec.domainname, value: sysctl[key]) {
                    problems.append(problem(text))
                }
            }
        }
        var process: ProcessPlan? = nil
        if let p = spec.process { attempt { process = try ProcessPlan(process: p, linux: spec.linux) } }
        if var process {
            for warning in process.dropUngrantableCapabilities() {
                var p = problem(warning)
                p.isWarning = true
                problems.append(p)
            }
        }
        if let seccomp = spec.linux?.seccomp { attempt { _ = try SeccompPlan(seccomp) } }
        for (i, m) in (spec.mounts ?? []).enumerated() { attempt { _ = try MountOptions.plan(m, index: i, linux: spec.linux) } }
        attempt { _ = try MountOptions.rootPropagation(spec.linux?.rootfsPropagation) }
        attempt { _ = try DevicePlan.plan(spec.linux?.devices ?? [], defaults: true) }
        if let namespaces, namespaces.newUser {
            attempt { try IDMaps.validate(uid: spec.linux?.uidMappings, gid: spec.linux?.gidMappings) }
        }

        // The host: the validation create shares, then what only check looks at.
        let layout = CgroupLayout.host()
        for found in HostValidation.spec(spec, bundle: bundle, layout: layout)
        where !problems.contains(where: { $0.path == found.path }) {
            problems.append(Problem(path: found.path, message: found.message, section: section(for: found.path)))
        }
        let rootPath = spec.root.map { $0.path.hasPrefix("/") ? $0.path : bundle + "/" + $0.path } ?? ""
        for (i, ns) in (spec.linux?.namespaces ?? []).enumerated() {
            guard let name = NamespacePlan.procNames[ns.type] else { continue }
            if !FileSystem.exists("/proc/self/ns/" + name) {
                problems.append(Problem(path: "linux.namespaces[\(i)]", message: "this kernel has no \(ns.type) namespaces", section: section(for: "linux.namespaces")))
            }
            if let path = ns.path, !path.isEmpty, !FileSystem.exists(path) {
                problems.append(Problem(path: "linux.namespaces[\(i)].path", message: "\(path): no such file", section: section(for: "linux.namespaces")))
            }
        }
        if let process {
            for r in process.rlimits {
                let current = Identity.getRlimit(r.resource)
                if r.hard > current.hard && !Capabilities.inBounding(24) {
                    problems.append(Problem(path: "process.rlimits[\(r.index)]", message: "\(r.name) hard limit \(r.hard) is above this host's \(current.hard) and CAP_SYS_RESOURCE is not in the bounding set", section: section(for: "process.rlimits")))
                }
            }
            if !rootPath.isEmpty, FileSystem.isDirectory(rootPath), let name = process.args.first, !name.isEmpty {
                let candidates = name.contains("/") ? [name] : process.searchPath.split(separator: ":").map { "\($0)/\(name)" }
                let found = candidates.contains { candidate in
                    var st = stat()
                    return sk_stat_path(rootPath + "/" + candidate, &st) == 0 && st.st_mode & 0o111 != 0
                }
                if !found {
                    problems.append(Problem(path: "process.args[0]", message: "exec: \"\(name)\": executable file not found in $PATH (inside the rootfs)", section: section(for: "process")))
                }
            }
        }
        if let resources = spec.linux?.resources {
            if layout.kind == .none {
                problems.append(Problem(path: "linux.resources", message: "this host has no cgroup hierarchy mounted", section: section(for: "linux.resources")))
            } else {
                // The pure resource plan against this host's controllers.
                // Planned against each hierarchy's root: which controllers and files exist here.
                let paths = Cgroups.directories(layout: layout, cgroupsPath: "/", id: "check")
                let targets = Cgroups.resolveTargets(paths: paths, layout: layout)
                attempt {
                    _ = try Cgroups.plan(resources: resources, targets: targets, facts: Cgroups.readFacts(targets),
                                         context: "config.json", hasV2: layout.hierarchies.contains { $0.isV2 })
                }
            }
        }
        return problems
    }
}

/// What this host cannot do for a config that is otherwise valid: the one host validation
/// `check`, `create` and `exec` share (so check fails wherever create would, and exec
/// refuses what create refuses). Each problem names its JSON path.
public enum HostValidation {
    static var hasAppArmor: Bool { FileSystem.exists("/sys/kernel/security/apparmor") }
    static var hasSELinux: Bool { FileSystem.exists("/sys/fs/selinux/enforce") }

    /// A process object (config.json's `process`, or exec's): LSM labels for an LSM this
    /// host does not run are refused, never silently dropped.
    public static func process(_ process: Process, file: String = "config.json", prefix: String = "process") -> [SpecError] {
        func at(_ suffix: String) -> String { prefix.isEmpty ? suffix : prefix + "." + suffix }
        var problems: [SpecError] = []
        if let profile = process.apparmorProfile, !profile.isEmpty, !hasAppArmor {
            problems.append(SpecError(file: file, path: at("apparmorProfile"), message: "AppArmor is not enabled on this host"))
        }
        if let label = process.selinuxLabel, !label.isEmpty, !hasSELinux {
            problems.append(SpecError(file: file, path: at("selinuxLabel"), message: "SELinux is not enabled on this host"))
        }
        return problems
    }

    /// The whole config: its process, root.path (an existing directory, not reached through
    /// a symlink, as runc requires), the mount label, time offsets against this host's
    /// clocks, and blkio files and devices this host lacks.
    public static func spec(_ spec: Spec, bundle: String, layout: CgroupLayout? = nil) -> [SpecError] {
        var problems = spec.process.map { process($0) } ?? []
        if let root = spec.root, !root.path.isEmpty {
            // A relative path is taken from the bundle's real path, as runc does (it chdirs into
            // the bundle and uses getwd): a bundle reached through a symlink (/var/run → /run)
            // is fine, a rootfs that is a symlink is not.
            let base = (try? FileSystem.realPath(bundle)) ?? bundle
            let path = cleanPath(root.path.hasPrefix("/") ? root.path : base + "/" + root.path)
            if !FileSystem.isDirectory(path) {
                problems.append(SpecError(path: "root.path", message: "\(path): no such directory"))
            } else if let real = try? FileSystem.realPath(path), real != path {
                problems.append(SpecError(path: "root.path", message: "\(path): invalid rootfs: not an absolute path, or a symlink (it resolves to \(real))"))
            }
        }
        if let label = spec.linux?.mountLabel, !label.isEmpty, !hasSELinux {
            problems.append(SpecError(path: "linux.mountLabel", message: "SELinux is not enabled on this host"))
        }
        // The kernel refuses an offset that puts the namespace's clock below zero (ERANGE).
        let clocks: [String: clockid_t] = ["monotonic": CLOCK_MONOTONIC, "boottime": CLOCK_BOOTTIME]
        for (clock, offset) in (spec.linux?.timeOffsets ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let id = clocks[clock], let secs = offset.secs, secs < 0,
                  KernelLimits.timeOffsetSeconds.contains(secs) else { continue }
            var now = timespec()
            clock_gettime(id, &now)
            if Int64(now.tv_sec) + secs < 0 {
                problems.append(SpecError(path: JSONPath.appending("linux.timeOffsets", key: clock) + ".secs",
                                          message: "\(secs) would put the container's \(clock) clock below zero (this host's is at \(now.tv_sec) s)"))
            }
        }
        if let blockIO = spec.linux?.resources?.blockIO {
            problems += self.blockIO(blockIO, layout: layout ?? CgroupLayout.host())
        }
        return problems
    }

    /// blkio (cgroup v1) files this host's kernel lacks (no CFQ/BFQ: no weights), and
    /// per-device limits for block devices that do not exist (the kernel says ENODEV).
    static func blockIO(_ b: LinuxBlockIO, layout: CgroupLayout) -> [SpecError] {
        var problems: [SpecError] = []
        let field = "linux.resources.blockIO"
        var devices: [(String, Int64, Int64)] = []
        for (i, d) in (b.weightDevice ?? []).enumerated() { devices.append((JSONPath.appending(field + ".weightDevice", index: i), d.major, d.minor)) }
        let throttles = [("throttleReadBpsDevice", b.throttleReadBpsDevice), ("throttleWriteBpsDevice", b.throttleWriteBpsDevice),
                         ("throttleReadIOPSDevice", b.throttleReadIOPSDevice), ("throttleWriteIOPSDevice", b.throttleWriteIOPSDevice)]
        for (name, list) in throttles {
            for (i, d) in (list ?? []).enumerated() { devices.append((JSONPath.appending(field + "." + name, index: i), d.major, d.minor)) }
        }
        for (path, major, minor) in devices where !FileSystem.exists("/sys/dev/block/\(major):\(minor)") {
            problems.append(SpecError(path: path, message: "this host has no block device \(major):\(minor)"))
        }
        let paths = Cgroups.directories(layout: layout, cgroupsPath: "/", id: "check")
        guard case .v1? = Cgroups.resolveTargets(paths: paths, layout: layout)["blkio"] else { return problems }
        // The weight files (not in the root cgroup: CFTYPE_NOT_ON_ROOT) exist once the CFQ or
        // BFQ scheduler is registered, which lists it in every queue's scheduler file.
        let schedulers = ((try? FileSystem.list("/sys/block")) ?? [])
            .compactMap { try? FileSystem.readText("/sys/block/\($0)/queue/scheduler") }.joined(separator: " ")
        let words = Set(schedulers.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { $0.filter { $0 != "[" && $0 != "]" } })
        let hasWeight = words.contains("bfq") || words.contains("cfq")
        var weights: [(String, Bool)] = [
            (field + ".weight", (b.weight ?? 0) != 0 && !hasWeight),
            (field + ".leafWeight", (b.leafWeight ?? 0) != 0 && !words.contains("cfq")),
        ]
        for (i, d) in (b.weightDevice ?? []).enumerated() {
            weights.append((JSONPath.appending(field + ".weightDevice", index: i) + ".weight", (d.weight ?? 0) != 0 && !hasWeight))
        }
        for (path, missing) in weights where missing {
            problems.append(SpecError(path: path,
                                      message: "this host has no blkio \(path.hasSuffix("leafWeight") ? "leaf weights (no CFQ I/O scheduler)" : "weights (no CFQ or BFQ I/O scheduler)")"))
        }
        return problems
    }
}
