import Testing
@testable import SkiffSpec

/// Issue #13: values a hostile config.json can hold that once passed validation (and then ran
/// as root, trapped, or failed later with an unrelated message). Each must be refused here,
/// by the validation check and create share, with the JSON path at fault.
@Suite("hostile config values")
struct HostileInputTests {
    static let base = """
        {"ociVersion": "1.1.0", "root": {"path": "rootfs"},
         "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
         "linux": {"namespaces": [{"type": "mount"}, {"type": "uts"}, {"type": "time"}]}}
        """

    /// The problems of `base` with `edit` applied to its JSON object tree.
    static func problems(_ edit: (inout JSONObject) -> Void) throws -> [SpecError] {
        guard case .object(var object) = try JSONValue.parse(Array(base.utf8)) else { throw SpecError(path: "", message: "base") }
        edit(&object)
        let spec = try SpecDecoder.decode(Spec.self, from: .object(object))
        return spec.validateForCreate()
    }

    static func set(_ object: inout JSONObject, _ path: [String], _ value: JSONValue) {
        guard let first = path.first else { return }
        if path.count == 1 { object[first] = value; return }
        var child = object[first]?.objectValue ?? JSONObject()
        set(&child, Array(path.dropFirst()), value)
        object[first] = .object(child)
    }

