import Glibc
import SkiffSpec
import SkiffSystem
import Testing
@testable import SkiffRuntime

/// A fake cgroupfs under a temp dir: one directory per hierarchy with the container's
/// directory `c` in each, holding empty (or preset) files.
final class FakeCgroupTree {
    let root: String

    init() {
        var template = Array("/tmp/skiff-cgtest-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        root = String(cString: dir!)
    }

    deinit { try? FileSystem.removeAll(root) }

    func file(_ path: String, _ content: String = "") {
        let full = root + "/" + path
        try? FileSystem.mkdirAll(Cgroups.parentOf(full))
        try? FileSystem.writeAtomic(full, Array(content.utf8), mode: 0o644)
    }

    func read(_ path: String) -> String {
        ((try? FileSystem.readText(root + "/" + path)) ?? "<missing>")
    }

    /// v1 hierarchies, one controller each, with the files skiff writes.
    func v1Layout() -> (CgroupLayout, [String]) {
        let files: [String: [String]] = [
            "memory": ["memory.limit_in_bytes=9223372036854771712", "memory.memsw.limit_in_bytes=9223372036854771712",
                       "memory.soft_limit_in_bytes", "memory.swappiness", "memory.oom_control",
                       "memory.usage_in_bytes=4096", "memory.max_usage_in_bytes=8192"],
            "cpu": ["cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.cfs_burst_us", "cpu.idle",
                    "cpu.rt_period_us", "cpu.rt_runtime_us"],
            "cpuset": ["cpuset.cpus", "cpuset.mems"],
            "pids": ["pids.max"],
            "blkio": ["blkio.weight", "blkio.weight_device", "blkio.leaf_weight", "blkio.throttle.read_bps_device",
                      "blkio.throttle.write_iops_device"],
            "devices": ["devices.allow", "devices.deny"],
            "hugetlb": ["hugetlb.2MB.limit_in_bytes"],
            "net_cls": ["net_cls.classid"],
            "net_prio": ["net_prio.ifpriomap"],
            "freezer": ["freezer.state=THAWED"],
        ]
        var hierarchies: [CgroupHierarchy] = []
        var paths: [String] = []
        for (controller, list) in files.sorted(by: { $0.key < $1.key }) {
            for spec in list {
                let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
                file("\(controller)/c/\(parts[0])", parts.count > 1 ? parts[1] : "")
            }
            hierarchies.append(CgroupHierarchy(mountPoint: root + "/" + controller, controllers: [controller], isV2: false, ownPath: "/"))
            paths.append(root + "/" + controller + "/c")
        }
        return (CgroupLayout(hierarchies: hierarchies), paths)
    }

    /// One cgroup2 hierarchy.
    func v2Layout(controllers: String = "cpuset cpu io memory hugetlb pids rdma") -> (CgroupLayout, [String]) {
        file("v2/c/cgroup.controllers", controllers + "\n")
        for f in ["memory.max", "memory.swap.max", "memory.low", "memory.high", "cpu.weight", "cpu.max", "cpu.idle",
                  "cpu.max.burst", "cpuset.cpus", "cpuset.mems", "pids.max", "io.weight", "io.max",
                  "hugetlb.2MB.max", "cgroup.freeze", "rdma.max"] {
            file("v2/c/" + f)
        }
        let layout = CgroupLayout(hierarchies: [CgroupHierarchy(mountPoint: root + "/v2", controllers: [], isV2: true, ownPath: "/")])
        return (layout, [root + "/v2/c"])
    }
}

@Suite struct CgroupConversionTests {
    @Test func sharesToWeightMatchesRunc() {
        // opencontainers/cgroups utils_test.go cases.
        let cases: [UInt64: UInt64] = [0: 0, 1: 1, 2: 1, 3: 2, 1024: 100, 262_143: 10_000, 262_144: 10_000, 262_145: 10_000]
        for (shares, want) in cases { #expect(V2CPU.weight(shares: shares) == want, "shares \(shares)") }
    }

    @Test func blkioWeightToIOWeight() {
        #expect(V2IO.weight(blkio: 0) == 0)
        #expect(V2IO.weight(blkio: 10) == 1)
        #expect(V2IO.weight(blkio: 1000) == 10_000)
        #expect(V2IO.weight(blkio: 500) == 4950)
    }

    @Test func swapConversionMatchesRunc() throws {
        let ok: [(Int64, Int64, Int64)] = [(0, 0, 0), (-1, 0, -1), (-1, -1, -1), (-1, 1000, -1), (1000, 1000, 0),
                                           (500, 200, 300), (0, -1, -1), (300, -1, 300)]
        for (swap, memory, want) in ok {
            #expect(try V2Memory.swapValue(swap: swap, memory: memory) == want, "swap \(swap) memory \(memory)")
        }
        for (swap, memory) in [(-2 as Int64, 0 as Int64), (300, 400), (300, 0)] {
            #expect(throws: CgroupPlanError.self) { try V2Memory.swapValue(swap: swap, memory: memory) }
        }
    }

    @Test func pidsValues() {
        #expect(PidsPlan.plan(LinuxPids(limit: 0)).isEmpty)
        #expect(PidsPlan.plan(LinuxPids(limit: -1)).map(\.value) == ["max"])
        #expect(PidsPlan.plan(LinuxPids(limit: 42)).map(\.value) == ["42"])
    }
}

@Suite struct CgroupV1PlanTests {
    @Test func kernelTCPIsWrittenKernelIsNot() throws {
        let writes = try V1Memory.plan(LinuxMemory(kernel: 1 << 25, kernelTCP: 1 << 24), facts: CgroupFacts())
        #expect(writes.map(\.description) == ["memory.kmem.tcp.limit_in_bytes=16777216"])
        #expect(writes.first?.ignoreMissing == true)
    }

