import Glibc
import SkiffSpec
import SkiffSystem

// linux.resources → cgroup file writes. Each controller has a PURE plan function in its own
// file (V1Memory.swift, V2CPU.swift, ...): resources (plus a few facts read from the host
// beforehand, see `CgroupFacts`) → ordered [CgroupWrite]. `Cgroups.apply` resolves which
// hierarchy serves each controller, asks the planners, then performs the writes.
// Conventions follow runc's libcontainer/cgroups fs (v1) and fs2 (v2) drivers.

/// One write into a cgroup file.
public struct CgroupWrite: Equatable, Sendable, CustomStringConvertible {
    /// File name inside the controller's directory (`memory.limit_in_bytes`); `apply`
    /// turns it into an absolute path.
    public var file: String
    public var value: String
    /// The config field this write comes from, for error messages: `linux.resources.memory.limit`.
    public var field: String
    /// runc's ordering workaround: when the kernel rejects the write with EINVAL (for example a
    /// new cpu period that does not fit the old quota), try again after the rest of the plan.
    public var retryOnEINVAL: Bool
    /// The file may not exist on this kernel (cpu burst, hugetlb rsvd, swap): skip it then.
    public var ignoreMissing: Bool

    public init(_ file: String, _ value: String, field: String, retryOnEINVAL: Bool = false, ignoreMissing: Bool = false) {
        self.file = file
        self.value = value
        self.field = field
        self.retryOnEINVAL = retryOnEINVAL
        self.ignoreMissing = ignoreMissing
    }

    public var description: String { "\(file)=\(value)" }
}

/// Where a controller lives on this host.
public enum CgroupTarget: Equatable, Sendable {
    /// A v1 hierarchy carrying the controller: the container's directory in it.
    case v1(String)
    /// The cgroup2 hierarchy with the controller enabled for the container's directory.
    case v2(String)
    case missing

    public var directory: String? {
        switch self {
        case .v1(let d), .v2(let d): d
        case .missing: nil
        }
    }
}

/// Host facts the planners need, read before planning so planning itself stays pure.
public struct CgroupFacts: Equatable, Sendable {
    /// v1 memory.limit_in_bytes now (write order of limit and memsw depends on it).
    public var currentMemoryLimit: Int64?
    /// v1 memory.memsw.limit_in_bytes exists (swap accounting enabled).
    public var v1SwapAccounting = true
    /// v1: "blkio.weight" (CFQ) or "blkio.bfq.weight" (BFQ).
    public var v1BlkioWeightFile = "blkio.weight"
    /// v2: io.bfq.weight exists; and whether it takes per-device weights (newer kernels).
    public var v2BFQ = false
    public var v2BFQPerDevice = false
    /// True when skiff runs inside a user namespace: device rules cannot be changed (runc skips).
    public var inUserNamespace = false

    public init() {}
}

