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
        if let p = linux?.personality {
            switch p.domain {
            case "LINUX": personality = 0
            case "LINUX32": personality = 0x0008
            default: throw RuntimeError("config.json: linux.personality.domain: unknown domain \"\(p.domain)\"")
            }
        }
    }

    /// Checks the host can grant what is asked, naming the first capability it cannot.
    public func checkHostCapabilities(field: String = "process") throws(RuntimeError) {
        let wanted = bounding | effective | permitted | inheritable
        for cap in 0...Capabilities.lastCap where wanted & (1 << UInt64(cap)) != 0 {
            if !Capabilities.inBounding(cap) {
                let name = cap < Spec.knownCapabilities.count ? Spec.knownCapabilities[cap] : "capability \(cap)"
                throw RuntimeError("config.json: \(field).capabilities: \(name) cannot be granted: it is not in this host's capability bounding set")
            }
        }
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
        if env.contains(where: { $0.hasPrefix("HOME=") }) { return env }
        return env + ["HOME=" + Self.home(uid: uid)]
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