    @Test func memoryWriteOrderFollowsCurrentLimit() throws {
        var facts = CgroupFacts()
        facts.currentMemoryLimit = 100
        // Growing past the current limit: memsw first.
        let grow = try V1Memory.plan(LinuxMemory(limit: 200, swap: 300), facts: facts)
        #expect(grow.map(\.file) == ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"])
        facts.currentMemoryLimit = 1000
        let shrink = try V1Memory.plan(LinuxMemory(limit: 200, swap: 300), facts: facts)
        #expect(shrink.map(\.file) == ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"])
        // Unlimited memory with no swap given lifts memsw too.
        let unlimited = try V1Memory.plan(LinuxMemory(limit: -1), facts: facts)
        #expect(unlimited.map(\.description) == ["memory.memsw.limit_in_bytes=-1", "memory.limit_in_bytes=-1"])
    }

    @Test func memorySwappinessRange() {
        #expect(throws: CgroupPlanError("linux.resources.memory.swappiness", "invalid memory swappiness value: 101 (valid range is 0-100)")) {
            try V1Memory.plan(LinuxMemory(swappiness: 101), facts: CgroupFacts())
        }
        #expect((try? V1Memory.plan(LinuxMemory(swappiness: UInt64.max), facts: CgroupFacts()))?.isEmpty == true)
    }

    @Test func devicesDenyAllThenRulesThenDefaults() throws {
        let writes = try V1Devices.plan([
            LinuxDeviceCgroup(allow: false, access: "rwm"),
            LinuxDeviceCgroup(allow: true, type: "c", major: 10, minor: 229, access: "rw"),
            LinuxDeviceCgroup(allow: false, type: "b", major: 8),
        ])
        #expect(writes[0].description == "devices.deny=a")
        #expect(writes[1].description == "devices.deny=a *:* rwm")
        #expect(writes[2].description == "devices.allow=c 10:229 rw")
        #expect(writes[3].description == "devices.deny=b 8:* rwm")
        #expect(writes[3].field == "linux.resources.devices[2]")
        #expect(writes.dropFirst(4).map(\.value) == V1Devices.defaultRules.map(V1Devices.line))
        #expect(writes.contains { $0.value == "c 1:3 rwm" } && writes.contains { $0.value == "c 136:* rwm" })
    }

