import SkiffSpec
import SkiffSystem

/// One config.json mount turned into mount(2) arguments. Pure: no system calls.
public struct MountOp: Equatable, Sendable {
    public var index: Int
    public var source: String
    public var destination: String
    public var type: String
    /// MS_* flags for the first mount(2) (MS_BIND/MS_REC included for binds).
    public var flags: UInt
    /// Propagation changes applied after mounting (MS_SHARED|MS_REC, …), in order.
    public var propagation: [UInt]
    /// Recursive mount_setattr attributes (rro, rnosuid, …): set and clear masks.
    public var recursiveSet: UInt64
    public var recursiveClear: UInt64
    public var data: String
    /// Id-mapped bind mount ("idmap"/"ridmap", or mount uid/gidMappings).
    public var idmap: IDMap? = nil

    public struct IDMap: Equatable, Sendable {
        public var uidMap: String
        public var gidMap: String
        public var recursive: Bool
    }

    public var isBind: Bool { flags & MountFlags.bind != 0 }
    /// Bind mounts take their flags only through a remount.
    public var needsRemount: Bool {
        isBind && flags & ~(MountFlags.bind | MountFlags.rec | MountFlags.remount) != 0
    }
}

public enum MountOptions {
    /// name → (clear instead of set, flag), as runc's parseMountOptions.
    static let flagTable: [String: (clear: Bool, flag: UInt)] = [
        "async": (true, MountFlags.synchronous), "atime": (true, MountFlags.noatime),
        "bind": (false, MountFlags.bind), "defaults": (false, 0), "dev": (true, MountFlags.nodev),
        "diratime": (true, MountFlags.nodiratime), "dirsync": (false, MountFlags.dirsync),
        "exec": (true, MountFlags.noexec), "iversion": (false, MountFlags.iversion),
        "lazytime": (false, MountFlags.lazytime), "loud": (true, MountFlags.silent),
        "mand": (false, MountFlags.mandlock), "noatime": (false, MountFlags.noatime),
        "nodev": (false, MountFlags.nodev), "nodiratime": (false, MountFlags.nodiratime),
        "noexec": (false, MountFlags.noexec), "noiversion": (true, MountFlags.iversion),
        "nolazytime": (true, MountFlags.lazytime), "nomand": (true, MountFlags.mandlock),
        "norelatime": (true, MountFlags.relatime), "nostrictatime": (true, MountFlags.strictatime),
        "nosuid": (false, MountFlags.nosuid), "nosymfollow": (false, MountFlags.nosymfollow),
        "rbind": (false, MountFlags.bind | MountFlags.rec), "relatime": (false, MountFlags.relatime),
        "remount": (false, MountFlags.remount), "ro": (false, MountFlags.rdonly),
        "rw": (true, MountFlags.rdonly), "silent": (false, MountFlags.silent),
        "strictatime": (false, MountFlags.strictatime), "suid": (true, MountFlags.nosuid),
        "sync": (false, MountFlags.synchronous), "symfollow": (true, MountFlags.nosymfollow),
    ]

    static let propagationTable: [String: UInt] = [
        "private": MountFlags.private, "rprivate": MountFlags.private | MountFlags.rec,
        "shared": MountFlags.shared, "rshared": MountFlags.shared | MountFlags.rec,
        "slave": MountFlags.slave, "rslave": MountFlags.slave | MountFlags.rec,
        "unbindable": MountFlags.unbindable, "runbindable": MountFlags.unbindable | MountFlags.rec,
    ]

    // MOUNT_ATTR_* for mount_setattr.
    public static let attrRdonly: UInt64 = 0x1, attrNosuid: UInt64 = 0x2, attrNodev: UInt64 = 0x4
    public static let attrNoexec: UInt64 = 0x8, attrAtimeMask: UInt64 = 0x70, attrRelatime: UInt64 = 0
    public static let attrNoatime: UInt64 = 0x10, attrStrictatime: UInt64 = 0x20
    public static let attrNodiratime: UInt64 = 0x80, attrNosymfollow: UInt64 = 0x200000

