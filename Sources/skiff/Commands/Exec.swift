import SkiffRuntime
import SkiffSpec
import SkiffSystem

enum ExecCommand: Command {
    static let name = "exec"
    static let summary = "run a new process inside a running container"
    static let operands = [Operand.containerID, Operand(name: "<command> [args...]", required: false, variadic: true, kind: .command)]
    static let stopAtPositional = true
    static let failureStatus: Int32 = 255
    static let flags: [FlagSpec] = [
        FlagSpec(names: ["process", "p"], takesValue: true, doc: { FlagDoc(argument: "FILE",
                 help: "a JSON file with the process object of config.json to run; then no <command> is needed", completion: .file) }),
        FlagSpec(names: ["detach", "d"], takesValue: false, doc: { FlagDoc(help: "return once the process started instead of waiting for it") }),
        FlagSpec(names: ["pid-file"], takesValue: true, doc: { FlagDoc(argument: "FILE", help: "write the host pid of the new process to FILE", completion: .file) }),
        FlagSpec(names: ["console-socket"], takesValue: true, doc: { FlagDoc(argument: "SOCKET",
                 help: "AF_UNIX socket that receives the master end of the process's pseudo-terminal (with --tty)", completion: .file) }),
        FlagSpec(names: ["pidfd-socket"], takesValue: true, doc: { FlagDoc(argument: "SOCKET",
                 help: "accepted for compatibility with runc 1.2 and ignored: no pidfd is sent", completion: .file) }),
        FlagSpec(names: ["preserve-fds"], takesValue: true, doc: { FlagDoc(argument: "N",
                 help: "pass N more file descriptors (3 to 3+N-1) to the process", defaultValue: "0") }),
        FlagSpec(names: ["tty", "t"], takesValue: false, doc: { FlagDoc(help: "give the process a pseudo-terminal") }),
        FlagSpec(names: ["cwd"], takesValue: true, doc: { FlagDoc(argument: "DIR", help: "working directory of the process in the container",
                 defaultValue: "the container's process.cwd") }),
        FlagSpec(names: ["env", "e"], takesValue: true, repeatable: true, doc: { FlagDoc(argument: "NAME=VALUE",
                 help: "add or replace an environment variable (repeatable)") }),
        FlagSpec(names: ["user", "u"], takesValue: true, doc: { FlagDoc(argument: "UID[:GID]", help: "user (and group) ids to run as",
                 defaultValue: "the container's process.user") }),
        FlagSpec(names: ["additional-gids", "g"], takesValue: true, repeatable: true, doc: { FlagDoc(argument: "GID",
                 help: "an additional group id (repeatable)") }),
        FlagSpec(names: ["cap", "c"], takesValue: true, repeatable: true, doc: { FlagDoc(argument: "CAP",
                 help: "add a capability (CAP_NET_ADMIN) to the process's sets (repeatable)") }),
        FlagSpec(names: ["no-new-privs"], takesValue: false, doc: { FlagDoc(help: "set no_new_privs for the process") }),
        FlagSpec(names: ["apparmor"], takesValue: true, doc: { FlagDoc(argument: "PROFILE",
                 help: "AppArmor profile for the process: refused on hosts without AppArmor") }),
        FlagSpec(names: ["process-label"], takesValue: true, doc: { FlagDoc(argument: "LABEL",
                 help: "SELinux label for the process: refused on hosts without SELinux") }),
        FlagSpec(names: ["cgroup"], takesValue: true, repeatable: true, doc: { FlagDoc(argument: "PATH",
                 help: "run the process in a sub-cgroup: not supported yet, refused") }),
        FlagSpec(names: ["ignore-paused"], takesValue: false, doc: { FlagDoc(help: "allow exec in a paused container") }),
    ]

    static var doc: CommandDoc {
        CommandDoc(description: """
            Runs a new process in a running container, in its namespaces, cgroups, root filesystem, \
            capabilities, seccomp filter and rlimits, with the container's process settings unless \
            changed by the flags (or replaced by --process). Flags end at the container id; \
            everything after <command> goes to the command. Without --detach, skiff relays its stdio, \
            waits for it and exits with its status.
            """,
            exitStatus: "The process's exit status (128+N when killed by signal N); with --detach 0 once started; 255 when skiff fails (runc's value).",
            examples: [("a shell in a running container", "skiff exec -t web1 sh"),
                       ("as another user, with a variable", "skiff exec --user 1000:1000 -e DEBUG=1 web1 env"),
                       ("a process from a file", "skiff exec --process proc.json web1")])
    }

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let id = try CLI.id(args, name)
        // Accepted for runc compatibility, but never silently ignored when they ask for something.
        if let label = args.string("apparmor"), !label.isEmpty {
            throw UsageError("--apparmor: AppArmor is not supported by skiff on this host")
        }
        if let label = args.string("process-label"), !label.isEmpty {
            throw UsageError("--process-label: SELinux is not supported by skiff on this host")
        }
        let subCgroups = try ExecOptions.parseSubCgroups(args.strings("cgroup"))
        let container = try Container.load(id, options: options)
        let config = try container.state.config()
        let process: Process
        if let file = args.string("process") {
            let bytes: [UInt8]
            do { bytes = try FileSystem.readRegularFileOrPipe(file, limit: FileSystem.configSizeLimit) } catch { throw RuntimeError("--process: \(error)") }
            do {
                process = try SpecDecoder.decode(Process.self, from: bytes, file: file)
            } catch {
                throw RuntimeError("\(error)")
            }
        } else {
            let command = Array(args.positionals.dropFirst())
            if command.isEmpty { throw UsageError("exec needs a command to run (or --process FILE)") }
            var gids: [UInt32] = []
            for g in args.strings("additional-gids") {
                guard let n = UInt32(g) else { throw UsageError("--additional-gids: \"\(g)\" is not a number") }
                gids.append(n)
            }
            process = try container.execProcess(
                config: config, args: command, cwd: args.string("cwd"), env: args.strings("env"), user: args.string("user"),
                additionalGids: gids, caps: args.strings("cap"), noNewPrivs: args.bool("no-new-privs"),
                tty: args.bool("tty"))
        }
        var opts = ExecOptions(process: process, processFile: args.string("process"))
        opts.detach = args.bool("detach")
        opts.pidFile = args.string("pid-file")
        opts.consoleSocket = args.string("console-socket")
        opts.preserveFds = try args.int("preserve-fds") ?? 0
        opts.ignorePaused = args.bool("ignore-paused")
        opts.subCgroups = subCgroups
        return try container.exec(opts, config: config)
    }
}