extension Cgroups {
    /// Writes every `linux.resources` field to the container's cgroup files. `paths` are the
    /// container's directories (from `directories(layout:cgroupsPath:id:)`), `layout` the host's.
    /// On hybrid hosts a controller is taken from its v1 hierarchy when it has one, else from
    /// cgroup2. Errors name the field: `config.json: linux.resources.memory.limit: write …: …`.
    ///
    /// Device rules are always applied on v1 (runc semantics: deny all, then the configured
    /// rules, then runc's default allow list), unless `skipDevices` (update) is set.
    /// cgroup2 has no devices files: the same rules become an eBPF BPF_CGROUP_DEVICE program
    /// attached to the container's directory (V2Devices).
    ///
    /// `unavailable` (rootless mode): controller → why its cgroup could not be created; a field
    /// needing such a controller fails with that reason instead of "not available on this host".
    public static func apply(resources: LinuxResources?, paths: [String], layout: CgroupLayout,
                             context: String = "config.json", skipDevices: Bool = false,
                             unavailable: [String: String] = [:]) throws(RuntimeError) {
        let targets = resolveTargets(paths: paths, layout: layout)
        let facts = readFacts(targets)
        if !skipDevices {
            let rules = resources?.devices ?? []
            for i in V1Devices.rulesWithIgnoredAccessLetters(rules) {
                let access = rules[i].access ?? ""
                writeStderr("skiff: warning: \(context): linux.resources.devices[\(i)].access: \"\(access)\": letters other than r, w and m are ignored (as runc does); using \"\(V1Devices.effectiveAccess(access))\"\n")
            }
        }
        let groups = try plan(resources: resources ?? LinuxResources(), targets: targets, facts: facts,
                              context: context, skipDevices: skipDevices, hasV2: layout.hierarchies.contains { $0.isV2 },
                              unavailable: unavailable, notEnabled: { notEnabled($0, paths: paths, layout: layout) })
        for group in groups {
            try execute(group, context: context)
        }
        // cgroup2 has no devices files: the rules become an eBPF program on the directory.
        // (Only on a real cgroup2 directory: unit tests apply to a fake tree of plain files.)
        if !skipDevices, case .v2(let dir)? = targets["devices"], !facts.inUserNamespace, isCgroup2(dir) {
            do {
                let program = try V2Devices.program(resources?.devices ?? [])
                try BPF.attachDeviceProgram(program, to: dir)
            } catch let error as CgroupPlanError {
                throw RuntimeError("\(context): \(error.field): \(error.message)")
            } catch {
                throw RuntimeError("\(context): linux.resources.devices: \(error)")
            }
        }
        if let memory = resources?.memory {
            // runc ≥1.1: "Kernel memory settings are ignored and will be removed". kernelTCP
            // still works on v1 (V1Memory writes it); cgroup2 has no such file.
            var ignored: [String] = []
            if memory.kernel != nil { ignored.append("kernel") }
            var memoryOnV1 = false
            if case .v1? = targets["memory"] { memoryOnV1 = true }
            if memory.kernelTCP != nil && !memoryOnV1 { ignored.append("kernelTCP") }
            if !ignored.isEmpty {
                writeStderr("skiff: warning: \(context): linux.resources.memory.\(ignored.joined(separator: ", ")): kernel memory limits are ignored (deprecated, not supported by recent kernels)\n")
            }
        }
    }

    /// Why a controller the container's cgroup lacks is missing, when the host's cgroup2 has
    /// it (its root's cgroup.controllers): the parent's cgroup.subtree_control does not list
    /// it, typically because the parent holds processes (cgroup v2 enables no controller below
    /// a cgroup with processes of its own, e.g. a service's cgroup when cgroupsPath is below
    /// it). nil otherwise. Only asked once a field has failed.
    static func notEnabled(_ controller: String, paths: [String], layout: CgroupLayout) -> String? {
        guard let h = layout.hierarchies.first(where: { $0.isV2 }),
              let dir = paths.first(where: { $0.hasPrefix(cleanPath(h.mountPoint) + "/") }),
              let host = try? FileSystem.readText(cleanPath(h.mountPoint) + "/cgroup.controllers"),
              host.split(whereSeparator: { $0 == " " || $0 == "\n" }).contains(Substring(controller)) else { return nil }
        let parent = parentOf(dir)
        let busy = !(((try? FileSystem.readText(parent + "/cgroup.procs")) ?? "").isEmpty)
        return "the \(controller) controller is not enabled for \(dir): \(parent)/cgroup.subtree_control lacks it"
            + (busy ? " (\(parent) has processes of its own, and cgroup v2 enables no controller below such a cgroup)" : "")
    }

    static func isCgroup2(_ dir: String) -> Bool {
        guard let fd = try? FileSystem.open(dir, O_PATH | O_DIRECTORY) else { return false }
        defer { fd.close() }
        return Mounts.filesystemType(fd) == Mounts.cgroup2Magic
    }

