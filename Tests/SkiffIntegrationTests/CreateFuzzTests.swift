import Foundation
import Glibc
import Testing

// Issue 13, fuzz target (b): mutated bundles through `create` + `delete -f`.
//
// Each iteration mutates config.json of the sleep fixture (seeded, reproducible) and asserts:
// create exits 0 or 1 (never a signal, never a timeout), a failure says something, delete -f
// exits 0, and nothing is left: no state dir, no cgroup dir, no mount under the bundle, no
// process. The mutator leaves alone what would make a fuzz run touch the host itself: the
// rootfs path, the namespaces (a config without a mount or network namespace would mount or
// set sysctls on the host), hooks (host programs) and cgroupsPath (an existing host cgroup).
//
// Environment:
//   SKIFF_CREATE_FUZZ_ITERATIONS  how many (default 300: the CI slice, under a minute here)
//   SKIFF_CREATE_FUZZ_SEED        the first seed (default 1); iteration i uses seed+i
//   SKIFF_CREATE_FUZZ_KEEP        a directory: each failing case is saved there as
//                                 <seed>/config.json + reason.txt (scripts/fuzz-create-campaign.sh)
// Saved cases under spec-fixtures/fuzz-create/ are replayed on every run.

/// SplitMix64: small, seedable, the same sequence on every platform.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// Mutations of a config.json document (Foundation JSON objects), deterministic for a seed.
enum ConfigMutator {
    enum Step: CustomStringConvertible {
        case key(String), index(Int)
        var description: String {
            switch self {
            case .key(let k): return k
            case .index(let i): return "[\(i)]"
            }
        }
    }

    /// Top-level paths the mutator never touches (see the file comment).
    static let protected: [[String]] = [["root"], ["linux", "namespaces"], ["hooks"], ["linux", "cgroupsPath"],
                                        ["linux", "uidMappings"], ["linux", "gidMappings"]]

    static let keys = ["uid", "gid", "additionalGids", "umask", "type", "source", "destination", "options", "path",
                       "size", "limit", "swap", "reservation", "shares", "quota", "period", "cpus", "mems", "major",
                       "minor", "access", "allow", "soft", "hard", "oomScoreAdj", "noNewPrivileges", "apparmorProfile",
                       "selinuxLabel", "ioPriority", "scheduler", "personality", "timeOffsets", "rootfsPropagation",
                       "maskedPaths", "readonlyPaths", "sysctl", "seccomp", "devices", "resources", "mountLabel",
                       "consoleSize", "terminal", "rlimits", "capabilities", "env", "args", "cwd", "hostname",
                       "domainname", "annotations", "memory", "cpu", "pids", "blockIO", "hugepageLimits", "network",
                       "unified", "weight", "leafWeight", "weightDevice", "throttleReadBpsDevice", "pageSize",
                       "defaultAction", "syscalls", "names", "action", "architectures", "flags", "class", "priority",
                       "bounding", "effective", "permitted", "ambient", "inheritable", "fileMode", "ociVersion",
                       "uidMappings", "containerID", "hostID", "recursive", "realtimeRuntime", "idle", "kernel",
                       "kernelTCP", "swappiness", "disableOOMKiller", "checkBeforeUpdate", "user", "process", "linux",
                       "mounts", "x-unknown"]