    @Test func cpuPeriodRetriesAfterQuota() {
        let writes = V1CPU.plan(LinuxCPU(shares: 512, quota: 20000, burst: 1000, period: 50000, realtimeRuntime: 900, realtimePeriod: 1000))
        #expect(writes.map(\.description) == [
            "cpu.shares=512", "cpu.cfs_period_us=50000", "cpu.cfs_burst_us=1000", "cpu.cfs_quota_us=20000",
            "cpu.rt_period_us=1000", "cpu.rt_runtime_us=900",
        ])
        #expect(writes[1].retryOnEINVAL && writes[2].retryOnEINVAL && writes[2].ignoreMissing && writes[4].retryOnEINVAL)
    }
}

@Suite struct CgroupApplyTests {
    @Test func v1WritesEveryController() throws {
        let tree = FakeCgroupTree()
        let (layout, paths) = tree.v1Layout()
        let resources = LinuxResources(
            devices: [LinuxDeviceCgroup(allow: false, access: "rwm")],
            memory: LinuxMemory(limit: 104_857_600, reservation: 52_428_800, swap: 209_715_200, swappiness: 10, disableOOMKiller: true),
            cpu: LinuxCPU(shares: 512, quota: 50000, period: 100_000, cpus: "0-1", mems: "0"),
            pids: LinuxPids(limit: 32),
            blockIO: LinuxBlockIO(weight: 300, weightDevice: [LinuxWeightDevice(major: 8, minor: 0, weight: 200)],
                                  throttleReadBpsDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 1_048_576)]),
            hugepageLimits: [LinuxHugepageLimit(pageSize: "2MB", limit: 4_194_304)],
            network: LinuxNetwork(classID: 0x100001, priorities: [LinuxInterfacePriority(name: "eth0", priority: 5)]))
        try Cgroups.apply(resources: resources, paths: paths, layout: layout)
        #expect(tree.read("memory/c/memory.limit_in_bytes") == "104857600")
        #expect(tree.read("memory/c/memory.memsw.limit_in_bytes") == "209715200")
        #expect(tree.read("memory/c/memory.soft_limit_in_bytes") == "52428800")
        #expect(tree.read("memory/c/memory.swappiness") == "10")
        #expect(tree.read("memory/c/memory.oom_control") == "1")
        #expect(tree.read("cpu/c/cpu.shares") == "512")
        #expect(tree.read("cpu/c/cpu.cfs_quota_us") == "50000")
        #expect(tree.read("cpu/c/cpu.cfs_period_us") == "100000")
        #expect(tree.read("cpuset/c/cpuset.cpus") == "0-1")
        #expect(tree.read("cpuset/c/cpuset.mems") == "0")
        #expect(tree.read("pids/c/pids.max") == "32")
        #expect(tree.read("blkio/c/blkio.weight") == "300")
        #expect(tree.read("blkio/c/blkio.weight_device") == "8:0 200")
        #expect(tree.read("blkio/c/blkio.throttle.read_bps_device") == "8:0 1048576")
        #expect(tree.read("hugetlb/c/hugetlb.2MB.limit_in_bytes") == "4194304")
        #expect(tree.read("net_cls/c/net_cls.classid") == "1048577")
        #expect(tree.read("net_prio/c/net_prio.ifpriomap") == "eth0 5")
        // Files keep the last write; the last device rule is runc's /dev/net/tun default.
        #expect(tree.read("devices/c/devices.allow") == "c 10:200 rwm")
        #expect(tree.read("devices/c/devices.deny") == "a *:* rwm")
    }

    /// Rootless mode: only the delegated pids directory exists; the other controllers carry
    /// the reason their directory could not be made, and a limit needing one fails with it.
    @Test func rootlessLimitWithoutDelegatedCgroupNamesTheReason() throws {
        let tree = FakeCgroupTree()
        let (layout, paths) = tree.v1Layout()
        let pidsOnly = paths.filter { $0.hasSuffix("/pids/c") }
        let why = ["memory": "the memory cgroup is not delegated to uid 1000 (mkdir x: permission denied)"]
        try Cgroups.apply(resources: LinuxResources(devices: [LinuxDeviceCgroup(allow: false, access: "rwm")], pids: LinuxPids(limit: 7)),
                          paths: pidsOnly, layout: layout, skipDevices: true, unavailable: why)
        #expect(tree.read("pids/c/pids.max") == "7")
        #expect(tree.read("devices/c/devices.deny") == "")
        let rootless = #expect(throws: RuntimeError.self) {
            try Cgroups.apply(resources: LinuxResources(memory: LinuxMemory(limit: 1 << 20)), paths: pidsOnly, layout: layout,
                              skipDevices: true, unavailable: why)
        }
        #expect(rootless?.message == "config.json: linux.resources.memory.limit: cannot apply this limit as a rootless user: the memory cgroup is not delegated to uid 1000 (mkdir x: permission denied)")
        // Without a reason it stays the host message.
        let host = #expect(throws: RuntimeError.self) {
            try Cgroups.apply(resources: LinuxResources(memory: LinuxMemory(limit: 1 << 20)), paths: pidsOnly, layout: layout)
        }
        #expect(host?.message == "config.json: linux.resources.memory.limit: the memory cgroup controller is not available on this host")
    }

    @Test func v2WritesConvertedValues() throws {
        let tree = FakeCgroupTree()
        let (layout, paths) = tree.v2Layout()
        let resources = LinuxResources(
            devices: [LinuxDeviceCgroup(allow: false, access: "rwm")],  // TODO eBPF: ignored on v2
            memory: LinuxMemory(limit: 104_857_600, reservation: 52_428_800, swap: 314_572_800),
            cpu: LinuxCPU(shares: 1024, quota: 50000, burst: 1000, cpus: "1", idle: 0),
            pids: LinuxPids(limit: -1),
            blockIO: LinuxBlockIO(weight: 500, throttleReadBpsDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 1_048_576)]),
            hugepageLimits: [LinuxHugepageLimit(pageSize: "2MB", limit: 2_097_152)],
            rdma: ["mlx5_0": LinuxRdma(hcaHandles: 3, hcaObjects: 1000)],
            unified: ["memory.high": "90000000"])
        try Cgroups.apply(resources: resources, paths: paths, layout: layout)
        #expect(tree.read("v2/c/memory.max") == "104857600")
        #expect(tree.read("v2/c/memory.swap.max") == "209715200")  // 300M memory+swap - 100M memory
        #expect(tree.read("v2/c/memory.low") == "52428800")
        #expect(tree.read("v2/c/cpu.weight") == "100")
        #expect(tree.read("v2/c/cpu.max") == "50000 100000")
        #expect(tree.read("v2/c/cpu.max.burst") == "1000")
        #expect(tree.read("v2/c/cpu.idle") == "0")
        #expect(tree.read("v2/c/cpuset.cpus") == "1")
        #expect(tree.read("v2/c/pids.max") == "max")
        #expect(tree.read("v2/c/io.weight") == "4950")
        #expect(tree.read("v2/c/io.max") == "8:0 rbps=1048576")
        #expect(tree.read("v2/c/hugetlb.2MB.max") == "2097152")
        #expect(tree.read("v2/c/rdma.max") == "mlx5_0 hca_handle=3 hca_object=1000")
        #expect(tree.read("v2/c/memory.high") == "90000000")
    }

    @Test func v2SwapEqualToMemoryDisablesSwapAndUnlimitedQuota() throws {
        let tree = FakeCgroupTree()
        let (layout, paths) = tree.v2Layout()
        try Cgroups.apply(resources: LinuxResources(memory: LinuxMemory(limit: 1000, swap: 1000), cpu: LinuxCPU(quota: -1, period: 20000)),
                          paths: paths, layout: layout)
        #expect(tree.read("v2/c/memory.swap.max") == "0")
        #expect(tree.read("v2/c/cpu.max") == "max 20000")
    }

    @Test func errorsNameTheField() throws {
        let tree = FakeCgroupTree()
        let (layout, paths) = tree.v1Layout()
        // A directory where the limit file should be: the write fails with EISDIR.
        FileSystem.unlink(paths[layout.hierarchies.firstIndex { $0.controllers == ["memory"] }!] + "/memory.limit_in_bytes")
        try FileSystem.mkdir(tree.root + "/memory/c/memory.limit_in_bytes")
        let error = #expect(throws: RuntimeError.self) {
            try Cgroups.apply(resources: LinuxResources(memory: LinuxMemory(limit: 1000)), paths: paths, layout: layout)
        }
        #expect(error?.message == "config.json: linux.resources.memory.limit: write \(tree.root)/memory/c/memory.limit_in_bytes: is a directory")

        let unified = #expect(throws: RuntimeError.self) {
            try Cgroups.apply(resources: LinuxResources(unified: ["memory.high": "1"]), paths: paths, layout: layout)
        }
        #expect(unified?.message == "config.json: linux.resources.unified: cgroup v2 is not mounted on this host (cgroup v1 only)")

        let (v2, v2Paths) = tree.v2Layout()
        let net = #expect(throws: RuntimeError.self) {
            try Cgroups.apply(resources: LinuxResources(network: LinuxNetwork(classID: 1)), paths: v2Paths, layout: v2)
        }
        #expect(net?.message.hasPrefix("config.json: linux.resources.network.classID: the net_cls cgroup controller is not mounted") == true)
        let rt = #expect(throws: RuntimeError.self) {
            try Cgroups.apply(resources: LinuxResources(cpu: LinuxCPU(realtimeRuntime: 5)), paths: v2Paths, layout: v2)
        }
        #expect(rt?.message == "config.json: linux.resources.cpu.realtimeRuntime: realtime group scheduling is not supported by cgroup v2")
        let key = #expect(throws: RuntimeError.self) {
            try Cgroups.apply(resources: LinuxResources(unified: ["../x": "1"]), paths: v2Paths, layout: v2)
        }
        #expect(key?.message.hasPrefix("config.json: linux.resources.unified[\"../x\"]: unified resource") == true)
        let missing = #expect(throws: RuntimeError.self) {
            try Cgroups.apply(resources: LinuxResources(unified: ["misc.max": "1"]), paths: v2Paths, layout: v2)
        }
        #expect(missing?.message.contains("controller \"misc\" not available") == true)
    }

    @Test func retriesEINVALAfterTheRestOfTheGroup() throws {
        var log: [String] = []
        var failedOnce = false
        let group = Cgroups.WriteGroup(directory: "/x", writes: V1CPU.plan(LinuxCPU(quota: 1000, period: 5000)))
        try Cgroups.execute(group, context: "t") { (path: String, value: String) throws(SystemError) in
            if path.hasSuffix("cfs_period_us") && !failedOnce {
                failedOnce = true
                throw SystemError("write", path, errno: EINVAL)
            }
            log.append("\(path)=\(value)")
        }
        #expect(log == ["/x/cpu.cfs_quota_us=1000", "/x/cpu.cfs_period_us=5000"])
    }

    @Test func hybridPrefersV1AndFallsBackToV2() {
        let tree = FakeCgroupTree()
        let (v1, v1Paths) = tree.v1Layout()
        let (v2, v2Paths) = tree.v2Layout(controllers: "hugetlb memory")
        let layout = CgroupLayout(hierarchies: v1.hierarchies.filter { $0.controllers != ["hugetlb"] } + v2.hierarchies)
        let targets = Cgroups.resolveTargets(paths: v1Paths + v2Paths, layout: layout)
        #expect(targets["memory"] == .v1(tree.root + "/memory/c"))
        #expect(targets["hugetlb"] == .v2(tree.root + "/v2/c"))
        #expect(targets["unified"] == .v2(tree.root + "/v2/c"))
        #expect(targets["rdma"] == nil)
    }

    @Test func v2FreezeWaitsForFrozenEvent() throws {
        let tree = FakeCgroupTree()
        let (_, paths) = tree.v2Layout()
        tree.file("v2/c/cgroup.events", "populated 1\nfrozen 1\n")
        try Cgroups.freeze(paths)
        #expect(tree.read("v2/c/cgroup.freeze") == "1")
        try Cgroups.unfreeze(paths)
        #expect(tree.read("v2/c/cgroup.freeze") == "0")
    }
}

