import Foundation
import Glibc
import SkiffSpec
import SkiffSystem
import Testing
@testable import SkiffRuntime

@Suite struct StatusTests {
    @Test func derivesRuncStatuses() {
        #expect(ContainerStatus.derive(initAlive: false, execFifoExists: true, frozen: true) == .stopped)
        #expect(ContainerStatus.derive(initAlive: true, execFifoExists: true, frozen: false) == .created)
        #expect(ContainerStatus.derive(initAlive: true, execFifoExists: false, frozen: false) == .running)
        #expect(ContainerStatus.derive(initAlive: true, execFifoExists: false, frozen: true) == .paused)
    }

    @Test func startErrorsMatchRunc() {
        #expect(ContainerStatus.created.startError == nil)
        #expect(ContainerStatus.stopped.startError == "cannot start a container that has stopped")
        #expect(ContainerStatus.running.startError == "cannot start an already running container")
        #expect(ContainerStatus.paused.startError == "cannot start a container in the paused state")
    }

    @Test func containerIDRules() throws {
        try ContainerID.validate("abc-DEF_1.2+3")
        for bad in ["", ".", "..", "a/b", "a b", "x\u{0}"] {
            #expect(throws: RuntimeError.self) { try ContainerID.validate(bad) }
        }
    }
}

@Suite struct StoredStateCodingTests {
    static func sample(parents: [String]?, below: Int?) -> StoredState {
        StoredState(
            id: "c1", initPid: 4242, initStartTime: 123_456_789, created: "2026-11-23T12:00:00.000000001Z",
            bundle: "/b \"quoted\"", rootfs: "/b/rootfs", config: Spec.defaultSpec(),
            cgroupPaths: ["/sys/fs/cgroup/cpu/skiff/c1", "/sys/fs/cgroup/unified/skiff/c1"],
            namespacePaths: ["pid": "/proc/4242/ns/pid", "mount": "/proc/4242/ns/mnt"],
            privatePidNamespace: true, noPivot: false, noNewKeyring: true, systemdCgroup: false, owner: 1000,
            cgroupParents: parents, hostRootfsBelow: below)
    }

    /// The direct conversion writes the keys the Codable form wrote, in its order (old state
    /// files stay readable, new ones readable by an older skiff), and reads it back whole.
    @Test(arguments: [(nil, nil), (["/sys/fs/cgroup/cpu/x"], -1)] as [([String]?, Int?)])
    func directConversionMatchesCodable(parents: [String]?, below: Int?) throws {
        let state = Self.sample(parents: parents, below: below)
        let direct = state.json.serialized(indentString: nil)
        guard case .object(let object) = try JSONValue.parse(Array(direct.utf8)) else {
            Issue.record("state.json is not an object")
            return
        }
        #expect(object.keys == ["id", "initPid", "initStartTime", "created", "bundle", "rootfs", "config", "cgroupPaths",
                                "namespacePaths", "privatePidNamespace", "noPivot", "noNewKeyring", "systemdCgroup", "owner"]
                               + (parents == nil ? [] : ["cgroupParents"]) + (below == nil ? [] : ["hostRootfsBelow"]))
        #expect(object["config"] == Spec.defaultSpec().json && object["namespacePaths"] == .object(JSONObject(
            [("mount", .string("/proc/4242/ns/mnt")), ("pid", .string("/proc/4242/ns/pid"))])))
        let back = try StoredState(json: try JSONValue.parse(Array(direct.utf8)), at: .root([]))
        #expect(back.json.serialized(indentString: nil) == direct)
        #expect(try back.config() == state.config() && back.namespacePaths == state.namespacePaths && back.hostRootfsBelow == below)
    }

    @Test func corruptStateNamesTheFileAndField() throws {
        var template = Array("/tmp/skiff-state-XXXXXX".utf8CString)
        let dir = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!)
        defer { try? FileSystem.removeAll(dir) }
        let store = StateStore(root: dir)
        try store.createDirectory("c1")
        try store.save(Self.sample(parents: nil, below: nil))
        #expect(try store.load("c1").initPid == 4242)
        let text = try FileSystem.readText(store.stateFile("c1")).replacingFirst("\"initPid\":4242", with: "\"initPid\":\"x\"")
        try FileSystem.writeAtomic(store.stateFile("c1"), Array(text.utf8), mode: 0o600)
        let error = #expect(throws: RuntimeError.self) { try store.load("c1") }
        #expect(error?.message.hasPrefix("corrupt state: \(dir)/c1/state.json: initPid: ") == true, "\(error?.message ?? "")")
    }
}

private extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