    static func interesting(_ rng: inout SplitMix64) -> Any {
        let values: [Any] = [
            0, 1, -1, 2, 255, 256, 1024, 65535, 65536, 4294967295, 4294967296, Int(Int32.max), Int(Int32.min),
            Int64.max, Int64.min, NSNumber(value: UInt64.max), 9223372036854775, -9223372036854775, 1e308, -0.5, 0.5,
            "", "a", "/", "..", "../../../../", "/proc/self/fd/0", "/dev/zero", "a\u{0}b", "\n\u{1b}[31mred",
            String(repeating: "A", count: 4097), "rbind", "ro", "nosuid", "bind", "tmpfs", "proc", "sysfs", "mqueue",
            "RLIMIT_NOFILE", "CAP_SYS_ADMIN", "CAP_BOGUS", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "rwm", "c", "b", "u", "p",
            "private", "rshared", "1-0", "0-1", "max", "-", "%s%n", "\u{FEFF}", "é", true, false, NSNull(),
            [Any](), [String: Any](), ["x"], [0, 1], ["type": "tmpfs", "destination": "/x", "source": "tmpfs"] as [String: Any],
            ["type": "bind", "destination": "/x", "source": "/tmp", "options": ["rbind"]] as [String: Any],
            ["path": "/dev/fz", "type": "c", "major": 1, "minor": 3] as [String: Any],
            ["type": "RLIMIT_NPROC", "hard": -1, "soft": NSNumber(value: UInt64.max)] as [String: Any],
        ]
        return rng.pick(values)
    }

    static let strings = ["", "a", "/", "..", "../../../../", "/proc/self/fd/0", "/dev/zero", "a\u{0}b", "\n\u{1b}[31mred",
                          String(repeating: "A", count: 4097), "rbind", "ro", "rw", "nosuid", "bind", "tmpfs", "proc", "sysfs",
                          "mqueue", "cgroup", "devpts", "RLIMIT_NOFILE", "RLIMIT_BOGUS", "CAP_SYS_ADMIN", "CAP_BOGUS",
                          "SCMP_ACT_ERRNO", "rwm", "c", "b", "u", "p", "private", "rshared", "rslave", "unbindable", "1-0",
                          "0-1", "max", "-", "%s%n", "\u{FEFF}", "é", "/dev/null", "/proc", "/sys", "/tmp/x", "size=1",
                          "mode=7777", "uid=4294967295", "nr_inodes=0", "recursive", "idmap", "PATH=", "=", "x=y"]
    static var objects: [Any] { [
        ["type": "tmpfs", "destination": "/x", "source": "tmpfs"] as [String: Any],
        ["type": "bind", "destination": "/x", "source": "/tmp", "options": ["rbind", "ro"]] as [String: Any],
        ["type": "proc", "destination": "/proc/sys", "source": "proc"] as [String: Any],
        ["path": "/dev/fz", "type": "c", "major": 1, "minor": 3] as [String: Any],
        ["type": "RLIMIT_NPROC", "hard": 0, "soft": 0] as [String: Any],
        ["allow": true, "access": "rwm", "type": "a"] as [String: Any],
    ] }
    static let numericKeys: Set<String> = ["uid", "gid", "umask", "size", "limit", "swap", "reservation", "shares", "quota",
                                           "period", "major", "minor", "soft", "hard", "oomScoreAdj", "weight", "leafWeight",
                                           "containerID", "hostID", "realtimeRuntime", "kernel", "kernelTCP", "swappiness",
                                           "fileMode", "priority", "timeout"]
    static let boolKeys: Set<String> = ["allow", "noNewPrivileges", "terminal", "disableOOMKiller", "checkBeforeUpdate",
                                        "recursive", "idle", "readonly"]
    static let arrayKeys: Set<String> = ["additionalGids", "options", "maskedPaths", "readonlyPaths", "devices", "rlimits",
                                         "env", "args", "bounding", "effective", "permitted", "ambient", "inheritable",
                                         "hugepageLimits", "weightDevice", "throttleReadBpsDevice", "syscalls", "names",
                                         "architectures", "flags", "uidMappings", "mounts"]