    /// Writes for one directory, in order.
    public struct WriteGroup: Equatable, Sendable {
        public var directory: String
        public var writes: [CgroupWrite]
        public init(directory: String, writes: [CgroupWrite]) {
            self.directory = directory
            self.writes = writes
        }
    }

    /// Controllers skiff can configure, in runc's v1 order (cpuset first: its files must be
    /// set before anything joins; devices early; freezer is not a resource).
    static let v1Order = ["cpuset", "devices", "memory", "cpu", "pids", "blkio", "hugetlb", "net_cls", "net_prio", "rdma"]

    /// The directory serving each controller: v1 hierarchy if mounted, else cgroup2 when the
    /// controller is available to the container's v2 directory (its cgroup.controllers).
    public static func resolveTargets(paths: [String], layout: CgroupLayout) -> [String: CgroupTarget] {
        var result: [String: CgroupTarget] = [:]
        var v2Dir: String?
        for h in layout.hierarchies {
            let mount = cleanPath(h.mountPoint)
            guard let dir = paths.first(where: { $0 == mount || $0.hasPrefix(mount == "/" ? "/" : mount + "/") }) else { continue }
            if h.isV2 {
                v2Dir = dir
            } else {
                for c in h.controllers where result[c] == nil { result[c] = .v1(dir) }
            }
        }
        if let v2Dir {
            let available = v2Controllers(v2Dir)
            for c in available where result[c] == nil { result[c] = .v2(v2Dir) }
            // "devices" and "freezer" are built into cgroup2 (eBPF, cgroup.freeze) and never
            // listed in cgroup.controllers; "unified" is where raw v2 keys go.
            if result["freezer"] == nil { result["freezer"] = .v2(v2Dir) }
            if result["devices"] == nil { result["devices"] = .v2(v2Dir) }
            result["unified"] = .v2(v2Dir)
        }
        return result
    }

    /// Controllers enabled for a v2 directory: its cgroup.controllers; when the directory does
    /// not exist yet, its parent's cgroup.subtree_control.
    static func v2Controllers(_ dir: String) -> [String] {
        if let text = try? FileSystem.readText(dir + "/cgroup.controllers") {
            return text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        }
        return []
    }

    static func readFacts(_ targets: [String: CgroupTarget]) -> CgroupFacts {
        var facts = CgroupFacts()
        if case .v1(let dir)? = targets["memory"] {
            if let text = try? FileSystem.readText(dir + "/memory.limit_in_bytes") {
                facts.currentMemoryLimit = Int64(text.trimmingWhitespace()) ?? (UInt64(text.trimmingWhitespace()).map { _ in Int64.max })
            }
            facts.v1SwapAccounting = FileSystem.exists(dir + "/memory.memsw.limit_in_bytes")
        }
        if case .v1(let dir)? = targets["blkio"] {
            facts.v1BlkioWeightFile = FileSystem.exists(dir + "/blkio.weight") ? "blkio.weight" : "blkio.bfq.weight"
        }
        if case .v2(let dir)? = targets["io"] {
            if let text = try? FileSystem.readText(dir + "/io.bfq.weight") {
                facts.v2BFQ = true
                // Only a bare number back means an older kernel without per-device weights.
                facts.v2BFQPerDevice = Int64(text.trimmingWhitespace()) == nil
            }
        }
        facts.inUserNamespace = !IDMaps.isInitialUserNamespace()
        return facts
    }

