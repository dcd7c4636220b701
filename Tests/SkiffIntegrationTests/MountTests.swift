import Foundation
import Glibc
import Testing

/// One /proc/mounts line.
struct MountEntry {
    var source: String, destination: String, type: String, options: [String]
}

func parseMounts(_ text: String) -> [MountEntry] {
    text.split(separator: "\n").compactMap { line in
        let f = line.split(separator: " ").map(String.init)
        guard f.count >= 4 else { return nil }
        return MountEntry(source: f[0], destination: unescapeOctal(f[1]), type: f[2], options: f[3].split(separator: ",").map(String.init))
    }
}

extension Integration {
    @Suite struct Mounts {
        @Test func specMountsAreVisible() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { $0.args = ["cat", "/proc/mounts"] }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            let mounts = parseMounts(r.stdout)
            func at(_ path: String) -> MountEntry? { mounts.last { $0.destination == path } }
            #expect(at("/")?.options.contains("ro") == true, "root not read-only: \(r.stdout)")
            #expect(at("/proc")?.type == "proc", "\(r.stdout)")
            #expect(at("/dev")?.type == "tmpfs")
            #expect(at("/dev")?.options.contains("nosuid") == true)
            #expect(at("/dev")?.options.contains("mode=755") == true)
            #expect(at("/dev/pts")?.type == "devpts")
            #expect(at("/dev/pts")?.options.contains("ptmxmode=666") == true, "\(String(describing: at("/dev/pts")))")
            #expect(at("/dev/shm")?.type == "tmpfs")
            #expect(at("/dev/mqueue")?.type == "mqueue")
            #expect(at("/sys")?.type == "sysfs")
            #expect(at("/sys")?.options.contains("ro") == true)
            let cgroup = mounts.filter { $0.destination.hasPrefix("/sys/fs/cgroup") }
            #expect(!cgroup.isEmpty, "no cgroup mount")
            #expect(cgroup.filter { $0.type.hasPrefix("cgroup") }.allSatisfy { $0.options.contains("ro") }, "\(cgroup)")
        }

