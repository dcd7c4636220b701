import Glibc
import SkiffSpec
import SkiffSystem

/// The container process as init will start it: identity, limits, capabilities, environment.
public struct ProcessPlan: Sendable {
    public struct Rlimit: Sendable {
        public var name: String
        public var resource: Int32
        public var soft: UInt64
        public var hard: UInt64
        public var index: Int
    }

    public var args: [String]
    public var env: [String]
    public var cwd: String
    public var uid: UInt32
    public var gid: UInt32
    public var additionalGids: [UInt32]
    public var umask: UInt32
    public var rlimits: [Rlimit]
    public var noNewPrivileges: Bool
    public var oomScoreAdj: Int?
    public var terminal: Bool
    public var consoleSize: (rows: UInt16, cols: UInt16)?
    /// Capability masks; bounding is the set to keep.
    public var bounding: UInt64
    public var effective: UInt64
    public var permitted: UInt64
    public var inheritable: UInt64
    public var ambient: [Int]
    public var personality: UInt?
    /// process.scheduler: (policy, flags, nice, priority, runtime, deadline, period).
    public var scheduler: (policy: UInt32, flags: UInt64, nice: Int32, priority: UInt32, runtime: UInt64, deadline: UInt64, period: UInt64)?
    /// process.ioPriority: (class number, level).
    public var ioPriority: (ioclass: Int32, level: Int32)?
    /// process.execCPUAffinity (final, else initial) as a CPU bit mask.
    public var cpuAffinity: [UInt8]?

    public init(process: Process, linux: Linux?, field: String = "process") throws(RuntimeError) {
        guard let args = process.args, !args.isEmpty else {
            throw RuntimeError("config.json: \(field).args: must contain at least one element")
        }
        self.args = args
        env = process.env ?? []
        guard process.cwd.hasPrefix("/") else {
            throw RuntimeError("config.json: \(field).cwd: \"\(process.cwd)\" is not an absolute path")
        }
        cwd = cleanPath(process.cwd)
        uid = process.user.uid
        gid = process.user.gid
        additionalGids = process.user.additionalGids ?? []
        umask = process.user.umask ?? 0o022
        noNewPrivileges = process.noNewPrivileges ?? false
        oomScoreAdj = process.oomScoreAdj
        terminal = process.terminal ?? false
        if let box = process.consoleSize, box.height > 0, box.width > 0 {
            consoleSize = (UInt16(clamping: box.height), UInt16(clamping: box.width))
        }
        rlimits = []
        for (i, r) in (process.rlimits ?? []).enumerated() {
            guard let number = Spec.knownRlimits.firstIndex(of: r.type) else {
                throw RuntimeError("config.json: \(field).rlimits[\(i)].type: unknown rlimit \"\(r.type)\"")
            }
            rlimits.append(Rlimit(name: r.type, resource: Int32(number), soft: r.soft, hard: r.hard, index: i))
        }
        let caps = process.capabilities
        func mask(_ names: [String]?, _ set: String) throws(RuntimeError) -> UInt64 {
            var m: UInt64 = 0
            for (i, name) in (names ?? []).enumerated() {
                guard let n = Spec.knownCapabilities.firstIndex(of: name) ?? Capabilities.number(name) else {
                    throw RuntimeError("config.json: \(field).capabilities.\(set)[\(i)]: unknown capability \"\(name)\"")
                }
                // Capabilities newer than the running kernel are ignored, as runc does.
                if n <= Capabilities.lastCap { m |= 1 << UInt64(n) }
            }
            return m
        }
        bounding = try mask(caps?.bounding, "bounding")
        effective = try mask(caps?.effective, "effective")
        permitted = try mask(caps?.permitted, "permitted")
        inheritable = try mask(caps?.inheritable, "inheritable")
        let ambientMask = try mask(caps?.ambient, "ambient")
        ambient = (0..<64).filter { ambientMask & (1 << UInt64($0)) != 0 }
        if let sched = process.scheduler {
            guard let policy = Spec.knownSchedulerPolicies.firstIndex(of: sched.policy), sched.policy != "SCHED_ISO" else {
                throw RuntimeError("config.json: \(field).scheduler.policy: unsupported policy \"\(sched.policy)\"")
            }
            var flags: UInt64 = 0
            for (i, f) in (sched.flags ?? []).enumerated() {
                guard let bit = Spec.knownSchedulerFlags.firstIndex(of: f) else {
                    throw RuntimeError("config.json: \(field).scheduler.flags[\(i)]: unknown flag \"\(f)\"")
                }
                flags |= 1 << UInt64(bit)
            }
            scheduler = (UInt32(policy), flags, sched.nice ?? 0, UInt32(max(0, sched.priority ?? 0)),
                         sched.runtime ?? 0, sched.deadline ?? 0, sched.period ?? 0)
        }
        if let io = process.ioPriority {
            guard let index = Spec.knownIOPriorityClasses.firstIndex(of: io.`class`) else {
                throw RuntimeError("config.json: \(field).ioPriority.class: unknown class \"\(io.`class`)\"")
            }
            guard io.priority >= 0 && io.priority <= 7 else {
                throw RuntimeError("config.json: \(field).ioPriority.priority: \(io.priority) is not in 0-7")
            }
            ioPriority = (Int32(index + 1), Int32(io.priority))
        }
        if let affinity = process.execCPUAffinity, let list = affinity.final ?? affinity.initial, !list.isEmpty {
            guard let mask = Self.cpuMask(list) else {
                throw RuntimeError("config.json: \(field).execCPUAffinity: \"\(list)\" is not a CPU list like 0-3,7")
            }
            cpuAffinity = mask
        }
        if let p = linux?.personality {
            switch p.domain {
            case "LINUX": personality = 0
            case "LINUX32": personality = 0x0008
            default: throw RuntimeError("config.json: linux.personality.domain: unknown domain \"\(p.domain)\"")
            }
        }
    }

