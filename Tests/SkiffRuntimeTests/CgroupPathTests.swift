import SkiffSystem
import Testing
@testable import SkiffRuntime

/// Where the cgroupfs driver puts a container (runc 1.1.5 fs2 defaultDirPath, fs subsysPath).
@Suite struct CgroupPathTests {
    static let v2 = CgroupLayout(hierarchies: [
        CgroupHierarchy(mountPoint: "/sys/fs/cgroup", controllers: [], isV2: true, ownPath: "/system.slice/foo.service"),
    ])
    static let hybrid = CgroupLayout(hierarchies: [
        CgroupHierarchy(mountPoint: "/sys/fs/cgroup/memory", controllers: ["memory"], isV2: false, ownPath: "/system.slice/foo.service"),
        CgroupHierarchy(mountPoint: "/sys/fs/cgroup/systemd", controllers: ["name=systemd"], isV2: false, ownPath: "/system.slice/foo.service"),
        CgroupHierarchy(mountPoint: "/sys/fs/cgroup/unified", controllers: [], isV2: true, ownPath: "/system.slice/foo.service"),
    ])

    @Test func pureV2RelativePathsAreBelowTheParentOfTheOwnCgroup() {
        #expect(Cgroups.directories(layout: Self.v2, cgroupsPath: "foo/bar", id: "c") == ["/sys/fs/cgroup/system.slice/foo/bar"])
        #expect(Cgroups.directories(layout: Self.v2, cgroupsPath: nil, id: "c") == ["/sys/fs/cgroup/system.slice/c"])
        #expect(Cgroups.directories(layout: Self.v2, cgroupsPath: "", id: "c") == ["/sys/fs/cgroup/system.slice/c"])
        #expect(Cgroups.directories(layout: Self.v2, cgroupsPath: "/docker/c", id: "c") == ["/sys/fs/cgroup/docker/c"])
        // Cleaned as if rooted: a relative path cannot climb above its base (runc CleanPath).
        #expect(Cgroups.directories(layout: Self.v2, cgroupsPath: "../../../x", id: "c") == ["/sys/fs/cgroup/system.slice/x"])
        let root = CgroupLayout(hierarchies: [CgroupHierarchy(mountPoint: "/sys/fs/cgroup", controllers: [], isV2: true, ownPath: "/")])
        #expect(Cgroups.directories(layout: root, cgroupsPath: nil, id: "c") == ["/sys/fs/cgroup/c"])
    }

    @Test func v1AndHybridRelativePathsAreBelowTheOwnCgroup() {
        #expect(Cgroups.directories(layout: Self.hybrid, cgroupsPath: "foo", id: "c") == [
            "/sys/fs/cgroup/memory/system.slice/foo.service/foo", "/sys/fs/cgroup/systemd/system.slice/foo.service/foo",
            "/sys/fs/cgroup/unified/system.slice/foo.service/foo",
        ])
        #expect(Cgroups.directories(layout: Self.hybrid, cgroupsPath: nil, id: "c").first == "/sys/fs/cgroup/memory/system.slice/foo.service/c")
        #expect(Cgroups.legacyDefaultDirectories(layout: Self.hybrid, id: "c").first == "/sys/fs/cgroup/memory/skiff/c")
    }
}
