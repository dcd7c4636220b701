/// criu's RPC messages (criu images/rpc.proto, the subset skiff sends and reads), with the
/// field numbers of that file. Encoded and decoded with Protobuf.swift.

public enum CriuReqType: UInt32, Sendable {
    case empty = 0, dump = 1, restore = 2, check = 3, preDump = 4, pageServer = 5, notify = 6
    case cpuinfoDump = 7, cpuinfoCheck = 8, featureCheck = 9, version = 10, waitPid = 11, pageServerChld = 12

    /// The name rpc.proto gives it (runc prints these in its errors).
    public var name: String {
        switch self {
        case .empty: "EMPTY"
        case .dump: "DUMP"
        case .restore: "RESTORE"
        case .check: "CHECK"
        case .preDump: "PRE_DUMP"
        case .pageServer: "PAGE_SERVER"
        case .notify: "NOTIFY"
        case .cpuinfoDump: "CPUINFO_DUMP"
        case .cpuinfoCheck: "CPUINFO_CHECK"
        case .featureCheck: "FEATURE_CHECK"
        case .version: "VERSION"
        case .waitPid: "WAIT_PID"
        case .pageServerChld: "PAGE_SERVER_CHLD"
        }
    }
}

/// criu_cg_mode.
public enum CriuCgroupMode: UInt32, Sendable {
    case ignore = 0, none = 1, props = 2, soft = 3, full = 4, strict = 5, `default` = 6

    /// runc's --manage-cgroups-mode values.
    public static func parse(_ text: String) -> CriuCgroupMode? {
        switch text {
        case "soft": .soft
        case "full": .full
        case "strict": .strict
        case "ignore": .ignore
        default: nil
        }
    }
}

public struct CriuKeyValue: Sendable, Equatable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) { self.key = key; self.value = value }
}

public struct CriuInheritFd: Sendable, Equatable {
    public var key: String
    public var fd: Int32
    public init(key: String, fd: Int32) { self.key = key; self.fd = fd }
}

public struct CriuCgroupRoot: Sendable, Equatable {
    public var controller: String?
    public var path: String
    public init(controller: String?, path: String) { self.controller = controller; self.path = path }
}

public struct CriuJoinNamespace: Sendable, Equatable {
    public var ns: String
    public var nsFile: String
    public init(ns: String, nsFile: String) { self.ns = ns; self.nsFile = nsFile }
}

/// criu_opts (only what skiff sets).
public struct CriuOpts: Sendable, Equatable {
    public var imagesDirFd: Int32 = -1                 // 1 (required)
    public var pid: Int32?                             // 2
    public var leaveRunning: Bool?                     // 3
    public var extUnixSk: Bool?                        // 4
    public var tcpEstablished: Bool?                   // 5
    public var evasiveDevices: Bool?                   // 6
    public var shellJob: Bool?                         // 7
    public var fileLocks: Bool?                        // 8
    public var logLevel: Int32?                        // 9
    public var logFile: String?                        // 10
    public var pageServerAddress: String?              // 11 criu_page_server_info.address (1)
    public var pageServerPort: Int32?                  // 11 criu_page_server_info.port (2)
    public var notifyScripts: Bool?                    // 12
    public var root: String?                           // 13
    public var parentImg: String?                      // 14
    public var trackMem: Bool?                         // 15
    public var autoDedup: Bool?                        // 16
    public var workDirFd: Int32?                       // 17
    public var extMnt: [CriuKeyValue] = []             // 23 ext_mount_map {key 1, val 2}
    public var manageCgroups: Bool?                    // 24
    public var cgRoot: [CriuCgroupRoot] = []           // 25 cgroup_root {ctrl 1, path 2}
    public var rstSibling: Bool?                       // 26
    public var inheritFd: [CriuInheritFd] = []         // 27 inherit_fd {key 1, fd 2}
    public var manageCgroupsMode: CriuCgroupMode?      // 34
    public var external: [String] = []                 // 37
    public var emptyNs: UInt32?                        // 38
    public var joinNs: [CriuJoinNamespace] = []        // 39 join_namespace {ns 1, ns_file 2}
    public var freezeCgroup: String?                   // 44
    public var lazyPages: Bool?                        // 48
    public var statusFd: Int32?                        // 49
    public var orphanPtsMaster: Bool?                  // 50
    public var configFile: String?                     // 51
    public var cgroupYard: String?                     // 60

    public init() {}

    public func encode() -> ProtoWriter {
        var w = ProtoWriter()
        w.int32(1, imagesDirFd)
        w.int32(2, pid)
        w.bool(3, leaveRunning)
        w.bool(4, extUnixSk)
        w.bool(5, tcpEstablished)
        w.bool(6, evasiveDevices)
        w.bool(7, shellJob)
        w.bool(8, fileLocks)
        w.int32(9, logLevel)
        w.string(10, logFile)
        if pageServerAddress != nil || pageServerPort != nil {
            var ps = ProtoWriter()
            ps.string(1, pageServerAddress)
            ps.int32(2, pageServerPort)
            w.message(11, ps)
        }
        w.bool(12, notifyScripts)
        w.string(13, root)
        w.string(14, parentImg)
        w.bool(15, trackMem)
        w.bool(16, autoDedup)
        w.int32(17, workDirFd)
        w.messages(23, extMnt) { e, m in e.string(1, m.key); e.string(2, m.value) }
        w.bool(24, manageCgroups)
        w.messages(25, cgRoot) { e, c in e.string(1, c.controller); e.string(2, c.path) }
        w.bool(26, rstSibling)
        w.messages(27, inheritFd) { e, f in e.string(1, f.key); e.int32(2, f.fd) }
        w.uint32(34, manageCgroupsMode?.rawValue)
        for x in external { w.string(37, x) }
        w.uint32(38, emptyNs)
        w.messages(39, joinNs) { e, j in e.string(1, j.ns); e.string(2, j.nsFile) }
        w.string(44, freezeCgroup)
        w.bool(48, lazyPages)
        w.int32(49, statusFd)
        w.bool(50, orphanPtsMaster)
        w.string(51, configFile)
        w.string(60, cgroupYard)
        return w
    }
}

