import Glibc
import SkiffSystem
import Testing
@testable import SkiffRuntime

/// Issue 13, item 4: what a state file must be before skiff acts on it (pure parts).
@Suite struct StateTrustTests {
    static let layout = CgroupLayout(hierarchies: [
        CgroupHierarchy(mountPoint: "/sys/fs/cgroup/cpu,cpuacct", controllers: ["cpu", "cpuacct"], isV2: false, ownPath: "/"),
        CgroupHierarchy(mountPoint: "/sys/fs/cgroup/memory", controllers: ["memory"], isV2: false, ownPath: "/"),
        CgroupHierarchy(mountPoint: "/sys/fs/cgroup/unified", controllers: [], isV2: true, ownPath: "/"),
    ])
    static let paths = ["/sys/fs/cgroup/cpu,cpuacct/skiff/b", "/sys/fs/cgroup/memory/skiff/b", "/sys/fs/cgroup/unified/skiff/b"]

    @Test func initInTheRecordedCgroupsVerifies() {
        let proc = "12:memory:/skiff/b\n4:cpuacct,cpu:/skiff/b\n1:name=systemd:/\n0::/skiff/b\n"
        #expect(Cgroups.holdProcess(Self.paths, procCgroup: proc, layout: Self.layout))
        // Init moved itself into a sub-cgroup (nested containers): still the container's.
        let nested = "12:memory:/skiff/b/inner\n4:cpu,cpuacct:/skiff/b\n0::/skiff/b/leaf\n"
        #expect(Cgroups.holdProcess(Self.paths, procCgroup: nested, layout: Self.layout))
        #expect(Cgroups.holdProcess([], procCgroup: "", layout: Self.layout))
    }

    @Test func initElsewhereDoesNotVerify() {
        // Recorded paths are another container's (/skiff/a) while init is in /skiff/b.
        let proc = "12:memory:/skiff/b\n4:cpu,cpuacct:/skiff/b\n0::/skiff/b\n"
        let other = Self.paths.map { $0.replacingLastComponent("a") }
        #expect(!Cgroups.holdProcess(other, procCgroup: proc, layout: Self.layout))
        // A prefix that is not a path prefix: /skiff/bb is not below /skiff/b.
        #expect(!Cgroups.holdProcess(Self.paths, procCgroup: "12:memory:/skiff/bb\n4:cpu,cpuacct:/skiff/bb\n0::/skiff/bb\n", layout: Self.layout))
        // One hierarchy off is enough to refuse.
        #expect(!Cgroups.holdProcess(Self.paths, procCgroup: "12:memory:/skiff/b\n4:cpu,cpuacct:/skiff/b\n0::/elsewhere\n", layout: Self.layout))
        // Missing line for a hierarchy.
        #expect(!Cgroups.holdProcess(Self.paths, procCgroup: "12:memory:/skiff/b\n", layout: Self.layout))
    }

    @Test func rootsUncleanAndForeignPathsNeverVerify() {
        let inRoot = "12:memory:/\n4:cpu,cpuacct:/\n0::/\n"
        #expect(!Cgroups.holdProcess(["/sys/fs/cgroup/memory"], procCgroup: inRoot, layout: Self.layout))
        #expect(!Cgroups.holdProcess(["/sys/fs/cgroup/memory/"], procCgroup: inRoot, layout: Self.layout))
        let proc = "12:memory:/skiff/b\n"
        #expect(!Cgroups.holdProcess(["/sys/fs/cgroup/memory/skiff/b/../b"], procCgroup: proc, layout: Self.layout))
        #expect(!Cgroups.holdProcess(["/etc/skiff/b"], procCgroup: proc, layout: Self.layout))
        #expect(!Cgroups.holdProcess(["sys/fs/cgroup/memory/skiff/b"], procCgroup: proc, layout: Self.layout))
    }

    @Test func trustNeedsRootOrCallerAndNoGroupOrOtherWrite() {
        #expect(StateStore.trustProblem(uid: 0, mode: S_IFREG | 0o600, caller: 0, what: "f") == nil)
        #expect(StateStore.trustProblem(uid: 0, mode: S_IFDIR | 0o711, caller: 1000, what: "d") == nil)
        #expect(StateStore.trustProblem(uid: 1000, mode: S_IFREG | 0o644, caller: 1000, what: "f") == nil)
        let other = StateStore.trustProblem(uid: 1000, mode: S_IFREG | 0o600, caller: 0, what: "f")
        #expect(other?.contains("owned by uid 1000") == true, "\(String(describing: other))")
        let groupWritable = StateStore.trustProblem(uid: 0, mode: S_IFREG | 0o620, caller: 0, what: "f")
        #expect(groupWritable?.contains("writable by group or others (mode 620)") == true, "\(String(describing: groupWritable))")
        #expect(StateStore.trustProblem(uid: 0, mode: S_IFDIR | 0o777, caller: 0, what: "d") != nil)
        #expect(StateStore.trustProblem(uid: 0, mode: S_IFDIR | 0o1777, caller: 0, what: "d") != nil)
    }

    @Test func readRegularFileRefusesSpecialFilesAndOversize() throws {
        var template = Array("/tmp/skiff-readtest-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        let dir = String(cString: try #require(made))
        defer { try? FileSystem.removeAll(dir) }
        mkfifo(dir + "/fifo", 0o600)
        symlink("/dev/zero", dir + "/zero")
        symlink(dir + "/loop", dir + "/loop")
        mkdir(dir + "/dir", 0o700)
        try FileSystem.writeAtomic(dir + "/big", [UInt8](repeating: 0x20, count: 2000))
        try FileSystem.writeAtomic(dir + "/ok", Array("{}".utf8))
        func failure(_ name: String, limit: Int = 1 << 20) -> String {
            do { _ = try FileSystem.readRegularFile(dir + "/" + name, limit: limit); return "read" } catch { return "\(error)" }
        }
        #expect(failure("fifo").contains("not a regular file: it is a fifo"))
        #expect(failure("zero").contains("not a regular file: it is a character device"))
        #expect(failure("dir").contains("not a regular file: it is a directory"))
        #expect(failure("loop").contains("too many levels of symbolic links"))
        #expect(failure("missing").contains("no such file or directory"))
        #expect(failure("big", limit: 1000).contains("larger than 1000 bytes"))
        #expect(try FileSystem.readRegularFile(dir + "/ok", limit: 2) == Array("{}".utf8))
        do {
            _ = try FileSystem.readRegularFile(dir + "/zero", limit: 10, noFollow: true)
            Issue.record("a symlink was followed")
        } catch {
            #expect("\(error)".contains("symbolic link"))
        }
    }
}

private extension String {
    func replacingLastComponent(_ name: String) -> String {
        guard let slash = lastIndex(of: "/") else { return name }
        return String(self[...slash]) + name
    }
}
