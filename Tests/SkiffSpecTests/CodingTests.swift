import Testing
@testable import SkiffSpec

/// The SpecError `body` throws, or nil.
func specError<T>(_ body: () throws -> T) -> SpecError? {
    do {
        _ = try body()
        return nil
    } catch let error as SpecError {
        return error
    } catch {
        Issue.record("expected a SpecError, got \(error)")
        return nil
    }
}

func decodeSpec(_ text: String, file: String = "config.json") throws(SpecError) -> Spec {
    try SpecDecoder.decode(Spec.self, from: Array(text.utf8), file: file)
}

/// A minimal valid config with `process` members spliced in.
func config(process extra: String = "", linux: String = "{}") -> String {
    """
    {"ociVersion": "1.2.0", "root": {"path": "rootfs"},
     "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["sh"]\(extra)},
     "linux": \(linux)}
    """
}

@Suite("SpecDecoder errors")
struct DecoderErrorTests {
    @Test func wrongTypeDeepInAnArray() {
        let text = config(process: #", "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1, "soft": 1}, {"type": "RLIMIT_CORE", "hard": "x", "soft": 1}]"#)
        #expect(specError { try decodeSpec(text) }?.description
            == "config.json: process.rlimits[1].hard: expected unsigned 64-bit integer, got string")
    }

    @Test func arrayOfStringsGivenANumber() {
        let text = #"{"ociVersion": "1.2.0", "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": 5}}"#
        let error = specError { try decodeSpec(text) }
        #expect(error == SpecError(file: "config.json", path: "process.args", message: "expected array of strings, got number"))
        #expect(error?.description == "config.json: process.args: expected array of strings, got number")
    }

