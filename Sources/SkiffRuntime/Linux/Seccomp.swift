import Glibc
import SkiffSpec
import SkiffSystem

/// linux.seccomp turned into libseccomp terms. Pure except for name resolution.
public struct SeccompPlan: Sendable {
    public struct Rule: Sendable {
        public var syscall: Int32
        public var name: String
        public var action: UInt32
        public var conditions: [SeccompFilter.Condition]
    }

    public var defaultAction: UInt32
    public var architectures: [String]
    public var flags: [String]
    public var rules: [Rule]
    public var usesNotify: Bool
    public var listenerPath: String?
    public var listenerMetadata: String?
    /// runc's -ENOSYS stub (raw BPF put before libseccomp's program), empty when none applies.
    public var enosysStub: [UInt8] = []

    static let actionBase: [String: UInt32] = [
        "SCMP_ACT_KILL": 0x0000_0000, "SCMP_ACT_KILL_THREAD": 0x0000_0000,
        "SCMP_ACT_KILL_PROCESS": 0x8000_0000, "SCMP_ACT_TRAP": 0x0003_0000,
        "SCMP_ACT_ERRNO": 0x0005_0000, "SCMP_ACT_TRACE": 0x7ff0_0000,
        "SCMP_ACT_ALLOW": 0x7fff_0000, "SCMP_ACT_LOG": 0x7ffc_0000, "SCMP_ACT_NOTIFY": 0x7fc0_0000,
    ]
    static let operators: [String: UInt32] = [
        "SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4,
        "SCMP_CMP_GE": 5, "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7,
    ]
    public static let knownFlags = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]
    /// Flags skiff can apply. WAIT_KILLABLE_RECV is past libseccomp 2.5: skiff then loads the
    /// BPF libseccomp generates with seccomp(2) itself.
    public static let supportedFlags = knownFlags
    public static var knownActions: [String] { actionBase.keys.sorted() }
    public static var knownOperators: [String] { operators.keys.sorted() }

    /// The action value; errno actions default to EPERM (1) like runc.
    static func action(_ name: String, errnoRet: UInt?, field: String) throws(RuntimeError) -> UInt32 {
        guard let base = actionBase[name] else {
            throw RuntimeError("config.json: \(field): unknown seccomp action \"\(name)\"")
        }
        switch name {
        case "SCMP_ACT_ERRNO": return base | UInt32(truncatingIfNeeded: (errnoRet ?? 1) & 0xffff)
        case "SCMP_ACT_TRACE": return base | UInt32(truncatingIfNeeded: (errnoRet ?? 1) & 0xffff)
        default: return base
        }
    }

    public init(_ seccomp: LinuxSeccomp) throws(RuntimeError) {
        // runc's refusals (libcontainer/seccomp InitSeccomp): the process must still be able
        // to hand its notify fd over once the filter is loaded, and nothing would answer a
        // notification before that — a notify default action or a notified write would leave
        // the agent receiving the runtime's own system calls.
        if seccomp.defaultAction == "SCMP_ACT_NOTIFY" {
            throw RuntimeError("config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as default action")
        }
        for (i, call) in (seccomp.syscalls ?? []).enumerated() where call.action == "SCMP_ACT_NOTIFY" && call.names.contains("write") {
            throw RuntimeError("config.json: linux.seccomp.syscalls[\(i)]: SCMP_ACT_NOTIFY cannot be used for the write syscall")
        }
        defaultAction = try Self.action(seccomp.defaultAction, errnoRet: seccomp.defaultErrnoRet, field: "linux.seccomp.defaultAction")
        architectures = []
        for (i, arch) in (seccomp.architectures ?? []).enumerated() {
            guard arch.hasPrefix("SCMP_ARCH_") else {
                throw RuntimeError("config.json: linux.seccomp.architectures[\(i)]: unknown architecture \"\(arch)\"")
            }
            architectures.append(String(arch.dropFirst("SCMP_ARCH_".count)).asciiLowercased)
        }
        flags = seccomp.flags ?? []
        for (i, flag) in flags.enumerated() where !Self.supportedFlags.contains(flag) {
            throw RuntimeError("config.json: linux.seccomp.flags[\(i)]: unknown seccomp flag \"\(flag)\"")
        }
        listenerPath = seccomp.listenerPath
        listenerMetadata = seccomp.listenerMetadata
        rules = []
        usesNotify = seccomp.defaultAction == "SCMP_ACT_NOTIFY"
        for (i, call) in (seccomp.syscalls ?? []).enumerated() {
            let field = "linux.seccomp.syscalls[\(i)]"
            let action = try Self.action(call.action, errnoRet: call.errnoRet, field: field + ".action")
            if call.action == "SCMP_ACT_NOTIFY" { usesNotify = true }
            // A rule whose action is the default adds nothing (libseccomp refuses it).
            if action == defaultAction { continue }
            var conditions: [SeccompFilter.Condition] = []
            for (j, arg) in (call.args ?? []).enumerated() {
                guard let op = Self.operators[arg.op] else {
                    throw RuntimeError("config.json: \(field).args[\(j)].op: unknown operator \"\(arg.op)\"")
                }
                guard arg.index < 6 else {
                    throw RuntimeError("config.json: \(field).args[\(j)].index: \(arg.index) is not a syscall argument (0-5)")
                }
                conditions.append(SeccompFilter.Condition(index: UInt32(arg.index), op: op, value: arg.value, valueTwo: arg.valueTwo ?? 0))
            }
            // Several conditions on the same argument cannot be ANDed by the kernel: like
            // runc, each becomes its own rule (OR).
            let indices = conditions.map(\.index)
            let split = Set(indices).count != indices.count
            for name in call.names {
                // Syscalls this libseccomp does not know are skipped, as runc does.
                guard let nr = SeccompFilter.syscallNumber(name) else { continue }
                if split {
                    for c in conditions { rules.append(Rule(syscall: nr, name: name, action: action, conditions: [c])) }
                } else {
                    rules.append(Rule(syscall: nr, name: name, action: action, conditions: conditions))
                }
            }
        }
        enosysStub = Self.enosysStub(for: seccomp, architectures: architectures)
        if usesNotify && (listenerPath ?? "").isEmpty {
            throw RuntimeError("config.json: linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used")
        }
    }

    /// Hands the notify fd to the seccomp agent at listenerPath, with the container process
    /// state (runtime-spec ContainerProcessState) in the same message.
    func sendToListener(_ notify: FD, pid: Int32, state: OCIState) throws(RuntimeError) {
        guard let path = listenerPath else { return }
        var processState = JSONObject()
        processState["ociVersion"] = .string(SpecVersion.current)
        processState["fds"] = .array([.string("seccompFd")])
        processState["pid"] = .number(JSONNumber(Int(pid)))
        if let listenerMetadata, !listenerMetadata.isEmpty { processState["metadata"] = .string(listenerMetadata) }
        let stateValue = (try? JSONValue.parse(state.hookStateJSON())) ?? .null
        processState["state"] = stateValue
        do {
            let socket = try Terminal.connect(path)
            defer { socket.close() }
            try Terminal.sendFD(socket, notify, name: JSONValue.object(processState).serialized())
        } catch {
            throw RuntimeError("config.json: linux.seccomp.listenerPath: failed to connect with seccomp agent specified in the seccomp profile: \(error)")
        }
    }

    /// Builds and loads the filter into the calling process. Returns the notify fd if any.
    func load() throws(RuntimeError) -> FD? {
        do {
            let filter = try SeccompFilter(defaultAction: defaultAction)
            for arch in architectures {
                if !(try filter.addArchitecture(arch)) {
                    throw RuntimeError("config.json: linux.seccomp.architectures: unknown architecture \"SCMP_ARCH_\(arch.asciiUppercased)\"")
                }
            }
            for flag in flags {
                switch flag {
                case "SECCOMP_FILTER_FLAG_LOG": try filter.setAttribute(SCMP_FLTATR_CTL_LOG_VALUE, 1, name: flag)
                case "SECCOMP_FILTER_FLAG_SPEC_ALLOW": try filter.setAttribute(SCMP_FLTATR_CTL_SSB_VALUE, 1, name: flag)
                case "SECCOMP_FILTER_FLAG_TSYNC": try filter.setAttribute(SCMP_FLTATR_CTL_TSYNC_VALUE, 1, name: flag)
                default: break
                }
            }
            for rule in rules {
                try filter.addRule(action: rule.action, syscall: rule.syscall, conditions: rule.conditions, name: rule.name)
            }
            // WAIT_KILLABLE_RECV only means something (and the kernel only takes it) with a
            // notify listener; without one it is a no-op, as with libseccomp 2.6.
            let waitKillable = flags.contains("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") && usesNotify
            if waitKillable || !enosysStub.isEmpty {
                // SECCOMP_FILTER_FLAG_TSYNC 1, LOG 2, SPEC_ALLOW 4, NEW_LISTENER 8, WAIT_KILLABLE_RECV 32.
                var raw: UInt32 = waitKillable ? 32 : 0
                if flags.contains("SECCOMP_FILTER_FLAG_TSYNC") && !usesNotify { raw |= 1 }
                if flags.contains("SECCOMP_FILTER_FLAG_LOG") { raw |= 2 }
                if flags.contains("SECCOMP_FILTER_FLAG_SPEC_ALLOW") { raw |= 4 }
                if usesNotify { raw |= 8 }
                return try filter.loadRaw(flags: raw, prefix: enosysStub)
            }
            try filter.load()
            return usesNotify ? try filter.notifyFD() : nil
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw RuntimeError("config.json: linux.seccomp: \(error)")
        }
    }
}

