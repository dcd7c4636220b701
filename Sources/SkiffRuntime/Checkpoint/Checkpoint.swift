import Glibc
import SkiffSpec
import SkiffSystem

/// runc's CriuOpts: what `checkpoint` and `restore` take from the command line.
public struct CheckpointOptions: Sendable {
    /// Where criu's images go (checkpoint) or come from (restore). Absolute.
    public var imagePath: String
    /// criu's work directory (logs: dump.log, restore.log); nil: the image directory.
    public var workPath: String?
    /// --parent-path: the previous (pre-)dump, relative to the image directory.
    public var parentPath: String?
    public var leaveRunning = false
    public var tcpEstablished = false
    public var extUnixSk = false
    public var shellJob = false
    public var fileLocks = false
    public var preDump = false
    public var autoDedup = false
    public var lazyPages = false
    /// --status-fd (lazy pages): criu writes \0 to it once the page server is ready; -1: none.
    public var statusFd: Int32 = -1
    /// --page-server ADDRESS:PORT.
    public var pageServer: (address: String, port: Int32)?
    public var manageCgroupsMode: CriuCgroupMode?
    /// CLONE_NEW* flags of the namespaces criu creates empty (runc always sets CLONE_NEWNET).
    public var emptyNs: UInt32 = UInt32(ProcessControl.newNet)

    public init(imagePath: String) { self.imagePath = imagePath }

    /// runc's setEmptyNsMask: "network" is the only name; CLONE_NEWNET is always in the mask.
    public mutating func setEmptyNamespaces(_ names: [String]) throws(RuntimeError) {
        var mask = UInt32(ProcessControl.newNet)
        for name in names {
            guard name == "network" else { throw RuntimeError("namespace \"\(name)\" is not supported") }
            mask |= UInt32(ProcessControl.newNet)
        }
        emptyNs = mask
    }

    /// The work directory criu writes its log to.
    var effectiveWorkPath: String { workPath ?? imagePath }
}

/// The file beside criu's images that records init's stdio (runc's descriptors.json: the
/// targets of /proc/<init>/fd/0..2, e.g. "pipe:[1234]", "/dev/null").
let descriptorsFilename = "descriptors.json"
/// skiff's addition: for fd 0..2, criu's external file key ("file[mnt_id:inode]") of a stdio
/// file outside the container's mounts, or "".
let externalDescriptorsFilename = "skiff-external-stdio.json"
/// skiff's addition: present when lo was up in the container's own network namespace.
let loopbackUpFilename = "skiff-loopback-up"

