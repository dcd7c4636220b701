// skiff's per-feature conformance suite: one bundle per config.json feature under
// spec-fixtures/conformance/<feature>/ (config.json + expect.json, see spec-fixtures/README.md).
// Each fixture runs in a private temp dir (config.json copied, `cp -al` of spec-fixtures/rootfs,
// private --root) and is compared with its expect.json. `conformanceTable` prints
// feature | expected | observed | PASS/FAIL for every fixture and expects every row to pass;
// `fixture(_:)` is the same check, one test case per fixture.
//
// Environment: SKIFF_BIN (default <package>/.build/release/skiff, then debug),
// SKIFF_FIXTURES (default <package>/spec-fixtures). Root only.
import Foundation
import Glibc
import SkiffTestSupport
import Testing

enum ConformancePaths {
    static var binary: String { TestEnvironment.binary }
    static var fixtures: String { TestEnvironment.fixtures }

    static var conformance: String { fixtures + "/conformance" }
    static var rootfs: String { fixtures + "/rootfs" }

    static var ready: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: binary)
            && FileManager.default.fileExists(atPath: rootfs + "/bin/busybox")
    }

    /// Every spec-fixtures/conformance/<name>/ holding an expect.json, sorted.
    static var fixtureNames: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: conformance)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: "\(conformance)/\($0)/expect.json") }.sorted()
    }
}

// MARK: - expect.json

/// spec-fixtures/conformance/<name>/expect.json (keys described in spec-fixtures/README.md).
struct Expectation {
    var feature: String
    var spec: String?
    var run: Bool
    var exit: Int32
    var stdoutContains: [String]
    var stdoutNotContains: [String]
    var createErrorContains: String?
    var stateContains: [String]
    var nsUnshared: [String]
    var nsShared: [String]
    var hostAbsent: [String]
    /// Host files (`$BUNDLE/` = the private bundle dir) that must exist after the container is
    /// deleted and contain each string: what host-side hooks (poststop) wrote.
    var hostFileContains: [String: [String]]
    /// Why the expectation holds only on a cgroup v1/hybrid host; skipped on pure cgroup v2.
    var cgroupV1Only: String?
    /// Why the expectation holds only on a pure cgroup v2 host (the v2 variants of the
    /// `cgroup_v1_only` fixtures); skipped elsewhere.
    var cgroupV2Only: String?

    init(_ json: [String: Any], name: String) {
        // `host_has_any`: the expectation holds on hosts where one of these paths exists; on
        // other hosts `otherwise` (a partial expect object, usually a create error naming the
        // field) replaces the keys it gives. A host-dependent feature is checked on every host.
        var json = json
        if let paths = json["host_has_any"] as? [String], !paths.contains(where: { FileManager.default.fileExists(atPath: $0) }),
           let other = json["otherwise"] as? [String: Any] {
            for key in ["run", "exit", "stdout_contains", "stdout_not_contains", "create_error_contains", "state_contains"] {
                json[key] = other[key]
            }
        }
        feature = json["feature"] as? String ?? name
        spec = json["spec"] as? String
        run = json["run"] as? Bool ?? false
        exit = Int32((json["exit"] as? NSNumber)?.intValue ?? 0)
        stdoutContains = json["stdout_contains"] as? [String] ?? []
        stdoutNotContains = json["stdout_not_contains"] as? [String] ?? []
        createErrorContains = json["create_error_contains"] as? String
        stateContains = json["state_contains"] as? [String] ?? []
        nsUnshared = json["ns_unshared"] as? [String] ?? []
        nsShared = json["ns_shared"] as? [String] ?? []
        hostAbsent = json["host_absent"] as? [String] ?? []
        hostFileContains = json["host_file_contains"] as? [String: [String]] ?? [:]
        cgroupV1Only = json["cgroup_v1_only"] as? String
        cgroupV2Only = json["cgroup_v2_only"] as? String
    }

    /// One-line summary for the table.
    var summary: String {
        if run {
            var parts = ["exit \(exit)"]
            if !stdoutContains.isEmpty { parts.append("out ~ \(stdoutContains.map(\.debugDescription).joined(separator: ","))") }
            if !nsUnshared.isEmpty { parts.append("new ns \(nsUnshared.joined(separator: ","))") }
            if !nsShared.isEmpty { parts.append("host ns \(nsShared.joined(separator: ","))") }
            for path in hostFileContains.keys.sorted() {
                parts.append("\((path as NSString).lastPathComponent) ~ \(hostFileContains[path]!.map(\.debugDescription).joined(separator: ","))")
            }
            return parts.joined(separator: "; ")
        }
        if !stateContains.isEmpty { return "created; state ~ \(stateContains.joined(separator: ","))" }
        return "create fails ~ \(createErrorContains.map(\.debugDescription) ?? "")"
    }
}