        /// No mount namespace (the container inherits the host's) but mounts, masked paths and
        /// a read-only root: they go under a private bind of the rootfs in the host namespace,
        /// the process is chrooted, and delete (or a failed create) unmounts all of it.
        @Test func mountsWithoutAMountNamespaceLandUnderTheRootfsAndGoAtDelete() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h) { c in
                c["linux.namespaces"] = (c["linux.namespaces"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != "mount" }
                c["root.readonly"] = true
            }
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            let pid = h.pid(id)
            try #require(pid > 0)
            #expect(hostNamespace("mnt") == ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/mnt")) ?? "?"))
            let mounted = mountPoints(under: bundle.rootfs)
            for sub in ["", "/proc", "/dev", "/dev/pts", "/sys"] {
                #expect(mounted.contains(bundle.rootfs + sub), "\(sub) not mounted: \(mounted)")
            }
            let exec = h.skiff("exec", id, "sh", "-c", "touch /x 2>/dev/null || echo ro; head -c1 /proc/timer_list | wc -c; ls /proc/1/ns >/dev/null && echo proc")
            #expect(exec.lines == ["ro", "0", "proc"], "\(exec)")
            #expect(h.skiff("delete", "--force", id).status == 0)
            #expect(mountPoints(under: bundle.rootfs).isEmpty, "mounts left: \(mountPoints(under: bundle.rootfs))")
            h.expectNothingLeft(id)

            // A create that fails halfway through the mounts leaves none behind either.
            let bad = try Bundle.make(in: h) { c in
                c["linux.namespaces"] = (c["linux.namespaces"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != "mount" }
                c.append("mounts", ["destination": "/mnt", "type": "nosuchfs", "source": "x"])
            }
            let badID = h.newID()
            let r = h.skiff("create", "-b", bad.path, badID)
            #expect(r.status == 1 && r.stderr.contains("mounts["), "\(r)")
            #expect(mountPoints(under: bad.rootfs).isEmpty, "mounts left: \(mountPoints(under: bad.rootfs))")
            h.expectNothingLeft(badID)
        }

        @Test func bindMountReadOnly() throws {
            let h = try Harness()
            let host = h.path("hostdir")
            try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
            try writeFile(host + "/from-host", "host-content\n")
            let bundle = try Bundle.make(in: h) { c in
                c.bind(host, at: "/mnt", options: ["rbind", "ro"])
                c.shell("cat /mnt/from-host; if touch /mnt/new 2>/dev/null; then echo wrote; else echo denied; fi; grep ' /mnt ' /proc/mounts")
            }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            let lines = r.lines
            #expect(lines.first == "host-content", "\(r)")
            #expect(lines.dropFirst().first == "denied", "write to a ro bind mount succeeded: \(r)")
            #expect(lines.last?.split(separator: " ").dropFirst(3).first?.split(separator: ",").contains("ro") == true, "\(r)")
            #expect(!fileExists(host + "/new"))
        }

        @Test func bindMountReadWrite() throws {
            let h = try Harness()
            let host = h.path("hostdir")
            try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
            let bundle = try Bundle.make(in: h) { c in
                c.bind(host, at: "/mnt", options: ["rbind", "rw"])
                c.shell("echo from-container > /mnt/new")
            }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(readFile(host + "/new") == "from-container\n")
        }

        @Test func bindMountOfAFile() throws {
            let h = try Harness()
            let host = h.path("hostfile")
            try writeFile(host, "single-file\n")
            let bundle = try Bundle.make(in: h) { c in
                c.bind(host, at: "/etc/injected", options: ["bind", "ro"])
                c.args = ["cat", "/etc/injected"]
            }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.stdout == "single-file\n")
        }

        @Test func tmpfsWithSize() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c.append("mounts", ["destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=1777"]] as [String: Any])
                c.shell("grep ' /scratch ' /proc/mounts; stat -c %a /scratch; dd if=/dev/zero of=/scratch/f bs=1024 count=512 2>/dev/null && echo small-ok; dd if=/dev/zero of=/scratch/g bs=1024 count=1024 2>/dev/null || echo big-failed")
            }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            let lines = r.lines
            #expect(lines.first?.contains("tmpfs /scratch tmpfs") == true, "\(r)")
            #expect(lines.first?.contains("size=1024k") == true, "\(r)")
            #expect(Array(lines.dropFirst()) == ["1777", "small-ok", "big-failed"], "\(r)")
        }

        @Test func readonlyRootfs() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { $0.shell("touch /x-new-file && echo wrote") }
            let r = h.run(bundle)
            #expect(r.status == 1, "\(r)")
            #expect(r.out.isEmpty)
            #expect(r.stderr.contains("Read-only file system"), "\(r)")
            #expect(!fileExists(bundle.rootfs + "/x-new-file"))
        }

        @Test func writableRootfs() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["root.readonly"] = false
                c.shell("touch /x-new-file && echo wrote")
            }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.out == "wrote")
            #expect(fileExists(bundle.rootfs + "/x-new-file"))
        }

        @Test func maskedPaths() throws {
            let h = try Harness()
            let host = h.path("secret")
            try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
            try writeFile(host + "/secret-file", "secret\n")
            let bundle = try Bundle.make(in: h) { c in
                c.bind(host, at: "/data", options: ["rbind", "ro"])
                c.append("linux.maskedPaths", "/data")
                c.shell("wc -c < /proc/timer_list; echo \"[$(ls -A /data)]\"; echo \"[$(ls -A /sys/firmware)]\"")
            }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == ["0", "[]", "[]"], "\(r)")
        }

        @Test func unmaskedDirectoryIsVisible() throws {
            // Control for maskedPaths: without the mask the bind-mounted file is visible.
            let h = try Harness()
            let host = h.path("secret")
            try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
            try writeFile(host + "/secret-file", "secret\n")
            let bundle = try Bundle.make(in: h) { c in
                c.bind(host, at: "/data", options: ["rbind", "ro"])
                c["linux.maskedPaths"] = [String]()
                c.shell("ls -A /data; [ $(wc -c < /proc/timer_list) -gt 0 ] && echo timer_list-readable")
            }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == ["secret-file", "timer_list-readable"], "\(r)")
        }

        @Test func readonlyPaths() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c.shell("echo changed > /proc/sys/kernel/hostname && echo wrote; hostname; grep ' /proc/sys ' /proc/mounts")
            }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines.first == "skiff", "/proc/sys was writable: \(r)")
            #expect(r.lines.last?.contains(" ro,") == true || r.lines.last?.contains(" ro ") == true, "\(r)")
        }

        @Test func withoutReadonlyPathsProcSysIsWritable() throws {
            // Control for readonlyPaths: the same write succeeds without them (own uts namespace).
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["linux.readonlyPaths"] = [String]()
                c.shell("echo changed > /proc/sys/kernel/hostname && echo wrote; hostname")
            }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == ["wrote", "changed"], "\(r)")
            #expect(hostNamespace("uts") != "" && ProcessInfo.processInfo.hostName != "changed")
        }

        @Test func defaultDevices() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c.shell("for d in null zero full random urandom tty; do stat -c '%n %F %t:%T %a' /dev/$d; done")
            }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == [
                "/dev/null character special file 1:3 666",
                "/dev/zero character special file 1:5 666",
                "/dev/full character special file 1:7 666",
                "/dev/random character special file 1:8 666",
                "/dev/urandom character special file 1:9 666",
                "/dev/tty character special file 5:0 666",
            ], "\(r)")
        }

        @Test func devNullWorks() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c.shell("echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 8 /dev/urandom | wc -c")
            }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == ["4", "8"], "\(r)")
        }

        @Test func configuredDevices() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["linux.devices"] = [
                    ["path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o640, "uid": 1000, "gid": 5],
                    ["path": "/dev/myfifo", "type": "p", "fileMode": 0o600, "uid": 0, "gid": 0],
                ]
                c.shell("stat -c '%n %F %t:%T %a %u %g' /dev/fuse /dev/myfifo")
            }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == [
                "/dev/fuse character special file a:e5 640 1000 5",
                "/dev/myfifo fifo 0:0 600 0 0",
            ], "\(r)")
        }

        @Test func devSymlinks() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c.shell("for l in fd stdin stdout stderr ptmx; do echo \"$l -> $(readlink /dev/$l)\"; done; ls /dev/fd/ >/dev/null && echo fd-ok")
            }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == [
                "fd -> /proc/self/fd",
                "stdin -> /proc/self/fd/0",
                "stdout -> /proc/self/fd/1",
                "stderr -> /proc/self/fd/2",
                "ptmx -> pts/ptmx",
                "fd-ok",
            ], "\(r)")
        }
    }
}