extension Container {
    /// `checkpoint`: dumps the container's process tree with criu (runc's Checkpoint). Without
    /// --leave-running or --pre-dump, criu stops the processes and the caller destroys the
    /// container.
    public func checkpoint(_ options: CheckpointOptions) throws(RuntimeError) {
        let lock = try store.lock(id)
        defer { lock.close() }
        let status = self.status
        if status == .created || status == .stopped {
            throw RuntimeError("Container cannot be checkpointed in \(status.rawValue) state")
        }
        if let problem = Criu.checkProblem() {
            throw RuntimeError("cannot checkpoint container \(id): \(problem)")
        }
        let spec = try state.config()
        do { try FileSystem.mkdirAll(options.imagePath, mode: 0o700) } catch {
            throw RuntimeError("--image-path: \(error)")
        }
        if let parent = options.parentPath {
            if parent.hasPrefix("/") { throw RuntimeError("--parent-path must be relative") }
            let real = options.imagePath + "/" + parent
            if !FileSystem.isDirectory(real) {
                throw RuntimeError("invalid --parent-path: \(real): \(FileSystem.exists(real) ? "not a directory" : "no such file or directory")")
            }
        }
        let imageDir: FD
        do { imageDir = try FileSystem.open(options.imagePath, O_RDONLY | O_DIRECTORY) } catch {
            throw RuntimeError("--image-path: \(error)")
        }
        defer { imageDir.close() }
        var opts = CriuOpts()
        opts.imagesDirFd = imageDir.raw
        opts.logLevel = 4
        opts.logFile = "dump.log"
        opts.root = state.rootfs
        opts.manageCgroups = true
        opts.notifyScripts = true
        opts.pid = state.initPid
        opts.shellJob = options.shellJob
        opts.leaveRunning = options.leaveRunning
        opts.tcpEstablished = options.tcpEstablished
        opts.extUnixSk = options.extUnixSk
        opts.fileLocks = options.fileLocks
        opts.emptyNs = options.emptyNs
        opts.orphanPtsMaster = true
        opts.autoDedup = options.autoDedup
        opts.lazyPages = options.lazyPages
        var workDir: FD? = nil
        defer { workDir?.close() }
        if let work = options.workPath {
            do {
                try FileSystem.mkdirAll(work, mode: 0o700)
                workDir = try FileSystem.open(work, O_RDONLY | O_DIRECTORY)
            } catch { throw RuntimeError("--work-path: \(error)") }
            opts.workDirFd = workDir?.raw
        }
        opts.configFile = Container.criuConfigFile(spec)
        // Network and pid namespaces given by path are external: restore expects them to exist.
        for ns in spec.linux?.namespaces ?? [] where ns.type == "network" || ns.type == "pid" {
            guard let path = ns.path, !path.isEmpty else { continue }
            var st = stat()
            guard stat(path, &st) == 0 else { throw RuntimeError("config.json: linux.namespaces: \(path): \(SystemError.message(currentErrno()))") }
            let name = ns.type == "network" ? "net" : "pid"
            opts.external.append("\(name)[\(st.st_ino)]:\(Container.criuNamespaceKey(ns.type))")
        }
        // criu freezes through the cgroup freezer (v1 freezer, or cgroup2's cgroup.freeze).
        switch Cgroups.freezer(state.cgroupPaths) {
        case .v1(let p)?: opts.freezeCgroup = p
        case .v2(let p)?: opts.freezeCgroup = p
        case nil: break
        }
        if let ps = options.pageServer {
            opts.pageServerAddress = ps.address
            opts.pageServerPort = ps.port
        }
        if let parent = options.parentPath {
            opts.parentImg = parent
            opts.trackMem = true
        }
        opts.manageCgroupsMode = options.manageCgroupsMode
        var request = CriuReq(type: options.preDump ? .preDump : .dump, opts: opts)
        if options.lazyPages, options.statusFd >= 0 {
            let flags = fcntl(options.statusFd, F_GETFL)
            if flags < 0 { throw RuntimeError("invalid --status-fd argument \(options.statusFd): \(SystemError.message(currentErrno()))") }
            if flags & O_ACCMODE == O_RDONLY { throw RuntimeError("invalid --status-fd argument \(options.statusFd): not writable") }
            // criu ≥ 3.15 reports readiness with the status-ready notification (below).
        }
        if !options.preDump {
            try addDumpMounts(&request.opts!, spec: spec)
            // init's stdio, for restore's inherit-fd keys.
            var descriptors: [JSONValue] = []
            for fd in 0...2 {
                descriptors.append(.string((try? FileSystem.readLink("/proc/\(state.initPid)/fd/\(fd)")) ?? "/dev/null"))
            }
            // Stdio on a file the container cannot see (the host's /dev/null of `run -d
            // </dev/null`, a log file): an external file for criu, given back at restore.
            // (runc reopens a host /dev/null inside the container at create; skiff does not.)
            let external = Container.externalStdio(pid: state.initPid)
            opts = request.opts!
            opts.external += external.filter { !$0.isEmpty }
            request.opts = opts
            do {
                try FileSystem.writeAtomic(options.imagePath + "/" + descriptorsFilename,
                                           Array(JSONValue.array(descriptors).serialized().utf8), mode: 0o600)
                // lo's state (criu brings the network namespace back empty).
                let ownNet = spec.linux?.namespaces?.contains { $0.type == "network" && ($0.path ?? "").isEmpty } ?? false
                if ownNet, Loopback.isUp(pid: state.initPid) == true {
                    try FileSystem.writeAtomic(options.imagePath + "/" + loopbackUpFilename, Array("up\n".utf8), mode: 0o600)
                } else {
                    FileSystem.unlink(options.imagePath + "/" + loopbackUpFilename)
                }
                try FileSystem.writeAtomic(options.imagePath + "/" + externalDescriptorsFilename,
                                           Array(JSONValue.array(external.map { .string($0) }).serialized().utf8), mode: 0o600)
            } catch { throw RuntimeError("\(descriptorsFilename): \(error)") }
        }
        // criu's own cgroup yard would reset the host's cgroup2 options (CgroupYard.swift).
        let yard = CriuCgroupYard.make()
        defer { yard?.remove() }
        request.opts?.cgroupYard = yard?.path
        var session = CriuSession(logPath: options.effectiveWorkPath + "/dump.log")
        let statusFd = options.statusFd
        let lazy = options.lazyPages
        session.notify = { resp, fd throws(RuntimeError) in
            fd?.close()
            if resp.notifyScript == "status-ready" && lazy && statusFd >= 0 {
                _ = withUnsafeBytes(of: UInt8(0)) { Glibc.write(statusFd, $0.baseAddress, 1) }
                _ = Glibc.close(statusFd)
            }
        }
        _ = try session.run(request)
    }

