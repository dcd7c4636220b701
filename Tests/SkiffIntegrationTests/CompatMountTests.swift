import Foundation
import Glibc
import Testing

extension Integration {
    /// Mounts, cwd and devices where engines and runc's and crun's own suites rely on runc's
    /// behaviour (issue 14).
    @Suite struct CompatMounts {
        /// containerd's CRI case: root.path is a mount point of its own (its overlay; here a
        /// bind of the rootfs onto itself), shared with the host, and rootfsPropagation
        /// "rshared" (a Bidirectional volume). pivot_root refused it while the rootfs mount
        /// stayed shared, and the container's mounts leaked into the host's peer.
        @Test func sharedRootfsMountPointWithRsharedPropagation() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["linux.rootfsPropagation"] = "rshared"
                c.shell("awk '$5 == \"/\" { print $7 }' /proc/self/mountinfo")
            }
            let prepared = h.sh("mount --bind '\(bundle.rootfs)' '\(bundle.rootfs)' && mount --make-shared '\(bundle.rootfs)'")
            try #require(prepared.status == 0, "\(prepared)")
            // Every mount stacked there (the old code leaked its own into this peer group).
            defer { _ = h.sh("while umount -l '\(bundle.rootfs)' 2>/dev/null; do :; done") }
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 0, "\(r)")
            // The container's root: one mount, in a shared peer group (optional field).
            #expect(r.lines.count == 1 && r.out.hasPrefix("shared:"), "the container's / is not shared: \(r)")
            // Only the bind made above is mounted at or below the rootfs on the host.
            #expect(mountPoints(under: bundle.rootfs) == [bundle.rootfs], "\(mountPoints(under: bundle.rootfs))")
            h.expectNothingLeft(id)
        }

        /// Bind sources are opened as the host's root, not as the container's user namespace
        /// root: a source below a root-only (0700) host directory works (runc, crun).
        @Test func bindSourcesBelowARootOnlyHostDirectoryWithAUserNamespace() throws {
            let h = try Harness()
            let hidden = h.path("root-only")
            let made = h.sh("""
                mkdir -p '\(hidden)/data' && echo from-host > '\(hidden)/data/file' && echo single > '\(hidden)/single' \
                && chmod 755 '\(hidden)/data' && chmod 644 '\(hidden)/data/file' '\(hidden)/single' && chmod 700 '\(hidden)'
                """)
            try #require(made.status == 0, "\(made)")
            let bundle = try Bundle.make(in: h) { c in
                UserNamespaces.mapped(c)
                // Existing mount points: the container's root could not create new ones in a
                // rootfs that belongs to host root.
                c.bind(hidden + "/data", at: "/home", options: ["rbind", "ro"])
                c.bind(hidden + "/single", at: "/etc/hostname", options: ["bind", "ro"])
                c.shell("cat /home/file /etc/hostname; id -u")
            }
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == ["from-host", "single", "0"], "\(r)")
            h.expectNothingLeft(id)
        }

        /// A read-only /dev still gets its submounts, device nodes and symlinks: it is made
        /// read-only at the end, as runc does for read-only tmpfs mounts and /dev.
        @Test func readOnlyDevWithSubmounts() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                var mounts = c["mounts"] as? [[String: Any]] ?? []
                for i in mounts.indices where mounts[i]["destination"] as? String == "/dev" {
                    mounts[i]["options"] = (mounts[i]["options"] as? [String] ?? []) + ["ro"]
                }
                c["mounts"] = mounts
                c.shell("""
                    awk '$2 == "/dev" { print $4 }' /proc/mounts | tr , '\\n' | grep -x ro
                    awk '$2 == "/dev/pts" { print $3 }' /proc/mounts
                    echo x > /dev/null && echo null-ok
                    readlink /dev/ptmx
                    touch /dev/new 2>/dev/null || echo dev-read-only
                    """)
            }
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == ["ro", "devpts", "null-ok", "pts/ptmx", "dev-read-only"], "\(r)")
            h.expectNothingLeft(id)
        }

        /// A read-only tmpfs is made read-only after it is mounted, so a mount below it works.
        @Test func readOnlyTmpfsWithASubmount() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c.append("mounts", ["destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "nosuid"]] as [String: Any])
                c.append("mounts", ["destination": "/run/inner", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]] as [String: Any])
                c.shell("touch /run/inner/ok && echo inner-rw; touch /run/x 2>/dev/null || echo run-ro")
            }
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == ["inner-rw", "run-ro"], "\(r)")
            h.expectNothingLeft(id)
        }

        /// A missing process.cwd is created before the root is made read-only.
        @Test func missingCwdUnderReadOnlyRoot() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["root.readonly"] = true
                c["process.cwd"] = "/made/for/cwd"
                c.shell("pwd; touch /x 2>/dev/null || echo root-ro")
            }
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == ["/made/for/cwd", "root-ro"], "\(r)")
            h.expectNothingLeft(id)
        }

        /// A cwd below a directory only root may search works for a non-root process (the
        /// runtime enters it before the identity switch), for init and for `exec --user`.
        @Test func cwdOnlyRootCanReachWorksForANonRootUser() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h) { c in
                c["process.user"] = ["uid": 1000, "gid": 1000]
                c["process.cwd"] = "/secret/inner"
                c.args = ["sh", "-c", "pwd > /dev/null; sleep 3600"]
            }
            let setup = h.sh("mkdir -p '\(bundle.rootfs)/secret/inner' && chmod 700 '\(bundle.rootfs)/secret' && chmod 777 '\(bundle.rootfs)/secret/inner'")
            try #require(setup.status == 0, "\(setup)")
            let once = try Bundle.make(in: h) { c in
                c["process.user"] = ["uid": 1000, "gid": 1000]
                c["process.cwd"] = "/secret/inner"
                c.shell("pwd; id -u; ls .. 2>/dev/null || echo parent-denied")
            }
            _ = h.sh("mkdir -p '\(once.rootfs)/secret/inner' && chmod 700 '\(once.rootfs)/secret' && chmod 777 '\(once.rootfs)/secret/inner'")
            let oneID = h.newID()
            let r = h.run(once, id: oneID)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == ["/secret/inner", "1000", "parent-denied"], "\(r)")
            h.expectNothingLeft(oneID)

            let (id, created) = h.create(bundle)
            try #require(created.status == 0, "\(created)")
            #expect(h.skiff("start", id).status == 0)
            let e = h.skiff("exec", "--user", "1000:1000", "--cwd", "/secret/inner", id, "sh", "-c", "pwd; id -u")
            #expect(e.status == 0, "\(e)")
            #expect(e.lines == ["/secret/inner", "1000"], "\(e)")
            #expect(h.skiff("delete", "--force", id).status == 0)
            h.expectNothingLeft(id)
        }

        /// linux.devices may be anywhere in the container, not only under /dev (runc, crun).
        @Test func deviceOutsideDev() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["linux.devices"] = [["path": "/opt/devs/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666]]
                c["linux.resources.devices"] = [["allow": false, "access": "rwm"], ["allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"]]
                c.shell("stat -c '%t:%T %F' /opt/devs/mynull; echo data > /opt/devs/mynull && echo write-ok")
            }
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == ["1:3 character special file", "write-ok"], "\(r)")
            h.expectNothingLeft(id)
        }

        /// /proc or /sys inside the rootfs as a symlink: refused with the path, never followed
        /// (runc: "must be mounted on ordinary directory"; CVE-2019-19921 class).
        @Test(arguments: ["proc", "sys"])
        func procOrSysSymlinkInRootfsIsRefused(_ name: String) throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in c.shell("echo ran") }
            let setup = h.sh("rmdir '\(bundle.rootfs)/\(name)' && mkdir '\(bundle.rootfs)/elsewhere' && ln -s elsewhere '\(bundle.rootfs)/\(name)'")
            try #require(setup.status == 0, "\(setup)")
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.contains("\(bundle.rootfs)/\(name) is a symlink"), "\(r)")
            #expect(!r.out.contains("ran"))
            #expect(mountPoints(under: bundle.rootfs).isEmpty, "\(mountPoints(under: bundle.rootfs))")
            // Nothing was mounted through the link either.
            let inside = (try? FileManager.default.contentsOfDirectory(atPath: bundle.rootfs + "/elsewhere")) ?? ["?"]
            #expect(inside.isEmpty, "\(inside)")
            h.expectNothingLeft(id)
        }

        /// --no-pivot: the host's full procfs and sysfs mounts are gone from the container's
        /// mount namespace, so a nested user namespace cannot mount a fresh, unmasked procfs
        /// (runc's msMoveRoot).
        @Test func noPivotProcfsCannotBeRemountedFromANestedUserNamespace() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["process.user"] = ["uid": 1000, "gid": 1000]
                c.shell("unshare -Urmpf sh -c 'mount -t proc proc /tmp && echo mounted-proc' 2>/dev/null; unshare -Urmn sh -c 'mount -t sysfs sysfs /tmp && echo mounted-sysfs' 2>/dev/null; cat /proc/self/status | grep -c ^Name")
            }
            // Nested user namespaces must work at all here (or the test proves nothing).
            let check = h.run(try Bundle.make(in: h) { c in
                c["process.user"] = ["uid": 1000, "gid": 1000]
                c.shell("unshare -Urmpf true && echo userns-ok")
            })
            try #require(check.lines == ["userns-ok"], "\(check)")
            let id = h.newID()
            let r = h.skiff(args: ["run", "--no-pivot", "-b", bundle.path, id])
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == ["1"], "\(r)")
            h.expectNothingLeft(id)
        }
    }

    /// A frozen cgroup never hangs create (issue 14 item 1): a pre-existing frozen one is
    /// refused as runc refuses it, and one frozen while init is being set up (by a
    /// createRuntime hook here) makes the parent give up and remove everything.
    @Suite struct FrozenCgroup {
        /// The freezer of a cgroupsPath: v1 freezer.state, or cgroup2's cgroup.freeze.
        static func freezer(_ name: String) -> (dir: String, file: String, frozen: String, thawed: String) {
            if FileManager.default.fileExists(atPath: "/sys/fs/cgroup/freezer") {
                return ("/sys/fs/cgroup/freezer/\(name)", "/sys/fs/cgroup/freezer/\(name)/freezer.state", "FROZEN", "THAWED")
            }
            return ("/sys/fs/cgroup/\(name)", "/sys/fs/cgroup/\(name)/cgroup.freeze", "1", "0")
        }

        /// Thaws, kills whatever is left in the cgroup and removes it in every hierarchy.
        static func removeEverywhere(_ name: String, _ h: Harness) {
            let f = freezer(name)
            _ = h.sh("""
                [ -e '\(f.file)' ] && echo \(f.thawed) > '\(f.file)'
                for d in /sys/fs/cgroup/*/\(name) /sys/fs/cgroup/\(name); do
                    [ -d "$d" ] || continue
                    for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 $p; done
                done
                sleep 0.2
                for d in /sys/fs/cgroup/*/\(name) /sys/fs/cgroup/\(name); do [ -d "$d" ] && rmdir "$d"; done; true
                """)
        }

        @Test func preExistingFrozenCgroupIsRefused() throws {
            let h = try Harness()
            let name = "skiff-frozen-" + String(UInt32.random(in: 0..<UInt32.max), radix: 36)
            let f = Self.freezer(name)
            defer { Self.removeEverywhere(name, h) }
            let made = h.sh("mkdir -p '\(f.dir)' && echo \(f.frozen) > '\(f.file)'")
            try #require(made.status == 0, "\(made)")
            let bundle = try Bundle.make(in: h) { c in c["linux.cgroupsPath"] = "/" + name }
            let id = h.newID()
            let r = h.skiff(args: ["run", "-b", bundle.path, id], timeout: 20)
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.contains("container's cgroup unexpectedly frozen (\(f.dir))"), "\(r)")
            #expect(!r.out.contains("hello"))
            #expect(h.leftovers(id).isEmpty, "\(h.leftovers(id))")
            #expect(h.processes(mentioning: id).isEmpty && h.processes(mentioning: name).isEmpty)
            // The frozen cgroup is the caller's: it is left as it was.
            #expect(readFile(f.file)?.hasPrefix(f.frozen) == true)
        }

        @Test func cgroupFrozenDuringCreateEndsTheWait() throws {
            let h = try Harness()
            let name = "skiff-frozen-" + String(UInt32.random(in: 0..<UInt32.max), radix: 36)
            let f = Self.freezer(name)
            defer { Self.removeEverywhere(name, h) }
            let bundle = try Bundle.make(in: h) { c in
                c["linux.cgroupsPath"] = "/" + name
                // Init waits for the parent until the hooks are done: once this one returns, it
                // sits in a frozen cgroup and can never report that it is ready.
                c["hooks.createRuntime"] = [["path": "/bin/sh", "args": ["sh", "-c", """
                    echo \(f.frozen) > \(f.file)
                    while [ "$(cat \(f.file))" != \(f.frozen) ]; do sleep 0.01; done
                    """]]]
            }
            let id = h.newID()
            let r = h.skiff(args: ["run", "-b", bundle.path, id], timeout: 20)
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.contains("container's cgroup unexpectedly frozen"), "\(r)")
            #expect(h.leftovers(id).isEmpty, "\(h.leftovers(id))")
            #expect(h.processes(mentioning: id).isEmpty && h.processes(mentioning: name).isEmpty)
            let tasks = readFile(f.dir + "/cgroup.procs") ?? ""
            #expect(tasks.isEmpty, "processes left in the frozen cgroup: \(tasks)")
        }
    }
}
