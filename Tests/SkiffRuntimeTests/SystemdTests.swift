import Glibc
import SkiffSpec
import Testing
@testable import SkiffRuntime
@testable import SkiffSystem

func hexBytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = hex.utf8.makeIterator()
    while let a = it.next(), let b = it.next() {
        out.append(UInt8(String(decoding: [a, b], as: UTF8.self), radix: 16)!)
    }
    return out
}

/// D-Bus wire format, checked byte for byte against messages that libdbus (dbus-send) and
/// GLib (gdbus) put on the wire, captured with strace against a dbus-daemon.
@Suite struct DBusMarshallingTests {
    // dbus-send --session --dest=org.freedesktop.DBus --print-reply /org/freedesktop/DBus
    //   org.freedesktop.DBus.GetNameOwner string:org.freedesktop.DBus   (its 2nd message)
    static let getNameOwnerCall = "6c01000119000000020000007f00000001016f00150000002f6f72672f667265656465736b746f702f4442757300000002017300140000006f72672e667265656465736b746f702e4442757300000000030173000c0000004765744e616d654f776e65720000000006017300140000006f72672e667265656465736b746f702e44427573000000000801670001730000140000006f72672e667265656465736b746f702e4442757300"
    // What dbus-daemon sent back: the Hello reply followed by the NameAcquired signal (one read).
    static let helloReplyAndSignal = "6c02010109000000010000003d00000006017300040000003a312e32000000000501750001000000080167000173000007017300140000006f72672e667265656465736b746f702e4442757300000000040000003a312e32006c04010109000000020000008d00000001016f00150000002f6f72672f667265656465736b746f702f4442757300000002017300140000006f72672e667265656465736b746f702e4442757300000000030173000c0000004e616d6541637175697265640000000006017300040000003a312e3200000000080167000173000007017300140000006f72672e667265656465736b746f702e4442757300000000040000003a312e3200"
    // gdbus call … org.freedesktop.systemd1.Manager.StartTransientUnit "'skiff-x.scope'" "'replace'"
    //   "[('Description', <'skiff container x'>), ('Slice', <'system.slice'>), ('Delegate', <true>),
    //     ('PIDs', <[uint32 1234]>), ('MemoryMax', <uint64 268435456>), ('AllowedCPUs', <[byte 0x03]>),
    //     ('DeviceAllow', <[('/dev/char/1:3', 'rwm'), ('char-pts', 'rwm')]>), ('Wants', <['a.slice']>)]"
    //   "@a(sa(sv)) []"   — the body (after the header, which GLib orders differently).
    static let startTransientBody = "0d000000736b6966662d782e73636f7065000000070000007265706c6163650040010000000000000b0000004465736372697074696f6e000173000011000000736b69666620636f6e7461696e657220780000000000000005000000536c696365000173000000000c00000073797374656d2e736c69636500000000000000000800000044656c65676174650001620001000000000000000400000050494473000261750000000004000000d2040000090000004d656d6f72794d6178000174000000000000000000000010000000000b000000416c6c6f7765644350557300026179000100000003000000000000000b000000446576696365416c6c6f7700056128737329000038000000000000000d0000002f6465762f636861722f313a330000000300000072776d000000000008000000636861722d707473000000000300000072776d000500000057616e7473000261730000000c00000007000000612e736c696365000000000000000000"

    static let startTransientArguments: [DBusValue] = [
        .string("skiff-x.scope"), .string("replace"),
        DBusValue.properties([
            ("Description", .string("skiff container x")),
            ("Slice", .string("system.slice")),
            ("Delegate", .bool(true)),
            ("PIDs", .array(element: "u", [.uint32(1234)])),
            ("MemoryMax", .uint64(268_435_456)),
            ("AllowedCPUs", .array(element: "y", [.byte(3)])),
            ("DeviceAllow", .array(element: "(ss)", [.structure([.string("/dev/char/1:3"), .string("rwm")]),
                                                     .structure([.string("char-pts"), .string("rwm")])])),
            ("Wants", DBusValue.strings(["a.slice"])),
        ]),
        .array(element: "(sa(sv))", []),
    ]