    /// "0-3,7" → bit mask bytes (CPU n = bit n); nil when malformed.
    static func cpuMask(_ list: String) -> [UInt8]? {
        var cpus: [Int] = []
        for part in list.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2, let lo = Int(String(bounds[0]).trimmingWhitespace()),
                  let hi = bounds.count == 2 ? Int(String(bounds[1]).trimmingWhitespace()) : lo,
                  lo >= 0, hi >= lo, hi < 8192 else { return nil }
            cpus += Array(lo...hi)
        }
        guard let top = cpus.max() else { return nil }
        var mask = [UInt8](repeating: 0, count: (top / 64 + 1) * 8)
        for c in cpus { mask[c / 8] |= 1 << UInt8(c % 8) }
        return mask
    }

    /// Capabilities outside this host's bounding set cannot be granted: runtime-spec (config.md,
    /// Linux process) says they "MUST be logged as a warning" and runtimes "SHOULD NOT fail".
    /// Drops them from every set and returns one warning each (runc 1.1 fails instead).
    public mutating func dropUngrantableCapabilities(field: String = "process") -> [String] {
        let wanted = bounding | effective | permitted | inheritable
        var warnings: [String] = []
        for cap in 0...Capabilities.lastCap where wanted & (1 << UInt64(cap)) != 0 && !Capabilities.inBounding(cap) {
            let name = cap < Spec.knownCapabilities.count ? Spec.knownCapabilities[cap] : "capability \(cap)"
            warnings.append("config.json: \(field).capabilities: \(name) cannot be granted: it is not in this host's capability bounding set; the container runs without it")
            let bit = ~(UInt64(1) << UInt64(cap))
            bounding &= bit
            effective &= bit
            permitted &= bit
            inheritable &= bit
            ambient.removeAll { $0 == cap }
        }
        return warnings
    }

    /// The value of PATH in the process environment (Go's default when unset).
    var searchPath: String {
        for entry in env where entry.hasPrefix("PATH=") { return String(entry.dropFirst(5)) }
        return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    }

    /// Resolves args[0] like Go's exec.LookPath, in the current root. Error texts match runc's,
    /// which engines map to exit codes 126/127.
    func resolveExecutable() throws(RuntimeError) -> String {
        let name = args[0]
        func isExecutable(_ path: String) -> Int32 {
            var st = Glibc.stat()
            if sk_stat_path(path, &st) != 0 { return currentErrno() }
            if (st.st_mode & S_IFMT) == S_IFDIR { return EACCES }
            return st.st_mode & 0o111 != 0 ? 0 : EACCES
        }
        if name.contains("/") {
            let e = isExecutable(name)
            if e == 0 { return name }
            throw RuntimeError("exec: \"\(name)\": stat \(name): \(SystemError.message(e))")
        }
        for dir in searchPath.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            if isExecutable(candidate) == 0 { return candidate }
        }
        throw RuntimeError("exec: \"\(name)\": executable file not found in $PATH")
    }

    /// The environment the process gets: only the config's, plus HOME when it is missing.
    func finalEnvironment() -> [String] {
        let env = Self.merged(self.env)
        if env.contains(where: { $0.hasPrefix("HOME=") }) { return env }
        return env + ["HOME=" + Self.home(uid: uid)]
    }

    /// One entry per name, as runc's setenv loop leaves it: a later NAME=value replaces an
    /// earlier one in its place (`exec --env PATH=…` replaces the config's PATH).
    static func merged(_ env: [String]) -> [String] {
        var out: [String] = []
        var index: [Substring: Int] = [:]
        out.reserveCapacity(env.count)
        for entry in env {
            guard let eq = entry.firstIndex(of: "=") else { out.append(entry); continue }
            let name = entry[..<eq]
            if let i = index[name] { out[i] = entry } else { index[name] = out.count; out.append(entry) }
        }
        return out
    }

    static func home(uid: UInt32) -> String {
        guard let passwd = try? FileSystem.readText("/etc/passwd") else { return "/" }
        for line in passwd.split(separator: "\n") {
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            if f.count >= 6, UInt32(f[2]) == uid, !f[5].isEmpty { return String(f[5]) }
        }
        return "/"
    }
}