    /// runc's addCriuDumpMount for every bind mount, mask and device: criu records them as
    /// external mounts keyed by their destination.
    func addDumpMounts(_ opts: inout CriuOpts, spec: Spec) throws(RuntimeError) {
        let cgroupNs = (spec.linux?.namespaces ?? []).contains { $0.type == "cgroup" }
        let v2 = CgroupLayout.host().kind == .v2
        for m in spec.mounts ?? [] {
            if Container.isBind(m) {
                let dest = Container.resolvedDestination(m.destination, rootfs: state.rootfs)
                opts.extMnt.append(CriuKeyValue(dest, dest))
            } else if m.type == "cgroup" && !v2 && !cgroupNs {
                // cgroup v1 without a cgroup namespace: skiff binds each hierarchy.
                for sub in Container.cgroupV1Mounts(m.destination) {
                    opts.extMnt.append(CriuKeyValue(sub, sub))
                }
            }
        }
        for path in spec.linux?.maskedPaths ?? [] {
            var st = stat()
            guard stat("/proc/\(state.initPid)/root/\(path)", &st) == 0 else { continue }
            if st.st_mode & S_IFMT == S_IFDIR { continue }
            opts.extMnt.append(CriuKeyValue(path, "/dev/null"))
        }
        for path in Container.devicePaths(spec) {
            opts.extMnt.append(CriuKeyValue(path, path))
        }
    }

    /// A mount destination as the kernel mounted it: symlinks inside the rootfs resolved, never
    /// above its root (runc's securejoin.SecureJoin(rootfs, dest) minus the rootfs), so criu
    /// finds a bind mount whose destination is a symlink (runc's checkpoint.bats "bind mount,
    /// destination is symlink").
    static func resolvedDestination(_ dest: String, rootfs: String) -> String {
        var resolved: [String] = []
        var pending: [String] = dest.split(separator: "/").reversed().map(String.init)
        var links = 0
        while let part = pending.popLast() {
            if part == "." || part.isEmpty { continue }
            if part == ".." { _ = resolved.popLast(); continue }
            let candidate = rootfs + "/" + (resolved + [part]).joined(separator: "/")
            var buf = [UInt8](repeating: 0, count: 4096)
            let n = buf.withUnsafeMutableBufferPointer { p in
                p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: 4096) { readlink(candidate, $0, 4096) }
            }
            if n > 0 && n < 4096 {
                links += 1
                if links > 255 { return dest }  // a loop: leave it to criu to complain
                let target = String(decoding: buf[0..<n], as: UTF8.self)
                if target.hasPrefix("/") { resolved = [] }
                pending.append(contentsOf: target.split(separator: "/").reversed().map(String.init))
                continue
            }
            resolved.append(part)
        }
        return "/" + resolved.joined(separator: "/")
    }

    /// The container's devices as runc lists them (c.config.Devices): the default ones and
    /// linux.devices.
    static func devicePaths(_ spec: Spec) -> [String] {
        var paths = DevicePlan.defaults.map(\.path)
        for d in spec.linux?.devices ?? [] where !paths.contains(cleanPath(d.path)) { paths.append(cleanPath(d.path)) }
        return paths
    }

    /// For init's fd 0..2: criu's external key of a regular file or memory device (/dev/null…)
    /// on a mount outside the container's mount namespace, else "".
    static func externalStdio(pid: Int32) -> [String] {
        var visible = Set<Int>()
        if let info = try? FileSystem.readText("/proc/\(pid)/mountinfo") {
            for line in info.split(separator: "\n") {
                if let id = line.split(separator: " ").first.flatMap({ Int($0) }) { visible.insert(id) }
            }
        }
        var keys: [String] = []
        for fd in 0...2 {
            var key = ""
            var st = stat()
            if stat("/proc/\(pid)/fd/\(fd)", &st) == 0,
               st.st_mode & S_IFMT == S_IFREG || (st.st_mode & S_IFMT == S_IFCHR && Devices.major(UInt(st.st_rdev)) == 1),
               let info = try? FileSystem.readText("/proc/\(pid)/fdinfo/\(fd)"),
               let line = info.split(separator: "\n").first(where: { $0.hasPrefix("mnt_id:") }),
               let mnt = Int(String(line.dropFirst("mnt_id:".count).drop(while: { $0 == " " || $0 == "\t" }))),
               !visible.contains(mnt) {
                key = "file[\(String(mnt, radix: 16)):\(String(UInt64(st.st_ino), radix: 16))]"
            }
            keys.append(key)
        }
        return keys
    }

    static func isBind(_ m: Mount) -> Bool {
        m.type == "bind" || (m.options ?? []).contains("bind") || (m.options ?? []).contains("rbind")
    }

    /// The per-hierarchy destinations of a v1 cgroup mount at `destination`.
    static func cgroupV1Mounts(_ destination: String) -> [String] {
        let layout = CgroupLayout.host()
        return layout.hierarchies.filter { !$0.isV2 }.map { h in
            let base = h.mountPoint.split(separator: "/").last.map(String.init) ?? h.controllers.joined(separator: ",")
            return destination + "/" + base
        }
    }

    /// runc's handleCriuConfigurationFile: annotation org.criu.config, else /etc/criu/runc.conf.
    static func criuConfigFile(_ spec: Spec) -> String? {
        if let file = spec.annotations?["org.criu.config"] { return file.isEmpty ? nil : file }
        return "/etc/criu/runc.conf"
    }

    static func criuNamespaceKey(_ type: String) -> String { type == "network" ? "extRootNetNS" : "extRootPidNS" }
}