    @Test func methodCallMatchesLibdbus() throws {
        let m = DBusMessage(call: "GetNameOwner", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus",
                            destination: "org.freedesktop.DBus", body: [.string("org.freedesktop.DBus")], serial: 2)
        #expect(try m.encoded() == hexBytes(Self.getNameOwnerCall))
        // And it parses back to itself.
        let back = try DBusMessage.decode(hexBytes(Self.getNameOwnerCall))
        #expect(back.member == "GetNameOwner" && back.destination == "org.freedesktop.DBus" && back.serial == 2)
        #expect(back.signature == "s" && back.body == [.string("org.freedesktop.DBus")])
    }

    @Test func startTransientUnitBodyMatchesGDBus() throws {
        var e = DBusEncoder()
        for v in Self.startTransientArguments { try e.encode(v) }
        #expect(e.bytes == hexBytes(Self.startTransientBody))
        let m = DBusMessage(call: "StartTransientUnit", path: "/org/freedesktop/systemd1",
                            interface: "org.freedesktop.systemd1.Manager", destination: "org.freedesktop.systemd1",
                            body: Self.startTransientArguments)
        #expect(m.signature == "ssa(sv)a(sa(sv))")
        var d = DBusDecoder(hexBytes(Self.startTransientBody))
        #expect(try d.decode(signature: m.signature) == Self.startTransientArguments)
    }

    @Test func parsesDaemonReplies() throws {
        let bytes = hexBytes(Self.helloReplyAndSignal)
        let first = try #require(try DBusMessage.length(of: bytes[...]))
        #expect(first == 89)
        let reply = try DBusMessage.decode(Array(bytes[..<first]))
        #expect(reply.kind == .methodReturn && reply.replySerial == 1 && reply.body == [.string(":1.2")])
        #expect(reply.sender == "org.freedesktop.DBus" && reply.destination == ":1.2" && reply.flags == 1)
        let signal = try DBusMessage.decode(Array(bytes[first...]))
        #expect(signal.kind == .signal && signal.member == "NameAcquired" && signal.body == [.string(":1.2")])
        #expect(signal.path == "/org/freedesktop/DBus" && signal.interface == "org.freedesktop.DBus")
    }

    @Test func alignmentRules() throws {
        // A byte, then a uint64: padded to 8; a struct starts on 8; an empty array of structs
        // still pads to its element alignment (after the length, not counted in it).
        var e = DBusEncoder()
        try e.encode(.byte(7))
        try e.encode(.uint64(1))
        #expect(e.bytes == [7, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
        var a = DBusEncoder()
        try a.encode(.byte(1))
        try a.encode(.array(element: "(sv)", []))
        #expect(a.bytes == [1, 0, 0, 0, 0, 0, 0, 0])
        var v = DBusEncoder()
        try v.encode(.variant(.int32(-2)))
        #expect(v.bytes == [1, 0x69, 0, 0, 0xfe, 0xff, 0xff, 0xff])
        var bad = DBusEncoder()
        #expect(throws: DBusError.self) { try bad.encode(.array(element: "s", [.uint32(1)])) }
    }

    @Test func rejectsMalformedInput() {
        // Truncated, wrong endianness, garbage signature: errors, never a trap.
        let good = hexBytes(Self.getNameOwnerCall)
        for cut in [0, 10, 16, 40, good.count - 1] {
            #expect(throws: DBusError.self) { _ = try DBusMessage.decode(Array(good[..<cut])) }
        }
        var big = good
        big[0] = UInt8(ascii: "B")
        #expect(throws: DBusError.self) { _ = try DBusMessage.decode(big) }
        var d = DBusDecoder([1, 2, 3])
        #expect(throws: DBusError.self) { _ = try d.decode(signature: "a(") }
        #expect(throws: DBusError.self) { _ = try DBusDecoder.splitSignature("()") }
        var long = DBusDecoder([0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0])
        #expect(throws: DBusError.self) { _ = try long.decode(signature: "as") }
    }