/// runc's -ENOSYS stub (libcontainer/seccomp/patchbpf): a profile names the syscalls it
/// knows, and a syscall newer than all of them (numbered above the largest the profile
/// names, for each architecture the profile lists) gets -ENOSYS instead of the default
/// action, so that a new libc falls back to an older call (clone3 → clone, faccessat2 →
/// faccessat) rather than failing with EPERM. Not when the default action allows (ALLOW,
/// LOG, TRACE) or already is ENOSYS.
extension SeccompPlan {
    static let auditArchX86_64: UInt32 = 0xC000_003E
    static let auditArchX32: UInt32 = 0x4000_003E
    static let auditArchS390: UInt32 = 0x0000_0016
    static let auditArchS390X: UInt32 = 0x8000_0016
    static let x32Bit: UInt32 = 0x4000_0000
    static let retErrnoENOSYS: UInt32 = 0x0005_0000 | UInt32(ENOSYS)

    static func enosysStub(for seccomp: LinuxSeccomp, architectures: [String]) -> [UInt8] {
        if ["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"].contains(seccomp.defaultAction) { return [] }
        if seccomp.defaultErrnoRet == UInt(ENOSYS) { return [] }
        let names = (seccomp.syscalls ?? []).flatMap(\.names)
        var maxima: [UInt32: [UInt32: UInt32]] = [:]
        for token in architectures {
            guard let arch = SeccompFilter.architecture(token) else { continue }
            let native = arch == auditArchX32 ? auditArchX86_64 : arch
            var largest: Int32 = 0
            for name in names {
                if let nr = SeccompFilter.syscallNumber(name, arch: arch), nr > largest { largest = nr }
            }
            if largest > 0 { maxima[native, default: [:]][arch] = UInt32(largest) }
        }
        return enosysProgram(maxima)
    }

