// Helpers for the root integration tests, in the spirit of runc's bats helpers
// (tests/integration/helpers.bash): locate the binary and the fixtures, make a private bundle
// from a fixture with one change to config.json, run `skiff --root <per-test root> …` with a
// deadline, and tear everything down (force-delete containers, unmount, remove temp dirs).
//
// Environment:
//   SKIFF_BIN       the runtime to test (absolute path or a name on PATH); default
//                   <package root>/.build/release/skiff, then .build/debug/skiff
//   SKIFF_FIXTURES  spec-fixtures/ (default <package root>/spec-fixtures)
import Foundation
import Glibc
import SkiffTestSupport
import Testing

// MARK: - Locations

enum Paths {
    static var binary: String { TestEnvironment.binary }
    static var fixtures: String { TestEnvironment.fixtures }
    static var sharedRootfs: String { fixtures + "/rootfs" }
    /// Factor for deadlines (SKIFF_TEST_TIMEOUT_SCALE; > 1 in the emulated VM).
    static var timeoutScale: Double { TestEnvironment.timeoutScale }

    /// True when the environment can run the integration tests at all.
    static var ready: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: binary)
            && FileManager.default.fileExists(atPath: sharedRootfs + "/bin/busybox")
    }
}

// MARK: - Running processes with a deadline

/// Processes are started with SkiffTestSupport's `ChildProcess` (posix_spawn, stdio on files,
/// a deadline): container processes inherit the runtime's stdio and may keep it open long
/// after the runtime exits.
typealias RunResult = ProcessResult

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
@discardableResult
func waitUntil(timeout: TimeInterval = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout * TestEnvironment.timeoutScale)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

// MARK: - Per-test harness

/// One per test: a private temp dir, a private `--root`, unique container ids, and teardown
/// (in `cleanup()`, also called from deinit) that force-deletes every container under the
/// root, kills what is left, unmounts anything under the temp dir and removes it.
final class Harness {
    let dir: String
    let root: String
    private var counter = 0
    private var ids: [String] = []
    private var backgrounds: [ChildProcess] = []
    private var cleaned = false

