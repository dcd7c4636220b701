import SkiffSpec

/// cgroup v2 device filter: the rules as an eBPF BPF_PROG_TYPE_CGROUP_DEVICE program (runc's
/// devices/devicefilter.go idea; the code is skiff's own).
///
/// The same rule list as v1 (deny all, the configured rules, then runc's default allow list)
/// with v1's meaning: later rules override earlier ones. The program checks the rules from
/// last to first and the first match decides; an allow rule matches when it covers every
/// access requested, a deny rule when it covers any of them; no match denies.
public enum V2Devices {
    // struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major; u32 minor; }
    static let typeBlock: Int32 = 1, typeChar: Int32 = 2
    static let accMknod: Int32 = 1, accRead: Int32 = 2, accWrite: Int32 = 4

    /// One BPF instruction: opcode, dst, src, offset, immediate.
    static func insn(_ op: UInt8, dst: UInt8 = 0, src: UInt8 = 0, off: Int16 = 0, imm: Int32 = 0) -> [UInt8] {
        let o = UInt16(bitPattern: off), i = UInt32(bitPattern: imm)
        return [op, (src << 4) | (dst & 0xf), UInt8(o & 0xff), UInt8(o >> 8),
                UInt8(i & 0xff), UInt8((i >> 8) & 0xff), UInt8((i >> 16) & 0xff), UInt8(i >> 24)]
    }
    static let ldxW: UInt8 = 0x61, and32K: UInt8 = 0x54, rsh32K: UInt8 = 0x74, mov32X: UInt8 = 0xbc
    static let jneK: UInt8 = 0x55, jeqK: UInt8 = 0x15, mov64K: UInt8 = 0xb7, exit: UInt8 = 0x95

    static func access(_ text: String?) throws(CgroupPlanError) -> Int32 {
        let t = (text ?? "").isEmpty ? "rwm" : text!
        var bits: Int32 = 0
        // Letters other than r, w and m are ignored, as runc 1.1.5 does (V1Devices.effectiveAccess).
        for c in t {
            switch c {
            case "r": bits |= accRead
            case "w": bits |= accWrite
            case "m": bits |= accMknod
            default: break
            }
        }
        if bits == 0 { throw CgroupPlanError("linux.resources.devices", "unknown access \"\(t)\"") }
        return bits
    }

    /// PURE: the program's bytes for the configured rules (runc's defaults are added).
    public static func program(_ configured: [LinuxDeviceCgroup]) throws(CgroupPlanError) -> [UInt8] {
        // v1 starts from "deny a": here that is the default at the end.
        let rules = configured + V1Devices.defaultRules
        // r2 = type, r3 = access, r4 = major, r5 = minor
        var code = insn(ldxW, dst: 2, src: 1, off: 0)
        code += insn(and32K, dst: 2, imm: 0xffff)
        code += insn(ldxW, dst: 3, src: 1, off: 0)
        code += insn(rsh32K, dst: 3, imm: 16)
        code += insn(ldxW, dst: 4, src: 1, off: 4)
        code += insn(ldxW, dst: 5, src: 1, off: 8)
        for rule in rules.reversed() {
            var block: [[UInt8]] = []  // conditions; each jumps to the next rule on mismatch
            switch rule.type ?? "a" {
            case "a": break
            case "c": block.append(insn(jneK, dst: 2, imm: typeChar))
            case "b": block.append(insn(jneK, dst: 2, imm: typeBlock))
            default:
                throw CgroupPlanError("linux.resources.devices", "unknown device type \"\(rule.type!)\"")
            }
            if let major = rule.major, major >= 0 { block.append(insn(jneK, dst: 4, imm: Int32(truncatingIfNeeded: major))) }
            if let minor = rule.minor, minor >= 0 { block.append(insn(jneK, dst: 5, imm: Int32(truncatingIfNeeded: minor))) }
            let bits = try access(rule.access)
            if bits != accRead | accWrite | accMknod {
                block.append(insn(mov32X, dst: 1, src: 3))
                if rule.allow {
                    // every requested bit must be in the rule: (req & ~bits) == 0
                    block.append(insn(and32K, dst: 1, imm: ~bits & 0x7))
                    block.append(insn(jneK, dst: 1, imm: 0))
                } else {
                    // any requested bit in the rule: (req & bits) != 0
                    block.append(insn(and32K, dst: 1, imm: bits))
                    block.append(insn(jeqK, dst: 1, imm: 0))
                }
            }
            let verdict = insn(mov64K, dst: 0, imm: rule.allow ? 1 : 0) + insn(exit)
            if block.isEmpty {
                // Unconditional ("a *:* rwm"): it decides everything; nothing after it could run
                // (and the verifier refuses unreachable instructions).
                return code + verdict
            }
            // Each jump skips the rest of the block: the remaining instructions plus the verdict.
            var bytes: [UInt8] = []
            let total = block.count + 2
            for (i, var ins) in block.enumerated() {
                let skip = Int16(total - i - 1)
                // Only the conditional jumps carry an offset (and32/mov32 ignore it: keep 0).
                if ins[0] == jneK || ins[0] == jeqK {
                    ins[2] = UInt8(UInt16(bitPattern: skip) & 0xff)
                    ins[3] = UInt8(UInt16(bitPattern: skip) >> 8)
                }
                bytes += ins
            }
            code += bytes + verdict
        }
        code += insn(mov64K, dst: 0, imm: 0) + insn(exit)
        return code
    }
}
