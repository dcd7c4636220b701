// Shared by the integration, conformance and engine test targets: where the skiff binary and
// spec-fixtures are, and the unprivileged user the rootless tests run skiff as.
//
// Environment:
//   SKIFF_BIN       the runtime to test (absolute path, path relative to the working directory,
//                   or a name on PATH); default <package root>/.build/release/skiff, then
//                   .build/debug/skiff
//   SKIFF_FIXTURES  spec-fixtures/ (default <package root>/spec-fixtures)
//   SKIFF_TEST_TIMEOUT_SCALE  factor (>= 1, default 1) for every deadline the tests wait with
//                   (child processes, waitUntil): scripts/vm/test.sh sets it for the emulated VM,
//                   where everything runs ~10-20x slower. Deadlines only; no assertion is on time.
import Foundation
import Glibc

public enum TestEnvironment {
    /// Package root: three levels above this file (Tests/SkiffTestSupport/TestEnvironment.swift).
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The caller's PATH plus the sbin directories (dockerd, containerd and runc helpers live
    /// there on Debian).
    public static let searchPath: String = {
        var dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for d in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] where !dirs.contains(d) {
            dirs.append(d)
        }
        return dirs.joined(separator: ":")
    }()

    public static func which(_ name: String) -> String? {
        for dir in searchPath.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    public static let binary: String = {
        if let bin = ProcessInfo.processInfo.environment["SKIFF_BIN"], !bin.isEmpty {
            if bin.contains("/") { return absolute(bin) }
            return which(bin) ?? bin
        }
        for config in ["release", "debug"] {
            let candidate = "\(packageRoot)/.build/\(config)/skiff"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "\(packageRoot)/.build/release/skiff"
    }()

    /// SKIFF_TEST_TIMEOUT_SCALE (see above).
    public static let timeoutScale: Double = {
        guard let text = ProcessInfo.processInfo.environment["SKIFF_TEST_TIMEOUT_SCALE"],
              let value = Double(text), value.isFinite, value >= 1 else { return 1 }
        return min(value, 100)
    }()

    public static let fixtures: String = {
        if let dir = ProcessInfo.processInfo.environment["SKIFF_FIXTURES"], !dir.isEmpty { return absolute(dir) }
        return "\(packageRoot)/spec-fixtures"
    }()
}

/// The unprivileged user the rootless tests run skiff as (`skiff-rootless`), created on first
/// use with /etc/subuid and /etc/subgid ranges (useradd adds one only when login.defs asks).
public struct RootlessTestUser: Sendable {
    public static let name = "skiff-rootless"
    public var uid: Int
    public var gid: Int
    /// First id of its /etc/subuid (and /etc/subgid) range.
    public var subStart: Int

    public static let shared: Result<RootlessTestUser, RootlessUserError> = {
        func sh(_ script: String) -> (status: Int32, out: String) { runShell(script) }
        if sh("id -u \(name)").status != 0 {
            let made = sh("useradd --no-create-home --shell /bin/sh \(name) 2>&1")
            if made.status != 0 { return .failure(RootlessUserError("useradd \(name): \(made.out)")) }
        }
        for file in ["/etc/subuid", "/etc/subgid"] {
            let r = sh("grep -q '^\(name):' \(file) 2>/dev/null || echo '\(name):600000:65536' >> \(file)")
            if r.status != 0 { return .failure(RootlessUserError("\(file): \(r.out)")) }
        }
        let ids = sh("id -u \(name); id -g \(name); grep '^\(name):' /etc/subuid | head -1 | cut -d: -f2")
            .out.split(separator: "\n").compactMap { Int($0) }
        guard ids.count == 3 else { return .failure(RootlessUserError("cannot read the ids of \(name)")) }
        return .success(RootlessTestUser(uid: ids[0], gid: ids[1], subStart: ids[2]))
    }()
}

public struct RootlessUserError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// `/bin/sh -c script` to completion: exit status and stdout (stderr goes to the test's).
func runShell(_ script: String) -> (status: Int32, out: String) {
    let outPath = NSTemporaryDirectory() + "skiff-test-sh-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))"
    defer { unlink(outPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let argv: [UnsafeMutablePointer<CChar>?] = [String]([ "/bin/sh", "-c", script]).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, "/bin/sh", &actions, nil, argv, environ) == 0 else { return (-1, "") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    return ((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f), out)
}
