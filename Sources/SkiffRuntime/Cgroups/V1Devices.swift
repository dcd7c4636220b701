import SkiffSpec

/// cgroup v1 devices controller.
///
/// runc computes minimal transitions with a rule emulator; skiff uses the classic sequence
/// (runc ≤1.0): `a` into devices.deny (empty whitelist), then each configured rule in order,
/// then runc's default allow list (specconv.AllowedDevices): mknod of any char/block device,
/// /dev/null, random, full, tty, zero, urandom, /dev/pts/*, /dev/ptmx and /dev/net/tun.
/// Only used at create time; `update` leaves device rules alone as runc does.
///
/// cgroup2 gets the same rule list as an eBPF program (V2Devices).
public enum V1Devices {
    /// runc's AllowedDevices rules, appended after the configured ones.
    public static let defaultRules: [LinuxDeviceCgroup] = [
        LinuxDeviceCgroup(allow: true, type: "c", access: "m"),
        LinuxDeviceCgroup(allow: true, type: "b", access: "m"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 8, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 7, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 5, minor: 0, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 9, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 136, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 5, minor: 2, access: "rwm"),
        LinuxDeviceCgroup(allow: true, type: "c", major: 10, minor: 200, access: "rwm"),
    ]

    /// "c 1:3 rwm"; nil major/minor are `*`, nil type is `a`, nil access is `rwm`.
    public static func line(_ r: LinuxDeviceCgroup) -> String {
        let major = r.major.map { $0 < 0 ? "*" : "\($0)" } ?? "*"
        let minor = r.minor.map { $0 < 0 ? "*" : "\($0)" } ?? "*"
        let access = (r.access ?? "").isEmpty ? "rwm" : effectiveAccess(r.access!)
        return "\(r.type ?? "a") \(major):\(minor) \(access)"
    }

    /// The r, w and m letters of an access, in order, each once: runc 1.1.5's
    /// devices.Permissions.toSet() ignores every other letter ("rwa" is "rw").
    public static func effectiveAccess(_ access: String) -> String {
        String("rwm".filter { access.contains($0) })
    }

    /// The indices of rules whose access has letters other than r, w and m (ignored, with a
    /// warning naming the field).
    public static func rulesWithIgnoredAccessLetters(_ rules: [LinuxDeviceCgroup]) -> [Int] {
        rules.indices.filter { i in (rules[i].access ?? "").contains { !"rwm".contains($0) } }
    }

    /// PURE. devices.deny "a", then the rules, then the defaults.
    public static func plan(_ rules: [LinuxDeviceCgroup]) throws(CgroupPlanError) -> [CgroupWrite] {
        var writes = [CgroupWrite("devices.deny", "a", field: "linux.resources.devices")]
        for (i, r) in rules.enumerated() {
            let field = "linux.resources.devices[\(i)]"
            if let t = r.type, !["a", "b", "c"].contains(t) {
                throw CgroupPlanError(field + ".type", "invalid cgroup device type \"\(t)\" (want a, b or c)")
            }
            if let a = r.access, !a.isEmpty, effectiveAccess(a).isEmpty {
                throw CgroupPlanError(field + ".access", "invalid access \"\(a)\" (want a combination of r, w and m)")
            }
            writes.append(CgroupWrite(r.allow ? "devices.allow" : "devices.deny", line(r), field: field))
        }
        for r in defaultRules {
            writes.append(CgroupWrite("devices.allow", line(r), field: "linux.resources.devices (skiff default rule)"))
        }
        return writes
    }
}
