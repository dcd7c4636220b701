import Testing
import Glibc
@testable import SkiffRuntime

/// The protobuf codec and criu's RPC messages (rpc.proto field numbers), without criu.
@Suite struct CriuProtobufTests {
    @Test func varintsAsProtobufEncodesThem() {
        var w = ProtoWriter()
        w.varint(0); w.varint(1); w.varint(127); w.varint(128); w.varint(300); w.varint(UInt64.max)
        #expect(w.bytes == [0x00, 0x01, 0x7f, 0x80, 0x01, 0xac, 0x02,
                            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
        // int32 -1 is sign-extended to ten bytes, as protobuf does.
        var n = ProtoWriter()
        n.int32(1, -1)
        #expect(n.bytes == [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
        var r = ProtoReader(n.bytes)
        #expect((try? r.next())??.int32 == -1)
    }

    @Test func fixedAndLengthDelimitedRoundTrip() throws {
        var w = ProtoWriter()
        w.fixed32(3, 0xdead_beef)
        w.fixed64(4, 0x0102_0304_0506_0708)
        w.string(5, "héllo")
        w.bool(6, true)
        let fields = try ProtoReader.fields(w.bytes[...])
        #expect(fields.map(\.number) == [3, 4, 5, 6])
        #expect(fields[0].value == .fixed32(0xdead_beef))
        #expect(fields[1].value == .fixed64(0x0102_0304_0506_0708))
        #expect(fields[2].string == "héllo")
        #expect(fields[3].bool == true)
    }