    @Test func authenticatesAsTheHostUID() {
        #expect(DBusConnection.hostUID(0, uidMap: "         0          0 4294967295\n") == 0)
        #expect(DBusConnection.hostUID(0, uidMap: "         0       1000          1\n         1     100000      65536\n") == 1000)
        #expect(DBusConnection.hostUID(5, uidMap: "         0       1000          1\n         1     100000      65536\n") == 100004)
        #expect(DBusConnection.hostUID(7, uidMap: "") == 7)
    }

    @Test func addresses() {
        #expect(DBusConnection.unixSocketPath("unix:path=/run/dbus/system_bus_socket") == "/run/dbus/system_bus_socket")
        #expect(DBusConnection.unixSocketPath("unix:abstract=/tmp/dbus-X,guid=00") == "@/tmp/dbus-X")
        #expect(DBusConnection.unixSocketPath("unix:path=/tmp/a%20b,guid=1") == "/tmp/a b")
        #expect(DBusConnection.unixSocketPath("tcp:host=localhost,port=1") == nil)
    }
}

/// A real peer: a private dbus-daemon (skipped when the package is not installed).
@Suite(.serialized) struct DBusDaemonTests {
    static let daemon = "/usr/bin/dbus-daemon"

    /// Starts `dbus-daemon --session` on a socket in a temporary directory; returns its
    /// address and pid.
    static func startDaemon() throws -> (address: String, pid: pid_t, dir: String) {
        var template = Array("/tmp/skiff-dbus-XXXXXX".utf8CString)
        let dir = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!)
        let address = "unix:path=\(dir)/bus"
        let pidFile = dir + "/pid"
        let status = system("\(daemon) --session --fork --address=\(address) --print-pid=3 --nopidfile 3>\(pidFile) >/dev/null 2>&1")
        #expect(status == 0)
        let pid = pid_t(((try? FileSystem.readText(pidFile)) ?? "").trimmingWhitespace()) ?? 0
        return (address, pid, dir)
    }

    @Test(.enabled(if: FileSystem.exists(DBusDaemonTests.daemon))) func helloGetIdListNamesAndEcho() throws {
        let d = try Self.startDaemon()
        defer {
            if d.pid > 0 { kill(d.pid, SIGTERM) }
            try? FileSystem.removeAll(d.dir)
        }
        let a = try DBusConnection.connect(address: d.address, hello: true)
        let b = try DBusConnection.connect(address: d.address, hello: true)
        let nameA = try #require(a.uniqueName), nameB = try #require(b.uniqueName)
        #expect(nameA.hasPrefix(":1.") && nameA != nameB)

        func bus(_ member: String, _ body: [DBusValue] = []) -> DBusMessage {
            DBusMessage(call: member, path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus",
                        destination: "org.freedesktop.DBus", body: body)
        }
        let id = try a.call(bus("GetId")).body.first?.stringValue ?? ""
        #expect(id.utf8.count == 32)
        guard case .array("s", let names)? = try a.call(bus("ListNames")).body.first else {
            Issue.record("ListNames: no array of strings")
            return
        }
        #expect(names.contains(.string(nameA)) && names.contains(.string(nameB)) && names.contains(.string("org.freedesktop.DBus")))
        // An error reply comes back as DBusError with its name.
        do {
            try a.call(bus("GetNameOwner", [.string("org.example.Nobody")]))
            Issue.record("no error")
        } catch {
            #expect(error.name == "org.freedesktop.DBus.Error.NameHasNoOwner")
        }

        // The daemon validates every message it routes: a StartTransientUnit call sent from a to
        // b arrives intact (then b answers with a job path, as systemd would).
        var call = DBusMessage(call: "StartTransientUnit", path: "/org/freedesktop/systemd1",
                               interface: "org.freedesktop.systemd1.Manager", destination: nameB,
                               body: DBusMarshallingTests.startTransientArguments, serial: 77)
        try a.send(call.encoded())
        var got = try b.receive(deadline: Clock.monotonicMilliseconds() + 10_000)
        while got.kind == .signal { got = try b.receive(deadline: Clock.monotonicMilliseconds() + 10_000) }  // NameAcquired
        #expect(got.kind == .methodCall && got.member == "StartTransientUnit" && got.sender == nameA)
        #expect(got.body == DBusMarshallingTests.startTransientArguments)
        var reply = DBusMessage(kind: .methodReturn, serial: 1)
        reply.replySerial = got.serial
        reply.destination = nameA
        reply.body = [.objectPath("/org/freedesktop/systemd1/job/42")]
        try b.send(reply.encoded())
        var answer = try a.receive(deadline: Clock.monotonicMilliseconds() + 10_000)
        while answer.kind == .signal { answer = try a.receive(deadline: Clock.monotonicMilliseconds() + 10_000) }
        #expect(answer.kind == .methodReturn && answer.replySerial == 77)
        #expect(answer.body == [.objectPath("/org/freedesktop/systemd1/job/42")])
    }
}

