import Glibc
import SkiffSpec
import SkiffSystem
import Testing
@testable import SkiffRuntime

/// `Cgroups.apply` on the real host cgroupfs (root only; skipped elsewhere): creates
/// /skiff-cgtest-<pid> in every hierarchy, applies limits, reads them back, removes it.
@Suite struct CgroupHostTests {
    static var enabled: Bool {
        geteuid() == 0 && CgroupLayout.host().hierarchies.contains { $0.controllers.contains("memory") || $0.isV2 }
    }

    @Test(.enabled(if: CgroupHostTests.enabled)) func appliesLimitsOnHost() throws {
        let layout = CgroupLayout.host()
        let paths = Cgroups.directories(layout: layout, cgroupsPath: "/skiff-cgtest-\(getpid())", id: "x")
        try Cgroups.create(paths)
        defer { try? Cgroups.destroy(paths) }
        let resources = LinuxResources(
            devices: [LinuxDeviceCgroup(allow: false, access: "rwm"),
                      LinuxDeviceCgroup(allow: true, type: "c", major: 10, minor: 229, access: "rw")],
            memory: LinuxMemory(limit: 64 << 20, swap: 128 << 20),
            cpu: LinuxCPU(shares: 256, quota: 25000, period: 100_000),
            pids: LinuxPids(limit: 7))
        try Cgroups.apply(resources: resources, paths: paths, layout: layout)
        let targets = Cgroups.resolveTargets(paths: paths, layout: layout)
        func read(_ controller: String, _ file: String) -> String? {
            guard let dir = targets[controller]?.directory else { return nil }
            return (try? FileSystem.readText(dir + "/" + file))?.trimmingWhitespace()
        }
        switch targets["memory"] {
        case .v1?:
            #expect(read("memory", "memory.limit_in_bytes") == "\(64 << 20)")
            #expect(read("cpu", "cpu.cfs_quota_us") == "25000")
            #expect(read("cpu", "cpu.shares") == "256")
            let devices = read("devices", "devices.list") ?? ""
            #expect(devices.contains("c 10:229 rw"))
            #expect(devices.contains("c 1:3 rwm"))
            #expect(!devices.contains("a *:* rwm"))
        case .v2?:
            #expect(read("memory", "memory.max") == "\(64 << 20)")
            #expect(read("cpu", "cpu.max") == "25000 100000")
        default:
            break
        }
        #expect(read("pids", "pids.max") == "7")
        // Update semantics: device rules untouched, memory changed.
        try Cgroups.apply(resources: LinuxResources(memory: LinuxMemory(limit: 32 << 20, swap: 64 << 20)),
                          paths: paths, layout: layout, context: "update", skipDevices: true)
        if case .v1? = targets["memory"] {
            #expect(read("memory", "memory.limit_in_bytes") == "\(32 << 20)")
            #expect(read("memory", "memory.memsw.limit_in_bytes") == "\(64 << 20)")
        }
    }
}
