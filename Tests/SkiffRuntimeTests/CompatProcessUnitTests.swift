import Glibc
import SkiffSpec
import SkiffSystem
import Testing
@testable import SkiffRuntime

/// The pure parts of issue 14's process items: environment merging, `exec --cgroup`
/// arguments, runc's sysctl rules and the -ENOSYS seccomp stub.
@Suite struct CompatProcessUnitTests {
    @Test func laterEnvironmentEntriesReplaceEarlierOnesInPlace() {
        #expect(ProcessPlan.merged(["PATH=/bin", "A=1", "PATH=/x", "B=2", "A=3"]) == ["PATH=/x", "A=3", "B=2"])
        #expect(ProcessPlan.merged(["A=", "A=1=2", "NOEQUALS", "NOEQUALS"]) == ["A=1=2", "NOEQUALS", "NOEQUALS"])
        #expect(ProcessPlan.merged([]) == [])
    }

    @Test func subCgroupArgumentsAsRunc() throws {
        #expect(try ExecOptions.parseSubCgroups([]) == [:])
        #expect(try ExecOptions.parseSubCgroups(["sub"]) == ["": "sub"])
        #expect(try ExecOptions.parseSubCgroups(["cpu,memory:a/b", "pids:c"]) == ["cpu": "a/b", "memory": "a/b", "pids": "c"])
        #expect(throws: RuntimeError.self) { try ExecOptions.parseSubCgroups(["a:b:c"]) }
        // A value without a controller must be the only one.
        #expect(throws: RuntimeError.self) { try ExecOptions.parseSubCgroups(["sub", "memory:x"]) }
    }