/// criu_features.
public struct CriuFeatures: Sendable, Equatable {
    public var memTrack: Bool?   // 1
    public var lazyPages: Bool?  // 2
    public init(memTrack: Bool? = nil, lazyPages: Bool? = nil) { self.memTrack = memTrack; self.lazyPages = lazyPages }

    func encode() -> ProtoWriter {
        var w = ProtoWriter()
        w.bool(1, memTrack)
        w.bool(2, lazyPages)
        return w
    }

    static func decode(_ bytes: ArraySlice<UInt8>) throws(ProtoError) -> CriuFeatures {
        var f = CriuFeatures()
        for field in try ProtoReader.fields(bytes) {
            switch field.number {
            case 1: f.memTrack = field.bool
            case 2: f.lazyPages = field.bool
            default: break
            }
        }
        return f
    }
}

/// criu_req.
public struct CriuReq: Sendable, Equatable {
    public var type: CriuReqType            // 1 (required)
    public var opts: CriuOpts?              // 2
    public var notifySuccess: Bool?         // 3
    public var keepOpen: Bool?              // 4
    public var features: CriuFeatures?      // 5
    public init(type: CriuReqType, opts: CriuOpts? = nil) { self.type = type; self.opts = opts }

    public func encode() -> [UInt8] {
        var w = ProtoWriter()
        w.uint32(1, type.rawValue)
        if let opts { w.message(2, opts.encode()) }
        w.bool(3, notifySuccess)
        w.bool(4, keepOpen)
        if let features { w.message(5, features.encode()) }
        return w.bytes
    }
}

/// criu_version.
public struct CriuVersion: Sendable, Equatable {
    public var major: Int32 = 0       // 1
    public var minor: Int32 = 0       // 2
    public var gitid: String?         // 3
    public var sublevel: Int32?       // 4
    public var extra: Int32?          // 5
    public var name: String?          // 6
    /// runc's comparable number: 10000*major + 100*minor + sublevel (3.17.1 → 31701).
    public var number: Int {
        10000 * Int(max(0, min(major, 1000))) + 100 * Int(max(0, min(minor, 99))) + Int(max(0, min(sublevel ?? 0, 99)))
    }
}

/// criu_resp. Unknown fields are skipped; a missing type or success is an error.
public struct CriuResp: Sendable, Equatable {
    /// The raw type number (a newer criu may answer with a type this file does not know).
    public var typeNumber: UInt32 = 0
    public var type: CriuReqType? { CriuReqType(rawValue: typeNumber) }
    public var success = false
    public var dumpRestored: Bool?            // 3 criu_dump_resp.restored (1)
    public var restorePid: Int32?             // 4 criu_restore_resp.pid (1)
    public var notifyScript: String?          // 5 criu_notify.script (1)
    public var notifyPid: Int32?              // 5 criu_notify.pid (2)
    public var crErrno: Int32?                // 7
    public var features: CriuFeatures?        // 8
    public var crErrmsg: String?              // 9
    public var version: CriuVersion?          // 10
    public var status: Int32?                 // 11

    public var isNotify: Bool { typeNumber == CriuReqType.notify.rawValue }

    public init() {}

    public static func decode(_ bytes: ArraySlice<UInt8>) throws(ProtoError) -> CriuResp {
        var r = CriuResp()
        var sawType = false, sawSuccess = false
        for field in try ProtoReader.fields(bytes) {
            switch field.number {
            case 1: if let v = field.uint32 { r.typeNumber = v; sawType = true }
            case 2: if let v = field.bool { r.success = v; sawSuccess = true }
            case 3:
                guard let data = field.data else { throw ProtoError("criu_resp.dump: not a message") }
                for f in try ProtoReader.fields(data) where f.number == 1 { r.dumpRestored = f.bool }
            case 4:
                guard let data = field.data else { throw ProtoError("criu_resp.restore: not a message") }
                for f in try ProtoReader.fields(data) where f.number == 1 { r.restorePid = f.int32 }
            case 5:
                guard let data = field.data else { throw ProtoError("criu_resp.notify: not a message") }
                for f in try ProtoReader.fields(data) {
                    switch f.number {
                    case 1: r.notifyScript = f.string
                    case 2: r.notifyPid = f.int32
                    default: break
                    }
                }
            case 7: r.crErrno = field.int32
            case 8:
                guard let data = field.data else { throw ProtoError("criu_resp.features: not a message") }
                r.features = try CriuFeatures.decode(data)
            case 9: r.crErrmsg = field.string
            case 10:
                guard let data = field.data else { throw ProtoError("criu_resp.version: not a message") }
                var v = CriuVersion()
                for f in try ProtoReader.fields(data) {
                    switch f.number {
                    case 1: v.major = f.int32 ?? 0
                    case 2: v.minor = f.int32 ?? 0
                    case 3: v.gitid = f.string
                    case 4: v.sublevel = f.int32
                    case 5: v.extra = f.int32
                    case 6: v.name = f.string
                    default: break
                    }
                }
                r.version = v
            case 11: r.status = field.int32
            default: break
            }
        }
        guard sawType else { throw ProtoError("criu_resp: required field type is missing") }
        guard sawSuccess else { throw ProtoError("criu_resp: required field success is missing") }
        return r
    }

    public static func decode(_ bytes: [UInt8]) throws(ProtoError) -> CriuResp { try decode(bytes[...]) }
}