    /// The stub as raw struct sock_filter bytes (host endian), from the largest syscall
    /// number per architecture grouped by the AUDIT_ARCH the kernel reports (x86_64 and x32
    /// share one). Layout: load arch; per native arch a block that loads the number and
    /// jumps to ENOSYS when it is above the largest, else to the filter; `ja 1`;
    /// `ret ERRNO(ENOSYS)`; then libseccomp's program.
    static func enosysProgram(_ maxima: [UInt32: [UInt32: UInt32]]) -> [UInt8] {
        enum Target { case fall, enosys, filter, next, skip(Int) }
        struct Insn { var code: UInt16; var k: UInt32; var jt: Target = .fall; var jf: Target = .fall }
        let ldAbs: UInt16 = 0x20, jeq: UInt16 = 0x15, jgt: UInt16 = 0x25, jset: UInt16 = 0x45, ja: UInt16 = 0x05, ret: UInt16 = 0x06
        var blocks: [[Insn]] = []
        for native in maxima.keys.sorted() {
            let arches = maxima[native]!
            var b = [Insn(code: jeq, k: native, jf: .next), Insn(code: ldAbs, k: 0)]
            if native == auditArchS390 || native == auditArchS390X {
                // Unknown syscalls are multiplexed through syscall 0 there.
                b.append(Insn(code: jeq, k: 0, jt: .enosys))
            }
            if native == auditArchX86_64 {
                let amd64 = arches[auditArchX86_64], x32 = arches[auditArchX32]
                switch (amd64, x32) {
                case let (a?, x?):
                    b.append(Insn(code: jset, k: x32Bit, jt: .skip(1)))
                    b.append(Insn(code: jgt, k: a, jt: .enosys, jf: .filter))
                    b.append(Insn(code: jgt, k: x, jt: .enosys, jf: .filter))
                case let (a?, nil):
                    b.append(Insn(code: jset, k: x32Bit, jt: .filter))
                    b.append(Insn(code: jgt, k: a, jt: .enosys, jf: .filter))
                case let (nil, x?):
                    b.append(Insn(code: jset, k: x32Bit, jf: .filter))
                    b.append(Insn(code: jgt, k: x, jt: .enosys, jf: .filter))
                case (nil, nil):
                    continue
                }
            } else if let largest = arches.values.max() {
                b.append(Insn(code: jgt, k: largest, jt: .enosys, jf: .filter))
            } else {
                continue
            }
            blocks.append(b)
        }
        if blocks.isEmpty { return [] }
        var program = [Insn(code: ldAbs, k: 4)]
        var nextOf: [Int] = []
        for b in blocks {
            let start = program.count
            program += b
            nextOf += Array(repeating: start + b.count, count: b.count)
        }
        program.append(Insn(code: ja, k: 1))
        program.append(Insn(code: ret, k: retErrnoENOSYS))
        let enosys = program.count - 1, filter = program.count
        var bytes: [UInt8] = []
        bytes.reserveCapacity(program.count * 8)
        for (pc, insn) in program.enumerated() {
            func offset(_ t: Target) -> Int? {
                switch t {
                case .fall: return 0
                case .skip(let n): return n
                case .enosys: return enosys - pc - 1
                case .filter: return filter - pc - 1
                case .next: return pc >= 1 && pc - 1 < nextOf.count ? nextOf[pc - 1] - pc - 1 : nil
                }
            }
            guard let jt = offset(insn.jt), let jf = offset(insn.jf), (0...255).contains(jt), (0...255).contains(jf) else {
                return []
            }
            withUnsafeBytes(of: insn.code) { bytes += $0 }
            bytes.append(UInt8(jt))
            bytes.append(UInt8(jf))
            withUnsafeBytes(of: insn.k) { bytes += $0 }
        }
        return bytes
    }
}