    init() throws {
        var template = Array("/tmp/skiff-it-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buf in mkdtemp(buf.baseAddress!) }
        guard made != nil else { throw HarnessError("mkdtemp failed: errno \(errno)") }
        dir = String(cString: template)
        chmod(dir, 0o755)
        root = dir + "/root"
        // --root is created by the runtime if missing; make it so `list` works too.
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { cleanup() }

    /// A fresh container id, unique across tests (it is also used to find leftovers).
    func newID(_ prefix: String = "it") -> String {
        counter += 1
        let random = String(UInt32.random(in: 0..<UInt32.max), radix: 36)
        let id = "\(prefix)-\(random)-\(counter)"
        ids.append(id)
        return id
    }

    /// A fresh path inside the temp dir.
    func path(_ name: String) -> String {
        counter += 1
        return "\(dir)/\(name)-\(counter)"
    }

    /// `skiff --root <root> args…`.
    @discardableResult
    func skiff(_ args: String..., stdin: String? = nil, timeout: TimeInterval = 30) -> RunResult {
        skiff(args: args, stdin: stdin, timeout: timeout)
    }

    @discardableResult
    /// `env`: extra NAME=value entries for this call only, set through env(1) (never setenv:
    /// tests run in parallel and every child inherits the test process's environment).
    func skiff(args: [String], globals: [String] = [], env: [String] = [], stdin: String? = nil, timeout: TimeInterval = 30,
               stdoutPath: String? = nil, stderrPath: String? = nil, extraFds: [Int32] = []) -> RunResult {
        counter += 1
        let out = stdoutPath ?? "\(dir)/out-\(counter)"
        let command = ["--root", root] + globals + args
        return ChildProcess.run(env.isEmpty ? Paths.binary : "/usr/bin/env", env.isEmpty ? command : env + [Paths.binary] + command,
                                stdin: stdin, stdoutPath: out, stderrPath: stderrPath ?? "\(dir)/err-\(counter)", extraFds: extraFds,
                                timeout: timeout)
    }

    /// Starts `skiff --root <root> args…` in the background; waited for (or killed) at teardown.
    func background(_ args: [String], globals: [String] = []) -> ChildProcess {
        counter += 1
        do {
            let b = try ChildProcess(Paths.binary, ["--root", root] + globals + args,
                                     stdoutPath: "\(dir)/bg-out-\(counter)", stderrPath: "\(dir)/bg-err-\(counter)")
            backgrounds.append(b)
            return b
        } catch {
            Issue.record("cannot start skiff in the background: \(error)")
            return try! ChildProcess("/bin/true", [], stdoutPath: "\(dir)/bg-out-\(counter)", stderrPath: "\(dir)/bg-err-\(counter)")
        }
    }

    /// Runs a host shell command (`/bin/sh -c script`).
    @discardableResult
    func sh(_ script: String, timeout: TimeInterval = 30) -> RunResult {
        counter += 1
        return ChildProcess.run("/bin/sh", ["-c", script], stdoutPath: "\(dir)/sh-out-\(counter)",
                                stderrPath: "\(dir)/sh-err-\(counter)", timeout: timeout)
    }

    /// `run -b bundle id` (attached), the usual way to run a short command in a container.
    func run(_ bundle: Bundle, id: String? = nil, timeout: TimeInterval = 30) -> RunResult {
        skiff(args: ["run", "-b", bundle.path, id ?? newID()], timeout: timeout)
    }

    /// `state id` parsed as a JSON object (nil if it does not parse).
    func state(_ id: String) -> [String: Any]? {
        let result = skiff("state", id)
        guard result.status == 0 else { return nil }
        return parseJSONObject(result.stdout)
    }

    func status(_ id: String) -> String? { state(id)?["status"] as? String }

    func pid(_ id: String) -> Int { (state(id)?["pid"] as? NSNumber)?.intValue ?? -1 }


    /// Creates a detached container and returns its id (records an issue on failure).
    func create(_ bundle: Bundle, id: String? = nil, extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) -> (String, RunResult) {
        let id = id ?? newID()
        let result = skiff(args: ["create", "-b", bundle.path] + extra + [id])
        #expect(result.status == 0, "create failed: \(result)", sourceLocation: sourceLocation)
        return (id, result)
    }

    func cleanup() {
        if cleaned { return }
        cleaned = true
        // 1. Force-delete every container under our root.
        if let ids = try? FileManager.default.contentsOfDirectory(atPath: root) {
            for id in ids where !id.hasPrefix(".") {
                _ = skiff(args: ["delete", "--force", id], timeout: 20)
            }
        }
        for b in backgrounds { b.wait(timeout: 10) }
        // 2. Kill whatever is left of our containers (ids are random, so a process that
        //    mentions one, or sits in its cgroup, is ours).
        for id in ids {
            for pid in processes(mentioning: id) { kill(pid_t(pid), SIGKILL) }
        }
        // …and any cgroup dir left behind (tests report leftovers before teardown).
        for id in ids {
            for cg in cgroupDirs(id) where fileExists(cg) {
                waitUntil(timeout: 2) { rmdir(cg) == 0 || errno == ENOENT }
            }
        }
        // 3. Unmount anything under the temp dir (a buggy runtime could leak mounts to the
        //    host), deepest first, so that removing the dir cannot reach through a bind mount.
        let leaked = mountPoints(under: dir)
        for mount in leaked.sorted(by: { $0.count > $1.count }) {
            umount2(mount, Int32(MNT_DETACH))
        }
        // 4. Remove the temp dir, never crossing into another file system.
        _ = ChildProcess.run("/bin/rm", ["-rf", "--one-file-system", dir], stdoutPath: "/dev/null", stderrPath: "/dev/null",
                             timeout: 60)
        if FileManager.default.fileExists(atPath: dir) {
            Issue.record("could not remove \(dir) (mounts left: \(mountPoints(under: dir)))")
        }
    }

    // MARK: Leftover checks

    /// Every place a container can leave traces: its state dir, cgroup dirs in every
    /// hierarchy (<id> below the caller's cgroup or its parent, as runc), and processes (the clone()d init keeps
    /// the runtime's command line, which names the id; processes in its cgroup).
    func leftovers(_ id: String) -> [String] {
        var found: [String] = []
        let fm = FileManager.default
        if fm.fileExists(atPath: "\(root)/\(id)") { found.append("state dir \(root)/\(id)") }
        for cg in cgroupDirs(id) where fm.fileExists(atPath: cg) { found.append("cgroup dir \(cg)") }
        for pid in processes(mentioning: id) { found.append("process \(pid): \(cmdline(pid))") }
        return found
    }

    func cgroupDirs(_ id: String) -> [String] {
        let base = "/sys/fs/cgroup"
        var dirs: [String] = []
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        var isDir: ObjCBool = false
        // In the cgroup2 mount at /sys/fs/cgroup itself and in each hierarchy below it: <id> at
        // the root, an older skiff's /skiff/<id>, and the default below the caller's cgroup or
        // its parent (runc's rule, skiff's).
        var relative = ["/skiff", ""]
        for line in (readFile("/proc/self/cgroup") ?? "").split(separator: "\n") {
            guard let own = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).last,
                  own.count > 1 else { continue }
            for p in [String(own), own.lastIndex(of: "/").map { String(own[..<$0]) } ?? ""] where !relative.contains(p) {
                relative.append(p)
            }
        }
        for r in relative {
            dirs.append("\(base)\(r)/\(id)")
            for entry in entries where FileManager.default.fileExists(atPath: "\(base)/\(entry)", isDirectory: &isDir) && isDir.boolValue {
                dirs.append("\(base)/\(entry)\(r)/\(id)")
            }
        }
        return dirs
    }

    /// Host pids whose command line contains `token` or whose cgroup path ends in /<token>.
    func processes(mentioning token: String) -> [Int] {
        let me = Int(getpid())
        var result: [Int] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int(entry), pid != me else { continue }
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            if stat.contains(") Z ") { continue }  // zombies hold nothing
            let cmd = cmdline(pid)
            if cmd.contains(token) { result.append(pid); continue }
            let cgroup = (try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)) ?? ""
            if cgroup.split(separator: "\n").contains(where: { $0.hasSuffix("/\(token)") }) { result.append(pid) }
        }
        return result
    }

    func cmdline(_ pid: Int) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }

    /// Expects no trace of the container to remain (waiting briefly for processes to go).
    func expectNothingLeft(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) {
        var left: [String] = []
        waitUntil(timeout: 5) { left = leftovers(id); return left.isEmpty }
        #expect(left.isEmpty, "container \(id) left traces behind: \(left)", sourceLocation: sourceLocation)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Mount points (from /proc/self/mountinfo) at or under `prefix`.
func mountPoints(under prefix: String) -> [String] {
    let text = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
    var result: [String] = []
    for line in text.split(separator: "\n") {
        let fields = line.split(separator: " ")
        guard fields.count > 4 else { continue }
        let point = unescapeOctal(String(fields[4]))
        if point == prefix || point.hasPrefix(prefix + "/") { result.append(point) }
    }
    return result
}

func unescapeOctal(_ text: String) -> String {
    guard text.contains("\\") else { return text }
    var bytes: [UInt8] = []
    let raw = Array(text.utf8)
    var i = 0
    while i < raw.count {
        if raw[i] == 0x5c, i + 3 < raw.count, let v = UInt8(String(decoding: raw[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
            bytes.append(v); i += 4
        } else { bytes.append(raw[i]); i += 1 }
    }
    return String(decoding: bytes, as: UTF8.self)
}

// MARK: - Bundles

/// How a test bundle gets its root file system.
enum RootfsMode {
    /// A hard-link copy (`cp -al`) of spec-fixtures/rootfs: new files and directories are
    /// private, existing files are shared with every bundle, so never write to them.
    case hardlink
    /// A full private copy (`cp -a`): safe to modify (symlinks, replaced files).
    case copy
    /// root.path set to the absolute path of the shared spec-fixtures/rootfs.
    case shared
}

/// A private OCI bundle in the harness's temp dir, made from a fixture bundle.
struct Bundle {
    let path: String
    var rootfs: String
    var configPath: String { path + "/config.json" }

    /// Copies `spec-fixtures/<fixture>/config.json` into a new bundle dir, gives it a rootfs
    /// and lets `edit` change config.json (as a JSON dictionary) before writing it.
    static func make(from fixture: String = "baseline", in harness: Harness, rootfs mode: RootfsMode = .hardlink,
                     _ edit: (Config) throws -> Void = { _ in }) throws -> Bundle {
        let path = harness.path("bundle")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let source = "\(Paths.fixtures)/\(fixture)/config.json"
        guard let data = FileManager.default.contents(atPath: source),
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw HarnessError("cannot read fixture \(source)")
        }
        let config = Config(object)
        let rootfs: String
        switch mode {
        case .shared:
            rootfs = Paths.sharedRootfs
            config["root.path"] = rootfs
        case .hardlink, .copy:
            rootfs = path + "/rootfs"
            let r = ChildProcess.run("/bin/cp", [mode == .copy ? "-a" : "-al", Paths.sharedRootfs, rootfs],
                                     stdoutPath: path + "/.cp-out", stderrPath: path + "/.cp-err", timeout: 60)
            try? FileManager.default.removeItem(atPath: path + "/.cp-out")
            try? FileManager.default.removeItem(atPath: path + "/.cp-err")
            guard r.status == 0 else { throw HarnessError("cp rootfs failed: \(r)") }
            config["root.path"] = "rootfs"
        }
        try edit(config)
        let bundle = Bundle(path: path, rootfs: rootfs)
        try bundle.write(config)
        return bundle
    }

    func write(_ config: Config) throws {
        let data = try JSONSerialization.data(withJSONObject: config.object, options: [.prettyPrinted, .withoutEscapingSlashes])
        try data.write(to: URL(fileURLWithPath: configPath))
    }
}

/// config.json as a mutable JSON dictionary, addressed by dotted paths ("process.user.uid").
/// Arrays are replaced or appended to as a whole.
final class Config {
    var object: [String: Any]
    init(_ object: [String: Any]) { self.object = object }

    subscript(path: String) -> Any? {
        get {
            var current: Any? = object
            for key in path.split(separator: ".") {
                current = (current as? [String: Any])?[String(key)]
            }
            return current
        }
        set {
            let keys = path.split(separator: ".").map(String.init)
            object = Config.set(object, keys[...], newValue)
        }
    }

    private static func set(_ dict: [String: Any], _ keys: ArraySlice<String>, _ value: Any?) -> [String: Any] {
        var dict = dict
        guard let first = keys.first else { return dict }
        if keys.count == 1 {
            dict[first] = value
        } else {
            let child = dict[first] as? [String: Any] ?? [:]
            dict[first] = set(child, keys.dropFirst(), value)
        }
        return dict
    }

    /// Appends to the array at `path` (creating it).
    func append(_ path: String, _ value: Any) {
        var array = self[path] as? [Any] ?? []
        array.append(value)
        self[path] = array
    }

    /// Sets process.args (the usual one change).
    var args: [String] {
        get { self["process.args"] as? [String] ?? [] }
        set { self["process.args"] = newValue }
    }

    /// process.args = ["sh", "-c", script]
    func shell(_ script: String) { args = ["sh", "-c", script] }

    /// Adds a bind mount of a host path.
    func bind(_ source: String, at destination: String, options: [String] = ["rbind"]) {
        append("mounts", ["destination": destination, "type": "bind", "source": source, "options": options] as [String: Any])
    }
}

// MARK: - Small utilities

func parseJSONObject(_ text: String) -> [String: Any]? {
    guard let data = text.data(using: .utf8) else { return nil }
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
}

func readFile(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

func writeFile(_ path: String, _ text: String, mode: Int = 0o644) throws {
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    chmod(path, mode_t(mode))
}

func fileExists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
}

/// The host's namespace link text, e.g. "net:[4026531840]".
func hostNamespace(_ type: String) -> String {
    var buf = [CChar](repeating: 0, count: 256)
    let n = readlink("/proc/self/ns/\(type)", &buf, 255)
    guard n > 0 else { return "" }
    return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Linux capability numbers (include/uapi/linux/capability.h).
let capabilityNumbers: [String: Int] = [
    "CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3, "CAP_FSETID": 4,
    "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_LINUX_IMMUTABLE": 9,
    "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11, "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13,
    "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15, "CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18,
    "CAP_SYS_PTRACE": 19, "CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
    "CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27, "CAP_LEASE": 28,
    "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31, "CAP_MAC_OVERRIDE": 32,
    "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35, "CAP_BLOCK_SUSPEND": 36,
    "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39, "CAP_CHECKPOINT_RESTORE": 40,
]

/// The /proc/<pid>/status hex mask (16 hex digits) for a list of capability names.
func capabilityMask(_ names: [String]) -> String {
    var mask: UInt64 = 0
    for name in names { if let n = capabilityNumbers[name] { mask |= 1 << UInt64(n) } }
    let hex = String(mask, radix: 16)
    return String(repeating: "0", count: max(0, 16 - hex.count)) + hex
}

/// The value of `Key:` in /proc/<pid>/status-like text.
func statusField(_ text: String, _ key: String) -> String? {
    for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
        return line.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces)
    }
    return nil
}