    /// name → (clear instead of set, attribute).
    static let recursiveTable: [String: (clear: Bool, attr: UInt64)] = [
        "rro": (false, attrRdonly), "rrw": (true, attrRdonly),
        "rnosuid": (false, attrNosuid), "rsuid": (true, attrNosuid),
        "rnodev": (false, attrNodev), "rdev": (true, attrNodev),
        "rnoexec": (false, attrNoexec), "rexec": (true, attrNoexec),
        "rnodiratime": (false, attrNodiratime), "rdiratime": (true, attrNodiratime),
        "rrelatime": (false, attrRelatime), "rnorelatime": (true, attrRelatime),
        "rnoatime": (false, attrNoatime), "ratime": (true, attrNoatime),
        "rstrictatime": (false, attrStrictatime), "rnostrictatime": (true, attrStrictatime),
        "rnosymfollow": (false, attrNosymfollow), "rsymfollow": (true, attrNosymfollow),
    ]

    /// Every option name skiff understands (for `features`).
    public static var known: [String] {
        (Array(flagTable.keys) + Array(propagationTable.keys) + Array(recursiveTable.keys) + ["tmpcopyup", "idmap", "ridmap"]).sorted()
    }

    public static func plan(_ mount: SkiffSpec.Mount, index: Int, linux: Linux? = nil) throws(RuntimeError) -> MountOp {
        let field = "mounts[\(index)]"
        var op = MountOp(index: index, source: mount.source ?? "", destination: mount.destination,
                         type: mount.type ?? "", flags: 0, propagation: [], recursiveSet: 0,
                         recursiveClear: 0, data: "")
        if !mount.destination.hasPrefix("/") {
            // runc resolves relative destinations against "/" (spec 1.0 allowed them).
            op.destination = "/" + mount.destination
        }
        op.destination = cleanPath(op.destination)
        var data: [String] = []
        var idmapOption: String? = nil
        for option in mount.options ?? [] {
            if let entry = flagTable[option] {
                if entry.clear { op.flags &= ~entry.flag } else { op.flags |= entry.flag }
            } else if let p = propagationTable[option] {
                op.propagation.append(p)
            } else if let r = recursiveTable[option] {
                if r.attr == attrNoatime || r.attr == attrStrictatime || r.attr == attrRelatime {
                    op.recursiveClear |= attrAtimeMask
                }
                if r.clear { op.recursiveClear |= r.attr } else { op.recursiveSet |= r.attr }
            } else if option == "idmap" || option == "ridmap" {
                idmapOption = option
            } else if option == "tmpcopyup" {
                continue
            } else {
                data.append(option)
            }
        }
        if op.type == "bind" { op.flags |= MountFlags.bind }
        if op.isBind && op.type.isEmpty { op.type = "bind" }
        op.data = data.joined(separator: ",")
        if idmapOption != nil || mount.uidMappings != nil || mount.gidMappings != nil {
            guard op.isBind else {
                throw RuntimeError("config.json: \(field).options: id-mapped mounts must be bind mounts")
            }
            // The mount's own mappings, else the container's user namespace mappings.
            guard let uid = mount.uidMappings ?? linux?.uidMappings, let gid = mount.gidMappings ?? linux?.gidMappings,
                  !uid.isEmpty, !gid.isEmpty else {
                throw RuntimeError("config.json: \(field).uidMappings: an id-mapped mount needs uidMappings and gidMappings (on the mount or in linux)")
            }
            op.idmap = MountOp.IDMap(uidMap: IDMaps.text(uid), gidMap: IDMaps.text(gid), recursive: idmapOption == "ridmap")
        }
        if op.type.isEmpty && !op.isBind {
            throw RuntimeError("config.json: \(field).type: required for a mount that is not a bind mount")
        }
        return op
    }

    /// rootfsPropagation → the flags applied to "/" before mounting (default rslave like runc).
    public static func rootPropagation(_ value: String?) throws(RuntimeError) -> UInt {
        guard let value, !value.isEmpty else { return MountFlags.slave | MountFlags.rec }
        guard let flags = propagationTable[value] else {
            throw RuntimeError("config.json: linux.rootfsPropagation: unknown propagation \"\(value)\"")
        }
        return flags
    }
}
