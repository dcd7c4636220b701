import Foundation
import Glibc
import Testing

extension Integration {
    @Suite struct Security {
        /// A mount destination that is an absolute symlink (/lnk -> /etc/<marker>) must resolve
        /// inside the rootfs: the mount point is created as rootfs/etc/<marker>, never as the
        /// host's /etc/<marker>.
        @Test(arguments: ["absolute", "relative"])
        func symlinkMountDestinationStaysInRootfs(kind: String) throws {
            let h = try Harness()
            let marker = "skiff-it-" + String(UInt32.random(in: 0..<UInt32.max), radix: 36)
            let bundle = try Bundle.make(in: h, rootfs: .copy) { c in
                c.append("mounts", ["destination": "/lnk", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]] as [String: Any])
                c.shell("grep -c ' /etc/\(marker) tmpfs' /proc/mounts; ls /etc/passwd")
            }
            // From rootfs/lnk, ../../../../../../../etc is the host's /etc if followed naively.
            let target = kind == "absolute" ? "/etc/\(marker)" : "../../../../../../../../etc/\(marker)"
            #expect(symlink(target, bundle.rootfs + "/lnk") == 0)
            defer { rmdir("/etc/\(marker)") }
            let r = h.run(bundle)
            #expect(!fileExists("/etc/\(marker)"), "the runtime created /etc/\(marker) on the host")
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == ["1", "/etc/passwd"], "\(r)")
            #expect(fileExists(bundle.rootfs + "/etc/\(marker)"), "mount point not created inside the rootfs")
            #expect(mountPoints(under: "/etc").isEmpty, "mounts on the host's /etc: \(mountPoints(under: "/etc"))")
        }

        /// A bind mount onto a symlink to /etc lands on the rootfs's /etc: the container sees the
        /// bind-mounted directory there, the host's /etc is untouched.
        @Test(arguments: ["absolute", "relative"])
        func symlinkToEtcBindMountLandsInRootfs(kind: String) throws {
            let h = try Harness()
            let host = h.path("hostdir")
            let marker = "marker-" + String(UInt32.random(in: 0..<UInt32.max), radix: 36)
            try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
            try writeFile(host + "/" + marker, "m\n")
            let hostEtc = try FileManager.default.contentsOfDirectory(atPath: "/etc").sorted()
            let bundle = try Bundle.make(in: h, rootfs: .copy) { c in
                c.bind(host, at: "/lnk", options: ["rbind", "ro"])
                c.shell("ls /etc")
            }
            let target = kind == "absolute" ? "/etc" : "../../../../../../../../etc"
            #expect(symlink(target, bundle.rootfs + "/lnk") == 0)
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == [marker], "the container's /etc should be the bind mount: \(r)")
            #expect(!fileExists("/etc/" + marker))
            #expect(try FileManager.default.contentsOfDirectory(atPath: "/etc").sorted() == hostEtc)
            #expect(mountPoints(under: "/etc").isEmpty, "mounts on the host's /etc: \(mountPoints(under: "/etc"))")
        }

        /// A tmpfs mounted on a symlink to /etc covers the container's /etc only.
        @Test(arguments: ["absolute", "relative"])
        func symlinkToEtcTmpfsCoversOnlyContainerEtc(kind: String) throws {
            let h = try Harness()
            let hostEtc = try FileManager.default.contentsOfDirectory(atPath: "/etc").sorted()
            let bundle = try Bundle.make(in: h, rootfs: .copy) { c in
                c.append("mounts", ["destination": "/lnk", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]] as [String: Any])
                c.shell("echo \"[$(ls -A /etc)]\"; grep -c ' /etc tmpfs' /proc/mounts")
            }
            let target = kind == "absolute" ? "/etc" : "../../../../../../../../etc"
            #expect(symlink(target, bundle.rootfs + "/lnk") == 0)
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == ["[]", "1"], "the tmpfs should cover the container's /etc: \(r)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: "/etc").sorted() == hostEtc)
            #expect(mountPoints(under: "/etc").isEmpty, "mounts on the host's /etc: \(mountPoints(under: "/etc"))")
            #expect(fileExists(bundle.rootfs + "/etc/passwd"), "the rootfs's /etc was modified")
        }

        /// A maskedPath that is a symlink to a host path must not mask (or mount over) the host
        /// path: it resolves inside the container, where the target does not exist.
        @Test func maskedPathSymlinkDoesNotReachHost() throws {
            let h = try Harness()
            let hostDir = h.path("host-visible")
            try FileManager.default.createDirectory(atPath: hostDir, withIntermediateDirectories: true)
            try writeFile(hostDir + "/keep", "keep\n")
            let bundle = try Bundle.make(in: h, rootfs: .copy) { c in
                c.append("linux.maskedPaths", "/masklink")
                c.append("linux.maskedPaths", "/masklink-file")
                c.args = ["true"]
            }
            #expect(symlink(hostDir, bundle.rootfs + "/masklink") == 0)
            #expect(symlink(hostDir + "/keep", bundle.rootfs + "/masklink-file") == 0)
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(readFile(hostDir + "/keep") == "keep\n")
            #expect(mountPoints(under: h.dir).isEmpty, "mounts leaked to the host: \(mountPoints(under: h.dir))")
            #expect(!fileExists(bundle.rootfs + "/masklink") || (try? FileManager.default.destinationOfSymbolicLink(atPath: bundle.rootfs + "/masklink")) == hostDir)
        }

        /// Only 0, 1, 2 reach the container (ls's own directory fd is 3), even if the runtime
        /// itself was started with more open fds.
        @Test func noLeakedFileDescriptors() throws {
            let h = try Harness()
            let extra = h.path("extra-fd")
            try writeFile(extra, "leaked\n")
            let fd = open(extra, O_RDONLY)
            defer { close(fd) }
            let bundle = try Bundle.make(in: h) { $0.args = ["ls", "/proc/self/fd"] }
            let r = h.skiff(args: ["run", "-b", bundle.path, h.newID()], extraFds: [fd, fd])
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == ["0", "1", "2", "3"], "fds open in the container: \(r)")
        }

        @Test func preserveFds() throws {
            let h = try Harness()
            let extra = h.path("extra-fd")
            try writeFile(extra, "preserved-content\n")
            let fd = open(extra, O_RDONLY)
            defer { close(fd) }
            let bundle = try Bundle.make(in: h) { $0.shell("cat <&3; ls /proc/self/fd | tr '\\n' ' '") }
            let r = h.skiff(args: ["run", "--preserve-fds", "1", "-b", bundle.path, h.newID()], extraFds: [fd, fd])
            #expect(r.status == 0, "\(r)")
            // sh has 0-3 (3 preserved); ls adds its own directory fd 4; the second fd (4 in the
            // runtime) was not preserved.
            #expect(r.lines == ["preserved-content", "0 1 2 3 4"], "\(r)")
        }

        /// The container's executable is the container's own (busybox), and running containers
        /// does not modify the runtime binary (CVE-2019-5736).
        @Test func procSelfExeIsNotTheRuntime() throws {
            let h = try Harness()
            var before = stat()
            try #require(stat(Paths.binary, &before) == 0)
            let markers = h.path("markers")
            try FileManager.default.createDirectory(atPath: markers, withIntermediateDirectories: true)
            let bundle = try Bundle.make(in: h) { c in
                c.bind(markers, at: "/m")
                c.shell("readlink /proc/self/exe > /m/self; readlink /proc/1/exe > /m/init; sleep 30")
            }
            let (id, _) = h.create(bundle)
            let pid = h.pid(id)
            // In created state init is still the runtime: its exe must not be writable through /proc.
            let write = open("/proc/\(pid)/exe", O_WRONLY | O_APPEND)
            if write >= 0 { close(write) }
            #expect(write < 0, "the runtime binary is writable via /proc/<init>/exe")
            #expect(h.skiff("start", id).status == 0)
            #expect(waitUntil { readFile(markers + "/init") != nil && readFile(markers + "/self") != nil })
            usleep(100_000)
            #expect(readFile(markers + "/self") == "/bin/busybox\n")
            #expect(readFile(markers + "/init") == "/bin/busybox\n")
            let hostExe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? ""
            #expect(hostExe.hasSuffix("/bin/busybox"), "host view of init exe: \(hostExe)")
            var after = stat()
            #expect(stat(Paths.binary, &after) == 0)
            #expect(after.st_size == before.st_size)
            #expect(after.st_mtim.tv_sec == before.st_mtim.tv_sec && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec)
        }
    }

    @Suite struct Namespaces {
        @Test func containerHasItsOwnNamespaces() throws {
            let h = try Harness()
            let types = ["pid", "net", "ipc", "uts", "mnt", "cgroup"]
            let bundle = try Bundle.make(in: h) { c in
                c.shell(types.map { "readlink /proc/self/ns/\($0)" }.joined(separator: "; "))
            }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines.count == types.count, "\(r)")
            for (type, inside) in zip(types, r.lines) {
                let host = hostNamespace(type)
                #expect(inside.hasPrefix("\(type):["), "\(type): \(inside)")
                #expect(inside != host, "\(type) namespace is the host's (\(host))")
            }
        }

        @Test func withoutNetworkNamespaceSharesHostNet() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["linux.namespaces"] = (c["linux.namespaces"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != "network" }
                c.args = ["readlink", "/proc/self/ns/net"]
            }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.out == hostNamespace("net"))
        }

        @Test func networkNamespaceHasOnlyLoopback() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { $0.shell("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '") }
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == ["lo"], "\(r)")
        }

        @Test func joinNetworkNamespaceByPath() throws {
            let h = try Harness()
            let a = try Bundle.make(from: "sleep", in: h)
            let (idA, _) = h.create(a)
            let pidA = h.pid(idA)
            try #require(pidA > 0)
            let nsA = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pidA)/ns/net")
            #expect(nsA != hostNamespace("net"))
            let b = try Bundle.make(in: h) { c in
                c["linux.namespaces"] = (c["linux.namespaces"] as? [[String: Any]] ?? []).map { ns in
                    ns["type"] as? String == "network" ? ["type": "network", "path": "/proc/\(pidA)/ns/net"] : ns
                }
                c.args = ["readlink", "/proc/self/ns/net"]
            }
            let r = h.run(b)
            #expect(r.status == 0, "\(r)")
            #expect(r.out == nsA)
        }

        @Test(.enabled(if: fileExists("/proc/self/ns/time"), "kernel without time namespaces"))
        func timeNamespaceOffsets() throws {
            let h = try Harness()
            let offset = 10 * 86_400
            let bundle = try Bundle.make(in: h) { c in
                c.append("linux.namespaces", ["type": "time"])
                c["linux.timeOffsets"] = ["boottime": ["secs": offset, "nanosecs": 0], "monotonic": ["secs": offset, "nanosecs": 0]]
                c.shell("cut -d' ' -f1 /proc/uptime; readlink /proc/self/ns/time")
            }
            let hostUptime = Double((readFile("/proc/uptime") ?? "").split(separator: " ").first ?? "") ?? 0
            let r = h.run(bundle)
            #expect(r.status == 0, "\(r)")
            let inside = Double(r.lines.first ?? "") ?? 0
            #expect(inside >= hostUptime + Double(offset) - 1 && inside <= hostUptime + Double(offset) + 60,
                    "uptime inside \(inside), host \(hostUptime), offset \(offset)")
            #expect(r.lines.last != hostNamespace("time"))
        }
    }
}
