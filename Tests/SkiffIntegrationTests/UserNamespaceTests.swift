import Foundation
import Glibc
import Testing

extension Integration {
    /// linux.namespaces "user" with uid/gid mappings written by the parent between clone and
    /// init going on.
    @Suite struct UserNamespaces {
        static func mapped(_ c: Config, host: Int = 100000) {
            c.append("linux.namespaces", ["type": "user"])
            c["linux.uidMappings"] = [["containerID": 0, "hostID": host, "size": 65536]]
            c["linux.gidMappings"] = [["containerID": 0, "hostID": host, "size": 65536]]
        }

        @Test func mapsAreWrittenAndInitIsRootInside() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                Self.mapped(c)
                c.shell("cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; echo x > /dev/null && echo null-ok")
            }
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 0, "\(r)")
            let lines = r.out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
            #expect(lines.prefix(2) == ["0 100000 65536", "0 100000 65536"], "\(r)")
            #expect(lines.dropFirst(2).prefix(3) == ["0", "0", "null-ok"], "\(r)")
            #expect(hostNamespace("user") != "", "host user namespace unreadable")
            h.expectNothingLeft(id)
        }

        @Test func filesCreatedInsideAreOwnedByTheMappedHostID() throws {
            let h = try Harness()
            let shared = h.path("shared")
            try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
            chmod(shared, 0o777)
            let hostOnly = h.path("host-only")
            try FileManager.default.createDirectory(atPath: hostOnly, withIntermediateDirectories: true)
            chmod(hostOnly, 0o755)  // owned by host root: not writable by the container's root
            let bundle = try Bundle.make(in: h) { c in
                Self.mapped(c)
                // Existing mount points: the rootfs belongs to host root, so the container's
                // root could not create new ones (as with runc).
                c.bind(shared, at: "/tmp")
                c.bind(hostOnly, at: "/var")
                c.shell("touch /tmp/made-inside && echo made; if touch /var/x 2>/dev/null; then echo wrote-host; else echo denied; fi; stat -c %u /var")
            }
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 0, "\(r)")
            #expect(r.out.split(separator: "\n") == ["made", "denied", "65534"], "\(r)")
            var st = stat()
            #expect(stat(shared + "/made-inside", &st) == 0)
            #expect(st.st_uid == 100000 && st.st_gid == 100000, "owner \(st.st_uid):\(st.st_gid)")
            #expect(!fileExists(hostOnly + "/x"))
            h.expectNothingLeft(id)
        }

        @Test func joinsAUserNamespaceByPath() throws {
            let h = try Harness()
            let a = try Bundle.make(from: "sleep", in: h) { c in Self.mapped(c, host: 200000) }
            let (ida, _) = h.create(a)
            let pid = h.pid(ida)
            try #require(pid > 0)
            let b = try Bundle.make(in: h) { c in
                c.append("linux.namespaces", ["type": "user", "path": "/proc/\(pid)/ns/user"])
                // The pid namespace comes along: a new one would belong to the host's user ns.
                c["linux.namespaces"] = (c["linux.namespaces"] as? [[String: Any]] ?? []).map { ns in
                    ns["type"] as? String == "pid" ? ["type": "pid", "path": "/proc/\(pid)/ns/pid"] : ns
                }
                c.shell("cat /proc/self/uid_map; readlink /proc/self/ns/user")
            }
            let idb = h.newID()
            let r = h.run(b, id: idb)
            #expect(r.status == 0, "\(r)")
            let want = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/user")) ?? "?"
            let squeezed = r.out.split(whereSeparator: { $0 == " " }).joined(separator: " ")
            #expect(squeezed.contains("0 200000 65536"), "\(r)")
            #expect(r.out.hasSuffix(want), "\(r) vs \(want)")
            #expect(h.skiff("delete", "--force", ida).status == 0)
            h.expectNothingLeft(idb)
        }

        @Test func mappingsWithoutAUserNamespaceAreRejected() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["linux.uidMappings"] = [["containerID": 0, "hostID": 100000, "size": 1]]
            }
            let id = h.newID()
            let r = h.skiff(args: ["create", "-b", bundle.path, id])
            #expect(r.status == 1)
            #expect(r.err.contains("linux.uidMappings"), "\(r)")
            h.expectNothingLeft(id)
        }
    }
}

extension Integration {
    /// Id-mapped bind mounts (mount_setattr MOUNT_ATTR_IDMAP): with the container's own user
    /// namespace mappings, host-root files look root-owned inside, and files the container's
    /// root creates are root-owned on the host — without chown.
    @Suite struct IDMappedMounts {
        @Test func idmapUsesTheContainerMappings() throws {
            let h = try Harness()
            let shared = h.path("shared")
            try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
            try writeFile(shared + "/host-file", "x")
            let bundle = try Bundle.make(in: h) { c in
                UserNamespaces.mapped(c)
                c.append("mounts", ["destination": "/tmp", "type": "bind", "source": shared, "options": ["bind", "idmap"]])
                c.shell("stat -c %u:%g /tmp/host-file; touch /tmp/made-inside && echo made")
            }
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 0, "\(r)")
            #expect(r.out.split(separator: "\n") == ["0:0", "made"], "\(r)")
            var st = stat()
            #expect(stat(shared + "/made-inside", &st) == 0)
            #expect(st.st_uid == 0 && st.st_gid == 0, "owner on the host \(st.st_uid):\(st.st_gid)")
            h.expectNothingLeft(id)
        }

        @Test func mountMappingsWithoutAUserNamespace() throws {
            let h = try Harness()
            let shared = h.path("shared")
            try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
            try writeFile(shared + "/root-file", "x")
            let bundle = try Bundle.make(in: h) { c in
                // On-disk 0 shows as 1000 through the mount.
                c.append("mounts", ["destination": "/tmp", "type": "bind", "source": shared, "options": ["bind", "idmap"],
                                    "uidMappings": [["containerID": 0, "hostID": 1000, "size": 1]],
                                    "gidMappings": [["containerID": 0, "hostID": 1000, "size": 1]]])
                c.shell("stat -c %u:%g /tmp/root-file")
            }
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 0, "\(r)")
            #expect(r.out == "1000:1000", "\(r)")
            h.expectNothingLeft(id)
        }

        @Test func idmapOnANonBindMountIsRejected() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c.append("mounts", ["destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"]])
            }
            let id = h.newID()
            let r = h.skiff(args: ["create", "-b", bundle.path, id])
            #expect(r.status == 1)
            #expect(r.err.contains("must be bind mounts"), "\(r)")
            h.expectNothingLeft(id)
        }
    }
}