    /// A value of the type `key` usually has, from the interesting ones.
    static func typedValue(for key: String, _ rng: inout SplitMix64) -> Any {
        if numericKeys.contains(key) {
            return rng.pick([0, 1, -1, 4294967295, 4294967296, Int64.max, Int64.min, NSNumber(value: UInt64.max), 9223372036854775,
                             1 << 20] as [Any])
        }
        if boolKeys.contains(key) { return rng.below(2) == 0 }
        if arrayKeys.contains(key) {
            if rng.below(2) == 0 { return [rng.pick(strings)] as [Any] }
            return [rng.pick(objects)] as [Any]
        }
        if rng.below(5) == 0 { return interesting(&rng) }
        return rng.pick(strings)
    }

    static func mutateString(_ s: String, _ rng: inout SplitMix64) -> String {
        switch rng.below(7) {
        case 0: return s + s
        case 1: return String(s.reversed())
        case 2: return "/../" + s
        case 3: return s + "\u{0}"
        case 4: return String(s.prefix(rng.below(s.count + 1)))
        case 5: return s + "/" + String(repeating: "x", count: 1 + rng.below(300))
        default: return s.uppercased()
        }
    }

    /// Every path in the document (keys sorted, so the choice depends on the seed alone).
    static func paths(_ value: Any, _ prefix: [Step] = []) -> [[Step]] {
        var result: [[Step]] = prefix.isEmpty ? [] : [prefix]
        if let o = value as? [String: Any] {
            for k in o.keys.sorted() { result += paths(o[k]!, prefix + [.key(k)]) }
        } else if let a = value as? [Any] {
            for (i, v) in a.enumerated() { result += paths(v, prefix + [.index(i)]) }
        }
        return result.filter { path in
            let keys = path.compactMap { if case .key(let k) = $0 { return k } else { return nil } }
            return !protected.contains { p in keys.count >= p.count && Array(keys.prefix(p.count)) == p && path.count >= p.count }
        }
    }

    static func get(_ value: Any, _ path: ArraySlice<Step>) -> Any? {
        guard let first = path.first else { return value }
        switch first {
        case .key(let k): return (value as? [String: Any])?[k].flatMap { get($0, path.dropFirst()) }
        case .index(let i):
            guard let a = value as? [Any], i < a.count else { return nil }
            return get(a[i], path.dropFirst())
        }
    }

    /// Applies `change` to the value at `path` (nil from change: remove it).
    static func update(_ value: Any, _ path: ArraySlice<Step>, _ change: (Any) -> Any?) -> Any? {
        guard let first = path.first else { return change(value) }
        switch first {
        case .key(let k):
            guard var o = value as? [String: Any], let child = o[k] else { return value }
            o[k] = update(child, path.dropFirst(), change)
            return o
        case .index(let i):
            guard var a = value as? [Any], i < a.count else { return value }
            if let v = update(a[i], path.dropFirst(), change) { a[i] = v } else { a.remove(at: i) }
            return a
        }
    }

    /// `count` mutations; returns the new document and what was done (for the report).
    static func mutate(_ document: [String: Any], seed: UInt64, count: Int) -> ([String: Any], [String]) {
        var rng = SplitMix64(seed: seed)
        var doc: Any = document
        var log: [String] = []
        for _ in 0..<count {
            let all = paths(doc)
            guard !all.isEmpty else { break }
            let path = rng.pick(all)
            let name = path.map(\.description).joined(separator: ".")
            let roll = rng.below(100)
            doc = update(doc, path[...]) { old in
                if roll < 8 {
                    log.append("remove \(name)")
                    return nil
                }
                if roll < 15 {
                    // Same value, wrong type.
                    let new: Any = old is String ? 7 : (old is [Any] ? ["k": old] as [String: Any] : "\(old)")
                    log.append("\(name) retyped")
                    return new
                }
                // Type-preserving: the config still decodes, so create itself is exercised.
                let new: Any
                switch old {
                case let b as Bool where old is Bool:
                    new = !b
                case let n as NSNumber:
                    new = rng.pick([n.int64Value &+ 1, n.int64Value &- 1, -n.int64Value, n.int64Value &* 4096, 0, 1, -1,
                                    4294967295, 4294967296, Int64(Int32.max), Int64.max, Int64.min, NSNumber(value: UInt64.max),
                                    9223372036854775, 1 << 40] as [Any])
                case let text as String:
                    new = rng.below(2) == 0 ? mutateString(text, &rng) : rng.pick(strings)
                case var a as [Any]:
                    switch rng.below(4) {
                    case 0 where !a.isEmpty: a.remove(at: rng.below(a.count))
                    case 1 where !a.isEmpty: a.append(a[rng.below(a.count)])
                    case 2: a = []
                    default:
                        if let first = a.first, first is String { a.append(rng.pick(strings)) }
                        else if a.first is [String: Any] { a.append(rng.pick(objects)) }
                        else { a.append(interesting(&rng)) }
                    }
                    new = a
                case var o as [String: Any]:
                    let key = rng.pick(keys)
                    o[key] = typedValue(for: key, &rng)
                    new = o
                default:
                    new = interesting(&rng)
                }
                log.append("\(name) = \(String(describing: new).prefix(100))")
                return new
            } ?? [String: Any]()
        }
        return (sanitize(doc as? [String: Any] ?? [:], baseline: document), log)
    }

