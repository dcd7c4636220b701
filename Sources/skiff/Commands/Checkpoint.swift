import Glibc
import SkiffRuntime
import SkiffSystem

enum CheckpointCommand: Command {
    static let name = "checkpoint"
    static let summary = "checkpoint a running container with criu"
    static let operands = [Operand.containerID]

    /// Flags checkpoint and restore share (runc's criuOptions).
    static let criuFlags: [FlagSpec] = [
        FlagSpec(names: ["image-path"], takesValue: true, doc: { FlagDoc(argument: "DIR",
                 help: "directory of criu's image files (made if missing)", defaultValue: "./checkpoint", completion: .directory) }),
        FlagSpec(names: ["work-path"], takesValue: true, doc: { FlagDoc(argument: "DIR",
                 help: "directory for criu's work files and its log (dump.log, restore.log)", defaultValue: "the image directory",
                 completion: .directory) }),
        FlagSpec(names: ["tcp-established"], takesValue: false, doc: { FlagDoc(help: "allow (and restore) established TCP connections") }),
        FlagSpec(names: ["ext-unix-sk"], takesValue: false, doc: { FlagDoc(help: "allow external unix sockets") }),
        FlagSpec(names: ["shell-job"], takesValue: false, doc: { FlagDoc(help: "allow shell jobs (a process attached to the caller's terminal)") }),
        FlagSpec(names: ["file-locks"], takesValue: false, doc: { FlagDoc(help: "handle file locks") }),
        FlagSpec(names: ["manage-cgroups-mode"], takesValue: true, doc: { FlagDoc(argument: "MODE",
                 help: "how criu handles cgroups: soft, full, strict or ignore (criu's --manage-cgroups)", defaultValue: "soft",
                 completion: .values, choices: "soft full strict ignore") }),
        FlagSpec(names: ["empty-ns"], takesValue: true, repeatable: true, doc: { FlagDoc(argument: "NS",
                 help: "create the namespace NS but do not dump or restore its contents; only \"network\", which is always implied (skiff, like runc, does not manage network devices)") }),
        FlagSpec(names: ["auto-dedup"], takesValue: false, doc: { FlagDoc(help: "deduplicate memory images against the parent (--parent-path) images") }),
        FlagSpec(names: ["lazy-pages"], takesValue: false, doc: { FlagDoc(help: "use userfaultfd to restore memory pages lazily (criu's lazy-pages daemon serves them)") }),
    ]

    static let flags: [FlagSpec] = criuFlags + [
        FlagSpec(names: ["parent-path"], takesValue: true, doc: { FlagDoc(argument: "DIR",
                 help: "the previous (pre-)dump, relative to the image directory (e.g. ../pre); memory already saved there is not saved again",
                 completion: .directory) }),
        FlagSpec(names: ["leave-running"], takesValue: false, doc: { FlagDoc(help: "leave the container running after the checkpoint") }),
        FlagSpec(names: ["status-fd"], takesValue: true, doc: { FlagDoc(argument: "FD",
                 help: "with --lazy-pages: criu writes \\0 to FD once the lazy pages can be served", defaultValue: "-1") }),
        FlagSpec(names: ["page-server"], takesValue: true, doc: { FlagDoc(argument: "ADDRESS:PORT",
                 help: "send the memory pages to the criu page server at ADDRESS:PORT") }),
        FlagSpec(names: ["pre-dump"], takesValue: false, doc: { FlagDoc(help: "dump the memory only, leaving the container running (for a later dump with --parent-path)") }),
    ]

    static var doc: CommandDoc {
        CommandDoc(description: """
            Saves the state of the running container <container-id> to the image directory with criu \
            (driven over its RPC interface, `criu swrk`): its processes, memory, open files, mounts and \
            namespaces, plus descriptors.json (the targets of init's stdio, which restore needs). Unless \
            --leave-running or --pre-dump is given, the container's processes are stopped and the \
            container is deleted, as with runc. criu's log is dump.log in the work directory; an error \
            names it and repeats criu's last error lines. Needs criu (`criu check` must pass; --criu \
            names the binary).
            """,
            exitStatus: "0 when the checkpoint was written; 1 on any error (criu's failure, a container not running, criu missing).",
            examples: [("checkpoint a container and stop it", "skiff checkpoint --image-path /var/lib/ckpt/web1 web1"),
                       ("pre-dump, then the final dump", "skiff checkpoint --pre-dump --image-path /ckpt/pre web1\nskiff checkpoint --image-path /ckpt/final --parent-path ../pre web1")])
    }

    /// The options both commands take (runc's criuOptions + setManageCgroupsMode + setEmptyNsMask).
    static func criuOptions(_ args: ParsedArguments) throws -> CheckpointOptions {
        var image = args.string("image-path") ?? ""
        if image.isEmpty { image = FileSystem.absolute("checkpoint") }
        var opts = CheckpointOptions(imagePath: FileSystem.absolute(image))
        if let work = args.string("work-path"), !work.isEmpty { opts.workPath = FileSystem.absolute(work) }
        if let parent = args.string("parent-path"), !parent.isEmpty { opts.parentPath = parent }
        opts.leaveRunning = args.bool("leave-running")
        opts.tcpEstablished = args.bool("tcp-established")
        opts.extUnixSk = args.bool("ext-unix-sk")
        opts.shellJob = args.bool("shell-job")
        opts.fileLocks = args.bool("file-locks")
        opts.preDump = args.bool("pre-dump")
        opts.autoDedup = args.bool("auto-dedup")
        opts.lazyPages = args.bool("lazy-pages")
        if let fd = try args.int("status-fd") {
            guard let v = Int32(exactly: fd) else { throw UsageError("--status-fd: invalid value \"\(fd)\"") }
            opts.statusFd = v
        }
        if let mode = args.string("manage-cgroups-mode"), !mode.isEmpty {
            guard let m = CriuCgroupMode.parse(mode) else { throw UsageError("Invalid manage cgroups mode") }
            opts.manageCgroupsMode = m
        }
        try opts.setEmptyNamespaces(args.strings("empty-ns"))
        if let ps = args.string("page-server"), !ps.isEmpty {
            // net.SplitHostPort: host:port, [v6]:port.
            guard let colon = ps.lastIndex(of: ":") else { throw UsageError("Use --page-server ADDRESS:PORT to specify page server") }
            var host = String(ps[..<colon])
            let port = String(ps[ps.index(after: colon)...])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            if host.isEmpty || port.isEmpty || host.contains(":") && !ps.hasPrefix("[") {
                throw UsageError("Use --page-server ADDRESS:PORT to specify page server")
            }
            guard let p = Int32(port) else { throw UsageError("Invalid port number") }
            opts.pageServer = (host, p)
        }
        return opts
    }

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let id = try CLI.id(args, name)
        if Identity.euid != 0 || !IDMaps.isInitialUserNamespace() {
            Output.stderr("skiff: warning: skiff checkpoint is untested with rootless containers\n")
        }
        let container = try Container.load(id, options: options)
        let opts = try criuOptions(args)
        try container.checkpoint(opts)
        if !(opts.leaveRunning || opts.preDump) {
            // runc destroys the container once criu stopped it.
            try? Container.load(id, options: options).delete(force: true)
        }
        return 0
    }
}