@Suite struct SystemdPlanTests {
    @Test func expandSliceAsRunc() {
        #expect(SystemdCgroup.expandSlice("test.slice") == "/test.slice")
        #expect(SystemdCgroup.expandSlice("test-a.slice") == "/test.slice/test-a.slice")
        #expect(SystemdCgroup.expandSlice("test-a-b.slice") == "/test.slice/test-a.slice/test-a-b.slice")
        #expect(SystemdCgroup.expandSlice("a-b-c.slice") == "/a.slice/a-b.slice/a-b-c.slice")
        #expect(SystemdCgroup.expandSlice("-.slice") == "/")
        for bad in ["test--a.slice", "-test.slice", "test-.slice", "test", ".slice", "a/b.slice", "test.scope", ""] {
            #expect(SystemdCgroup.expandSlice(bad) == nil, "\(bad)")
        }
    }

    @Test func unitNames() throws {
        let u = try SystemdCgroup.unit(cgroupsPath: "machine-a.slice:libpod:abc", id: "x", rootless: false)
        #expect(u.name == "libpod-abc.scope" && u.slice == "machine-a.slice" && u.slicePath == "/machine.slice/machine-a.slice")
        let d = try SystemdCgroup.unit(cgroupsPath: nil, id: "c1", rootless: false)
        #expect(d.name == "skiff-c1.scope" && d.slice == "system.slice" && d.slicePath == "/system.slice")
        let r = try SystemdCgroup.unit(cgroupsPath: ":docker:9", id: "c1", rootless: true)
        #expect(r.name == "docker-9.scope" && r.slice == "user.slice")
        let s = try SystemdCgroup.unit(cgroupsPath: "system.slice:kubepods:kubepods-pod1.slice", id: "c1", rootless: false)
        #expect(s.name == "kubepods-pod1.slice" && s.isSlice)
        #expect(throws: RuntimeError.self) { try SystemdCgroup.unit(cgroupsPath: "/a/b", id: "c", rootless: false) }
        #expect(throws: RuntimeError.self) { try SystemdCgroup.unit(cgroupsPath: "a:b:c:d", id: "c", rootless: false) }
        #expect(throws: RuntimeError.self) { try SystemdCgroup.unit(cgroupsPath: "bad--x.slice:p:n", id: "c", rootless: false) }
        do {
            _ = try SystemdCgroup.unit(cgroupsPath: "nope", id: "c", rootless: false)
        } catch {
            #expect(error.description.contains("config.json: linux.cgroupsPath: expected cgroupsPath to be of format \"slice:prefix:name\""))
        }
    }