    /// PURE: the writes `apply` performs, grouped by directory, in order. Throws for fields
    /// whose controller this host lacks and for invalid values.
    public static func plan(resources r: LinuxResources, targets: [String: CgroupTarget], facts: CgroupFacts,
                            context: String = "config.json", skipDevices: Bool = false,
                            hasV2: Bool = true, unavailable: [String: String] = [:],
                            notEnabled: (String) -> String? = { _ in nil }) throws(RuntimeError) -> [WriteGroup] {
        var groups: [WriteGroup] = []
        func fail(_ field: String, _ message: String) -> RuntimeError {
            RuntimeError("\(context): \(field): \(message)")
        }
        func add(_ target: CgroupTarget?, _ writes: [CgroupWrite], controller: String) throws(RuntimeError) {
            guard !writes.isEmpty else { return }
            guard let dir = target?.directory else {
                if let why = unavailable[controller] {
                    throw fail(writes[0].field, "cannot apply this limit as a rootless user: \(why)")
                }
                if let why = notEnabled(controller) { throw fail(writes[0].field, why) }
                throw fail(writes[0].field, "the \(controller) cgroup controller is not available on this host")
            }
            groups.append(WriteGroup(directory: dir, writes: writes))
        }
        func wrap<T>(_ body: () throws(CgroupPlanError) -> T) throws(RuntimeError) -> T {
            do { return try body() } catch { throw fail(error.field, error.message) }
        }

        // cpuset (v1 "cpuset", v2 "cpuset")
        if let cpu = r.cpu {
            let t = targets["cpuset"]
            let writes = V1CPU.cpusetPlan(cpu)  // same files on v1 and v2
            try add(t, writes, controller: "cpuset")
        }
        // devices
        if !skipDevices && !facts.inUserNamespace {
            switch targets["devices"] {
            case .v1(let dir)?:
                let writes = try wrap { () throws(CgroupPlanError) in try V1Devices.plan(r.devices ?? []) }
                groups.append(WriteGroup(directory: dir, writes: writes))
            default:
                // cgroup2: an eBPF program, attached by apply() (V2Devices).
                break
            }
        }
        // memory
        if let memory = r.memory {
            switch targets["memory"] {
            case .v2(let dir)?:
                let writes = try wrap { () throws(CgroupPlanError) in try V2Memory.plan(memory) }
                try add(.v2(dir), writes, controller: "memory")
            case let t:
                let writes = try wrap { () throws(CgroupPlanError) in try V1Memory.plan(memory, facts: facts) }
                try add(t, writes, controller: "memory")
            }
        }
        // cpu
        if let cpu = r.cpu {
            switch targets["cpu"] {
            case .v2(let dir)?:
                let writes = try wrap { () throws(CgroupPlanError) in try V2CPU.plan(cpu) }
                try add(.v2(dir), writes, controller: "cpu")
            case let t:
                try add(t, V1CPU.plan(cpu), controller: "cpu")
            }
        }
        // pids
        if let pids = r.pids {
            try add(targets["pids"], PidsPlan.plan(pids), controller: "pids")
        }
        // block I/O
        if let io = r.blockIO {
            if case .v2(let dir)? = targets["io"], targets["blkio"] == nil {
                try add(.v2(dir), V2IO.plan(io, facts: facts), controller: "io")
            } else {
                try add(targets["blkio"], V1Blkio.plan(io, weightFile: facts.v1BlkioWeightFile), controller: "blkio")
            }
        }
        // hugetlb
        if let limits = r.hugepageLimits, !limits.isEmpty {
            switch targets["hugetlb"] {
            case .v2(let dir)?:
                try add(.v2(dir), HugetlbPlan.plan(limits, v2: true), controller: "hugetlb")
            case let t:
                try add(t, HugetlbPlan.plan(limits, v2: false), controller: "hugetlb")
            }
        }
        // network (v1 only: cgroup2 has no net_cls / net_prio)
        if let network = r.network {
            let (cls, prio) = V1Net.plan(network)
            if !cls.isEmpty {
                guard case .v1(let dir)? = targets["net_cls"] else {
                    throw fail(cls[0].field, "the net_cls cgroup controller is not mounted on this host (cgroup v2 has no net_cls)")
                }
                groups.append(WriteGroup(directory: dir, writes: cls))
            }
            if !prio.isEmpty {
                guard case .v1(let dir)? = targets["net_prio"] else {
                    throw fail(prio[0].field, "the net_prio cgroup controller is not mounted on this host (cgroup v2 has no net_prio)")
                }
                groups.append(WriteGroup(directory: dir, writes: prio))
            }
        }
        // rdma (same file on v1 and v2)
        if let rdma = r.rdma, !rdma.isEmpty {
            try add(targets["rdma"], RdmaPlan.plan(rdma), controller: "rdma")
        }
        // unified: raw cgroup2 files
        if let unified = r.unified, !unified.isEmpty {
            guard hasV2, case .v2(let dir)? = targets["unified"] else {
                if let why = unavailable["unified"] {
                    throw fail("linux.resources.unified", "cannot apply this limit as a rootless user: \(why)")
                }
                throw fail("linux.resources.unified", "cgroup v2 is not mounted on this host (cgroup v1 only)")
            }
            var available = Set<String>()
            for (name, target) in targets { if case .v2 = target { available.insert(name) } }
            let writes = try wrap { () throws(CgroupPlanError) in try V2Unified.plan(unified, available: available) }
            groups.append(WriteGroup(directory: dir, writes: writes))
        }
        return groups
    }

