import SkiffRuntime
import SkiffSpec
import SkiffSystem

enum ExecCommand: Command {
    static let name = "exec"
    static let summary = "run a new process inside a running container"
    static let usage = "[--process FILE | [options] <container-id> <command> [args...]]"
    static let stopAtPositional = true
    static let failureStatus: Int32 = 255
    static let flags: [FlagSpec] = [
        FlagSpec(names: ["process", "p"], takesValue: true),
        FlagSpec(names: ["detach", "d"], takesValue: false),
        FlagSpec(names: ["pid-file"], takesValue: true),
        FlagSpec(names: ["console-socket"], takesValue: true),
        FlagSpec(names: ["pidfd-socket"], takesValue: true),
        FlagSpec(names: ["preserve-fds"], takesValue: true),
        FlagSpec(names: ["tty", "t"], takesValue: false),
        FlagSpec(names: ["cwd"], takesValue: true),
        FlagSpec(names: ["env", "e"], takesValue: true, repeatable: true),
        FlagSpec(names: ["user", "u"], takesValue: true),
        FlagSpec(names: ["additional-gids", "g"], takesValue: true, repeatable: true),
        FlagSpec(names: ["cap", "c"], takesValue: true, repeatable: true),
        FlagSpec(names: ["no-new-privs"], takesValue: false),
        FlagSpec(names: ["apparmor"], takesValue: true),
        FlagSpec(names: ["process-label"], takesValue: true),
        FlagSpec(names: ["cgroup"], takesValue: true, repeatable: true),
        FlagSpec(names: ["ignore-paused"], takesValue: false),
    ]

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let id = try CLI.id(args, name)
        // Accepted for runc compatibility, but never silently ignored when they ask for something.
        if let label = args.string("apparmor"), !label.isEmpty {
            throw UsageError("--apparmor: AppArmor is not supported by skiff on this host")
        }
        if let label = args.string("process-label"), !label.isEmpty {
            throw UsageError("--process-label: SELinux is not supported by skiff on this host")
        }
        if !args.strings("cgroup").isEmpty {
            throw UsageError("--cgroup (exec into a sub-cgroup) is not supported by this version of skiff yet")
        }
        let container = try Container.load(id, options: options)
        let config = try container.state.config()
        let process: Process
        if let file = args.string("process") {
            let bytes: [UInt8]
            do { bytes = try FileSystem.readFile(file) } catch { throw RuntimeError("--process: \(error)") }
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
        return try container.exec(opts, config: config)
    }
}
