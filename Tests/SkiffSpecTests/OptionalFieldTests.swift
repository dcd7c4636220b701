import Testing
@testable import SkiffSpec

/// Members runtime-spec's schema does not require decode without them, to runc's zero values
/// (issue 14 item 16), through SpecModelCoding.swift and the Codable conformances alike.
@Suite("optional schema members")
struct OptionalFieldTests {
    static func both<T: Decodable & Equatable>(_ type: T.Type, _ text: String) throws -> T {
        let direct = try SpecDecoder.decode(T.self, from: Array(text.utf8))
        let value = try JSONValue.parse(Array(text.utf8))
        let codable = try SpecDecoder.decode(T.self, from: value, viaCodable: true)
        #expect(direct == codable)
        return direct
    }

    @Test func processWithoutUserRunsAsRoot() throws {
        let spec = try Self.both(Spec.self, #"{"ociVersion": "1.2.0", "process": {"cwd": "/", "args": ["sh"]}}"#)
        #expect(spec.process?.user == User(uid: 0, gid: 0))
        let process = try Self.both(Process.self, #"{"cwd": "/", "args": ["id"]}"#)
        #expect(process.user == User())
    }

    @Test func userMembersDefaultToZero() throws {
        let spec = try Self.both(Spec.self, #"{"ociVersion": "1.2.0", "process": {"user": {"gid": 7}, "cwd": "/"}}"#)
        #expect(spec.process?.user == User(uid: 0, gid: 7))
        let empty = try Self.both(Spec.self, #"{"ociVersion": "1.2.0", "process": {"user": {}, "cwd": "/"}}"#)
        #expect(empty.process?.user == User(uid: 0, gid: 0))
        let null = try Self.both(Spec.self, #"{"ociVersion": "1.2.0", "process": {"user": {"uid": null, "gid": 1}, "cwd": "/"}}"#)
        #expect(null.process?.user == User(uid: 0, gid: 1))
    }

    @Test func ioPriorityAndThrottleRateAreOptional() throws {
        let spec = try Self.both(Spec.self, #"""
            {"ociVersion": "1.2.0", "process": {"cwd": "/", "ioPriority": {"class": "IOPRIO_CLASS_IDLE"}},
             "linux": {"resources": {"blockIO": {"throttleReadBpsDevice": [{"major": 8, "minor": 0}]}}}}
            """#)
        #expect(spec.process?.ioPriority == LinuxIOPriority(class: "IOPRIO_CLASS_IDLE", priority: 0))
        #expect(spec.linux?.resources?.blockIO?.throttleReadBpsDevice == [LinuxThrottleDevice(major: 8, minor: 0, rate: 0)])
    }

    @Test func requiredMembersStayRequired() {
        #expect(specError { try decodeSpec(#"{"ociVersion": "1.2.0", "process": {"user": {}}}"#) }?.description
            == "config.json: process.cwd: required field is missing")
        #expect(specError { try decodeSpec(#"{"ociVersion": "1.2.0", "process": {"cwd": "/", "ioPriority": {"priority": 1}}}"#) }?.description
            == "config.json: process.ioPriority.class: required field is missing")
    }
}