@Suite struct CgroupUpdateAndStatsTests {
    @Test func mergeKeepsUnsetFields() {
        let current = LinuxResources(memory: LinuxMemory(limit: 100, swap: 200), cpu: LinuxCPU(shares: 512, quota: 1000, period: 10000),
                                     pids: LinuxPids(limit: 10),
                                     blockIO: LinuxBlockIO(throttleReadBpsDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 1)]))
        let merged = current.merging(LinuxResources(
            memory: LinuxMemory(limit: -1), cpu: LinuxCPU(quota: 2000), pids: LinuxPids(limit: 0),
            blockIO: LinuxBlockIO(throttleReadBpsDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 5),
                                                          LinuxThrottleDevice(major: 8, minor: 16, rate: 7)])))
        #expect(merged.memory == LinuxMemory(limit: -1, swap: nil))
        #expect(merged.cpu == LinuxCPU(shares: 512, quota: 2000, period: 10000))
        #expect(merged.pids == LinuxPids(limit: 10))
        #expect(merged.blockIO?.throttleReadBpsDevice?.map(\.rate) == [5, 7])
    }

    @Test func statsShapeFromV1Files() {
        let tree = FakeCgroupTree()
        let (layout, paths) = tree.v1Layout()
        tree.file("pids/c/pids.current", "3\n")
        tree.file("pids/c/pids.max", "max\n")
        tree.file("memory/c/memory.stat", "cache 4096\nrss 8192\n")
        tree.file("cpu/c/cpu.stat", "nr_periods 7\nnr_throttled 2\nthrottled_time 900\n")
        tree.file("blkio/c/blkio.throttle.io_service_bytes_recursive", "8:0 Read 512\n8:0 Write 0\nTotal 512\n")
        let stats = Cgroups.stats(paths: paths, layout: layout)
        guard case .object(let data) = stats else { Issue.record("not an object"); return }
        #expect(data.keys == ["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt", "network_interfaces"])
        #expect(stats["pids"]?.serialized() == #"{"current":3}"#)
        #expect(stats["cpu"]?.serialized() == #"{"throttling":{"periods":7,"throttledPeriods":2,"throttledTime":900}}"#)
        #expect(stats["memory"]?["cache"]?.serialized() == "4096")
        #expect(stats["memory"]?["raw"]?.serialized() == #"{"cache":4096,"rss":8192}"#)
        #expect(stats["blkio"]?.serialized() == #"{"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":512},{"major":8,"op":"Write"}]}"#)
        #expect(stats["hugetlb"]?["2MB"]?.serialized() == #"{"failcnt":0}"#)
        #expect(stats["network_interfaces"] == .null)
    }

    @Test func parsesCpuLists() {
        #expect(Cgroups.parseList("0-3,5\n") == [0, 1, 2, 3, 5])
        #expect(Cgroups.parseList("") == [])
    }
}