    /// runc 1.1.5 keeps r, w and m of a device rule's access and ignores other letters
    /// (its test 168 uses "rwa"); an access with none of them stays an error.
    @Test func deviceAccessIgnoresLettersOtherThanRWM() throws {
        var spec = Spec.defaultSpec()
        spec.linux?.resources?.devices?.append(LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rwa"))
        #expect(spec.validate().isEmpty, "\(spec.validate())")
        let rule = LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rwa")
        let writes = try V1Devices.plan([rule])
        #expect(writes.map(\.value).contains("c 1:3 rw"), "\(writes.map(\.value))")
        #expect(V1Devices.rulesWithIgnoredAccessLetters([LinuxDeviceCgroup(allow: true, access: "rwm"), rule]) == [1])
        #expect(throws: CgroupPlanError.self) { try V1Devices.plan([LinuxDeviceCgroup(allow: true, access: "a")]) }
        spec.linux?.resources?.devices?.append(LinuxDeviceCgroup(allow: true, access: "a"))
        #expect(spec.validate().map(\.description).contains { $0.contains("invalid access \"a\"") })
    }

    /// Hook failures by signal use Go's signal text, as runc prints and its tests match.
    @Test func hookSignalNamesAsGo() {
        #expect(HookRunner.goSignalName(31) == "bad system call")
        #expect(HookRunner.goSignalName(9) == "killed")
        #expect(HookRunner.goSignalName(15) == "terminated")
        #expect(HookRunner.goSignalName(11) == "segmentation fault")
        #expect(HookRunner.goSignalName(6) == "aborted")
        #expect(HookRunner.goSignalName(64) == "signal 64")
    }

    /// A unified key skiff cannot apply on this kind of host carries runc's phrase.
    @Test func unifiedRefusalSaysInvalidConfiguration() {
        #expect(throws: CgroupPlanError.self) { try V2Unified.plan(["memory.min": "0"], available: ["hugetlb"]) }
        do { _ = try V2Unified.plan(["memory.min": "0"], available: ["hugetlb"]) } catch {
            #expect(error.message.contains("invalid configuration"), "\(error.message)")
        }
    }

    @Test func sysctlRulesAsRunc() throws {
        let uts = try NamespacePlan([LinuxNamespace(type: "uts"), LinuxNamespace(type: "ipc"), LinuxNamespace(type: "network")])
        let none = try NamespacePlan([])
        #expect(Kernel.sysctlProblem("kernel.domainname", namespaces: uts) == nil)
        #expect(Kernel.sysctlProblem("kernel.domainname", namespaces: uts, domainname: "") == nil)
        // With the "domainname" field set, the sysctl conflicts with it (crun's rule).
        // The same value as the field is no conflict (crun's strcmp).
        #expect(Kernel.sysctlProblem("kernel.domainname", namespaces: uts, domainname: "foo", value: "foo") == nil)
        #expect(Kernel.sysctlProblem("kernel.domainname", namespaces: uts, domainname: "foomachine", value: "foo")?.hasSuffix(#"sysctl "kernel.domainname" is not allowed as it conflicts with the OCI "domainname" field"#) == true)
        #expect(Kernel.sysctlProblem("kernel.hostname", namespaces: uts)?.hasSuffix(#"sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field"#) == true)
        #expect(Kernel.sysctlProblem("kernel.domainname", namespaces: none)?.hasSuffix("is not in a separate kernel namespace") == true)
        #expect(Kernel.sysctlProblem("kernel.hostname", namespaces: none)?.hasSuffix("is not in a separate kernel namespace") == true)
        #expect(Kernel.sysctlProblem("kernel.shmmax", namespaces: uts) == nil)
        #expect(Kernel.sysctlProblem("fs.mqueue.msg_max", namespaces: none)?.hasSuffix("is not allowed in the hosts ipc namespace") == true)
        #expect(Kernel.sysctlProblem("net.ipv4.ip_forward", namespaces: uts) == nil)
        #expect(Kernel.sysctlProblem("net.ipv4.ip_forward", namespaces: none)?.hasSuffix("not allowed in host network namespace") == true)
        // A network namespace joined by path that is the runtime's own is the host's.
        let hostNet = try NamespacePlan([LinuxNamespace(type: "network", path: "/proc/self/ns/net")])
        #expect(Kernel.sysctlProblem("net.ipv4.ip_forward", namespaces: hostNet)?.hasSuffix("not allowed in host network namespace") == true)
        #expect(Kernel.sysctlProblem("vm.swappiness", namespaces: uts)?.hasSuffix("is not in a separate kernel namespace") == true)
        #expect(Kernel.sysctlProblem("kernel.hostname", namespaces: uts)?.hasPrefix(#"config.json: linux.sysctl["kernel.hostname"]: "#) == true)
    }

    // MARK: - -ENOSYS stub

    /// Runs a classic-BPF seccomp program on (arch, nr): the RET value, or nil when control
    /// falls off the end (into libseccomp's program, which follows the stub).
    static func run(_ program: [UInt8], arch: UInt32, nr: UInt32) -> UInt32? {
        var insns: [(code: UInt16, jt: UInt8, jf: UInt8, k: UInt32)] = []
        var i = 0
        while i + 8 <= program.count {
            let code = UInt16(program[i]) | UInt16(program[i + 1]) << 8
            let k = UInt32(program[i + 4]) | UInt32(program[i + 5]) << 8 | UInt32(program[i + 6]) << 16 | UInt32(program[i + 7]) << 24
            insns.append((code, program[i + 2], program[i + 3], k))
            i += 8
        }
        var pc = 0, acc: UInt32 = 0
        while pc < insns.count {
            let insn = insns[pc]
            switch insn.code {
            case 0x20: acc = insn.k == 0 ? nr : (insn.k == 4 ? arch : 0); pc += 1
            case 0x05: pc += 1 + Int(insn.k)
            case 0x15: pc += 1 + Int(acc == insn.k ? insn.jt : insn.jf)
            case 0x25: pc += 1 + Int(acc > insn.k ? insn.jt : insn.jf)
            case 0x45: pc += 1 + Int(acc & insn.k != 0 ? insn.jt : insn.jf)
            case 0x06: return insn.k
            default: Issue.record("unexpected BPF opcode \(insn.code)"); return 0
            }
        }
        return nil
    }

    static let x86_64: UInt32 = 0xC000_003E, i386: UInt32 = 0x4000_0003, x32: UInt32 = 0x4000_003E, aarch64: UInt32 = 0xC000_00B7
    static let enosys = UInt32(0x0005_0000) | UInt32(ENOSYS)

    @Test func enosysStubForNewerSyscallsPerArchitecture() {
        let stub = SeccompPlan.enosysProgram([Self.x86_64: [Self.x86_64: 300, Self.x32: 0x4000_0000 + 200], Self.i386: [Self.i386: 400]])
        #expect(!stub.isEmpty && stub.count % 8 == 0)
        // amd64: above 300 is ENOSYS, up to it goes on to the filter.
        #expect(Self.run(stub, arch: Self.x86_64, nr: 301) == Self.enosys)
        #expect(Self.run(stub, arch: Self.x86_64, nr: 1000) == Self.enosys)
        #expect(Self.run(stub, arch: Self.x86_64, nr: 300) == nil)
        #expect(Self.run(stub, arch: Self.x86_64, nr: 0) == nil)
        // x32 (same AUDIT_ARCH, the x32 bit set) has its own maximum.
        #expect(Self.run(stub, arch: Self.x86_64, nr: 0x4000_0000 + 201) == Self.enosys)
        #expect(Self.run(stub, arch: Self.x86_64, nr: 0x4000_0000 + 200) == nil)
        // i386 its own; an architecture the profile does not list is left to the filter.
        #expect(Self.run(stub, arch: Self.i386, nr: 401) == Self.enosys)
        #expect(Self.run(stub, arch: Self.i386, nr: 350) == nil)
        #expect(Self.run(stub, arch: Self.aarch64, nr: 5000) == nil)
    }

    @Test func enosysStubWithoutX32LeavesX32ToTheFilter() {
        let stub = SeccompPlan.enosysProgram([Self.x86_64: [Self.x86_64: 300]])
        #expect(Self.run(stub, arch: Self.x86_64, nr: 301) == Self.enosys)
        #expect(Self.run(stub, arch: Self.x86_64, nr: 0x4000_0000 + 999) == nil)
        #expect(SeccompPlan.enosysProgram([:]).isEmpty)
    }

    @Test func enosysStubOnlyForDenyingDefaults() throws {
        let names = LinuxSyscall(names: ["read", "write", "mkdir"], action: "SCMP_ACT_ALLOW")
        let arches = ["SCMP_ARCH_X86_64"]
        func plan(_ action: String, errnoRet: UInt? = nil, arches: [String]? = arches) throws -> SeccompPlan {
            try SeccompPlan(LinuxSeccomp(defaultAction: action, defaultErrnoRet: errnoRet, architectures: arches, syscalls: [names]))
        }
        #expect(try !plan("SCMP_ACT_ERRNO").enosysStub.isEmpty)
        #expect(try !plan("SCMP_ACT_KILL_PROCESS").enosysStub.isEmpty)
        #expect(try plan("SCMP_ACT_ALLOW").enosysStub.isEmpty)
        #expect(try plan("SCMP_ACT_LOG").enosysStub.isEmpty)
        #expect(try plan("SCMP_ACT_ERRNO", errnoRet: UInt(ENOSYS)).enosysStub.isEmpty)
        // runc computes maxima only for the listed architectures.
        #expect(try plan("SCMP_ACT_ERRNO", arches: nil).enosysStub.isEmpty)
        // The largest listed is mkdir (83 on x86_64).
        let stub = try plan("SCMP_ACT_ERRNO").enosysStub
        #expect(Self.run(stub, arch: Self.x86_64, nr: 84) == Self.enosys)
        #expect(Self.run(stub, arch: Self.x86_64, nr: 83) == nil)
    }

    @Test func notifyRefusalsAsRunc() {
        let write = LinuxSyscall(names: ["mkdir", "write"], action: "SCMP_ACT_NOTIFY")
        #expect(throws: RuntimeError.self) {
            try SeccompPlan(LinuxSeccomp(defaultAction: "SCMP_ACT_ALLOW", listenerPath: "/x", syscalls: [write]))
        }
        #expect(throws: RuntimeError.self) {
            try SeccompPlan(LinuxSeccomp(defaultAction: "SCMP_ACT_NOTIFY", listenerPath: "/x"))
        }
        #expect(throws: Never.self) {
            try SeccompPlan(LinuxSeccomp(defaultAction: "SCMP_ACT_ALLOW", listenerPath: "/x",
                                         syscalls: [LinuxSyscall(names: ["mkdir"], action: "SCMP_ACT_NOTIFY")]))
        }
    }
}