struct FixtureResult: Sendable {
    var name: String
    var feature: String
    var expected: String
    var observed: String
    var failures: [String]
    var passed: Bool { failures.isEmpty }
}

func hostNamespaceLink(_ type: String) -> String {
    var buf = [CChar](repeating: 0, count: 256)
    let n = readlink("/proc/self/ns/\(type)", &buf, 255)
    guard n > 0 else { return "" }
    return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

func oneLine(_ text: String, limit: Int = 70) -> String {
    let flat = text.trimmingCharacters(in: .whitespacesAndNewlines)
        .replacingOccurrences(of: "\n", with: "⏎").replacingOccurrences(of: "\t", with: " ")
        .replacingOccurrences(of: "|", with: "¦")
    return flat.count > limit ? String(flat.prefix(limit)) + "…" : flat
}

/// Runs one fixture in a private temp dir and compares it with its expect.json.
func runFixture(_ name: String) -> FixtureResult {
    let source = "\(ConformancePaths.conformance)/\(name)"
    guard let data = FileManager.default.contents(atPath: "\(source)/expect.json"),
          let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
        return FixtureResult(name: name, feature: name, expected: "?", observed: "unreadable expect.json", failures: ["\(name): cannot parse expect.json"])
    }
    let expect = Expectation(json, name: name)
    let pureV2 = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
    if let why = expect.cgroupV1Only, pureV2 {
        return FixtureResult(name: name, feature: expect.feature, expected: expect.summary,
                             observed: "skipped (pure cgroup v2 host): \(why)", failures: [])
    }
    if let why = expect.cgroupV2Only, !pureV2 {
        return FixtureResult(name: name, feature: expect.feature, expected: expect.summary,
                             observed: "skipped (not a pure cgroup v2 host): \(why)", failures: [])
    }
    var failures: [String] = []
    var observed = ""
    func fail(_ message: String) { failures.append("\(name): \(message)") }

    var template = Array("/tmp/skiff-conf-XXXXXX".utf8CString)
    guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
        return FixtureResult(name: name, feature: expect.feature, expected: expect.summary, observed: "mkdtemp failed", failures: ["\(name): mkdtemp errno \(errno)"])
    }
    let dir = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    chmod(dir, 0o755)  // user-namespace containers must traverse it
    let bundle = dir + "/bundle", root = dir + "/root"
    let id = "conf-\(String(UInt32.random(in: 0..<UInt32.max), radix: 36))-\(name.prefix(40))"
    defer {
        _ = ChildProcess.run(ConformancePaths.binary, ["--root", root, "delete", "--force", id], scratchDirectory: dir, timeout: 20)
        _ = ChildProcess.run("/bin/rm", ["-rf", "--one-file-system", dir], scratchDirectory: "/tmp", timeout: 60)
    }
    do {
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(source)/config.json", toPath: "\(bundle)/config.json")
    } catch {
        return FixtureResult(name: name, feature: expect.feature, expected: expect.summary, observed: "setup failed", failures: ["\(name): \(error)"])
    }
    let cp = ChildProcess.run("/bin/cp", ["-al", ConformancePaths.rootfs, bundle + "/rootfs"], scratchDirectory: dir, timeout: 60)
    guard cp.status == 0 else {
        return FixtureResult(name: name, feature: expect.feature, expected: expect.summary, observed: "cp -al failed", failures: ["\(name): cp -al: \(cp.stderr)"])
    }
    // stdio on files in the fixture's dir (a container may keep inherited pipes open).
    func skiff(_ args: [String]) -> ProcessResult {
        ChildProcess.run(ConformancePaths.binary, ["--root", root] + args, scratchDirectory: dir, timeout: 30)
    }

    if expect.run {
        let r = skiff(["run", "-b", bundle, id])
        observed = "exit \(r.status)\(r.timedOut ? " (TIMEOUT)" : ""): \(oneLine(r.stdout + (r.status == expect.exit ? "" : " " + r.stderr)))"
        if r.timedOut { fail("timed out") }
        if r.status != expect.exit { fail("exit \(r.status), expected \(expect.exit); stderr: \(r.stderr)") }
        for s in expect.stdoutContains where !r.stdout.contains(s) { fail("stdout lacks \(s.debugDescription): \(r.stdout.debugDescription)") }
        for s in expect.stdoutNotContains where r.stdout.contains(s) { fail("stdout contains \(s.debugDescription): \(r.stdout.debugDescription)") }
        for ns in expect.nsUnshared {
            let host = hostNamespaceLink(ns)
            if host.isEmpty || !r.stdout.contains("\(ns):[") || r.stdout.contains(host) { fail("\(ns) namespace is not new (host \(host)): \(r.stdout.debugDescription)") }
        }
        for ns in expect.nsShared {
            let host = hostNamespaceLink(ns)
            if host.isEmpty || !r.stdout.contains(host) { fail("\(ns) namespace is not the host's (\(host)): \(r.stdout.debugDescription)") }
        }
    } else if !expect.stateContains.isEmpty {
        let c = skiff(["create", "-b", bundle, id])
        if c.status != 0 {
            observed = "create exit \(c.status): \(oneLine(c.stderr))"
            fail("create failed: \(c.stderr)")
        } else {
            let s = skiff(["state", id])
            observed = "state: \(oneLine(s.stdout.split(separator: "\n").filter { l in expect.stateContains.contains { l.contains($0) } }.joined(separator: " ")))"
            if s.status != 0 { fail("state failed: \(s.stderr)") }
            for want in expect.stateContains where !s.stdout.contains(want) { fail("state lacks \(want.debugDescription): \(s.stdout)") }
        }
        let d = skiff(["delete", "--force", id])
        if d.status != 0 { fail("delete --force failed: \(d.stderr)") }
    } else {
        let c = skiff(["create", "-b", bundle, id])
        observed = "create exit \(c.status)\(c.timedOut ? " (TIMEOUT)" : ""): \(oneLine(c.stderr))"
        if c.status == 0 { fail("create succeeded, expected an error") }
        if let want = expect.createErrorContains, !c.stderr.contains(want) {
            fail("error lacks \(want.debugDescription): \(c.stderr.debugDescription)")
        }
    }

    // Nothing may be left: no state dir under --root, no processes of the container, no cgroup dirs.
    _ = skiff(["delete", "--force", id])
    let deadline = Date().addingTimeInterval(5 * TestEnvironment.timeoutScale)
    var left: [String] = []
    repeat {
        left = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { !$0.hasPrefix(".") }.map { "state \(root)/\($0)" }
        left += expect.hostAbsent.filter { FileManager.default.fileExists(atPath: $0) }
        left += processesMentioning(id).map { "process \($0)" }
        if left.isEmpty { break }
        usleep(50_000)
    } while Date() < deadline
    if !left.isEmpty { fail("left behind: \(left)") }
    // Files host-side hooks wrote, checked once the container is gone (poststop has run).
    for path in expect.hostFileContains.keys.sorted() {
        let file = path.replacingOccurrences(of: "$BUNDLE", with: bundle)
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            observed += "; no \((path as NSString).lastPathComponent)"
            fail("host file \(file) is missing")
            continue
        }
        observed += "; \((path as NSString).lastPathComponent): \(oneLine(text, limit: 40))"
        for want in expect.hostFileContains[path]! where !text.contains(want) {
            fail("host file \(file) lacks \(want.debugDescription): \(text.debugDescription)")
        }
    }
    return FixtureResult(name: name, feature: expect.feature, expected: expect.summary, observed: observed, failures: failures)
}

