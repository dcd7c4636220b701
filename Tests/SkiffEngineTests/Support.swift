// Helpers for the engine tests: real container engines (podman, containerd + ctr, dockerd +
// docker, buildah) driving the built skiff binary as their OCI runtime.
//
// Each engine suite gets a private world for its whole run (a suite-level scope trait, see
// `EngineScope`): a temp directory holding the engine's storage, state and sockets, a busybox
// image built from spec-fixtures/rootfs (scripts/engines/build-image.sh) and loaded into it,
// and, for containerd and Docker, a daemon started on a private socket. When the suite ends the
// scope removes every container and image, stops the daemon, unmounts whatever is left under
// the temp directory, removes the engine's cgroups and state directories, then the directory.
//
// A suite is skipped, with a message, when not root, when skiff or the rootfs is not built,
// or when the engine's binaries are not installed (.ci/run installs them).
//
// Environment:
//   SKIFF_BIN       the runtime the engines use (absolute path or a name on PATH); default
//                   <package root>/.build/release/skiff, then .build/debug/skiff
//   SKIFF_FIXTURES  spec-fixtures/ (default <package root>/spec-fixtures)
//   SKIFF_ENGINE_KEEP=1   keep the temp directory and daemon logs after the run (debugging)
import Foundation
import Glibc
import SkiffTestSupport
import Testing

// MARK: - Locations

enum EnginePaths {
    static var packageRoot: String { TestEnvironment.packageRoot }
    static var skiff: String { TestEnvironment.binary }
    static var fixtures: String { TestEnvironment.fixtures }
    static var buildImageScript: String { packageRoot + "/scripts/engines/build-image.sh" }
    static var searchPath: String { TestEnvironment.searchPath }
    static func which(_ name: String) -> String? { TestEnvironment.which(name) }

    /// Why the engine tests cannot run at all here, or nil.
    static var baseSkipReason: String? {
        if getuid() != 0 { return "engine tests need root" }
        if !FileManager.default.isExecutableFile(atPath: skiff) { return "skiff binary not found at \(skiff) (build it or set SKIFF_BIN)" }
        if !FileManager.default.fileExists(atPath: fixtures + "/rootfs/bin/busybox") {
            return "no busybox rootfs at \(fixtures)/rootfs (run scripts/build-rootfs.sh)"
        }
        return nil
    }

    /// nil when every binary is installed and the base requirements hold; else why not.
    static func skipReason(engine: String, binaries: [String]) -> String? {
        if let reason = baseSkipReason { return reason }
        let missing = binaries.filter { which($0) == nil }
        if !missing.isEmpty {
            return "\(engine) not installed (missing \(missing.joined(separator: ", "))); .ci/run installs it"
        }
        return nil
    }
}

// MARK: - Running commands with a deadline

