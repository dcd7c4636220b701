import Glibc
import Testing
@testable import SkiffSpec

/// Issue #13, fuzz harness (a): seeded, reproducible mutations of real configs (every
/// spec-fixtures config.json plus the runtime-spec example) through parse + decode +
/// validate. Asserts that nothing traps (a trap kills the test process: the campaign script
/// runs this out of process and reports the signal), that every refusal names a JSON path,
/// and that decode∘encode round-trips every config it accepts.
///
/// SKIFF_FUZZ_SEED (default 1) and SKIFF_FUZZ_ITERATIONS (default 3000, a few seconds) pick
/// the run; a failure message carries the seed and iteration to replay it.
/// SKIFF_FUZZ_FIRST: the first iteration (default 0), to run a long campaign in slices.
/// SKIFF_FUZZ_EMIT_DIR: also write every mutated config there (NNNNNN.json), for
/// scripts/fuzz-campaign.sh to send through the built `skiff check`.
@Suite("config fuzzing")
struct FuzzTests {
    /// SplitMix64: tiny, seedable, the same sequence on every platform.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
        mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    }

    static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    static var fixturesDirectory: String {
        if let dir = environment("SKIFF_FIXTURES"), !dir.isEmpty { return dir }
        // Tests/SkiffSpecTests/FuzzTests.swift → spec-fixtures
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/spec-fixtures"
    }

    static func readFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            bytes += buffer[0..<n]
            if bytes.count > 4 << 20 { return nil }
        }
        return bytes
    }

    /// config.json files under `dir` (two levels, as spec-fixtures lays them out).
    static func configPaths(under dir: String, depth: Int = 3) -> [String] {
        guard depth > 0, let handle = opendir(dir) else { return [] }
        defer { closedir(handle) }
        var found: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." || name == "rootfs" { continue }
            let path = dir + "/" + name
            if name == "config.json" { found.append(path) } else if entry.pointee.d_type == UInt8(DT_DIR) {
                found += configPaths(under: path, depth: depth - 1)
            }
        }
        return found.sorted()
    }

    /// The seed corpus: every fixture config that parses, and the runtime-spec example.
    static let corpus: [JSONValue] = {
        var documents: [JSONValue] = []
        for path in configPaths(under: fixturesDirectory) {
            if let bytes = readFile(path), let value = try? JSONValue.parse(bytes) { documents.append(value) }
        }
        if let example = try? JSONValue.parse(Array(runtimeSpecExample.utf8)) { documents.append(example) }
        return documents
    }()

    // MARK: Mutations

    static let boundaryIntegers: [JSONValue] = [
        .number(JSONNumber(Int64(0))), .number(JSONNumber(Int64(-1))), .number(JSONNumber(Int64(1))),
        .number(JSONNumber(Int64(Int32.max))), .number(JSONNumber(Int64(Int32.max) + 1)), .number(JSONNumber(Int64(Int32.min))),
        .number(JSONNumber(Int64(UInt32.max))), .number(JSONNumber(Int64(UInt32.max) + 1)), .number(JSONNumber(Int64(UInt16.max) + 1)),
        .number(JSONNumber(Int64.max)), .number(JSONNumber(Int64.min)), .number(JSONNumber(UInt64.max)),
        .number(JSONNumber(Int64(9_223_372_036_854_775))), .number(JSONNumber(Int64(4096))), .number(JSONNumber(Int64(262_145))),
        .number(JSONNumber(0.5)), .number(JSONNumber(-1e300)), .number(JSONNumber(1e300)),
    ]

    static func hostileString(_ r: inout Random) -> String {
        switch r.below(12) {
        case 0: return ""
        case 1: return "a\u{0}b"
        case 2: return "x\ny\r\u{1B}[31mred\u{9B}2J\u{7F}"
        case 3: return String(repeating: "A", count: 300_000 + r.below(10))
        case 4: return "../../../../etc/passwd"
        case 5: return "/" + String(repeating: "d/", count: 2000)
        case 6: return "\u{FEFF}é☃\u{10FFFF}"
        case 7: return String(repeating: "a", count: 65 + r.below(4))
        case 8: return r.pick(["CAP_SYS_ADMIN", "RLIMIT_NOFILE", "SCMP_ACT_NOTIFY", "user", "time", "rbind", "proc", "c", "-1"])
        case 9: return "\u{0}"
        case 10: return "%s%n%x"
        default: return "/dev/zero"
        }
    }

    static func randomValue(_ r: inout Random, depth: Int = 0) -> JSONValue {
        switch r.below(depth > 2 ? 5 : 7) {
        case 0: return r.pick(boundaryIntegers)
        case 1: return .string(hostileString(&r))
        case 2: return .bool(r.chance(50))
        case 3: return .null
        case 4: return .number(JSONNumber(Int64(r.below(70_000)) - 1000))
        case 5: return .array((0..<r.below(4)).map { _ in randomValue(&r, depth: depth + 1) })
        default:
            return .object(JSONObject((0..<r.below(4)).map { i in ("k\(i)", randomValue(&r, depth: depth + 1)) }))
        }
    }

    /// `value` nested `levels` arrays deep.
    static func nested(_ value: JSONValue, _ levels: Int) -> JSONValue {
        var v = value
        for _ in 0..<levels { v = .array([v]) }
        return v
    }

    /// One mutation at a random node (every node is equally likely to be the target).
    static func mutate(_ value: JSONValue, _ r: inout Random, target: inout Int) -> JSONValue {
        if target == 0 {
            target = -1
            switch r.below(10) {
            case 0, 1: return r.pick(boundaryIntegers)
            case 2, 3: return .string(hostileString(&r))
            case 4: return randomValue(&r)
            case 5: return nested(value, 1 + r.below(r.chance(10) ? 600 : 40))
            case 6:  // a type swap that keeps the content
                switch value {
                case .array(let a): return a.first ?? .null
                case .object(let o): return .array(Array(o.values))
                case .string(let s): return .array([.string(s)])
                case .number(let n): return .string(n.description)
                default: return .number(JSONNumber(Int64(1)))
                }
            case 7:  // element growth
                if case .array(let a) = value, let e = a.first { return .array(a + Array(repeating: e, count: 1 + r.below(64))) }
                return value
            case 8:  // drop or add a member
                if case .object(var o) = value, !o.keys.isEmpty {
                    if r.chance(60) { o[r.pick(o.keys)] = nil } else { o["x-unknown-\(r.below(9))"] = randomValue(&r) }
                    return .object(o)
                }
                return value
            default:
                return .null
            }
        }
        target -= 1
        switch value {
        case .array(var elements):
            for i in elements.indices where target >= 0 { elements[i] = mutate(elements[i], &r, target: &target) }
            return .array(elements)
        case .object(let object):
            var members: [(String, JSONValue)] = []
            for (key, member) in object.members {
                members.append((key, target >= 0 ? mutate(member, &r, target: &target) : member))
            }
            return .object(JSONObject(members))
        default:
            return value
        }
    }

    static func nodeCount(_ value: JSONValue) -> Int {
        switch value {
        case .array(let a): return 1 + a.reduce(0) { $0 + nodeCount($1) }
        case .object(let o): return 1 + o.values.reduce(0) { $0 + nodeCount($1) }
        default: return 1
        }
    }

    /// The mutated document of one iteration: a corpus config with 1–4 mutations.
    static func mutatedDocument(seed: UInt64, iteration: Int) -> JSONValue {
        var r = Random(state: seed &* 0x1000_0000_01B3 &+ UInt64(iteration))
        var document = corpus[r.below(corpus.count)]
        for _ in 0...r.below(4) {
            var target = r.below(nodeCount(document))
            document = mutate(document, &r, target: &target)
        }
        return document
    }

    static func writeFile(_ path: String, _ text: String) {
        guard let file = fopen(path, "wb") else { return }
        _ = text.utf8CString.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count - 1, file) }
        fclose(file)
    }

    @Test func corpusIsLoaded() {
        #expect(Self.corpus.count >= 100, "fixtures at \(Self.fixturesDirectory)")
    }

    @Test func mutatedConfigsNeverTrapAlwaysNameAPathAndRoundTrip() throws {
        let seed = Self.environment("SKIFF_FUZZ_SEED").flatMap { UInt64($0) } ?? 1
        let iterations = Self.environment("SKIFF_FUZZ_ITERATIONS").flatMap { Int($0) } ?? 3000
        let first = Self.environment("SKIFF_FUZZ_FIRST").flatMap { Int($0) } ?? 0
        let emit = Self.environment("SKIFF_FUZZ_EMIT_DIR").flatMap { $0.isEmpty ? nil : $0 }
        try #require(!Self.corpus.isEmpty)
        var accepted = 0, refused = 0
        for iteration in first..<(first + iterations) {
            let document = Self.mutatedDocument(seed: seed, iteration: iteration)
            let text = document.serialized()
            let replay = "SKIFF_FUZZ_SEED=\(seed) iteration \(iteration)"
            if let emit {
                let name = String(iteration)
                Self.writeFile(emit + "/" + String(repeating: "0", count: max(0, 6 - name.count)) + name + ".json", text)
            }
            let spec: Spec
            do {
                spec = try SpecDecoder.decode(Spec.self, from: Array(text.utf8))
            } catch {
                refused += 1
                // Only a document that is not an object, or cannot be parsed at all (nesting past
                // the parser's limit), has no field to name.
                let whole = document.objectValue == nil || error.message.contains("nest")
                #expect(!error.path.isEmpty || whole, "\(replay): \(error)")
                #expect(!error.description.utf8.contains { $0 < 0x20 }, "\(replay): unescaped control character")
                continue
            }
            let problems = spec.validateForCreate() + (spec.process?.validate(file: "process.json", prefix: "") ?? [])
            for problem in problems {
                #expect(!problem.path.isEmpty, "\(replay): \(problem)")
                #expect(!problem.description.utf8.contains { $0 < 0x20 }, "\(replay): unescaped control character")
            }
            if problems.isEmpty { accepted += 1 } else { refused += 1 }
            // decode∘encode: what was decoded survives encoding and decoding again.
            let encoded = SpecEncoder.encode(spec)
            do {
                let again = try SpecDecoder.decode(Spec.self, from: Array(encoded.utf8))
                #expect(again == spec, "\(replay): round trip changed the config")
            } catch {
                Issue.record("\(replay): re-decoding the encoded config failed: \(error)")
            }
        }
        print("fuzz: seed \(seed), \(iterations) configs, \(accepted) valid, \(refused) refused")
    }
}
