import SkiffRuntime

enum CreateCommand: Command {
    static let name = "create"
    static let summary = "create a container from a bundle, leaving its process blocked before exec"
    static let operands = [Operand.containerID]
    static let flags = createFlags

    static let createFlags: [FlagSpec] = [
        FlagSpec(names: ["bundle", "b"], takesValue: true, doc: { FlagDoc(argument: "DIR",
                 help: "path to the bundle: the directory holding config.json and, by default, the root filesystem",
                 defaultValue: "the current directory", completion: .directory) }),
        FlagSpec(names: ["config"], takesValue: true, doc: { FlagDoc(argument: "FILE",
                 help: "read the configuration from FILE instead of <bundle>/config.json (crun's option); relative to the current directory",
                 defaultValue: "<bundle>/config.json", completion: .file) }),
        FlagSpec(names: ["pid-file"], takesValue: true, doc: { FlagDoc(argument: "FILE",
                 help: "write the host pid of the container's init to FILE", completion: .file) }),
        FlagSpec(names: ["console-socket"], takesValue: true, doc: { FlagDoc(argument: "SOCKET",
                 help: "AF_UNIX socket that receives the master end of the container's pseudo-terminal (process.terminal: true)",
                 completion: .file) }),
        FlagSpec(names: ["pidfd-socket"], takesValue: true, doc: { FlagDoc(argument: "SOCKET",
                 help: "accepted for compatibility with runc 1.2 and ignored: no pidfd is sent", completion: .file) }),
        FlagSpec(names: ["no-pivot"], takesValue: false,
                 doc: { FlagDoc(help: "enter the root filesystem without pivot_root(2) (for a rootfs on a ramdisk, which pivot_root refuses)") }),
        FlagSpec(names: ["no-new-keyring"], takesValue: false,
                 doc: { FlagDoc(help: "do not give the container a new session keyring; it inherits the caller's") }),
        FlagSpec(names: ["preserve-fds"], takesValue: true, doc: { FlagDoc(argument: "N",
                 help: "pass N more file descriptors (3 to 3+N-1) to the container's process, after those of $LISTEN_FDS",
                 defaultValue: "0") }),
    ]

    static var doc: CommandDoc {
        CommandDoc(description: """
            Creates the container <container-id> from the bundle: reads and validates config.json, makes the \
            namespaces, cgroups, mounts and root filesystem, runs the prestart, createRuntime and \
            createContainer hooks, and leaves the container's process blocked just before it executes \
            process.args. The container's status is then "created"; `skiff start` runs the program. \
            Nothing is printed on success. The id must be unique under --root (letters, digits, \
            ".", "_", "+" and "-"). On any error nothing is left behind: no state, cgroup, mount or process.
            """,
            exitStatus: "0 when the container was created; 1 on any error (config.json problems name their JSON path).",
            examples: [("create a container from the bundle in /containers/web", "skiff create --bundle /containers/web web1"),
                       ("with the configuration in another file", "skiff create -b /containers/web --config /etc/web.json web2")])
    }

    static func options(_ args: ParsedArguments) throws(UsageError) -> CreateOptions {
        var opts = CreateOptions(bundle: args.string("bundle") ?? ".", pidFile: args.string("pid-file"),
                                 consoleSocket: args.string("console-socket"))
        opts.noPivot = args.bool("no-pivot")
        opts.noNewKeyring = args.bool("no-new-keyring")
        opts.config = args.string("config")
        opts.preserveFds = try args.int("preserve-fds") ?? 0
        return opts
    }

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let id = try CLI.id(args, name)
        _ = try Container.create(id: id, options: try Self.options(args), runtime: options)
        return 0
    }
}