    @Test func requestUsesRpcProtoFieldNumbers() throws {
        var opts = CriuOpts()
        opts.imagesDirFd = 5
        opts.pid = 1234
        opts.leaveRunning = true
        opts.logLevel = 4
        opts.logFile = "dump.log"
        opts.root = "/r"
        opts.workDirFd = 6
        opts.extMnt = [CriuKeyValue("/data", "/srv")]
        opts.inheritFd = [CriuInheritFd(key: "pipe:[42]", fd: 1)]
        opts.manageCgroupsMode = .strict
        opts.external = ["net[4026531992]:extRootNetNS"]
        opts.orphanPtsMaster = true
        opts.cgroupYard = "/w/.skiff-cgyard.abc"
        var req = CriuReq(type: .dump, opts: opts)
        req.notifySuccess = true
        let fields = try ProtoReader.fields(req.encode()[...])
        #expect(fields.map(\.number) == [1, 2, 3])
        #expect(fields[0].uint32 == 1)  // DUMP
        let o = try ProtoReader.fields(try #require(fields[1].data))
        func one(_ n: Int) -> ProtoField? { o.first { $0.number == n } }
        #expect(one(1)?.int32 == 5)
        #expect(one(2)?.int32 == 1234)
        #expect(one(3)?.bool == true)
        #expect(one(9)?.int32 == 4)
        #expect(one(10)?.string == "dump.log")
        #expect(one(13)?.string == "/r")
        #expect(one(17)?.int32 == 6)
        #expect(one(34)?.uint32 == 5)
        #expect(one(37)?.string == "net[4026531992]:extRootNetNS")
        #expect(one(50)?.bool == true)
        #expect(one(60)?.string == "/w/.skiff-cgyard.abc")  // cgroup_yard
        let ext = try ProtoReader.fields(try #require(one(23)?.data))
        #expect(ext.map(\.number) == [1, 2] && ext[0].string == "/data" && ext[1].string == "/srv")
        let inherit = try ProtoReader.fields(try #require(one(27)?.data))
        #expect(inherit[0].string == "pipe:[42]" && inherit[1].int32 == 1)
        // Unset optional fields are absent (criu's defaults apply).
        #expect(one(4) == nil && one(48) == nil)
    }

    @Test func decodesResponses() throws {
        // criu_resp { type: DUMP, success: true, dump { restored: false } }
        let dump = try CriuResp.decode([0x08, 0x01, 0x10, 0x01, 0x1a, 0x02, 0x08, 0x00])
        #expect(dump.type == .dump && dump.success && dump.dumpRestored == false)
        // criu_resp { type: NOTIFY, success: true, notify { script: "post-restore", pid: 4242 } }
        var notify = ProtoWriter()
        notify.string(1, "post-restore")
        notify.int32(2, 4242)
        var w = ProtoWriter()
        w.uint32(1, 6)
        w.bool(2, true)
        w.message(5, notify)
        w.fixed64(99, 7)        // unknown fields are skipped
        w.string(100, "later")
        let n = try CriuResp.decode(w.bytes)
        #expect(n.isNotify && n.notifyScript == "post-restore" && n.notifyPid == 4242)
        // A failure with errno and message, and the version answer.
        var f = ProtoWriter()
        f.uint32(1, 2); f.bool(2, false); f.int32(7, 17); f.string(9, "boom")
        let failed = try CriuResp.decode(f.bytes)
        #expect(failed.type == .restore && !failed.success && failed.crErrno == 17 && failed.crErrmsg == "boom")
        var v = ProtoWriter()
        v.int32(1, 3); v.int32(2, 17); v.int32(4, 1)
        var vr = ProtoWriter()
        vr.uint32(1, 10); vr.bool(2, true); vr.message(10, v)
        #expect(try CriuResp.decode(vr.bytes).version?.number == 31701)
        // An unknown request type number is kept, not a failure.
        #expect(try CriuResp.decode([0x08, 0x63, 0x10, 0x01]).type == nil)
    }

    @Test func malformedInputIsAnErrorNeverATrap() {
        let bad: [[UInt8]] = [
            [0x08],                                       // truncated varint
            [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],  // > 10 bytes
            [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],        // > 64 bits
            [0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],        // huge length
            [0x12, 0x05, 0x01],                           // length past the end
            [0x0b],                                       // group (wire type 3)
            [0x0e, 0x00],                                 // wire type 6
            [0x00, 0x00],                                 // field number 0
            [0x0d, 0x01, 0x02],                           // truncated fixed32
            [0x10, 0x01],                                 // no type
            [0x08, 0x01],                                 // no success
            [0x08, 0x06, 0x10, 0x01, 0x2a, 0x03, 0x0a, 0x09, 0x41],  // notify whose string overruns
            [0x08, 0x06, 0x10, 0x01, 0x2a, 0x01],         // notify cut short
            [0x08, 0x06, 0x10, 0x01, 0x28, 0x01],         // notify as a varint
        ]
        for input in bad {
            #expect(throws: ProtoError.self) { try CriuResp.decode(input) }
        }
        // Deterministic fuzz: mutations of a valid response decode or throw, never trap.
        var valid = ProtoWriter()
        valid.uint32(1, 6); valid.bool(2, true)
        var note = ProtoWriter(); note.string(1, "setup-namespaces"); note.int32(2, 99)
        valid.message(5, note)
        valid.string(9, "message")
        var seed: UInt64 = 0x9e37_79b9_7f4a_7c15
        func random() -> UInt64 {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17
            return seed
        }
        for _ in 0..<20000 {
            var bytes = valid.bytes
            for _ in 0...(random() % 4) {
                let i = Int(random() % UInt64(bytes.count))
                switch random() % 3 {
                case 0: bytes[i] = UInt8(truncatingIfNeeded: random())
                case 1: bytes.remove(at: i)
                default: bytes.insert(UInt8(truncatingIfNeeded: random()), at: i)
                }
                if bytes.isEmpty { bytes = [0] }
            }
            _ = try? CriuResp.decode(bytes)
            _ = try? CriuResp.decode(bytes[1...])
        }
    }
}

/// Bind mount destinations as criu sees them: symlinks in the rootfs resolved, clamped to it.
@Suite struct CriuMountDestinationTests {
    @Test func symlinksInsideTheRootfsAreResolvedAndClamped() throws {
        var template = Array("/tmp/skiff-resolve-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        let root = try #require(made.map { String(cString: $0) })
        defer { _ = system("rm -rf '\(root)'") }
        mkdir(root + "/real", 0o755)
        symlink("real/conf", root + "/conf")          // relative
        symlink("/real", root + "/abs")               // absolute: from the rootfs' root
        symlink("../../../real", root + "/up")        // cannot climb above the rootfs
        symlink("loop", root + "/loop")
        #expect(Container.resolvedDestination("/conf", rootfs: root) == "/real/conf")
        #expect(Container.resolvedDestination("/abs/x", rootfs: root) == "/real/x")
        #expect(Container.resolvedDestination("/up/y", rootfs: root) == "/real/y")
        #expect(Container.resolvedDestination("/plain/dir", rootfs: root) == "/plain/dir")
        #expect(Container.resolvedDestination("/loop", rootfs: root) == "/loop")
    }
}
