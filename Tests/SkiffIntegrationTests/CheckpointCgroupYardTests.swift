import Foundation
import Glibc
import Testing

extension Integration.Checkpoint {
    /// The options of the host's cgroup2 mount at /sys/fs/cgroup (mountinfo's super options).
    static func hostCgroup2Options() -> String {
        (readFile("/proc/self/mountinfo") ?? "").split(separator: "\n")
            .first { $0.split(separator: " ").dropFirst(4).first == "/sys/fs/cgroup" }
            .map { String($0.split(separator: " ").last ?? "") } ?? ""
    }

    /// The host's cgroup2 superblock options (nsdelegate, memory_recursiveprot) survive
    /// checkpoint and restore. Left to itself criu mounts a new cgroup2 filesystem as its
    /// "cgroup yard"; made from the initial cgroup namespace that turns those options off for
    /// the whole host (measured in the VM with runc 1.1.5 and with skiff before the fix:
    /// `rw,nsdelegate,memory_recursiveprot` became `rw` after the checkpoint), after which a
    /// container with a cgroup namespace can raise its own limits. skiff hands criu a yard
    /// holding a bind of the host's mount instead (CgroupYard.swift), in a helper's private
    /// mount namespace: here the image (and work) directory is inside a directory the container
    /// bind-mounts, where a yard mounted in the host's namespace would propagate into the
    /// container and be dumped as its mount (restore then failed: "Can't stat mountpoint
    /// …/.skiff-cgyard.…", runc's checkpoint.bats test 2).
    @Test(.enabled(if: criuWorks && Integration.CgroupV2.pureV2))
    func hostCgroup2OptionsSurviveCheckpointAndRestore() throws {
        let before = Self.hostCgroup2Options()
        try #require(before.contains("nsdelegate"), "precondition: the host's cgroup2 is mounted with nsdelegate (did an earlier test reset it?): \(before)")
        let h = try Harness()
        let shared = h.path("shared")
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        let bundle = try Self.counter(h) { c in
            c.bind(shared, at: "/shared", options: ["rbind", "rw"])
        }
        let file = bundle.rootfs + "/tmp/count"
        let id = h.newID("ckpt")
        #expect(h.skiff("run", "-d", "-b", bundle.path, id).status == 0)
        Self.waitCount(file, atLeast: 2)
        let image = shared + "/image"
        let c = checkpoint(h, id, image)
        #expect(c.status == 0, "\(c)")
        #expect(Self.hostCgroup2Options() == before, "checkpoint changed the host's cgroup2 options")
        let last = try #require(Self.count(file))
        let r = restore(h, id, bundle, image)
        #expect(r.status == 0, "\(r)\n\(readFile(image + "/restore.log")?.suffix(2000) ?? "")")
        #expect(Self.hostCgroup2Options() == before, "restore changed the host's cgroup2 options")
        Self.expectContinues(file, from: last)
        #expect(h.skiff("delete", "-f", id).status == 0)
        // No yard helper is left (it would be a `skiff checkpoint|restore … <id>` process).
        h.expectNothingLeft(id)
    }
}