struct CmdResult: CustomStringConvertible, Sendable {
    var command: String
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut = false
    var out: String { stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
    var err: String { stderr.trimmingCharacters(in: .whitespacesAndNewlines) }
    var lines: [String] { out.split(separator: "\n").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\r")) } }
    var description: String {
        "`\(command)`: status=\(status)\(timedOut ? " (TIMED OUT)" : "") stdout=\(stdout.debugDescription) stderr=\(stderr.debugDescription)"
    }
}

struct EngineError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func shellQuote(_ s: String) -> String {
    if !s.isEmpty, s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./:=,@%+".contains($0) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// How the engine tests start a command: `argv[0]` looked up on `EnginePaths.searchPath` (sbin
/// included) unless it is a path; the test process's environment with that PATH, without
/// NOTIFY_SOCKET, plus `env`. Engines leave daemons such as conmon and shims behind: the process
/// gets a process group of its own, killed as a whole at a deadline.
func startProcess(_ argv: [String], env: [String: String] = [:], stdoutPath: String, stderrPath: String) throws -> ChildProcess {
    let (executable, environment) = try engineCommand(argv, env: env)
    return try ChildProcess(executable, Array(argv.dropFirst()), environment: environment,
                            stdoutPath: stdoutPath, stderrPath: stderrPath, newProcessGroup: true)
}

/// The executable and environment `startProcess` and `run` give `argv`.
private func engineCommand(_ argv: [String], env: [String: String]) throws -> (executable: String, environment: [String: String]) {
    guard let first = argv.first else { throw EngineError("empty command") }
    let executable = first.contains("/") ? first : (EnginePaths.which(first) ?? first)
    var environment = ProcessInfo.processInfo.environment
    environment["PATH"] = EnginePaths.searchPath
    environment.removeValue(forKey: "NOTIFY_SOCKET")
    for (k, v) in env { environment[k] = v }
    return (executable, environment)
}

private let counter = Locked(0)

/// A lock-protected value.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// Runs a command to completion (stdin from `stdin` text, or /dev/null) with a deadline, as
/// `startProcess` starts it; its stdio files are made in `workDir` and removed. 127 when it
/// cannot be started.
func run(_ argv: [String], env: [String: String] = [:], stdin: String? = nil, timeout: TimeInterval = 60,
         workDir: String = NSTemporaryDirectory()) -> CmdResult {
    let command = argv.map(shellQuote).joined(separator: " ")
    do {
        let (executable, environment) = try engineCommand(argv, env: env)
        let r = ChildProcess.run(executable, Array(argv.dropFirst()), environment: environment, stdin: stdin,
                                 scratchDirectory: workDir, newProcessGroup: true, startFailureStatus: 127, timeout: timeout)
        return CmdResult(command: command, status: r.status, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut)
    } catch {
        return CmdResult(command: command, status: 127, stdout: "", stderr: "\(error)")
    }
}

/// Runs `argv` under a pseudo-terminal (util-linux `script`), for `-t` modes. The terminal is
/// set to `rows`x`cols` first. Returns the command's exit status (`script -e`) and its output
/// (the terminal transcript, with \r).
func runInTerminal(_ argv: [String], env: [String: String] = [:], input: String? = nil, rows: Int = 24, cols: Int = 80,
                   timeout: TimeInterval = 60, workDir: String = NSTemporaryDirectory()) -> CmdResult {
    let inner = "stty rows \(rows) cols \(cols) 2>/dev/null; exec " + argv.map(shellQuote).joined(separator: " ")
    var r = run(["script", "-qec", inner, "/dev/null"], env: env, stdin: input, timeout: timeout, workDir: workDir)
    r.command = "script -qec " + shellQuote(inner)
    r.stdout = r.stdout.replacingOccurrences(of: "\r", with: "")
    return r
}

/// Polls `condition` every 100 ms until it holds or `timeout` passes.
func waitUntil(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout * TestEnvironment.timeoutScale)
    while Date() < deadline {
        if condition() { return true }
        usleep(100_000)
    }
    return condition()
}

// MARK: - Scratch worlds, images and cleanup

enum Scratch {
    /// A fresh directory /tmp/skiff-eng-<tag>-XXXXXX (short: it holds unix sockets).
    static func makeDir(_ tag: String) throws -> String {
        var template = Array("/tmp/skiff-eng-\(tag)-XXXXXX".utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw EngineError("mkdtemp: \(String(cString: strerror(errno)))")
        }
        return String(cString: p)
    }

    /// Builds the busybox image archive (docker-archive + OCI layout in one tar) into `dir`.
    static func buildImage(into dir: String, ref: String = EngineImage.ref) throws -> String {
        let out = dir + "/busybox-image.tar"
        let r = run(["bash", EnginePaths.buildImageScript, out, ref], timeout: 120)
        guard r.status == 0, FileManager.default.fileExists(atPath: out) else {
            throw EngineError("building the image failed: \(r)")
        }
        return out
    }

    /// Mount points at or under `dir`, deepest first (from /proc/self/mountinfo).
    static func mounts(under dir: String) -> [String] {
        guard let info = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        var points: [String] = []
        for line in info.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { continue }
            let point = unescapeMountField(String(fields[4]))
            if point == dir || point.hasPrefix(dir + "/") { points.append(point) }
        }
        return points.reversed()
    }

    private static func unescapeMountField(_ s: String) -> String {
        var out = ""
        let chars = Array(s)
        var i = 0
        while i < chars.count {
            if chars[i] == "\\", i + 3 < chars.count, let v = UInt8(String(chars[(i + 1)...(i + 3)]), radix: 8) {
                out.append(Character(UnicodeScalar(v)))
                i += 4
            } else {
                out.append(chars[i])
                i += 1
            }
        }
        return out
    }

    /// Lazily detaches every mount under `dir`, then removes it (unless SKIFF_ENGINE_KEEP=1).
    static func remove(_ dir: String) {
        for _ in 0..<3 {
            let points = mounts(under: dir)
            if points.isEmpty { break }
            for p in points { umount2(p, Int32(MNT_DETACH)) }
        }
        if ProcessInfo.processInfo.environment["SKIFF_ENGINE_KEEP"] == "1" {
            print("engine tests: keeping \(dir)")
            return
        }
        // Overlay work dirs may hold d--------- entries; rm -rf copes with those.
        _ = run(["rm", "-rf", "--one-file-system", dir], timeout: 120, workDir: "/tmp")
    }

    /// Removes the cgroup directory `relative` (e.g. "skiff-eng-ns") in every hierarchy,
    /// deepest first: only empty cgroups go away (rmdir), so nothing live is touched.
    static func removeCgroups(_ relative: String) {
        let roots = ["/sys/fs/cgroup"] + ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [])
            .map { "/sys/fs/cgroup/\($0)" }
        for root in roots {
            let top = root + "/" + relative
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: top, isDirectory: &isDir), isDir.boolValue else { continue }
            var dirs = [top]
            if let e = FileManager.default.enumerator(atPath: top) {
                for case let sub as String in e {
                    var d: ObjCBool = false
                    let full = top + "/" + sub
                    if FileManager.default.fileExists(atPath: full, isDirectory: &d), d.boolValue { dirs.append(full) }
                }
            }
            for d in dirs.sorted(by: { $0.count > $1.count }) { rmdir(d) }
        }
    }
}

