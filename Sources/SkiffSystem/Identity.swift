import CCap
import CSkiffSys
import Glibc

public enum Identity {
    public static func setGroups(_ gids: [UInt32]) throws(SystemError) {
        try check("setgroups") { gids.withUnsafeBufferPointer { Glibc.setgroups($0.count, $0.baseAddress) } }
    }
    public static func setGID(_ gid: UInt32) throws(SystemError) {
        try check("setresgid", "\(gid)") { sk_setresgid(gid) }
    }
    public static func setUID(_ uid: UInt32) throws(SystemError) {
        try check("setresuid", "\(uid)") { sk_setresuid(uid) }
    }
    public static func umask(_ mask: UInt32) { _ = Glibc.umask(mode_t(mask)) }
    public static func setHostname(_ name: String) throws(SystemError) {
        try check("sethostname", name) { Glibc.sethostname(name, name.utf8.count) }
    }
    public static func setDomainname(_ name: String) throws(SystemError) {
        try check("setdomainname", name) { Glibc.setdomainname(name, name.utf8.count) }
    }
    public static var euid: UInt32 { geteuid() }
    public static var egid: UInt32 { getegid() }

    /// Sets a resource limit by its Linux number.
    public static func setRlimit(_ resource: Int32, soft: UInt64, hard: UInt64, name: String) throws(SystemError) {
        try check("setrlimit", name) { sk_setrlimit(resource, soft, hard) }
    }

    public static func getRlimit(_ resource: Int32) -> (soft: UInt64, hard: UInt64) {
        var soft: UInt64 = 0, hard: UInt64 = 0
        _ = sk_getrlimit(resource, &soft, &hard)
        return (soft, hard)
    }
}

/// Capability sets as 64-bit masks (bit n = capability n).
public struct CapabilitySets: Equatable, Sendable {
    public var effective: UInt64 = 0
    public var permitted: UInt64 = 0
    public var inheritable: UInt64 = 0
    public init(effective: UInt64 = 0, permitted: UInt64 = 0, inheritable: UInt64 = 0) {
        self.effective = effective
        self.permitted = permitted
        self.inheritable = inheritable
    }
}

public enum Capabilities {
    /// Capability number for a name such as "CAP_NET_ADMIN", as libcap on this host knows it.
    public static func number(_ name: String) -> Int? {
        var value: cap_value_t = 0
        return cap_from_name(String(decoding: name.utf8.map { $0 >= 0x41 && $0 <= 0x5a ? $0 + 0x20 : $0 }, as: UTF8.self), &value) == 0 ? Int(value) : nil
    }

    /// Highest capability number the running kernel supports.
    public static let lastCap: Int = Int(sk_last_cap())

    public static func inBounding(_ cap: Int) -> Bool {
        sk_prctl(PR_CAPBSET_READ, UInt(cap), 0, 0, 0) == 1
    }

    public static func dropBounding(_ cap: Int) throws(SystemError) {
        try check("prctl(PR_CAPBSET_DROP)", "cap \(cap)") { sk_prctl(PR_CAPBSET_DROP, UInt(cap), 0, 0, 0) }
    }

    public static func current() throws(SystemError) -> CapabilitySets {
        var e: [UInt32] = [0, 0], p: [UInt32] = [0, 0], i: [UInt32] = [0, 0]
        try check("capget") { sk_capget(&e, &p, &i) }
        func join(_ w: [UInt32]) -> UInt64 { UInt64(w[0]) | UInt64(w[1]) << 32 }
        return CapabilitySets(effective: join(e), permitted: join(p), inheritable: join(i))
    }

    public static func set(_ sets: CapabilitySets) throws(SystemError) {
        func words(_ v: UInt64) -> [UInt32] { [UInt32(truncatingIfNeeded: v), UInt32(truncatingIfNeeded: v >> 32)] }
        let e = words(sets.effective), p = words(sets.permitted), i = words(sets.inheritable)
        try check("capset") { sk_capset(e, p, i) }
    }

    public static func clearAmbient() throws(SystemError) {
        try check("prctl(PR_CAP_AMBIENT_CLEAR_ALL)") { sk_prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) }
    }

    public static func raiseAmbient(_ cap: Int) throws(SystemError) {
        try check("prctl(PR_CAP_AMBIENT_RAISE)", "cap \(cap)") { sk_prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, UInt(cap), 0, 0) }
    }
}

public enum Scheduling {
    public static func setAttributes(policy: UInt32, flags: UInt64, nice: Int32, priority: UInt32,
                                     runtime: UInt64, deadline: UInt64, period: UInt64) throws(SystemError) {
        try check("sched_setattr") { sk_sched_setattr(policy, flags, nice, priority, runtime, deadline, period) }
    }
    public static func setIOPriority(class ioclass: Int32, level: Int32) throws(SystemError) {
        try check("ioprio_set") { sk_ioprio_set(ioclass, level) }
    }
    /// Pins the calling thread to the CPUs listed (CPU n = bit n of the mask bytes).
    public static func setAffinity(_ mask: [UInt8]) throws(SystemError) {
        try check("sched_setaffinity") { mask.withUnsafeBufferPointer { sk_sched_setaffinity($0.baseAddress, $0.count) } }
    }
}