    static func expectProblem(_ path: [String], _ value: JSONValue, at jsonPath: String, mentioning needle: String,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let found = try problems { set(&$0, path, value) }
        #expect(found.contains { $0.path == jsonPath && $0.message.contains(needle) },
                "\(found.map(\.description))", sourceLocation: sourceLocation)
    }

    static func num(_ n: Int64) -> JSONValue { .number(JSONNumber(n)) }
    static func obj(_ members: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(members)) }

    @Test func baseIsValid() throws {
        #expect(try Self.problems { _ in } == [])
    }

    // Item 1: (uid_t)-1 means "no change" to setresuid; the process stayed root.
    @Test func uidAndGidMinusOneAreRefused() throws {
        try Self.expectProblem(["process", "user"], Self.obj([("uid", .number(JSONNumber(UInt64(UInt32.max)))), ("gid", Self.num(0))]),
                               at: "process.user.uid", mentioning: "4294967295")
        try Self.expectProblem(["process", "user"], Self.obj([("uid", Self.num(0)), ("gid", .number(JSONNumber(UInt64(UInt32.max))))]),
                               at: "process.user.gid", mentioning: "4294967295")
        try Self.expectProblem(["process", "user"], Self.obj([("uid", Self.num(0)), ("gid", Self.num(0)),
                                                              ("additionalGids", .array([Self.num(5), .number(JSONNumber(UInt64(UInt32.max)))]))]),
                               at: "process.user.additionalGids[1]", mentioning: "4294967295")
    }

    @Test func idsOutsideTheUserNamespaceMapsAreRefused() throws {
        let found = try Self.problems {
            Self.set(&$0, ["linux", "namespaces"], .array([Self.obj([("type", .string("user"))]), Self.obj([("type", .string("mount"))])]))
            let map = JSONValue.array([Self.obj([("containerID", Self.num(0)), ("hostID", Self.num(100000)), ("size", Self.num(1000))])])
            Self.set(&$0, ["linux", "uidMappings"], map)
            Self.set(&$0, ["linux", "gidMappings"], map)
            Self.set(&$0, ["process", "user"], Self.obj([("uid", Self.num(1000)), ("gid", Self.num(999)), ("additionalGids", .array([Self.num(5000)]))]))
        }
        #expect(found.map(\.path) == ["process.user.uid", "process.user.additionalGids[0]"], "\(found)")
        // The process validation exec uses sees the container's maps the same way.
        var process = Process(args: ["id"], cwd: "/")
        process.user = User(uid: 999, gid: 1000)
        let linux = Linux(uidMappings: [LinuxIDMapping(containerID: 0, hostID: 100000, size: 1000)],
                          gidMappings: [LinuxIDMapping(containerID: 0, hostID: 100000, size: 1000)],
                          namespaces: [LinuxNamespace(type: "user")])
        #expect(process.validate(file: "p.json", prefix: "", linux: linux).map(\.description)
                == ["p.json: user.gid: 1000 is not mapped in the container's user namespace (linux.gidMappings)"])
    }

    @Test func idMappingsPastTheLastIdAreRefused() throws {
        let found = try Self.problems {
            Self.set(&$0, ["linux", "namespaces"], .array([Self.obj([("type", .string("user"))])]))
            Self.set(&$0, ["linux", "uidMappings"], .array([Self.obj([("containerID", Self.num(0)), ("hostID", Self.num(4294967290)), ("size", Self.num(10))])]))
            Self.set(&$0, ["linux", "gidMappings"], .array([Self.obj([("containerID", Self.num(0)), ("hostID", Self.num(0)), ("size", Self.num(0))])]))
        }
        // (gid 0 is not mapped either: the gid map is empty.)
        #expect(found.map(\.path) == ["process.user.gid", "linux.uidMappings[0]", "linux.gidMappings[0].size"], "\(found)")
    }

    // Item 5: a NUL is silently cut at the syscall ("a\u0000b" became hostname "a").
    @Test(arguments: [
        (#"{"hostname": "a\u0000b"}"#, "hostname"),
        (#"{"process": {"args": ["/bin/sh\u0000x"]}}"#, "process.args[0]"),
        (#"{"process": {"env": ["A=1", "B=\u0000"]}}"#, "process.env[1]"),
        (#"{"mounts": [{"destination": "/x", "options": ["ro", "a\u0000"]}]}"#, "mounts[0].options[1]"),
        (#"{"annotations": {"k\u0000": "v"}}"#, #"annotations["k\u0000"]"#),
        (#"{"linux": {"sysctl": {"kernel.x": "1\u0000"}}}"#, #"linux.sysctl["kernel.x"]"#),
    ])
    func nulInAnyStringIsRefused(json: String, path: String) throws {
        do {
            _ = try Spec.load(bytes: Array(json.utf8))
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.path == path, "\(error)")
            #expect(error.message.contains("NUL"), "\(error)")
        }
    }

    @Test func controlCharactersAreEscapedInMessages() {
        let error = SpecError(path: "mounts[0].type", message: "unknown type \"a\nb\u{1B}[31m\u{9B}c\"")
        #expect(error.description == #"config.json: mounts[0].type: unknown type "a\nb\u001b[31m\u009bc""#)
        #expect(escapingControlCharacters(error.description) == error.description)
        #expect(escapingControlCharacters("plain ü – ok") == "plain ü – ok")
    }

    // Item 7: values create refused after check said OK.
    @Test func effectiveCapabilitiesMustBePermitted() throws {
        try Self.expectProblem(["process", "capabilities"],
                               Self.obj([("effective", .array([.string("CAP_KILL"), .string("CAP_SYS_ADMIN")])),
                                         ("permitted", .array([.string("CAP_KILL")]))]),
                               at: "process.capabilities.effective[1]", mentioning: "CAP_SYS_ADMIN")
    }

    @Test func hostnameLongerThanTheKernelAllows() throws {
        #expect(try Self.problems { Self.set(&$0, ["hostname"], .string(String(repeating: "a", count: 64))) } == [])
        try Self.expectProblem(["hostname"], .string(String(repeating: "a", count: 65)), at: "hostname", mentioning: "64")
        try Self.expectProblem(["domainname"], .string(String(repeating: "é", count: 33)), at: "domainname", mentioning: "66 bytes")
    }

    @Test(arguments: [(Int64(1), "minimum"), (Int64(262_145), "maximum")])
    func cpuSharesOutsideTheKernelRange(shares: Int64, needle: String) throws {
        try Self.expectProblem(["linux", "resources"], Self.obj([("cpu", Self.obj([("shares", Self.num(shares))]))]),
                               at: "linux.resources.cpu.shares", mentioning: needle)
        for ok: Int64 in [0, 2, 1024, 262_144] {
            #expect(try Self.problems { Self.set(&$0, ["linux", "resources"], Self.obj([("cpu", Self.obj([("shares", Self.num(ok))]))])) } == [])
        }
    }

    @Test func deviceNumbersOutsideWhatMknodTakes() throws {
        let found = try Self.problems {
            Self.set(&$0, ["linux", "devices"], .array([
                Self.obj([("path", .string("/dev/a")), ("type", .string("c")), ("major", Self.num(4096)), ("minor", Self.num(0))]),
                Self.obj([("path", .string("/dev/b")), ("type", .string("b")), ("major", Self.num(1)), ("minor", Self.num(1_048_576))]),
                Self.obj([("path", .string("/dev/c")), ("type", .string("c")), ("major", Self.num(-1)), ("minor", Self.num(4_294_967_297))]),
                Self.obj([("path", .string("/dev/d")), ("type", .string("c")), ("major", Self.num(4095)), ("minor", Self.num(1_048_575))]),
            ]))
        }
        #expect(found.map(\.path) == ["linux.devices[0].major", "linux.devices[1].minor", "linux.devices[2].major", "linux.devices[2].minor"], "\(found)")
    }

    @Test func deviceCgroupNumbersAre32Bit() throws {
        let found = try Self.problems {
            Self.set(&$0, ["linux", "resources"], Self.obj([("devices", .array([
                Self.obj([("allow", .bool(true)), ("type", .string("c")), ("major", Self.num(4_294_967_297)), ("minor", Self.num(-1))]),
                Self.obj([("allow", .bool(true)), ("type", .string("c")), ("major", Self.num(1)), ("minor", Self.num(-2))]),
            ]))]))
        }
        #expect(found.map(\.path) == ["linux.resources.devices[0].major", "linux.resources.devices[1].minor"], "\(found)")
    }

    @Test func memoryLimits() throws {
        func memory(_ members: [(String, JSONValue)]) throws -> [String] {
            try Self.problems { Self.set(&$0, ["linux", "resources"], Self.obj([("memory", Self.obj(members))])) }.map(\.path)
        }
        #expect(try memory([("limit", Self.num(10_000_000)), ("swap", Self.num(5_000_000))]) == ["linux.resources.memory.swap"])
        #expect(try memory([("limit", Self.num(10_000_000)), ("swap", Self.num(-1))]) == [])
        #expect(try memory([("limit", Self.num(10_000_000)), ("swap", Self.num(10_000_000))]) == [])
        #expect(try memory([("limit", Self.num(4096))]) == ["linux.resources.memory.limit"])
        #expect(try memory([("limit", Self.num(KernelLimits.minimumMemoryLimit))]) == [])
        #expect(try memory([("limit", Self.num(-1))]) == [])
    }

    @Test func timeOffsetsOutsideTheKernelRange() throws {
        func offsets(_ secs: Int64, _ nanos: Int64) throws -> [String] {
            try Self.problems {
                Self.set(&$0, ["linux", "timeOffsets"], Self.obj([("monotonic", Self.obj([("secs", Self.num(secs)), ("nanosecs", Self.num(nanos))]))]))
            }.map(\.path)
        }
        #expect(try offsets(86400, 999_999_999) == [])
        #expect(try offsets(86400, 1_000_000_000) == ["linux.timeOffsets.monotonic.nanosecs"])
        #expect(try offsets(Int64.max / 1000, 0) == ["linux.timeOffsets.monotonic.secs"])
        #expect(try offsets(-4_611_686_019, 0) == ["linux.timeOffsets.monotonic.secs"])
    }

    // Item 6: the same validation for exec's process object (apparmor/selinux are host checks).
    @Test func processValidationForExec() {
        var process = Process(args: ["id"], cwd: "/")
        process.oomScoreAdj = 5000
        process.ioPriority = LinuxIOPriority(class: "IOPRIO_CLASS_RT", priority: 1 << 40)
        process.user = User(uid: UInt32.max, gid: 0)
        #expect(process.validate(file: "p.json", prefix: "").map(\.path) == ["user.uid", "oomScoreAdj", "ioPriority.priority"])
        #expect(process.validate().map(\.path) == ["process.user.uid", "process.oomScoreAdj", "process.ioPriority.priority"])
    }
}