enum EngineImage {
    static let ref = "localhost/busybox:skiff"
}

extension CmdResult {
    /// stdout and stderr together (some engines print errors on stdout).
    var combined: String { stdout + stderr }
}

// MARK: - Suite-level scope

/// An engine's private world for one suite run.
protocol EngineWorld: Sendable {
    /// Sets up the engine (directories, daemon, image). Throws if it cannot.
    static func start() async throws -> Self
    /// The task-local the suite's tests read the world from (`$current` of an `@TaskLocal`).
    static var slot: TaskLocal<Self?> { get }
    /// Removes containers and images, stops daemons, removes everything it made.
    func stop() async
}

/// A suite trait that sets the world up once before the suite's tests and tears it down once
/// after them (a non-recursive `TestScoping` suite trait), publishing it in `slot`.
struct EngineScope<World: EngineWorld>: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let world = try await World.start()
        do {
            try await World.slot.withValue(world) { try await function() }
        } catch {
            await world.stop()
            throw error
        }
        await world.stop()
    }
}

/// The world the current test runs in; fails the test when there is none.
func currentWorld<World: EngineWorld>(_ type: World.Type, sourceLocation: SourceLocation = #_sourceLocation) throws -> World {
    try #require(World.slot.get(), "engine world not set up (suite scope trait missing?)", sourceLocation: sourceLocation)
}

/// A unique, short container name for this process.
func uniqueName(_ prefix: String) -> String {
    let n = counter.withLock { c -> Int in c += 1; return c }
    return "\(prefix)-\(getpid())-\(n)"
}

/// The shell snippet that prints a memory and pids limit from inside a container, on a cgroup
/// v1 or v2 host: "<memory bytes> <pids max>".
let cgroupLimitsScript = """
    m=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max); \
    p=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max); echo "$m $p"
    """

/// Prints the terminal's size ("rows cols") once the engine has set it: containerd and Docker
/// resize the pty only after the container started, so poll up to 5 s.
let waitSizeScript = "i=0; while [ $i -lt 50 ]; do s=$(stty size 2>/dev/null); case \"$s\" in [1-9]*) break;; esac; i=$((i+1)); sleep 0.1; done; echo \"size=$s\""

/// Reads skiff's own view of a container (`skiff --root ROOT state ID`): proves the engine
/// really used skiff, not runc. Returns the "status" field, or nil.
func skiffStatus(root: String?, id: String) -> String? {
    var argv = [EnginePaths.skiff]
    if let root { argv += ["--root", root] }
    argv += ["state", id]
    let r = run(argv, timeout: 20)
    guard r.status == 0, let data = r.stdout.data(using: .utf8),
          let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
    return obj["status"] as? String
}
