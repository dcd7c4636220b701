import Glibc
import Testing
@testable import SkiffSpec

// SpecCoding.swift converts the config model without Codable. These tests hold it to the
// Codable conformances (SpecDecoder/SpecEncoder with viaCodable: true): same values, same
// JSON text, same first error, on every fixture and on thousands of damaged documents.

/// Every member of every config type set, so a member missing from SpecModelCoding.swift
/// shows up as a difference in the encoded text.
let everyMemberConfig = #"""
    {"ociVersion": "1.2.0",
     "process": {"terminal": true, "consoleSize": {"height": 25, "width": 80},
       "user": {"uid": 1, "gid": 2, "umask": 18, "additionalGids": [3, 4]},
       "args": ["sh", "-c", "true"], "env": ["A=1"], "cwd": "/w",
       "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "inheritable": [], "permitted": ["CAP_KILL"], "ambient": ["CAP_KILL"]},
       "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 18446744073709551615, "soft": 1024}],
       "noNewPrivileges": true, "apparmorProfile": "p", "oomScoreAdj": -1000,
       "scheduler": {"policy": "SCHED_OTHER", "nice": -5, "priority": 1, "flags": ["SCHED_FLAG_RESET_ON_FORK"], "runtime": 1, "deadline": 2, "period": 3},
       "selinuxLabel": "l", "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4},
       "execCPUAffinity": {"initial": "0", "final": "0-1"}},
     "root": {"path": "rootfs", "readonly": false},
     "hostname": "h", "domainname": "d",
     "mounts": [{"destination": "/m", "type": "bind", "source": "/s", "options": ["rbind", "idmap"],
                 "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
                 "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}],
     "hooks": {"prestart": [{"path": "/a", "args": ["a"], "env": ["E=1"], "timeout": 3}], "createRuntime": [{"path": "/b"}],
               "createContainer": [{"path": "/c"}], "startContainer": [{"path": "/d"}], "poststart": [{"path": "/e"}],
               "poststop": [{"path": "/f"}]},
     "annotations": {"z": "1", "a.b": "2", "B": "3"},
     "linux": {"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
       "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
       "sysctl": {"net.ipv4.ip_forward": "1"},
       "resources": {"devices": [{"allow": false, "type": "c", "major": 1, "minor": 3, "access": "rwm"}],
         "memory": {"limit": 1, "reservation": 2, "swap": 3, "kernel": 4, "kernelTCP": 5, "swappiness": 6,
                    "disableOOMKiller": true, "useHierarchy": true, "checkBeforeUpdate": true},
         "cpu": {"shares": 1, "quota": -1, "burst": 2, "period": 3, "realtimeRuntime": 4, "realtimePeriod": 5,
                 "cpus": "0", "mems": "0", "idle": 1},
         "pids": {"limit": 32},
         "blockIO": {"weight": 10, "leafWeight": 20, "weightDevice": [{"major": 8, "minor": 0, "weight": 1, "leafWeight": 2}],
                     "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1}], "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 2}],
                     "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 3}], "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 4}]},
         "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
         "network": {"classID": 7, "priorities": [{"name": "eth0", "priority": 1}]},
         "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
         "unified": {"memory.high": "max"}},
       "cgroupsPath": "/c", "namespaces": [{"type": "pid"}, {"type": "network", "path": "/proc/1/ns/net"}],
       "devices": [{"path": "/dev/x", "type": "c", "major": 1, "minor": 2, "fileMode": 438, "uid": 0, "gid": 0}],
       "netDevices": {"eth1": {"name": "eth9"}, "eth2": {}},
       "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"],
                   "flags": ["SECCOMP_FILTER_FLAG_LOG"], "listenerPath": "/l", "listenerMetadata": "m",
                   "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 2,
                                 "args": [{"index": 0, "value": 1, "valueTwo": 2, "op": "SCMP_CMP_EQ"}]}]},
       "rootfsPropagation": "rprivate", "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"], "mountLabel": "m",
       "intelRdt": {"closID": "c", "schemata": ["L3:0=f"], "l3CacheSchema": "L3:0=f", "memBwSchema": "MB:0=20",
                    "enableMonitoring": true, "enableCMT": true, "enableMBM": false},
       "memoryPolicy": {"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]},
       "personality": {"domain": "LINUX", "flags": []},
       "timeOffsets": {"monotonic": {"secs": 1, "nanosecs": 2}, "boottime": {}}}}
    """#

/// A Codable type that carries the routed types inside a synthesized conformance, like
/// skiff's StoredState: errors inside must keep the outer path.
private struct Envelope: Codable, Equatable {
    var id: String
    var config: Spec
    var paths: [String]
    var names: [String: String]
    var state: OCIState?
    var process: Process?
    var resources: LinuxResources?
}

/// What decoding gave: the value or the error description.
private enum Outcome<T: Equatable>: Equatable, CustomStringConvertible {
    case value(T)
    case error(String)

    var description: String {
        switch self {
        case .value: "a value"
        case .error(let text): "error " + text
        }
    }

    var isValue: Bool {
        if case .value = self { return true }
        return false
    }
}

/// Decodes `value` both ways.
private func bothWays<T: Decodable & Equatable>(_ type: T.Type, _ value: JSONValue) -> (direct: Outcome<T>, codable: Outcome<T>) {
    func outcome(_ body: () throws(SpecError) -> T) -> Outcome<T> {
        do { return .value(try body()) } catch { return .error(error.description) }
    }
    let direct = outcome { () throws(SpecError) in try SpecDecoder.decode(T.self, from: value, file: "f.json") }
    let codable = outcome { () throws(SpecError) in try SpecDecoder.decode(T.self, from: value, file: "f.json", viaCodable: true) }
    return (direct, codable)
}

private func encodedBothWays<T: Encodable>(_ value: T) throws -> (direct: String, codable: String) {
    (try SpecEncoder.encodeValue(value).serialized(), try SpecEncoder.encodeValue(value, viaCodable: true).serialized())
}

/// The document with one member removed or replaced, for every member at every depth.
private func damaged(_ value: JSONValue) -> [JSONValue] {
    let replacements: [JSONValue] = [.null, true, 1, -1, 1.5, 4294967296, "x", [], [:], [1], ["x"], ["a": 1]]
    var result: [JSONValue] = []
    switch value {
    case .object(let object):
        for (key, member) in object.members {
            var without = object
            without[key] = nil
            result.append(.object(without))
            for replacement in replacements where replacement != member {
                var changed = object
                changed[key] = replacement
                result.append(.object(changed))
            }
            for inner in damaged(member) {
                var changed = object
                changed[key] = inner
                result.append(.object(changed))
            }
        }
    case .array(let elements):
        for (i, element) in elements.enumerated() {
            for replacement in [JSONValue.null, "x", 1, [:]] where replacement != element {
                var changed = elements
                changed[i] = replacement
                result.append(.array(changed))
            }
            for inner in damaged(element) {
                var changed = elements
                changed[i] = inner
                result.append(.array(changed))
            }
        }
    default:
        break
    }
    return result
}

/// Every config.json under spec-fixtures.
private func fixtureConfigs() -> [(String, [UInt8])] {
    let here = String(#filePath)
    let root = String(here[..<here.utf8.index(here.utf8.endIndex, offsetBy: -"Tests/SkiffSpecTests/SpecCodingTests.swift".utf8.count)])
        + "spec-fixtures"
    var found: [(String, [UInt8])] = []
    func walk(_ dir: String) {
        guard let handle = opendir(dir) else { return }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." || name == "rootfs" { continue }
            let path = dir + "/" + name
            if entry.pointee.d_type == UInt8(DT_DIR) {
                walk(path)
            } else if name == "config.json", let file = fopen(path, "r") {
                var bytes: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = fread(&buffer, 1, buffer.count, file)
                    if n <= 0 { break }
                    bytes += buffer[0..<n]
                }
                fclose(file)
                found.append((path, bytes))
            }
        }
    }
    walk(root)
    return found.sorted { $0.0 < $1.0 }
}

@Suite("Direct spec coding matches Codable")
struct SpecCodingTests {
    @Test func everyMemberRoundTripsIdentically() throws {
        let value = try JSONValue.parse(everyMemberConfig)
        let (direct, codable) = bothWays(Spec.self, value)
        #expect(direct == codable)
        let spec = try SpecDecoder.decode(Spec.self, from: value)
        let encoded = try encodedBothWays(spec)
        #expect(encoded.direct == encoded.codable)
        // Nothing was dropped: the encoding has every member of the input.
        #expect(try JSONValue.parse(encoded.direct) == value)
    }

    @Test func fixturesDecodeAndEncodeIdentically() throws {
        let fixtures = fixtureConfigs()
        #expect(fixtures.count > 50)
        for (path, bytes) in fixtures + [("runtimeSpecExample", Array(runtimeSpecExample.utf8))] {
            guard let value = try? JSONValue.parse(bytes) else { continue }
            let (direct, codable) = bothWays(Spec.self, value)
            #expect(direct == codable, "\(path)")
            if let spec = try? SpecDecoder.decode(Spec.self, from: value) {
                let encoded = try encodedBothWays(spec)
                #expect(encoded.direct == encoded.codable, "\(path)")
            }
        }
    }

    @Test func damagedDocumentsFailIdentically() throws {
        var checked = 0
        for text in [everyMemberConfig, runtimeSpecExample] {
            for document in damaged(try JSONValue.parse(text)) {
                let (direct, codable) = bothWays(Spec.self, document)
                #expect(direct == codable)
                checked += 1
            }
        }
        #expect(checked > 1000)
    }

    @Test func routedTypesInsideACodableTypeKeepTheOuterPath() throws {
        let state = #"{"ociVersion": "1.2.0", "id": "c", "status": "created", "bundle": "/b", "annotations": {"k": "v"}}"#
        let process = #"{"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["sh"]}"#
        let resources = #"{"memory": {"limit": 5}, "pids": {}}"#
        let text = #"{"id": "x", "config": \#(everyMemberConfig), "paths": ["/a", "/b"], "names": {"pid": "/proc/1/ns/pid"}, "state": \#(state), "process": \#(process), "resources": \#(resources)}"#
        let value = try JSONValue.parse(text)
        let (direct, codable) = bothWays(Envelope.self, value)
        #expect(direct == codable)
        #expect(direct.isValue)
        let envelope = try SpecDecoder.decode(Envelope.self, from: value)
        let encoded = try encodedBothWays(envelope)
        #expect(encoded.direct == encoded.codable)
        var checked = 0
        for document in damaged(value) {
            let (direct, codable) = bothWays(Envelope.self, document)
            #expect(direct == codable)
            checked += 1
        }
        #expect(checked > 1000)
    }

    @Test func topLevelRoutedTypes() throws {
        for text in [#"{"ociVersion": "1", "id": "c", "pid": 3, "status": "running", "bundle": "/b", "owner": "o"}"#,
                     #"{"ociVersion": "1", "id": "c", "status": "running"}"#, #"[]"#] {
            let value = try JSONValue.parse(text)
            let (direct, codable) = bothWays(OCIState.self, value)
            #expect(direct == codable)
        }
        for text in [#"["a", "b"]"#, #"["a", 1]"#, #"{}"#] {
            let value = try JSONValue.parse(text)
            let (direct, codable) = bothWays([String].self, value)
            #expect(direct == codable)
        }
        for text in [#"{"a": "b", "c": "d"}"#, #"{"a": 1}"#, #"[]"#] {
            let value = try JSONValue.parse(text)
            let (direct, codable) = bothWays([String: String].self, value)
            #expect(direct == codable)
        }
        let states = [OCIState(id: "a", pid: 1, status: "running", bundle: "/a", rootfs: "/a/r", created: "t", annotations: ["x": "y"]),
                      OCIState(id: "b", pid: 0, status: "stopped", bundle: "/b", rootfs: "/b/r", created: "t", annotations: [:])]
        let encoded = try encodedBothWays(states)
        #expect(encoded.direct == encoded.codable)
        #expect(SpecEncoder.encode(states[0], indent: 2) == SpecEncoder.encodeValueText(states[0], indent: 2, viaCodable: true))
    }
}

extension SpecEncoder {
    fileprivate static func encodeValueText<T: Encodable>(_ value: T, indent: Int, viaCodable: Bool) -> String {
        (try? encodeValue(value, viaCodable: viaCodable).serialized(indent: indent)) ?? ""
    }
}