    @Test func elementOfWrongType() {
        #expect(specError { try decodeSpec(config(process: #", "env": ["A=1", 2]"#)) }?.description
            == "config.json: process.env[1]: expected string, got number")
        #expect(specError { try decodeSpec(config(linux: #"{"namespaces": [{"type": "pid"}, "uts"]}"#)) }?.description
            == "config.json: linux.namespaces[1]: expected object, got string")
        #expect(specError { try decodeSpec(config(linux: #"{"namespaces": {"type": "pid"}}"#)) }?.description
            == "config.json: linux.namespaces: expected array of objects, got object")
        #expect(specError { try decodeSpec(config(process: #", "user": {"uid": 0, "gid": 0, "additionalGids": 7}"#)) }?.description
            == "config.json: process.user.additionalGids: expected array of unsigned 32-bit integers, got number")
    }

    @Test func missingRequiredFields() {
        #expect(specError { try decodeSpec(#"{"ociVersion": "1.2.0", "process": {"user": {"uid": 0, "gid": 0}}}"#) }?.description
            == "config.json: process.cwd: required field is missing")
        // process.user and its uid/gid are optional in the schema (runc: 0): see OptionalFieldTests.
        #expect(specError { try decodeSpec(#"{"root": {"path": "rootfs"}}"#) }?.description
            == "config.json: ociVersion: required field is missing")
        #expect(specError { try decodeSpec(config(process: #", "rlimits": [{"type": "RLIMIT_CORE", "hard": 1}]"#)) }?.description
            == "config.json: process.rlimits[0].soft: required field is missing")
        #expect(specError { try decodeSpec(config(linux: #"{"devices": [{"path": "/dev/null"}]}"#)) }?.description
            == "config.json: linux.devices[0].type: required field is missing")
    }

    @Test func integerRangeAndFractions() {
        let cases: [(String, String)] = [
            (#""uid": -1"#, "expected unsigned 32-bit integer, got number -1"),
            (#""uid": 4294967296"#, "expected unsigned 32-bit integer, got number 4294967296"),
            (#""uid": 1.5"#, "expected unsigned 32-bit integer, got number 1.5"),
            (#""uid": 1e3"#, "expected unsigned 32-bit integer, got number 1e3"),
            (#""uid": true"#, "expected unsigned 32-bit integer, got boolean"),
        ]
        for (member, message) in cases {
            let text = #"{"ociVersion": "1.2.0", "process": {"user": {\#(member), "gid": 0}, "cwd": "/"}}"#
            #expect(specError { try decodeSpec(text) } == SpecError(path: "process.user.uid", message: message))
        }
        #expect(specError { try decodeSpec(config(process: #", "oomScoreAdj": 9223372036854775808"#)) }?.message
            == "expected 64-bit integer, got number 9223372036854775808")
    }

    @Test func extremeIntegersDecodeExactly() throws {
        let spec = try decodeSpec(config(
            process: #", "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 18446744073709551615, "soft": 0}]"#,
            linux: #"{"resources": {"memory": {"limit": -1, "swap": 9223372036854775807, "reservation": -9223372036854775808}}}"#))
        #expect(spec.process?.rlimits?.first?.hard == UInt64.max)
        #expect(spec.linux?.resources?.memory?.limit == -1)
        #expect(spec.linux?.resources?.memory?.swap == Int64.max)
        #expect(spec.linux?.resources?.memory?.reservation == Int64.min)
    }

    @Test func documentLevelErrorsHaveNoPath() {
        let error = specError { try decodeSpec("[]") }
        #expect(error == SpecError(path: "", message: "expected object, got array"))
        #expect(error?.description == "config.json: expected object, got array")
    }

    @Test func malformedJSONNamesLineAndColumn() {
        let text = "{\"ociVersion\": \"1.0.0\",\n \"process\": }"
        #expect(specError { try decodeSpec(text, file: "/b/config.json") }?.description
            == "/b/config.json: invalid JSON at line 2 column 13: unexpected '}', expected a value")
    }

    @Test func mapValuesAreLocatedByQuotedKey() {
        #expect(specError { try decodeSpec(config(linux: #"{"sysctl": {"net.ipv4.ip_forward": 1}}"#)) }?.description
            == #"config.json: linux.sysctl["net.ipv4.ip_forward"]: expected string, got number"#)
        #expect(specError { try decodeSpec(config(linux: #"{"timeOffsets": {"monotonic": {"secs": "1"}}}"#)) }?.description
            == "config.json: linux.timeOffsets.monotonic.secs: expected 64-bit integer, got string")
        #expect(specError { try decodeSpec(#"{"ociVersion": "1", "annotations": {"5": 5}}"#) }?.path == #"annotations["5"]"#)
    }

    @Test func unknownKeysAreIgnoredAndNullOptionalsAreNil() throws {
        let text = #"""
            {"ociVersion": "1.2.0", "windows": {"layerFolders": []}, "x-vendor": [1, {"y": null}],
             "hostname": null, "root": {"path": "r", "readonly": null, "future": true}}
            """#
        let spec = try decodeSpec(text)
        #expect(spec.hostname == nil)
        #expect(spec.root == Root(path: "r"))
    }

    @Test func nullForARequiredField() {
        #expect(specError { try decodeSpec(#"{"ociVersion": null}"#) }?.description
            == "config.json: ociVersion: expected string, got null")
    }

    @Test func deviceNumbersAreOptionalAndPidsLimitDefaultsToZero() throws {
        let spec = try decodeSpec(config(linux: #"{"devices": [{"path": "/dev/fifo", "type": "p"}, {"path": "/dev/c", "type": "c", "minor": 3}], "resources": {"pids": {}}}"#))
        #expect(spec.linux?.devices == [LinuxDevice(path: "/dev/fifo", type: "p"), LinuxDevice(path: "/dev/c", type: "c", minor: 3)])
        #expect(spec.linux?.resources?.pids?.limit == 0)
        #expect(spec.validate().map(\.description) == [#"config.json: linux.devices[1].major: required for device type "c""#])
    }
}

// MARK: - Custom Codable types exercising every container kind

private struct Point: Codable, Equatable {
    var x: Int
    var y: Int
}

private struct Base: Codable, Equatable {
    var tag: String
}

private struct Shape: Codable, Equatable {
    var name: String
    var points: [Point]
    var origin: Point
    var base: Base
    var first: Base
    var weights: [Double]
    var flags: [Bool?]

    enum CodingKeys: String, CodingKey { case name, points, origin, flags, weights, first }
    enum OriginKeys: String, CodingKey { case x, y }

    init(name: String, points: [Point], origin: Point, base: Base, first: Base, weights: [Double], flags: [Bool?]) {
        (self.name, self.points, self.origin, self.base, self.first, self.weights, self.flags) =
            (name, points, origin, base, first, weights, flags)
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        var list = try container.nestedUnkeyedContainer(forKey: .points)
        points = []
        while !list.isAtEnd {
            let element = try list.nestedContainer(keyedBy: OriginKeys.self)
            points.append(Point(x: try element.decode(Int.self, forKey: .x), y: try element.decode(Int.self, forKey: .y)))
        }
        let origin = try container.nestedContainer(keyedBy: OriginKeys.self, forKey: .origin)
        self.origin = Point(x: try origin.decode(Int.self, forKey: .x), y: try origin.decode(Int.self, forKey: .y))
        base = try Base(from: container.superDecoder())
        var firstList = try container.nestedUnkeyedContainer(forKey: .first)
        first = try Base(from: firstList.superDecoder())
        weights = try container.decode([Double].self, forKey: .weights)
        var flagList = try container.nestedUnkeyedContainer(forKey: .flags)
        flags = []
        while !flagList.isAtEnd {
            flags.append(try flagList.decodeNil() ? nil : try flagList.decode(Bool.self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        var list = container.nestedUnkeyedContainer(forKey: .points)
        for point in points {
            var element = list.nestedContainer(keyedBy: OriginKeys.self)
            try element.encode(point.x, forKey: .x)
            try element.encode(point.y, forKey: .y)
        }
        var origin = container.nestedContainer(keyedBy: OriginKeys.self, forKey: .origin)
        try origin.encode(self.origin.x, forKey: .x)
        try origin.encode(self.origin.y, forKey: .y)
        try base.encode(to: container.superEncoder())
        var firstList = container.nestedUnkeyedContainer(forKey: .first)
        try first.encode(to: firstList.superEncoder())
        try container.encode(weights, forKey: .weights)
        var flagList = container.nestedUnkeyedContainer(forKey: .flags)
        for flag in flags {
            if let flag { try flagList.encode(flag) } else { try flagList.encodeNil() }
        }
    }
}

@Suite("SpecEncoder and containers")
struct CodingRoundTripTests {
    @Test func everyContainerKindRoundTrips() throws {
        let shape = Shape(name: "tri", points: [Point(x: 1, y: 2), Point(x: -3, y: 4)], origin: Point(x: 0, y: 0),
                          base: Base(tag: "b"), first: Base(tag: "f"), weights: [0.5, 2], flags: [true, nil, false])
        let text = SpecEncoder.encode(shape)
        #expect(text == #"{"name":"tri","points":[{"x":1,"y":2},{"x":-3,"y":4}],"origin":{"x":0,"y":0},"super":{"tag":"b"},"first":[{"tag":"f"}],"weights":[0.5,2],"flags":[true,null,false]}"#)
        #expect(try SpecDecoder.decode(Shape.self, from: Array(text.utf8)) == shape)
    }

    @Test func nestedContainerErrorsCarryThePath() {
        let text = #"{"name":"t","points":[{"x":1,"y":2},{"x":1}],"origin":{"x":0,"y":0},"super":{"tag":"b"},"first":[{"tag":"f"}],"weights":[],"flags":[]}"#
        #expect(specError { try SpecDecoder.decode(Shape.self, from: Array(text.utf8), file: "s.json") }?.description
            == "s.json: points[1].y: required field is missing")
    }

    @Test func encoderOmitsNilsKeepsDeclarationOrderAndExactIntegers() {
        let limit = POSIXRlimit(type: "RLIMIT_NOFILE", hard: .max, soft: 1024)
        #expect(SpecEncoder.encode(limit) == #"{"type":"RLIMIT_NOFILE","hard":18446744073709551615,"soft":1024}"#)
        let memory = LinuxMemory(limit: -1, swap: Int64.min, disableOOMKiller: false)
        #expect(SpecEncoder.encode(memory) == #"{"limit":-1,"swap":-9223372036854775808,"disableOOMKiller":false}"#)
        #expect(SpecEncoder.encode(Root(path: "rootfs")) == #"{"path":"rootfs"}"#)
    }

    @Test func dictionariesAreWrittenWithSortedKeys() {
        let linux = Linux(sysctl: ["z": "1", "a.b": "2", "B": "3", "a": "4"])
        #expect(SpecEncoder.encode(linux) == #"{"sysctl":{"B":"3","a":"4","a.b":"2","z":"1"}}"#)
        let offsets: [String: LinuxTimeOffset] = ["monotonic": LinuxTimeOffset(secs: 1), "boottime": LinuxTimeOffset(nanosecs: 2)]
        #expect(SpecEncoder.encode(offsets) == #"{"boottime":{"nanosecs":2},"monotonic":{"secs":1}}"#)
    }

    @Test func ioPriorityUsesTheClassKey() throws {
        let priority = LinuxIOPriority(class: "IOPRIO_CLASS_BE", priority: 4)
        let text = SpecEncoder.encode(priority)
        #expect(text == #"{"class":"IOPRIO_CLASS_BE","priority":4}"#)
        #expect(try SpecDecoder.decode(LinuxIOPriority.self, from: Array(text.utf8)) == priority)
    }

    @Test func encodeValueGivesTheTree() throws {
        let value = try SpecEncoder.encodeValue(Hook(path: "/bin/true", timeout: 5))
        #expect(value == ["path": "/bin/true", "timeout": 5])
        #expect(try SpecDecoder.decode(Hook.self, from: value) == Hook(path: "/bin/true", timeout: 5))
    }
}

@Suite("OCIState")
struct StateTests {
    @Test func encodesExactlyLikeRuncState() {
        let state = OCIState(ociVersion: "1.2.0", id: "test", pid: 4242, status: "running",
                             bundle: "/bundles/test", rootfs: "/bundles/test/rootfs",
                             created: "2024-05-01T10:00:00.123456789Z")
        let expected = """
            {
              "ociVersion": "1.2.0",
              "id": "test",
              "pid": 4242,
              "status": "running",
              "bundle": "/bundles/test",
              "rootfs": "/bundles/test/rootfs",
              "created": "2024-05-01T10:00:00.123456789Z",
              "owner": ""
            }
            """
        #expect(SpecEncoder.encode(state, indent: 2) == expected)
        var empty = state
        empty.annotations = [:]
        #expect(SpecEncoder.encode(empty, indent: 2) == expected)
    }

    @Test func annotationsGoBetweenCreatedAndOwnerSorted() throws {
        let state = OCIState(id: "c", pid: 0, status: "stopped", bundle: "/b", rootfs: "/b/r",
                             created: "2024-05-01T10:00:00Z", annotations: ["org.z": "1", "org.a": "2"], owner: "alice")
        let expected = """
            {
              "ociVersion": "\(SpecVersion.current)",
              "id": "c",
              "pid": 0,
              "status": "stopped",
              "bundle": "/b",
              "rootfs": "/b/r",
              "created": "2024-05-01T10:00:00Z",
              "annotations": {
                "org.a": "2",
                "org.z": "1"
              },
              "owner": "alice"
            }
            """
        let text = SpecEncoder.encode(state, indent: 2)
        #expect(text == expected)
        #expect(try SpecDecoder.decode(OCIState.self, from: Array(text.utf8), file: "state.json") == state)
    }

    @Test func decodesARuntimeSpecStateAndWritesTheHookState() throws {
        let text = #"{"ociVersion":"1.2.0","id":"c","status":"created","pid":7,"bundle":"/b","annotations":{"k":"v"}}"#
        let state = try SpecDecoder.decode(OCIState.self, from: Array(text.utf8))
        #expect(state == OCIState(ociVersion: "1.2.0", id: "c", pid: 7, status: "created", bundle: "/b", rootfs: "", created: "", annotations: ["k": "v"]))
        #expect(state.hookStateJSON() == text)
        var stopped = state
        stopped.pid = 0
        stopped.annotations = nil
        #expect(stopped.hookStateJSON() == #"{"ociVersion":"1.2.0","id":"c","status":"created","bundle":"/b"}"#)
    }
}
