import Glibc
import SkiffSpec
import SkiffSystem

public struct RestoreOptions: Sendable {
    public var criu: CheckpointOptions
    public var bundle: String
    public var pidFile: String?
    public var consoleSocket: String?
    public var detach = false
    public var noPivot = false
    public init(criu: CheckpointOptions, bundle: String) {
        self.criu = criu
        self.bundle = bundle
    }
}

/// What the notification callbacks learn while criu restores.
final class RestoreProgress {
    var pid: pid_t = 0
    var master: FD?
    var failure: RuntimeError?
}

extension Container {
    /// `restore`: a new container `id` from the bundle's config.json whose processes criu
    /// restores from the image (runc's Restore). Attached (no --detach), waits for init like
    /// `run`, deletes the container and returns its exit status; detached, returns 0.
    public static func restore(id: String, options: RestoreOptions, runtime: RuntimeOptions) throws(RuntimeError) -> Int32 {
        try ContainerID.validate(id)
        let bundle = FileSystem.absolute(options.bundle)
        let spec = try loadSpec(bundle: bundle)
        guard let processSpec = spec.process else {
            throw RuntimeError("config.json: process: required field is missing")
        }
        let namespaces = try NamespacePlan(spec.linux?.namespaces ?? [])
        let terminal = processSpec.terminal ?? false
        if terminal && options.consoleSocket == nil && options.detach {
            throw RuntimeError("config.json: process.terminal: true with --detach: use --console-socket (or restore without -d)")
        }
        if !terminal && options.consoleSocket != nil {
            throw RuntimeError("--console-socket given but process.terminal is false")
        }
        for ns in spec.linux?.namespaces ?? [] where ns.type == "cgroup" && !(ns.path ?? "").isEmpty {
            throw RuntimeError("config.json: linux.namespaces: criu cannot join a cgroup namespace by path")
        }
        let imagePath = options.criu.imagePath
        guard FileSystem.isDirectory(imagePath) else {
            throw RuntimeError("--image-path \(imagePath): no such directory")
        }
        // descriptors.json, as runc reads it: init's fd 0..2 at checkpoint.
        let descriptors: [String]
        do throws(RuntimeError) {
            let bytes: [UInt8]
            do { bytes = try FileSystem.readRegularFile(imagePath + "/" + descriptorsFilename, limit: 1 << 20) } catch {
                throw RuntimeError("\(error)")
            }
            let value: JSONValue
            do { value = try JSONValue.parse(bytes) } catch { throw RuntimeError("\(error)") }
            guard case .array(let items) = value else { throw RuntimeError("not a JSON array") }
            descriptors = items.map { if case .string(let s) = $0 { s } else { "" } }
        } catch {
            throw RuntimeError("\(imagePath)/\(descriptorsFilename): \(error)")
        }
        if let problem = Criu.checkProblem() {
            throw RuntimeError("cannot restore container \(id): \(problem)")
        }
        let layout = CgroupLayout.host()
        let realBundle = (try? FileSystem.realPath(bundle)) ?? bundle
        let rootPath = spec.root?.path ?? "rootfs"
        let rootfs = rootPath.hasPrefix("/") ? cleanPath(rootPath) : cleanPath(realBundle + "/" + rootPath)
        guard FileSystem.isDirectory(rootfs) else { throw RuntimeError("config.json: root.path: \(rootfs): no such directory") }
        let systemd = runtime.systemdCgroup
            ? try SystemdSetup.prepare(cgroupsPath: spec.linux?.cgroupsPath, id: id, layout: layout, rootless: runtime.rootless) : nil
        let cgroupPaths = systemd?.paths ?? Cgroups.directories(layout: layout, cgroupsPath: spec.linux?.cgroupsPath, id: id)
        let pidFile = options.pidFile.map { FileSystem.absolute($0) }

        let store = runtime.store
        try store.createDirectory(id)
        var cleanup = Cleanup(store: store, id: id)
        let progress = RestoreProgress()
        let criuRoot = store.directory(id) + "/criu-root"
        var rootMounted = false
        func unmountRoot() {
            if rootMounted { try? Mounts.unmount(criuRoot, flags: Int32(MNT_DETACH)); rootMounted = false }
            _ = rmdir(criuRoot)
        }
        do throws(RuntimeError) {
            let lock = try store.lock(id)
            defer { lock.close() }
            var state = StoredState(
                id: id, initPid: 0, initStartTime: 0, created: Clock.rfc3339Now(), bundle: bundle,
                rootfs: rootfs, config: spec, cgroupPaths: cgroupPaths, namespacePaths: [:],
                privatePidNamespace: namespaces.isNew("pid"), noPivot: options.noPivot,
                noNewKeyring: false, systemdCgroup: runtime.systemdCgroup, owner: getuid())
            state.systemdUnit = systemd?.unit.name
            cleanup.systemd = systemd
            try store.save(state)

            // The container's cgroups, made and limited as create does; criu is put in them.
            let missingParents = systemd != nil ? [] : Cgroups.missingParents(cgroupPaths, cgroupsPath: spec.linux?.cgroupsPath)
            cleanup.cgroupParents = missingParents
            cleanup.cgroupPaths = cgroupPaths
            if systemd == nil {
                let placement = Cgroups.placement(cgroupPaths, layout: layout)
                try Cgroups.create(placement, layout: layout, v2: true)
                try Cgroups.create(placement, layout: layout, v2: false)
                try Cgroups.apply(resources: spec.linux?.resources, paths: cgroupPaths, layout: layout)
            }
            state.cgroupParents = missingParents.filter { FileSystem.isDirectory($0) }

            // Mount points (made before the criu root below, so that the temporary bind mounts
            // cannot show through it).
            try prepareRestoreMountpoints(spec, rootfs: rootfs, bundle: realBundle)

            // criu wants the root to be a mount point whose parent is not overmounted.
            do {
                try FileSystem.mkdir(criuRoot, mode: 0o755)
                try Mounts.mount(rootfs, criuRoot, "", UInt(MS_BIND | MS_REC))
                rootMounted = true
            } catch { throw RuntimeError("criu root: \(error)") }
            defer { unmountRoot() }

            let imageDir: FD
            do { imageDir = try FileSystem.open(imagePath, O_RDONLY | O_DIRECTORY) } catch {
                throw RuntimeError("--image-path: \(error)")
            }
            defer { imageDir.close() }
            var opts = CriuOpts()
            opts.imagesDirFd = imageDir.raw
            opts.evasiveDevices = true
            opts.logLevel = 4
            opts.logFile = "restore.log"
            opts.rstSibling = true
            opts.root = criuRoot
            opts.manageCgroups = true
            opts.notifyScripts = true
            opts.shellJob = options.criu.shellJob
            opts.extUnixSk = options.criu.extUnixSk
            opts.tcpEstablished = options.criu.tcpEstablished
            opts.fileLocks = options.criu.fileLocks
            opts.emptyNs = options.criu.emptyNs
            opts.orphanPtsMaster = true
            opts.autoDedup = options.criu.autoDedup
            opts.lazyPages = options.criu.lazyPages
            opts.manageCgroupsMode = options.criu.manageCgroupsMode
            var workDir: FD? = nil
            defer { workDir?.close() }
            if let work = options.criu.workPath {
                do {
                    try FileSystem.mkdirAll(work, mode: 0o700)
                    workDir = try FileSystem.open(work, O_RDONLY | O_DIRECTORY)
                } catch { throw RuntimeError("--work-path: \(error)") }
                opts.workDirFd = workDir?.raw
            }
            opts.configFile = criuConfigFile(spec)

            // Namespaces given by path (runc's handleRestoringNamespaces): net and pid are
            // inherited as the external namespaces checkpoint named, the others joined.
            var extraFds: [FD] = []
            defer { for fd in extraFds { fd.close() } }
            for ns in spec.linux?.namespaces ?? [] {
                guard let path = ns.path, !path.isEmpty else { continue }
                if ns.type == "network" || ns.type == "pid" {
                    let fd: FD
                    do { fd = try FileSystem.open(path, O_RDONLY) } catch {
                        throw RuntimeError("config.json: linux.namespaces: requested \(ns.type) namespace \(path) does not exist: \(error)")
                    }
                    opts.inheritFd.append(CriuInheritFd(key: criuNamespaceKey(ns.type), fd: Int32(4 + extraFds.count)))
                    extraFds.append(fd)
                } else {
                    let name = NamespacePlan.procNames[ns.type] ?? ns.type
                    opts.joinNs.append(CriuJoinNamespace(ns: name, nsFile: path))
                }
            }

            let cgroupNs = namespaces.has("cgroup")
            for m in spec.mounts ?? [] {
                if isBind(m) {
                    opts.extMnt.append(CriuKeyValue(resolvedDestination(m.destination, rootfs: rootfs),
                                                    bindSource(m, bundle: realBundle)))
                } else if m.type == "cgroup" && layout.kind != .v2 && !cgroupNs {
                    for (sub, hierarchy) in zip(cgroupV1Mounts(m.destination), layout.hierarchies.filter({ !$0.isV2 })) {
                        let dir = cgroupPaths.first { $0.hasPrefix(hierarchy.mountPoint + "/") } ?? hierarchy.mountPoint
                        opts.extMnt.append(CriuKeyValue(sub, dir))
                    }
                }
            }
            if !(spec.linux?.maskedPaths ?? []).isEmpty {
                opts.extMnt.append(CriuKeyValue("/dev/null", "/dev/null"))
            }
            for path in devicePaths(spec) {
                opts.extMnt.append(CriuKeyValue(path, path))
            }
            for (i, d) in descriptors.enumerated() where d.includes("pipe:") {
                opts.inheritFd.append(CriuInheritFd(key: d, fd: Int32(i)))
            }
            // Stdio files checkpoint made external (skiff's own file; absent in runc's images).
            if let bytes = try? FileSystem.readRegularFile(imagePath + "/" + externalDescriptorsFilename, limit: 1 << 16),
               case .array(let keys)? = try? JSONValue.parse(bytes) {
                for (i, key) in keys.prefix(3).enumerated() {
                    if case .string(let k) = key, !k.isEmpty { opts.inheritFd.append(CriuInheritFd(key: k, fd: Int32(i))) }
                }
            }

            var consoleSocket: FD? = nil
            if let path = options.consoleSocket {
                do { consoleSocket = try Terminal.connect(path) } catch { throw RuntimeError("--console-socket: \(error)") }
            }
            defer { consoleSocket?.close() }

            // criu's own cgroup yard would reset the host's cgroup2 options (CgroupYard.swift).
            let yard = CriuCgroupYard.make(layout: layout)
            defer { yard?.remove() }
            opts.cgroupYard = yard?.path
            var session = CriuSession(stdio: [0, 1, 2], extraFds: extraFds, logPath: options.criu.effectiveWorkPath + "/restore.log")
            session.started = { pid throws(RuntimeError) -> [CriuCgroupRoot] in
                if let systemd {
                    try systemd.start(pid: pid, spec: spec, layout: layout)
                    if !runtime.rootless { try Cgroups.apply(resources: spec.linux?.resources, paths: cgroupPaths, layout: layout) }
                } else {
                    for path in cgroupPaths {
                        do { try FileSystem.writeExisting(path + "/cgroup.procs", "\(pid)") } catch {
                            throw RuntimeError("cannot put criu in the container's cgroup: \(error)")
                        }
                    }
                }
                // criu restores the tasks' cgroups below these roots (runc's criuApplyCgroups).
                return Container.cgroupRoots(pid: pid, layout: layout)
            }
            let hookState = Container(store: store, state: state).ociState(status: .created)
            let loopbackUp = FileSystem.exists(imagePath + "/" + loopbackUpFilename)
            session.notify = { resp, fd throws(RuntimeError) in
                switch resp.notifyScript {
                case "setup-namespaces"?:
                    fd?.close()
                    if loopbackUp, let pid = resp.notifyPid, pid > 0, !Loopback.bringUp(pid: pid) {
                        throw RuntimeError("cannot bring lo up in the restored network namespace")
                    }
                    let s = hookState.with(status: "creating", pid: Int(resp.notifyPid ?? 0))
                    try HookRunner.run(spec, .prestart, state: s)
                    try HookRunner.run(spec, .createRuntime, state: s)
                case "post-restore"?:
                    fd?.close()
                    progress.pid = resp.notifyPid ?? 0
                case "orphan-pts-master"?:
                    guard let fd else { throw RuntimeError("criu sent no terminal master") }
                    if let consoleSocket {
                        defer { fd.close() }
                        do { try Terminal.sendFD(consoleSocket, fd, name: "/dev/ptmx") } catch {
                            throw RuntimeError("--console-socket: \(error)")
                        }
                    } else {
                        progress.master?.close()
                        progress.master = fd
                    }
                default:
                    fd?.close()
                }
            }
            let final: CriuResp
            do { final = try session.run(CriuReq(type: .restore, opts: opts)) } catch {
                if progress.pid > 0 { cleanup.initPid = progress.pid }
                throw error
            }
            let pid = progress.pid > 0 ? progress.pid : (final.restorePid ?? 0)
            guard pid > 0, let start = ProcessControl.startTime(of: pid) else {
                throw RuntimeError("criu restored no process (log file: \(options.criu.effectiveWorkPath)/restore.log)")
            }
            cleanup.initPid = pid
            unmountRoot()
            state.initPid = pid
            state.initStartTime = start.start
            state.created = Clock.rfc3339Now()
            for type in namespaces.types {
                if let name = NamespacePlan.procNames[type] { state.namespacePaths[type] = "/proc/\(pid)/ns/\(name)" }
            }
            try store.save(state)
            if let pidFile {
                do { try FileSystem.writeAtomic(pidFile, Array("\(pid)".utf8), mode: 0o644) } catch {
                    throw RuntimeError("--pid-file: \(error)")
                }
                cleanup.pidFile = pidFile
            }
        } catch {
            progress.master?.close()
            cleanup.run()
            throw error
        }
        let container = try Container.load(id, options: runtime)
        if options.detach {
            progress.master?.close()
            return 0
        }
        let pid = container.state.initPid
        Signals.forward(to: pid)
        let status: Int32
        if let master = progress.master {
            status = ConsoleRelay.relay(master: master, pid: pid)
            master.close()
        } else {
            status = container.waitForExit(pid: pid)
        }
        try? container.delete(force: true)
        return status
    }

