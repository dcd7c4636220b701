import Glibc
import SkiffRuntime
import SkiffSystem

enum RestoreCommand: Command {
    static let name = "restore"
    static let summary = "restore a container from a criu checkpoint"
    static let operands = [Operand.containerID]
    static let flags: [FlagSpec] = CheckpointCommand.criuFlags + [
        FlagSpec(names: ["bundle", "b"], takesValue: true, doc: { FlagDoc(argument: "DIR",
                 help: "path to the bundle (config.json and the root filesystem) of the restored container",
                 defaultValue: "the current directory", completion: .directory) }),
        FlagSpec(names: ["console-socket"], takesValue: true, doc: { FlagDoc(argument: "SOCKET",
                 help: "AF_UNIX socket that receives the master end of the restored container's pseudo-terminal (process.terminal: true)",
                 completion: .file) }),
        FlagSpec(names: ["detach", "d"], takesValue: false,
                 doc: { FlagDoc(help: "return once the container is restored instead of waiting for it (it is then not removed)") }),
        FlagSpec(names: ["pid-file"], takesValue: true, doc: { FlagDoc(argument: "FILE",
                 help: "write the host pid of the restored init to FILE", completion: .file) }),
        FlagSpec(names: ["no-subreaper"], takesValue: false,
                 doc: { FlagDoc(help: "do not make skiff a child subreaper") }),
        FlagSpec(names: ["no-pivot"], takesValue: false,
                 doc: { FlagDoc(help: "accepted for runc compatibility; criu sets up the root itself") }),
    ]

    static var doc: CommandDoc {
        CommandDoc(description: """
            Creates the container <container-id> from the bundle and restores its processes from the \
            image directory with criu (a new id works as well as the checkpointed one). skiff makes and \
            limits the container's cgroup, puts criu in it, maps the bundle's bind mounts, devices and \
            masked paths as external mounts, passes its own stdio where init had pipes \
            (descriptors.json), sends a terminal's new master to --console-socket, runs the prestart and \
            createRuntime hooks when criu has set up the namespaces, and records the restored init so \
            state, exec, kill and delete work. Without --detach it waits for the container like `run`, \
            deletes it and exits with its status. criu's log is restore.log in the work directory. On \
            failure nothing is left: no state, cgroup or process.
            """,
            exitStatus: "Without --detach: the container's exit status (128+N when killed by signal N); 1 when the restore fails. With --detach: 0 or 1.",
            examples: [("restore in the background", "skiff restore -d --image-path /var/lib/ckpt/web1 --bundle /containers/web web1"),
                       ("restore under another id", "skiff restore -d --image-path /var/lib/ckpt/web1 -b /containers/web web2")])
    }

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let id = try CLI.id(args, name)
        if Identity.euid != 0 || !IDMaps.isInitialUserNamespace() {
            Output.stderr("skiff: warning: skiff restore is untested with rootless containers\n")
        }
        var opts = RestoreOptions(criu: try CheckpointCommand.criuOptions(args), bundle: args.string("bundle") ?? ".")
        opts.pidFile = args.string("pid-file")
        opts.consoleSocket = args.string("console-socket")
        opts.detach = args.bool("detach")
        opts.noPivot = args.bool("no-pivot")
        if !opts.detach && !args.bool("no-subreaper") {
            try? ProcessControl.prctl(PR_SET_CHILD_SUBREAPER, 1, what: "PR_SET_CHILD_SUBREAPER")
        }
        return try Container.restore(id: id, options: opts, runtime: options)
    }
}