@Suite struct CgroupLayoutParseTests {
    /// Hybrid host, with a container (no mount namespace of its own) whose cgroup mounts sit
    /// under its rootfs in the host's table: each hierarchy counts once, the host's.
    @Test func parsesHybridAndIgnoresLaterMountsOfTheSameHierarchy() {
        let mountinfo = """
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
            35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory
            36 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
            38 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
            90 80 0:32 /skiff/c1 /tmp/b/rootfs/sys/fs/cgroup/memory ro,relatime - cgroup cgroup rw,memory
            91 80 0:38 /skiff/c1 /tmp/b/rootfs/sys/fs/cgroup/unified ro,relatime - cgroup2 cgroup2 rw
            92 23 0:50 / /mnt/with\\040space rw - cgroup cgroup rw,pids
            """
        let layout = CgroupLayout.parse(mountinfo: mountinfo, procCgroup: "9:name=systemd:/a\n4:memory:/m\n0::/u\n")
        #expect(layout.kind == .hybrid)
        #expect(layout.hierarchies.map(\.mountPoint) == ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/systemd",
                                                         "/sys/fs/cgroup/unified", "/mnt/with space"])
        #expect(layout.hierarchies.map(\.controllers) == [["cpu"], ["memory"], ["name=systemd"], [], ["pids"]])
        #expect(layout.hierarchies.map(\.ownPath) == ["/", "/m", "/a", "/u", "/"])
    }
}
