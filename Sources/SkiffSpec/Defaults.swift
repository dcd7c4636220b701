// The config `skiff spec` writes: runc's specconv.Example() and ToRootless(), with our hostname.

extension Spec {
    /// The example config `runc spec` generates (runc 1.2+, whose capability sets are bounding,
    /// effective and permitted; runc 1.1 also filled ambient), with hostname "skiff".
    ///
    /// - Parameters:
    ///   - rootless: apply `makeRootless(hostUID:hostGID:)`, like `runc spec --rootless`.
    ///   - hostUID, hostGID: the IDs mapped to root in the rootless user namespace (the caller's
    ///     effective IDs).
    ///   - cgroupNamespace: add a cgroup namespace, as runc does on cgroup v2 hosts.
    public static func defaultSpec(
        rootless: Bool = false, hostUID: UInt32 = 0, hostGID: UInt32 = 0, cgroupNamespace: Bool = true
    ) -> Spec {
        let capabilities = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        var namespaces = ["pid", "network", "ipc", "uts", "mount"].map { LinuxNamespace(type: $0) }
        if cgroupNamespace { namespaces.append(LinuxNamespace(type: "cgroup")) }
        var spec = Spec(
            ociVersion: SpecVersion.current,
            process: Process(
                terminal: true,
                user: User(uid: 0, gid: 0),
                args: ["sh"],
                env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
                cwd: "/",
                capabilities: LinuxCapabilities(bounding: capabilities, effective: capabilities, permitted: capabilities),
                rlimits: [POSIXRlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)],
                noNewPrivileges: true
            ),
            root: Root(path: "rootfs", readonly: true),
            hostname: "skiff",
            mounts: [
                Mount(destination: "/proc", type: "proc", source: "proc"),
                Mount(destination: "/dev", type: "tmpfs", source: "tmpfs",
                      options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
                Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
                      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
                Mount(destination: "/dev/shm", type: "tmpfs", source: "shm",
                      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
                Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue",
                      options: ["nosuid", "noexec", "nodev"]),
                Mount(destination: "/sys", type: "sysfs", source: "sysfs",
                      options: ["nosuid", "noexec", "nodev", "ro"]),
                Mount(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
                      options: ["nosuid", "noexec", "nodev", "relatime", "ro"]),
            ],
            linux: Linux(
                resources: LinuxResources(devices: [LinuxDeviceCgroup(allow: false, access: "rwm")]),
                namespaces: namespaces,
                maskedPaths: [
                    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
                ],
                readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
            )
        )
        if rootless { spec.makeRootless(hostUID: hostUID, hostGID: hostGID) }
        return spec
    }

    /// Adapts a config for an unprivileged caller, like runc's specconv.ToRootless: adds a user
    /// namespace mapping root to `hostUID`/`hostGID`, removes `uid=`/`gid=` mount options (ids
    /// the single-id map cannot name) and cgroup resources (an unprivileged user has no cgroup
    /// unless one is delegated).
    ///
    /// Deliberate difference from runc: the network namespace stays (runc drops it and so
    /// shares the host's network). The container gets its own, owned by its user namespace:
    /// loopback only, no host networking. For the same reason /sys stays a real sysfs mount
    /// (allowed in a user namespace that owns the network namespace; skiff falls back to a
    /// read-only rbind of the host's /sys where the kernel refuses it).
    public mutating func makeRootless(hostUID: UInt32, hostGID: UInt32) {
        var linux = self.linux ?? Linux()
        var namespaces = (linux.namespaces ?? []).filter { $0.type != "user" }
        namespaces.append(LinuxNamespace(type: "user"))
        linux.namespaces = namespaces
        linux.uidMappings = [LinuxIDMapping(containerID: 0, hostID: hostUID, size: 1)]
        linux.gidMappings = [LinuxIDMapping(containerID: 0, hostID: hostGID, size: 1)]
        linux.resources = nil
        self.linux = linux

        mounts = mounts?.map { mount in
            var mount = mount
            let options = mount.options?.filter { !$0.hasPrefix("uid=") && !$0.hasPrefix("gid=") }
            mount.options = options?.isEmpty == false ? options : nil
            return mount
        }
    }
}