    @Test func directoriesV2AndV1() throws {
        let unit = try SystemdCgroup.unit(cgroupsPath: "a-b.slice:p:n", id: "x", rootless: false)
        let v2 = CgroupLayout(hierarchies: [CgroupHierarchy(mountPoint: "/sys/fs/cgroup", controllers: [], isV2: true, ownPath: "/user.slice/x")])
        #expect(SystemdCgroup.directories(unit: unit, layout: v2, initCgroup: "0::/init.scope\n") == ["/sys/fs/cgroup/a.slice/a-b.slice/p-n.scope"])
        #expect(SystemdCgroup.directories(unit: unit, layout: v2, initCgroup: "", managerCgroup: "/user.slice/user-1000.slice/user@1000.service")
                == ["/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/a.slice/a-b.slice/p-n.scope"])
        let v1 = CgroupLayout(hierarchies: [
            CgroupHierarchy(mountPoint: "/sys/fs/cgroup/memory", controllers: ["memory"], isV2: false, ownPath: "/"),
            CgroupHierarchy(mountPoint: "/sys/fs/cgroup/systemd", controllers: ["name=systemd"], isV2: false, ownPath: "/"),
            CgroupHierarchy(mountPoint: "/sys/fs/cgroup/unified", controllers: [], isV2: true, ownPath: "/"),
        ])
        // pid 1 in init.scope (systemd ≥226): trimmed; a nested host (pid 1 in /lxc/c1): kept.
        #expect(SystemdCgroup.directories(unit: unit, layout: v1, initCgroup: "4:memory:/lxc/c1\n1:name=systemd:/init.scope\n0::/init.scope\n")
                == ["/sys/fs/cgroup/memory/lxc/c1/a.slice/a-b.slice/p-n.scope",
                    "/sys/fs/cgroup/systemd/a.slice/a-b.slice/p-n.scope",
                    "/sys/fs/cgroup/unified/a.slice/a-b.slice/p-n.scope"])
    }

    @Test func rangeToBitsAsRunc() {
        let cases: [(String, [UInt8]?)] = [
            ("", nil), ("0", [1]), ("1", [2]), ("0-1", [3]), ("0,1", [3]), (",0,1,", [3]), ("0-3", [0x0f]),
            ("0,1,2-3", [0x0f]), ("4-7", [0xf0]), ("0-7", [0xff]), ("0-15", [0xff, 0xff]), ("16", [1, 0, 0]),
            ("0-3,32-33", [3, 0, 0, 0, 0x0f]), ("1, 2, 1-2", [6]), ("    , 1   , 3  ,  5-7,\t", [0xea]),
            ("128-130,1", [7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]),
            ("-", nil), ("1-", nil), ("-3", nil), ("54-53", nil), ("1 - 2", nil), ("4294967295", nil),
        ]
        for (text, want) in cases { #expect(SystemdCgroup.rangeToBits(text) == want, "\(text)") }
    }

    @Test func versions() {
        #expect(SystemdCgroup.parseVersion("219") == 219)
        #expect(SystemdCgroup.parseVersion("v245.4-1.fc32") == 245)
        #expect(SystemdCgroup.parseVersion("252.22-1~deb12u1") == 252)
        #expect(SystemdCgroup.parseVersion("NaN") == nil)
        #expect(SystemdCgroup.parseVersion("") == nil)
    }

    static func props(_ list: [SystemdCgroup.Property]) -> [String] { list.map { "\($0.name)=\(text($0.value))" } }
    static func text(_ v: DBusValue) -> String {
        switch v {
        case .bool(let b): "\(b)"
        case .uint64(let x): x == .max ? "inf" : "\(x)"
        case .uint32(let x): "\(x)"
        case .string(let s): s
        case .array(_, let items): "[" + items.map(text).joined(separator: ",") + "]"
        case .structure(let f): "(" + f.map(text).joined(separator: " ") + ")"
        case .byte(let b): "\(b)"
        default: "\(v)"
        }
    }

    @Test func startPropertiesV2() throws {
        let unit = try SystemdCgroup.unit(cgroupsPath: "machine.slice:libpod:abc", id: "x", rootless: false)
        let r = LinuxResources(
            devices: [LinuxDeviceCgroup(allow: false, access: "rwm"),
                      LinuxDeviceCgroup(allow: true, type: "c", major: 10, minor: 200, access: "rwm")],
            memory: LinuxMemory(limit: 256 << 20, reservation: 128 << 20, swap: 512 << 20),
            cpu: LinuxCPU(shares: 1024, quota: 50_000, period: 100_000, cpus: "0-1", mems: "0"),
            pids: LinuxPids(limit: 100),
            blockIO: LinuxBlockIO(weight: 500),
            unified: ["memory.high": "200000000", "memory.oom.group": "1"])
        let facts = SystemdCgroup.Facts(v2: true, version: 252,
                                        deviceGroup: { t, m in t == "c" && m == 136 ? "char-pts" : nil },
                                        deviceExists: { $0 != "/dev/char/10:200" })
        let planned = try SystemdCgroup.startProperties(unit: unit, pid: 4321, resources: r,
                                                        annotations: ["org.systemd.property.TimeoutStopSec": "uint64 15",
                                                                      "org.systemd.property.CollectMode": "'inactive-or-failed'",
                                                                      "other": "x"],
                                                        facts: facts)
        #expect(Self.props(planned.properties) == [
            "Description=skiff container abc", "Slice=machine.slice", "Delegate=true", "PIDs=[4321]",
            "MemoryAccounting=true", "CPUAccounting=true", "IOAccounting=true", "TasksAccounting=true",
            "DefaultDependencies=false",
            "DevicePolicy=strict", "DeviceAllow=[]",
            "DeviceAllow=[(char-* m),(block-* m),(/dev/char/1:3 rwm),(/dev/char/1:8 rwm),(/dev/char/1:7 rwm),(/dev/char/5:0 rwm),(/dev/char/1:5 rwm),(/dev/char/1:9 rwm),(char-pts rwm),(/dev/char/5:2 rwm)]",
            "MemoryMax=268435456", "MemoryLow=134217728", "MemorySwapMax=268435456", "CPUWeight=100",
            "CPUQuotaPeriodUSec=100000", "CPUQuotaPerSecUSec=500000", "IOWeight=4950", "TasksMax=100",
            "AllowedCPUs=[3]", "AllowedMemoryNodes=[1]", "MemoryHigh=200000000",
            "CollectMode=inactive-or-failed", "TimeoutStopUSec=15000000",
        ])
        #expect(planned.warnings.isEmpty)
    }

    @Test func propertiesV1AndVersions() throws {
        let r = LinuxResources(memory: LinuxMemory(limit: 1 << 30), cpu: LinuxCPU(shares: 512, quota: 12_345, period: 50_000, cpus: "1"),
                               pids: LinuxPids(limit: -1), blockIO: LinuxBlockIO(weight: 300))
        // systemd 239: no CPUQuotaPeriodUSec, no AllowedCPUs.
        let p = try SystemdCgroup.resourceProperties(r, facts: SystemdCgroup.Facts(v2: false, version: 239), skipDevices: true)
        #expect(Self.props(p.properties) == ["MemoryLimit=1073741824", "CPUShares=512", "CPUQuotaPerSecUSec=250000",
                                             "BlockIOWeight=300", "TasksMax=inf"])
        // quota -1 with a period: unlimited; unified cpu.max overrides as in runc.
        let q = try SystemdCgroup.resourceProperties(LinuxResources(cpu: LinuxCPU(quota: -1, period: 20_000), unified: ["cpu.max": "max 10000", "pids.max": "max"]),
                                                     facts: SystemdCgroup.Facts(v2: true, version: 252), skipDevices: true)
        #expect(Self.props(q.properties) == ["CPUQuotaPeriodUSec=20000", "CPUQuotaPerSecUSec=inf",
                                             "CPUQuotaPeriodUSec=10000", "CPUQuotaPerSecUSec=inf", "TasksMax=inf"])
        #expect(throws: RuntimeError.self) {
            _ = try SystemdCgroup.resourceProperties(LinuxResources(unified: ["memory.max": "lots"]), facts: SystemdCgroup.Facts(v2: true, version: 252))
        }
        #expect(throws: RuntimeError.self) {
            _ = try SystemdCgroup.resourceProperties(LinuxResources(cpu: LinuxCPU(cpus: "3-1")), facts: SystemdCgroup.Facts(v2: true, version: 252))
        }
    }

    @Test func deviceRules() throws {
        let facts = SystemdCgroup.Facts(v2: true, version: 252)
        // Allow-all (docker --privileged): DevicePolicy=auto, nothing listed.
        let all = try SystemdCgroup.deviceProperties([LinuxDeviceCgroup(allow: true, access: "rwm")], facts: facts)
        #expect(Self.props(all.properties) == ["DevicePolicy=auto", "DeviceAllow=[]"])
        // A deny list: systemd cannot express it; deny-all with a warning (runc).
        let deny = try SystemdCgroup.deviceProperties([LinuxDeviceCgroup(allow: true, access: "rwm"),
                                                       LinuxDeviceCgroup(allow: false, type: "c", major: 10, minor: 229, access: "rwm")], facts: facts)
        #expect(Self.props(deny.properties) == ["DevicePolicy=strict", "DeviceAllow=[]"])
        #expect(deny.warnings.count == 1)
        // A later deny takes access away from an earlier allow; '*:n' rules are skipped.
        let some = try SystemdCgroup.deviceProperties([LinuxDeviceCgroup(allow: false, access: "rwm"),
                                                       LinuxDeviceCgroup(allow: true, type: "b", major: 8, minor: 0, access: "rw"),
                                                       LinuxDeviceCgroup(allow: false, type: "b", major: 8, minor: 0, access: "w"),
                                                       LinuxDeviceCgroup(allow: true, type: "c", minor: 4, access: "r")], facts: facts)
        #expect(Self.props(some.properties).last?.hasPrefix("DeviceAllow=[(/dev/block/8:0 r),(char-* m),(block-* m),") == true)
        #expect(some.warnings.contains { $0.contains("'*:n'") })
        #expect(throws: RuntimeError.self) {
            _ = try SystemdCgroup.deviceProperties([LinuxDeviceCgroup(allow: true, type: "x", access: "r")], facts: facts)
        }
    }

    @Test func procDevicesGroups() {
        let text = "Character devices:\n  1 mem\n  4 /dev/vc/0\n136 pts\n\nBlock devices:\n  8 sd\n259 blkext\n"
        #expect(SystemdCgroup.deviceGroup(procDevices: text, type: "c", major: 136) == "char-pts")
        #expect(SystemdCgroup.deviceGroup(procDevices: text, type: "b", major: 8) == "block-sd")
        #expect(SystemdCgroup.deviceGroup(procDevices: text, type: "b", major: 136) == nil)
    }

    @Test func annotationsAsRunc() throws {
        let p = try SystemdCgroup.annotationProperties([
            "org.systemd.property.TimeoutStopSec": "10",           // int32 seconds → uint64 µs
            "org.systemd.property.RuntimeMaxSec": "double 1.5",
            "org.systemd.property.CPUQuotaPeriodSec": "uint64 7",  // lower-case "d" before Sec: converted
            "org.systemd.property.Delegate": "true",
            "org.systemd.property.After": "['a.service', \"b.service\"]",
            "org.systemd.property.Wants": "@as []",
            "org.systemd.property.TasksMax": "uint64 99",
            "org.systemd.property.KillSignal": "int32 9",
        ])
        #expect(Self.props(p) == ["After=[a.service,b.service]", "CPUQuotaPeriodUSec=7000000", "Delegate=true",
                                  "KillSignal=int32(9)", "RuntimeMaxUSec=1500000", "TasksMax=99",
                                  "TimeoutStopUSec=10000000", "Wants=[]"])
        for bad in [["org.systemd.property.Ab": "1"], ["org.systemd.property.Memory-Max": "1"],
                    ["org.systemd.property.MemoryMax": "12 apples"], ["org.systemd.property.TimeoutSec": "'x'"],
                    ["org.systemd.property.After": "[]"], ["org.systemd.property.After": "['a', 1]"]] {
            #expect(throws: RuntimeError.self, "\(bad)") { _ = try SystemdCgroup.annotationProperties(bad) }
        }
    }
}
