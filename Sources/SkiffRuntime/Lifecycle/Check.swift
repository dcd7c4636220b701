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
            return "\(isWarning ? "warning: " : "")config.json: \(at)\(message) [\(section)]"
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
            bytes = try FileSystem.readFile(bundle + "/config.json")
        } catch {
            return [Problem(path: "", message: "cannot read \(bundle)/config.json: \(SystemError.message(error.errno))", section: base + "bundle.md")]
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
            for key in (spec.linux?.sysctl ?? [:]).keys.sorted() {
                if let text = Kernel.sysctlProblem(key, namespaces: namespaces) { problems.append(problem(text)) }
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

        // The host.
        let rootPath = spec.root.map { $0.path.hasPrefix("/") ? $0.path : bundle + "/" + $0.path } ?? ""
        if !rootPath.isEmpty && !FileSystem.isDirectory(rootPath) {
            problems.append(Problem(path: "root.path", message: "\(rootPath): no such directory", section: section(for: "root.path")))
        }
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
        if let profile = spec.process?.apparmorProfile, !profile.isEmpty, !FileSystem.exists("/sys/kernel/security/apparmor") {
            problems.append(Problem(path: "process.apparmorProfile", message: "AppArmor is not enabled on this host", section: section(for: "process")))
        }
        for (path, label) in [("process.selinuxLabel", spec.process?.selinuxLabel), ("linux.mountLabel", spec.linux?.mountLabel)] {
            if let label, !label.isEmpty, !FileSystem.exists("/sys/fs/selinux/enforce") {
                problems.append(Problem(path: path, message: "SELinux is not enabled on this host", section: section(for: path)))
            }
        }
        if let resources = spec.linux?.resources {
            let layout = CgroupLayout.host()
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