    /// cgroup roots for criu: every hierarchy criu's process now sits in (v1: per controller;
    /// cgroup2: the default root).
    static func cgroupRoots(pid: pid_t, layout: CgroupLayout) -> [CriuCgroupRoot] {
        guard let text = try? FileSystem.readText("/proc/\(pid)/cgroup") else { return [] }
        var roots: [CriuCgroupRoot] = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let controllers = String(parts[1])
            let path = String(parts[2])
            if controllers.isEmpty {
                if layout.kind == .v2 { roots.append(CriuCgroupRoot(controller: nil, path: path)) }
            } else {
                roots.append(CriuCgroupRoot(controller: controllers.hasPrefix("name=") ? controllers : controllers, path: path))
            }
        }
        return roots
    }

    /// A bind mount's source as create mounts it: relative sources are relative to the bundle.
    static func bindSource(_ m: Mount, bundle: String) -> String {
        let source = m.source ?? ""
        return source.hasPrefix("/") ? source : cleanPath(bundle + "/" + source)
    }

    /// runc's prepareCriuRestoreMounts: mount points that are not on a tmpfs of the container
    /// (criu restores those with their content) are made in the rootfs. Every bind mount is
    /// bind-mounted at its destination for the time being (in configuration order, as create
    /// mounts them), so that the mount points of binds nested in it are made in its source,
    /// where criu looks for them; these temporary mounts are undone before returning.
    static func prepareRestoreMountpoints(_ spec: Spec, rootfs: String, bundle: String) throws(RuntimeError) {
        let mounts = spec.mounts ?? []
        let tmpfs = mounts.filter { $0.type == "tmpfs" }.map(\.destination)
        let root: RootFS
        let realRootfs = (try? FileSystem.realPath(rootfs)) ?? rootfs
        do { root = try RootFS(path: realRootfs) } catch { throw RuntimeError("config.json: root.path: \(error)") }
        defer { root.fd.close() }
        var temporary: [String] = []
        defer {
            // Innermost first; each through a handle resolved inside the rootfs.
            for dest in temporary.reversed() {
                if let fd = try? root.open(dest, O_PATH) {
                    try? Mounts.unmount("/proc/self/fd/\(fd.raw)", flags: Int32(MNT_DETACH))
                    fd.close()
                }
            }
        }
        for (i, m) in mounts.enumerated() {
            if tmpfs.contains(where: { m.destination.hasPrefix($0 + "/") }) { continue }
            if m.type == "cgroup" { continue }
            let what = "config.json: mounts[\(i)].destination (\(m.destination))"
            guard isBind(m) else {
                do { try root.mkdirAll(m.destination).close() } catch { throw RuntimeError("\(what): \(error)") }
                continue
            }
            let source = bindSource(m, bundle: bundle)
            var st = stat()
            let point: FD
            do {
                point = stat(source, &st) == 0 && st.st_mode & S_IFMT != S_IFDIR
                    ? try root.createFile(m.destination) : try root.mkdirAll(m.destination)
            } catch { throw RuntimeError("\(what): \(error)") }
            defer { point.close() }
            do { try root.verifyInside(point, m.destination) } catch { throw RuntimeError("\(what): \(error)") }
            do { try Mounts.mount(source, "/proc/self/fd/\(point.raw)", "", UInt(MS_BIND | MS_REC), label: realRootfs + m.destination) } catch {
                throw RuntimeError("\(what): temporary bind mount: \(error)")
            }
            temporary.append(m.destination)
        }
    }
}