    /// Puts back what must not change (see `protected`), whichever mutation removed or
    /// replaced an enclosing object: the baseline's root, namespaces, cgroupsPath and id
    /// mappings; never hooks.
    static func sanitize(_ doc: [String: Any], baseline: [String: Any]) -> [String: Any] {
        var doc = doc
        doc["root"] = baseline["root"]
        doc["hooks"] = nil
        let base = baseline["linux"] as? [String: Any] ?? [:]
        guard var linux = doc["linux"] as? [String: Any] else {
            doc["linux"] = base
            return doc
        }
        for key in ["namespaces", "cgroupsPath", "uidMappings", "gidMappings"] { linux[key] = base[key] }
        doc["linux"] = linux
        return doc
    }
}

extension Integration {
    @Suite struct CreateFuzz {
        static var iterations: Int { Int(ProcessInfo.processInfo.environment["SKIFF_CREATE_FUZZ_ITERATIONS"] ?? "") ?? 300 }
        static var seed: UInt64 { UInt64(ProcessInfo.processInfo.environment["SKIFF_CREATE_FUZZ_SEED"] ?? "") ?? 1 }
        static var keep: String? { ProcessInfo.processInfo.environment["SKIFF_CREATE_FUZZ_KEEP"] }
        /// SKIFF_CREATE_FUZZ_VERBOSE=1: print every case's mutations and create's answer.
        static var verbose: Bool { ProcessInfo.processInfo.environment["SKIFF_CREATE_FUZZ_VERBOSE"] == "1" }

        /// One case through create + delete -f; the problems found (empty: fine).
        static func exercise(_ h: Harness, bundle: Bundle, config: Data, id: String) -> (problems: [String], created: Bool) {
            var problems: [String] = []
            do { try config.write(to: URL(fileURLWithPath: bundle.configPath)) } catch {
                return (["cannot write config: \(error)"], false)
            }
            let c = h.skiff(args: ["create", "-b", bundle.path, id], timeout: 30)
            if c.timedOut { problems.append("create timed out") }
            if c.status != 0 && c.status != 1 { problems.append("create exited \(c.status) (signal or crash): \(c.stderr.prefix(2000))") }
            if c.status == 1 && c.err.isEmpty { problems.append("create failed without a message") }
            if verbose { print("  create \(c.status): \(c.err.prefix(300))") }
            if c.stderr.contains("Fatal error") || c.stderr.contains("Stack dump") { problems.append("create trapped: \(c.stderr.prefix(2000))") }
            let d = h.skiff(args: ["delete", "-f", id], timeout: 30)
            if d.timedOut || d.status != 0 { problems.append("delete -f: \(d)") }
            var left: [String] = []
            waitUntil(timeout: 5) {
                left = h.leftovers(id) + mountPoints(under: bundle.path).map { "mount \($0)" }
                return left.isEmpty
            }
            if !left.isEmpty { problems.append("left behind: \(left)") }
            return (problems, c.status == 0)
        }

