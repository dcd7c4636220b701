import Testing
@testable import SkiffSpec

@Suite("runtime-spec config model")
struct ConfigModelTests {
    @Test func decodesTheRuntimeSpecExampleCompletely() throws {
        let spec = try decodeSpec(runtimeSpecExample)
        #expect(spec.ociVersion == "1.0.1")

        let process = try #require(spec.process)
        #expect(process.terminal == true)
        #expect(process.consoleSize == nil)
        #expect(process.user == User(uid: 1, gid: 1, additionalGids: [5, 6]))
        #expect(process.args == ["sh"])
        #expect(process.env == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"])
        #expect(process.cwd == "/")
        let all = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        #expect(process.capabilities == LinuxCapabilities(
            bounding: all, effective: ["CAP_AUDIT_WRITE", "CAP_KILL"], inheritable: all, permitted: all,
            ambient: ["CAP_NET_BIND_SERVICE"]))
        #expect(process.rlimits == [
            POSIXRlimit(type: "RLIMIT_CORE", hard: 1024, soft: 1024),
            POSIXRlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024),
        ])
        #expect(process.apparmorProfile == "acme_secure_profile")
        #expect(process.oomScoreAdj == 100)
        #expect(process.selinuxLabel == "system_u:system_r:svirt_lxc_net_t:s0:c124,c675")
        #expect(process.ioPriority == LinuxIOPriority(class: "IOPRIO_CLASS_IDLE", priority: 4))
        #expect(process.noNewPrivileges == true)
        #expect(process.scheduler == nil)
        #expect(process.execCPUAffinity == nil)

        #expect(spec.root == Root(path: "rootfs", readonly: true))
        #expect(spec.hostname == "slartibartfast")
        #expect(spec.domainname == nil)

        let mounts = try #require(spec.mounts)
        #expect(mounts.count == 7)
        #expect(mounts[0] == Mount(destination: "/proc", type: "proc", source: "proc"))
        #expect(mounts[1] == Mount(destination: "/dev", type: "tmpfs", source: "tmpfs",
                                   options: ["nosuid", "strictatime", "mode=755", "size=65536k"]))
        #expect(mounts[2] == Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
                                   options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]))
        #expect(mounts[3] == Mount(destination: "/dev/shm", type: "tmpfs", source: "shm",
                                   options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]))
        #expect(mounts[4] == Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue",
                                   options: ["nosuid", "noexec", "nodev"]))
        #expect(mounts[5] == Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev"]))
        #expect(mounts[6] == Mount(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
                                   options: ["nosuid", "noexec", "nodev", "relatime", "ro"]))

        #expect(spec.hooks == Hooks(
            prestart: [
                Hook(path: "/usr/bin/fix-mounts", args: ["fix-mounts", "arg1", "arg2"], env: ["key1=value1"]),
                Hook(path: "/usr/bin/setup-network"),
            ],
            poststart: [Hook(path: "/usr/bin/notify-start", timeout: 5)],
            poststop: [Hook(path: "/usr/sbin/cleanup.sh", args: ["cleanup.sh", "-f"])]))

        let linux = try #require(spec.linux)
        #expect(linux.devices == [
            LinuxDevice(path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 438, uid: 0, gid: 0),
            LinuxDevice(path: "/dev/sda", type: "b", major: 8, minor: 0, fileMode: 432, uid: 0, gid: 0),
        ])
        #expect(linux.uidMappings == [LinuxIDMapping(containerID: 0, hostID: 1000, size: 32000)])
        #expect(linux.gidMappings == [LinuxIDMapping(containerID: 0, hostID: 1000, size: 32000)])
        #expect(linux.sysctl == ["net.ipv4.ip_forward": "1", "net.core.somaxconn": "256"])
        #expect(linux.cgroupsPath == "/myRuntime/myContainer")

        let resources = try #require(linux.resources)
        #expect(resources.network == LinuxNetwork(classID: 1048577, priorities: [
            LinuxInterfacePriority(name: "eth0", priority: 500), LinuxInterfacePriority(name: "eth1", priority: 1000),
        ]))
        #expect(resources.pids == LinuxPids(limit: 32771))
        #expect(resources.hugepageLimits == [
            LinuxHugepageLimit(pageSize: "2MB", limit: 9223372036854772000),
            LinuxHugepageLimit(pageSize: "64KB", limit: 1000000),
        ])
        #expect(resources.memory == LinuxMemory(limit: 536870912, reservation: 536870912, swap: 536870912,
                                                kernel: -1, kernelTCP: -1, swappiness: 0, disableOOMKiller: false))
        #expect(resources.cpu == LinuxCPU(shares: 1024, quota: 1000000, period: 500000, realtimeRuntime: 950000,
                                          realtimePeriod: 1000000, cpus: "2-3", mems: "0-7", idle: 1))
        #expect(resources.devices == [
            LinuxDeviceCgroup(allow: false, access: "rwm"),
            LinuxDeviceCgroup(allow: true, type: "c", major: 10, minor: 229, access: "rw"),
            LinuxDeviceCgroup(allow: true, type: "b", major: 8, minor: 0, access: "r"),
        ])
        #expect(resources.blockIO == LinuxBlockIO(
            weight: 10, leafWeight: 10,
            weightDevice: [
                LinuxWeightDevice(major: 8, minor: 0, weight: 500, leafWeight: 300),
                LinuxWeightDevice(major: 8, minor: 16, weight: 500),
            ],
            throttleReadBpsDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 600)],
            throttleWriteIOPSDevice: [LinuxThrottleDevice(major: 8, minor: 16, rate: 300)]))
        #expect(resources.rdma == nil)
        #expect(resources.unified == nil)

        #expect(linux.rootfsPropagation == "slave")
        #expect(linux.seccomp == LinuxSeccomp(
            defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            syscalls: [LinuxSyscall(names: ["getcwd", "chmod"], action: "SCMP_ACT_ERRNO")]))
        #expect(linux.timeOffsets == [
            "monotonic": LinuxTimeOffset(secs: 172800, nanosecs: 0),
            "boottime": LinuxTimeOffset(secs: 604800, nanosecs: 0),
        ])
        #expect(linux.namespaces?.map(\.type) == ["pid", "network", "ipc", "uts", "mount", "user", "cgroup", "time"])
        #expect(linux.namespaces?.allSatisfy { $0.path == nil } == true)
        #expect(linux.maskedPaths == ["/proc/kcore", "/proc/latency_stats", "/proc/timer_stats", "/proc/sched_debug"])
        #expect(linux.readonlyPaths == ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"])
        #expect(linux.mountLabel == "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811")
        #expect(spec.annotations == ["com.example.key1": "value1", "com.example.key2": "value2"])

        #expect(spec.validate() == [])
    }

    @Test func exampleRoundTripsThroughTheEncoder() throws {
        let spec = try decodeSpec(runtimeSpecExample)
        let text = SpecEncoder.encode(spec, indent: 4)
        #expect(try decodeSpec(text) == spec)
        // Same document as the original (member order within objects may differ only for maps).
        #expect(try JSONValue.parse(text) == JSONValue.parse(runtimeSpecExample))
    }

    /// Fields the runtime-spec example does not use.
    @Test func decodesTheRemainingFields() throws {
        let text = #"""
            {"ociVersion": "1.2.0", "domainname": "example.org",
             "process": {"terminal": true, "consoleSize": {"height": 24, "width": 80},
               "user": {"uid": 1000, "gid": 100, "umask": 18}, "args": ["top"], "cwd": "/home",
               "scheduler": {"policy": "SCHED_DEADLINE", "nice": -5, "priority": 3, "flags": ["SCHED_FLAG_RECLAIM"],
                             "runtime": 10000000, "deadline": 20000000, "period": 30000000},
               "execCPUAffinity": {"initial": "0", "final": "1-3"}},
             "root": {"path": "/abs/rootfs"},
             "mounts": [{"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "idmap"],
                         "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
                         "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}]}],
             "hooks": {"createRuntime": [{"path": "/a"}], "createContainer": [{"path": "/b"}], "startContainer": [{"path": "/c"}]},
             "linux": {"namespaces": [{"type": "network", "path": "/var/run/netns/n1"}, {"type": "uts"}, {"type": "time"}],
               "resources": {"cpu": {"burst": 5000}, "memory": {"useHierarchy": true, "checkBeforeUpdate": true},
                             "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
                             "unified": {"memory.high": "max", "io.weight": "100"}},
               "netDevices": {"eth1": {"name": "ceth1"}, "eth2": {}},
               "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "flags": ["SECCOMP_FILTER_FLAG_LOG"],
                           "listenerPath": "/run/seccomp.sock", "listenerMetadata": "meta",
                           "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_NOTIFY", "errnoRet": 1,
                                         "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]}]},
               "intelRdt": {"closID": "guaranteed_group", "l3CacheSchema": "L3:0=7f0", "memBwSchema": "MB:0=20",
                            "enableCMT": true, "enableMBM": false, "schemata": ["L2:0=3"], "enableMonitoring": true},
               "memoryPolicy": {"mode": "MPOL_INTERLEAVE", "nodes": "0-1", "flags": ["MPOL_F_STATIC_NODES"]},
               "personality": {"domain": "LINUX32", "flags": []},
               "timeOffsets": {"boottime": {"secs": -5, "nanosecs": 7}}}}
            """#
        let spec = try decodeSpec(text)
        #expect(spec.domainname == "example.org")
        let process = try #require(spec.process)
        #expect(process.consoleSize == Box(height: 24, width: 80))
        #expect(process.user == User(uid: 1000, gid: 100, umask: 0o22))
        #expect(process.scheduler == Scheduler(policy: "SCHED_DEADLINE", nice: -5, priority: 3, flags: ["SCHED_FLAG_RECLAIM"],
                                               runtime: 10_000_000, deadline: 20_000_000, period: 30_000_000))
        #expect(process.execCPUAffinity == CPUAffinity(initial: "0", final: "1-3"))
        #expect(spec.mounts?.first?.uidMappings == [LinuxIDMapping(containerID: 0, hostID: 100000, size: 65536)])
        #expect(spec.mounts?.first?.gidMappings == [LinuxIDMapping(containerID: 0, hostID: 200000, size: 65536)])
        #expect(spec.hooks == Hooks(createRuntime: [Hook(path: "/a")], createContainer: [Hook(path: "/b")],
                                    startContainer: [Hook(path: "/c")]))
        let linux = try #require(spec.linux)
        #expect(linux.namespaces?.first == LinuxNamespace(type: "network", path: "/var/run/netns/n1"))
        #expect(linux.resources?.cpu == LinuxCPU(burst: 5000))
        #expect(linux.resources?.memory == LinuxMemory(useHierarchy: true, checkBeforeUpdate: true))
        #expect(linux.resources?.rdma == ["mlx5_1": LinuxRdma(hcaHandles: 3, hcaObjects: 10000)])
        #expect(linux.resources?.unified == ["memory.high": "max", "io.weight": "100"])
        #expect(linux.netDevices == ["eth1": LinuxNetDevice(name: "ceth1"), "eth2": LinuxNetDevice()])
        #expect(linux.seccomp == LinuxSeccomp(
            defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 38, flags: ["SECCOMP_FILTER_FLAG_LOG"],
            listenerPath: "/run/seccomp.sock", listenerMetadata: "meta",
            syscalls: [LinuxSyscall(names: ["personality"], action: "SCMP_ACT_NOTIFY", errnoRet: 1,
                                    args: [LinuxSeccompArg(index: 0, value: 8, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ")])]))
        #expect(linux.intelRdt == LinuxIntelRdt(closID: "guaranteed_group", schemata: ["L2:0=3"], l3CacheSchema: "L3:0=7f0",
                                                memBwSchema: "MB:0=20", enableMonitoring: true, enableCMT: true, enableMBM: false))
        #expect(linux.memoryPolicy == LinuxMemoryPolicy(mode: "MPOL_INTERLEAVE", nodes: "0-1", flags: ["MPOL_F_STATIC_NODES"]))
        #expect(linux.personality == LinuxPersonality(domain: "LINUX32", flags: []))
        #expect(linux.timeOffsets == ["boottime": LinuxTimeOffset(secs: -5, nanosecs: 7)])
        #expect(spec.validate() == [])
        #expect(try decodeSpec(SpecEncoder.encode(spec)) == spec)
    }
}

@Suite("Validation")
struct ValidationTests {
    @Test func unknownRlimitMessage() {
        let text = config(process: #"""
            , "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024},
                          {"type": "RLIMIT_CORE", "hard": 0, "soft": 0},
                          {"type": "RLIMIT_TEST", "hard": 1, "soft": 1}]
            """#)
        let error = specError { try Spec.load(bytes: Array(text.utf8)) }
        #expect(error?.description == #"config.json: process.rlimits[2].type: unknown rlimit "RLIMIT_TEST""#)
    }

    @Test func loadThrowsDecodingErrorsFirst() {
        #expect(specError { try Spec.load(bytes: Array("{".utf8), file: "x.json") }?.description
            == "x.json: invalid JSON at line 1 column 2: unexpected end of input, expected an object key")
        #expect(specError { try Spec.load(bytes: Array(config().utf8)) } == nil)
    }

    @Test func reportsEveryProblemAtOnce() throws {
        let text = #"""
            {"ociVersion": "2.0.0", "hostname": "h",
             "process": {"user": {"uid": 0, "gid": 0}, "cwd": "relative", "args": [],
               "consoleSize": {"height": 1, "width": 1},
               "capabilities": {"bounding": ["CAP_KILL", "CAP_FOO"], "ambient": ["CAP_BAR"]},
               "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1, "soft": 2}, {"type": "RLIMIT_NOFILE", "hard": 1, "soft": 1},
                           {"type": "RLIMIT_TEST", "hard": 1, "soft": 1}],
               "scheduler": {"policy": "SCHED_NOPE"}, "ioPriority": {"class": "IOPRIO_CLASS_X", "priority": 9}},
             "root": {"path": ""},
             "mounts": [{"destination": ""}],
             "hooks": {"poststart": [{"path": "rel", "timeout": 0}]},
             "linux": {"namespaces": [{"type": "pid"}, {"type": "foo"}, {"type": "pid"}],
               "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
               "rootfsPropagation": "sideways",
               "devices": [{"path": "dev/x", "type": "z", "major": 1, "minor": 1}],
               "maskedPaths": ["proc/kcore"],
               "sysctl": {"bad key": "1"},
               "seccomp": {"defaultAction": "SCMP_ACT_MAYBE", "architectures": ["SCMP_ARCH_Z80"],
                           "flags": ["SECCOMP_FILTER_FLAG_NOPE"],
                           "syscalls": [{"names": [], "action": "SCMP_ACT_NOTIFY",
                                         "args": [{"index": 9, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]},
               "personality": {"domain": "BSD"},
               "timeOffsets": {"realtime": {"secs": 1}}}}
            """#
        let problems = try decodeSpec(text).validate().map(\.description)
        let expected = [
            #"ociVersion: unsupported version "2.0.0" (want 1.x.y)"#,
            #"process.consoleSize: requires process.terminal to be true"#,
            #"process.args: must not be empty"#,
            #"process.cwd: must be an absolute path, got "relative""#,
            #"process.capabilities.bounding[1]: unknown capability "CAP_FOO""#,
            #"process.capabilities.ambient[0]: unknown capability "CAP_BAR""#,
            #"process.rlimits[0]: soft limit 2 exceeds hard limit 1"#,
            #"process.rlimits[1].type: duplicate rlimit "RLIMIT_NOFILE""#,
            #"process.rlimits[2].type: unknown rlimit "RLIMIT_TEST""#,
            #"process.scheduler.policy: unknown scheduler policy "SCHED_NOPE""#,
            #"process.ioPriority.class: unknown I/O priority class "IOPRIO_CLASS_X""#,
            #"process.ioPriority.priority: must be between 0 and 7, got 9"#,
            #"root.path: must not be empty"#,
            #"hostname: requires a new uts namespace (linux.namespaces has no "uts")"#,
            #"mounts[0].destination: must not be empty"#,
            #"hooks.poststart[0].path: must be an absolute path, got "rel""#,
            #"hooks.poststart[0].timeout: must be greater than zero, got 0"#,
            #"linux.uidMappings: requires a new user namespace (linux.namespaces has no "user")"#,
            #"linux.sysctl["bad key"]: invalid sysctl name "bad key""#,
            #"linux.namespaces[1].type: unknown namespace type "foo""#,
            #"linux.namespaces[2].type: duplicate namespace type "pid""#,
            #"linux.devices[0].path: must be an absolute path, got "dev/x""#,
            #"linux.devices[0].type: unknown device type "z" (want c, b, u or p)"#,
            #"linux.seccomp.defaultAction: unknown seccomp action "SCMP_ACT_MAYBE""#,
            #"linux.seccomp.architectures[0]: unknown seccomp architecture "SCMP_ARCH_Z80""#,
            #"linux.seccomp.flags[0]: unknown seccomp flag "SECCOMP_FILTER_FLAG_NOPE""#,
            #"linux.seccomp.syscalls[0].names: must not be empty"#,
            #"linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator "SCMP_CMP_ABOUT""#,
            #"linux.seccomp.syscalls[0].args[0].index: must be between 0 and 5, got 9"#,
            #"linux.seccomp.listenerPath: required when an action is SCMP_ACT_NOTIFY"#,
            #"linux.rootfsPropagation: unknown propagation mode "sideways""#,
            #"linux.maskedPaths[0]: must be an absolute path, got "proc/kcore""#,
            #"linux.personality.domain: unknown personality domain "BSD""#,
            #"linux.timeOffsets: requires a new time namespace (linux.namespaces has no "time")"#,
            #"linux.timeOffsets.realtime: unknown clock "realtime" (want "monotonic" or "boottime")"#,
        ].map { "config.json: " + $0 }
        #expect(problems == expected)
        // Diff-friendly failure output if the lists drift apart.
        for (got, want) in zip(problems, expected) where got != want {
            Issue.record("got \(got)\nwant \(want)")
        }
    }

    @Test(arguments: [
        ("1.0.0", true), ("1.2.1", true), ("1.0.2-dev", true), ("1.1.0-rc.1+build.5", true),
        ("0.5.0", false), ("1.0", false), ("1.02.0", false), ("v1.0.0", false), ("1.0.0-", false),
        ("1.0.0-01", false), ("", false), ("1.0.0+", false),
    ])
    func ociVersionMustBeSemver1x(version: String, valid: Bool) throws {
        var spec = Spec.defaultSpec()
        spec.ociVersion = version
        let problems = spec.validate().filter { $0.path == "ociVersion" }
        #expect(problems.isEmpty == valid, "\(version): \(problems)")
    }

    @Test func userNamespaceNeedsMappingsUnlessJoined() {
        var spec = Spec.defaultSpec()
        spec.linux?.namespaces?.append(LinuxNamespace(type: "user"))
        #expect(spec.validate().map(\.description) == [
            "config.json: linux.uidMappings: required when creating a new user namespace",
            "config.json: linux.gidMappings: required when creating a new user namespace",
        ])
        let last = (spec.linux?.namespaces?.count ?? 0) - 1
        spec.linux?.namespaces?[last].path = "/proc/1/ns/user"
        #expect(spec.validate() == [])
    }

    @Test func processIsRequiredOnlyForCreate() {
        var spec = Spec.defaultSpec()
        spec.process = nil
        #expect(spec.validate() == [])
        #expect(spec.validateForCreate() == [SpecError(path: "process", message: "required field is missing")])
        spec.ociVersion = "x"
        spec.root = nil
        #expect(spec.validateForCreate(file: "c.json").map(\.description) == [
            #"c.json: ociVersion: "x" is not a valid semantic version"#,
            "c.json: process: required field is missing",
            "c.json: root: required field is missing",
        ])
    }

    @Test func smallerRules() {
        var spec = Spec.defaultSpec()
        spec.process?.args = nil
        spec.process?.oomScoreAdj = 1001
        spec.process?.execCPUAffinity = CPUAffinity(initial: "0-3,7", final: "3-1")
        spec.domainname = "d"
        spec.linux?.namespaces?.removeAll { $0.type == "uts" || $0.type == "network" }
        spec.hostname = nil
        spec.linux?.netDevices = ["eth0": LinuxNetDevice()]
        spec.linux?.resources?.devices?.append(LinuxDeviceCgroup(allow: true, type: "x", access: "xa"))
        spec.linux?.resources?.memory = LinuxMemory(limit: -2, swap: -1)
        spec.linux?.sysctl = ["net.ipv4.ip_forward": "1", "net/ipv4/conf/eth0.1/forwarding": "1", ".x": "1", "a..b": "1"]
        spec.linux?.memoryPolicy = LinuxMemoryPolicy(mode: "MPOL_SOMETIMES", flags: ["MPOL_F_STATIC_NODES", "MPOL_F_X"])
        spec.linux?.namespaces?.append(LinuxNamespace(type: "ipc", path: "relative"))
        #expect(spec.validate().map(\.description) == [
            "config.json: process.args: required field is missing",
            "config.json: process.oomScoreAdj: must be between -1000 and 1000, got 1001",
            #"config.json: process.execCPUAffinity.final: invalid list "3-1" (want e.g. "0-3,7")"#,
            #"config.json: domainname: requires a new uts namespace (linux.namespaces has no "uts")"#,
            #"config.json: linux.sysctl[".x"]: invalid sysctl name ".x""#,
            #"config.json: linux.sysctl["a..b"]: invalid sysctl name "a..b""#,
            #"config.json: linux.resources.devices[1].type: unknown device type "x" (want a, b or c)"#,
            #"config.json: linux.resources.devices[1].access: invalid access "xa" (want a combination of r, w and m)"#,
            "config.json: linux.resources.memory.limit: must be -1 (unlimited) or a byte count, got -2",
            #"config.json: linux.namespaces[4].type: duplicate namespace type "ipc""#,
            #"config.json: linux.namespaces[4].path: must be an absolute path, got "relative""#,
            #"config.json: linux.netDevices: requires a new network namespace (linux.namespaces has no "network")"#,
            #"config.json: linux.memoryPolicy.mode: unknown memory policy mode "MPOL_SOMETIMES""#,
            #"config.json: linux.memoryPolicy.flags[1]: unknown memory policy flag "MPOL_F_X""#,
        ])
    }

    @Test func knownNameTablesAreIndexedByKernelNumber() {
        #expect(Spec.knownCapabilities.count == 41)
        #expect(Spec.knownCapabilities.firstIndex(of: "CAP_CHOWN") == 0)
        #expect(Spec.knownCapabilities.firstIndex(of: "CAP_NET_BIND_SERVICE") == 10)
        #expect(Spec.knownCapabilities.firstIndex(of: "CAP_SYS_ADMIN") == 21)
        #expect(Spec.knownCapabilities.firstIndex(of: "CAP_AUDIT_READ") == 37)
        #expect(Spec.knownCapabilities.last == "CAP_CHECKPOINT_RESTORE")
        #expect(Set(Spec.knownCapabilities).count == 41)
        #expect(Spec.knownRlimits.count == 16)
        #expect(Spec.knownRlimits.firstIndex(of: "RLIMIT_NOFILE") == 7)
        #expect(Spec.knownRlimits.firstIndex(of: "RLIMIT_AS") == 9)
        #expect(Spec.knownRlimits.firstIndex(of: "RLIMIT_RTTIME") == 15)
        #expect(Spec.knownSchedulerPolicies.firstIndex(of: "SCHED_DEADLINE") == 6)
        #expect(Spec.knownMemoryPolicyModes.firstIndex(of: "MPOL_WEIGHTED_INTERLEAVE") == 6)
    }
}

@Suite("Default spec")
struct DefaultSpecTests {
    /// What `runc spec` (1.2+) writes, with hostname "skiff".
    static let runcSpecOutput = """
        {
        \t"ociVersion": "\(SpecVersion.current)",
        \t"process": {
        \t\t"terminal": true,
        \t\t"user": {
        \t\t\t"uid": 0,
        \t\t\t"gid": 0
        \t\t},
        \t\t"args": [
        \t\t\t"sh"
        \t\t],
        \t\t"env": [
        \t\t\t"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        \t\t\t"TERM=xterm"
        \t\t],
        \t\t"cwd": "/",
        \t\t"capabilities": {
        \t\t\t"bounding": [
        \t\t\t\t"CAP_AUDIT_WRITE",
        \t\t\t\t"CAP_KILL",
        \t\t\t\t"CAP_NET_BIND_SERVICE"
        \t\t\t],
        \t\t\t"effective": [
        \t\t\t\t"CAP_AUDIT_WRITE",
        \t\t\t\t"CAP_KILL",
        \t\t\t\t"CAP_NET_BIND_SERVICE"
        \t\t\t],
        \t\t\t"permitted": [
        \t\t\t\t"CAP_AUDIT_WRITE",
        \t\t\t\t"CAP_KILL",
        \t\t\t\t"CAP_NET_BIND_SERVICE"
        \t\t\t]
        \t\t},
        \t\t"rlimits": [
        \t\t\t{
        \t\t\t\t"type": "RLIMIT_NOFILE",
        \t\t\t\t"hard": 1024,
        \t\t\t\t"soft": 1024
        \t\t\t}
        \t\t],
        \t\t"noNewPrivileges": true
        \t},
        \t"root": {
        \t\t"path": "rootfs",
        \t\t"readonly": true
        \t},
        \t"hostname": "skiff",
        \t"mounts": [
        \t\t{
        \t\t\t"destination": "/proc",
        \t\t\t"type": "proc",
        \t\t\t"source": "proc"
        \t\t},
        \t\t{
        \t\t\t"destination": "/dev",
        \t\t\t"type": "tmpfs",
        \t\t\t"source": "tmpfs",
        \t\t\t"options": [
        \t\t\t\t"nosuid",
        \t\t\t\t"strictatime",
        \t\t\t\t"mode=755",
        \t\t\t\t"size=65536k"
        \t\t\t]
        \t\t},
        \t\t{
        \t\t\t"destination": "/dev/pts",
        \t\t\t"type": "devpts",
        \t\t\t"source": "devpts",
        \t\t\t"options": [
        \t\t\t\t"nosuid",
        \t\t\t\t"noexec",
        \t\t\t\t"newinstance",
        \t\t\t\t"ptmxmode=0666",
        \t\t\t\t"mode=0620",
        \t\t\t\t"gid=5"
        \t\t\t]
        \t\t},
        \t\t{
        \t\t\t"destination": "/dev/shm",
        \t\t\t"type": "tmpfs",
        \t\t\t"source": "shm",
        \t\t\t"options": [
        \t\t\t\t"nosuid",
        \t\t\t\t"noexec",
        \t\t\t\t"nodev",
        \t\t\t\t"mode=1777",
        \t\t\t\t"size=65536k"
        \t\t\t]
        \t\t},
        \t\t{
        \t\t\t"destination": "/dev/mqueue",
        \t\t\t"type": "mqueue",
        \t\t\t"source": "mqueue",
        \t\t\t"options": [
        \t\t\t\t"nosuid",
        \t\t\t\t"noexec",
        \t\t\t\t"nodev"
        \t\t\t]
        \t\t},
        \t\t{
        \t\t\t"destination": "/sys",
        \t\t\t"type": "sysfs",
        \t\t\t"source": "sysfs",
        \t\t\t"options": [
        \t\t\t\t"nosuid",
        \t\t\t\t"noexec",
        \t\t\t\t"nodev",
        \t\t\t\t"ro"
        \t\t\t]
        \t\t},
        \t\t{
        \t\t\t"destination": "/sys/fs/cgroup",
        \t\t\t"type": "cgroup",
        \t\t\t"source": "cgroup",
        \t\t\t"options": [
        \t\t\t\t"nosuid",
        \t\t\t\t"noexec",
        \t\t\t\t"nodev",
        \t\t\t\t"relatime",
        \t\t\t\t"ro"
        \t\t\t]
        \t\t}
        \t],
        \t"linux": {
        \t\t"resources": {
        \t\t\t"devices": [
        \t\t\t\t{
        \t\t\t\t\t"allow": false,
        \t\t\t\t\t"access": "rwm"
        \t\t\t\t}
        \t\t\t]
        \t\t},
        \t\t"namespaces": [
        \t\t\t{
        \t\t\t\t"type": "pid"
        \t\t\t},
        \t\t\t{
        \t\t\t\t"type": "network"
        \t\t\t},
        \t\t\t{
        \t\t\t\t"type": "ipc"
        \t\t\t},
        \t\t\t{
        \t\t\t\t"type": "uts"
        \t\t\t},
        \t\t\t{
        \t\t\t\t"type": "mount"
        \t\t\t},
        \t\t\t{
        \t\t\t\t"type": "cgroup"
        \t\t\t}
        \t\t],
        \t\t"maskedPaths": [
        \t\t\t"/proc/acpi",
        \t\t\t"/proc/asound",
        \t\t\t"/proc/kcore",
        \t\t\t"/proc/keys",
        \t\t\t"/proc/latency_stats",
        \t\t\t"/proc/timer_list",
        \t\t\t"/proc/timer_stats",
        \t\t\t"/proc/sched_debug",
        \t\t\t"/sys/firmware",
        \t\t\t"/proc/scsi"
        \t\t],
        \t\t"readonlyPaths": [
        \t\t\t"/proc/bus",
        \t\t\t"/proc/fs",
        \t\t\t"/proc/irq",
        \t\t\t"/proc/sys",
        \t\t\t"/proc/sysrq-trigger"
        \t\t]
        \t}
        }
        """

    @Test func matchesRuncSpecOutput() {
        #expect(SpecEncoder.encode(Spec.defaultSpec(), indentString: "\t") == DefaultSpecTests.runcSpecOutput)
    }

    @Test func roundTripsAndValidates() throws {
        for spec in [Spec.defaultSpec(), Spec.defaultSpec(cgroupNamespace: false),
                     Spec.defaultSpec(rootless: true, hostUID: 1000, hostGID: 1000)] {
            let text = SpecEncoder.encode(spec, indent: 2)
            #expect(try Spec.load(bytes: Array(text.utf8)) == spec)
            #expect(spec.validate() == [])
        }
        #expect(!Spec.defaultSpec(cgroupNamespace: false).hasNamespace("cgroup"))
    }

    @Test func rootlessSpecKeepsANetworkNamespace() throws {
        let spec = Spec.defaultSpec(rootless: true, hostUID: 1000, hostGID: 1001)
        let linux = try #require(spec.linux)
        // Unlike runc's ToRootless, the network namespace stays: no host networking.
        #expect(linux.namespaces?.map(\.type) == ["pid", "network", "ipc", "uts", "mount", "cgroup", "user"])
        #expect(linux.uidMappings == [LinuxIDMapping(containerID: 0, hostID: 1000, size: 1)])
        #expect(linux.gidMappings == [LinuxIDMapping(containerID: 0, hostID: 1001, size: 1)])
        #expect(linux.resources == nil)
        let mounts = try #require(spec.mounts)
        #expect(mounts.first { $0.destination == "/dev/pts" }?.options
            == ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"])
        #expect(mounts.first { $0.destination == "/sys" } == Spec.defaultSpec().mounts?.first { $0.destination == "/sys" })
        #expect(mounts.count == Spec.defaultSpec().mounts?.count)
        #expect(spec.process == Spec.defaultSpec().process)
        #expect(spec.linux?.maskedPaths == Spec.defaultSpec().linux?.maskedPaths)
    }

    @Test func makeRootlessReplacesAnExistingUserNamespace() {
        var spec = Spec(mounts: [Mount(destination: "/sys/", type: "sysfs"), Mount(destination: "/x", options: ["uid=1"])],
                        linux: Linux(namespaces: [LinuxNamespace(type: "user", path: "/proc/1/ns/user"), LinuxNamespace(type: "network")]))
        spec.makeRootless(hostUID: 5, hostGID: 6)
        #expect(spec.mounts?.map(\.destination) == ["/sys/", "/x"])
        #expect(spec.mounts?[1].options == nil)
        #expect(spec.linux?.namespaces == [LinuxNamespace(type: "network"), LinuxNamespace(type: "user")])
    }
}