/// Host pids (not zombies) whose command line or cgroup path names `token`.
func processesMentioning(_ token: String) -> [Int] {
    let me = Int(getpid())
    var result: [Int] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = Int(entry), pid != me else { continue }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        if stat.contains(") Z ") || stat.isEmpty { continue }
        let cmd = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map { String(decoding: $0.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self) } ?? ""
        let cgroup = (try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)) ?? ""
        if cmd.contains(token) || cgroup.split(separator: "\n").contains(where: { $0.hasSuffix("/\(token)") }) { result.append(pid) }
    }
    return result
}

func renderTable(_ results: [FixtureResult]) -> String {
    var lines = ["| feature | expected | observed | result |", "|---|---|---|---|"]
    for r in results {
        lines.append("| \(r.feature) | \(oneLine(r.expected, limit: 90)) | \(oneLine(r.observed, limit: 90)) | \(r.passed ? "PASS" : "FAIL") |")
    }
    let passed = results.filter(\.passed).count
    lines.append("")
    lines.append("conformance: \(passed)/\(results.count) fixtures pass")
    return lines.joined(separator: "\n")
}

// MARK: - Tests

@Suite("Conformance (spec-fixtures/conformance)", .serialized, .enabled(if: ConformancePaths.ready, "needs root, the skiff binary and spec-fixtures/rootfs"))
struct ConformanceTests {
    /// Every fixture, one test case each.
    @Test(arguments: ConformancePaths.fixtureNames)
    func fixture(_ name: String) {
        let result = runFixture(name)
        #expect(result.passed, "\(result.failures.joined(separator: "\n"))")
    }

    /// Runs every fixture, prints the table, then expects every row to pass.
    @Test func conformanceTable() {
        let names = ConformancePaths.fixtureNames
        #expect(!names.isEmpty, "no fixtures under \(ConformancePaths.conformance)")
        let results = names.map(runFixture)
        print(renderTable(results))
        for r in results {
            #expect(r.passed, "\(r.feature): \(r.failures.joined(separator: "\n"))")
        }
    }
}