        /// Removes what a failed case left, so the next one starts clean.
        static func scrub(_ h: Harness, id: String, bundle: Bundle) {
            for pid in h.processes(mentioning: id) { kill(pid_t(pid), SIGKILL) }
            for mount in mountPoints(under: bundle.path).sorted(by: { $0.count > $1.count }) { umount2(mount, Int32(MNT_DETACH)) }
            for cg in h.cgroupDirs(id) where fileExists(cg) { waitUntil(timeout: 2) { rmdir(cg) == 0 || errno == ENOENT } }
            _ = h.sh("rm -rf --one-file-system '\(h.root)/\(id)'")
        }

        @Test func mutatedBundlesThroughCreateAndDeleteForce() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h, rootfs: .copy)
            let baseline = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle.configPath))) as? [String: Any])
            let first = Self.seed, count = Self.iterations
            var failures: [String] = [], created = 0
            let start = Date()
            for i in 0..<count {
                let seed = first &+ UInt64(i)
                var rng = SplitMix64(seed: seed)
                let (doc, log) = ConfigMutator.mutate(baseline, seed: seed, count: 1 + rng.below(4))
                guard let data = try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys]) else { continue }
                if Self.verbose { print("seed \(seed): \(log.joined(separator: "; "))") }
                let id = "fz-\(seed)-\(String(UInt32.random(in: 0..<UInt32.max), radix: 36))"
                let (problems, ok) = Self.exercise(h, bundle: bundle, config: data, id: id)
                if ok { created += 1 }
                if !problems.isEmpty {
                    let reason = "seed \(seed): \(log.joined(separator: "; ")): \(problems.joined(separator: "; "))"
                    failures.append(reason)
                    Self.scrub(h, id: id, bundle: bundle)
                    if let keep = Self.keep {
                        let dir = "\(keep)/\(seed)"
                        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                        try? data.write(to: URL(fileURLWithPath: dir + "/config.json"))
                        try? (reason + "\n").write(toFile: dir + "/reason.txt", atomically: false, encoding: .utf8)
                    }
                }
            }
            let seconds = Date().timeIntervalSince(start)
            print("create fuzz: seeds \(first)..<\(first &+ UInt64(count)): \(count) cases, \(created) created, \(count - created) rejected, \(failures.count) failures, \(String(format: "%.1f", seconds)) s")
            #expect(failures.isEmpty, "\(failures.count) failing cases:\n\(failures.prefix(20).joined(separator: "\n"))")
        }

        static let savedCases: [String] = {
            let dir = Paths.fixtures + "/fuzz-create"
            return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
                .filter { fileExists("\(dir)/\($0)/config.json") }.sorted()
        }()

        /// Cases a campaign once found failing (spec-fixtures/fuzz-create/<seed>/config.json).
        @Test func savedFailingCasesStayFixed() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h, rootfs: .copy)
            for name in Self.savedCases {
                let data = try Data(contentsOf: URL(fileURLWithPath: "\(Paths.fixtures)/fuzz-create/\(name)/config.json"))
                // The saved root.path is the campaign's; use this bundle's rootfs.
                guard var object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { continue }
                var root = object["root"] as? [String: Any] ?? [:]
                root["path"] = "rootfs"
                object["root"] = root
                let config = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                let id = "fzs-\(String(UInt32.random(in: 0..<UInt32.max), radix: 36))"
                let (problems, _) = Self.exercise(h, bundle: bundle, config: config, id: id)
                #expect(problems.isEmpty, "saved case \(name): \(problems)")
                if !problems.isEmpty { Self.scrub(h, id: id, bundle: bundle) }
            }
        }
    }
}