    /// Performs one group's writes. EINVAL on a `retryOnEINVAL` write defers it to the end of
    /// the group (runc's period/quota and rt ordering); missing optional files are skipped.
    static func execute(_ group: WriteGroup, context: String,
                        write: (String, String) throws(SystemError) -> Void = Cgroups.writeFile) throws(RuntimeError) {
        var deferred: [CgroupWrite] = []
        func perform(_ w: CgroupWrite, allowDefer: Bool) throws(RuntimeError) {
            let path = group.directory + "/" + w.file
            do {
                try write(path, w.value)
            } catch {
                if w.ignoreMissing && error.errno == ENOENT { return }
                if allowDefer && w.retryOnEINVAL && error.errno == EINVAL {
                    deferred.append(w)
                    return
                }
                throw RuntimeError("\(context): \(w.field): \(explain(error, write: w, directory: group.directory))")
            }
            if w.file == "cpu.shares", let back = readUInt(path), let want = UInt64(w.value), back != want {
                let message = want > back ? "the maximum allowed cpu-shares is \(back)" : "the minimum allowed cpu-shares is \(back)"
                throw RuntimeError("\(context): \(w.field): \(message)")
            }
        }
        for w in group.writes { try perform(w, allowDefer: true) }
        for w in deferred { try perform(w, allowDefer: false) }
    }

    /// The error text; for a memory limit below current usage, runc's more useful message.
    static func explain(_ error: SystemError, write w: CgroupWrite, directory: String) -> String {
        if error.errno == EBUSY && w.file == "memory.limit_in_bytes",
           let usage = readUInt(directory + "/memory.usage_in_bytes"),
           let peak = readUInt(directory + "/memory.max_usage_in_bytes") {
            return "unable to set memory limit to \(w.value) (current usage: \(usage), peak usage: \(peak)): \(error)"
        }
        return "\(error)"
    }

    static func readUInt(_ path: String) -> UInt64? {
        guard let text = try? FileSystem.readText(path) else { return nil }
        let t = text.trimmingWhitespace()
        return t == "max" ? UInt64.max : UInt64(t)
    }

    /// Writes a cgroup file: open O_WRONLY|O_TRUNC (never creating), one write(2). Failures
    /// read "write <path>: <errno text>", whether open or write failed.
    public static func writeFile(_ path: String, _ value: String) throws(SystemError) {
        let fd = Glibc.open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        if fd < 0 { throw SystemError("write", path, errno: currentErrno()) }
        defer { _ = Glibc.close(fd) }
        let bytes = Array(value.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n < 0 { throw SystemError("write", path, errno: currentErrno()) }
    }
}

/// A planner's complaint about a value: which field and why.
public struct CgroupPlanError: Error, Equatable, Sendable {
    public var field: String
    public var message: String
    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }
}
