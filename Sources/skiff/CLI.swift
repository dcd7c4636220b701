import SkiffRuntime
import SkiffSpec
import SkiffSystem

/// A verb: its flags, operands and documentation, and what it does. `run` returns the exit status.
/// The flags (with their help) and `doc` are the one source of `--help`, `skiff help`, the man
/// pages and the shell completions (Help.swift).
protocol Command {
    static var name: String { get }
    static var summary: String { get }
    static var operands: [Operand] { get }
    static var flags: [FlagSpec] { get }
    static var stopAtPositional: Bool { get }
    /// Exit status for a failure of the runtime itself (exec: 255).
    static var failureStatus: Int32 { get }
    /// Long description, exit status and examples: a computed property, built only for help.
    static var doc: CommandDoc { get }
    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32
}

extension Command {
    static var stopAtPositional: Bool { false }
    static var failureStatus: Int32 { 1 }
}

/// A positional argument: its name in the synopsis, whether it is required, and what the shells
/// complete for it.
struct Operand {
    enum Kind { case containerID, signal, command, commandName, text }
    var name: String
    var required = true
    /// Takes every remaining argument (exec's command, ps's options).
    var variadic = false
    var kind: Kind = .containerID

    static let containerID = Operand(name: "<container-id>")
}

/// What `--help` and the man page say beyond the flags.
struct CommandDoc {
    var description: String
    var exitStatus: String = "0 on success; 1 on any error (the message is on stderr and in --log)."
    var examples: [(String, String)] = []
}

enum CLI {
    static let version = "0.1.0"
    static var commit: String { BuildInfo.commit }

    nonisolated(unsafe) static let commands: [any Command.Type] = [
        CreateCommand.self, StartCommand.self, StateCommand.self, KillCommand.self, DeleteCommand.self,
        RunCommand.self, ListCommand.self, SpecCommand.self, FeaturesCommand.self,
        PauseCommand.self, ResumeCommand.self, UpdateCommand.self, PsCommand.self, EventsCommand.self,
        ExecCommand.self, CheckCommand.self, CheckpointCommand.self, RestoreCommand.self, HelpCommand.self,
    ]

    static let globalFlags: [FlagSpec] = [
        FlagSpec(names: ["root"], takesValue: true, doc: { FlagDoc(argument: "DIR",
                 help: "directory for the containers' state",
                 defaultValue: "/run/skiff; $XDG_RUNTIME_DIR/skiff when not root", completion: .directory) }),
        FlagSpec(names: ["log"], takesValue: true, doc: { FlagDoc(argument: "FILE",
                 help: "write the log (errors, warnings, --debug) to FILE, appending; errors also go to stderr",
                 defaultValue: "stderr", completion: .file) }),
        FlagSpec(names: ["log-format"], takesValue: true, doc: { FlagDoc(argument: "FORMAT",
                 help: "format of the log: text or json", defaultValue: "text", completion: .values, choices: "text json") }),
        FlagSpec(names: ["debug"], takesValue: false, doc: { FlagDoc(help: "log debug messages") }),
        FlagSpec(names: ["systemd-cgroup"], takesValue: false,
                 doc: { FlagDoc(help: "use the systemd cgroup driver: a transient scope unit, started over D-Bus, holds the container's cgroup and its limits; linux.cgroupsPath is read as slice:prefix:name (without it: skiff-<id>.scope in system.slice, or user.slice when rootless); needs systemd as PID 1") }),
        FlagSpec(names: ["cgroup-manager"], takesValue: true, doc: { FlagDoc(argument: "MANAGER",
                 help: "crun's cgroup driver choice: cgroupfs (skiff writes the cgroup files itself), systemd (the same as --systemd-cgroup) or disabled (refused by create and run: skiff always places a container in cgroups)",
                 defaultValue: "cgroupfs", completion: .values, choices: "cgroupfs systemd disabled") }),
        FlagSpec(names: ["rootless"], takesValue: true, doc: { FlagDoc(argument: "MODE",
                 help: "rootless mode: true, false or auto (auto: on when not root, or root of a user namespace)",
                 defaultValue: "auto", completion: .values, choices: "true false auto") }),
        FlagSpec(names: ["criu"], takesValue: true, doc: { FlagDoc(argument: "PATH",
                 help: "the criu binary checkpoint and restore run (a name is looked up on PATH)", defaultValue: "criu",
                 completion: .file) }),
        FlagSpec(names: ["version", "v"], takesValue: false,
                 doc: { FlagDoc(help: "print the version, the git commit and the runtime-spec version, then exit") }),
        helpFlag,
    ]

    static let helpFlag = FlagSpec(names: ["help", "h"], takesValue: false, doc: { FlagDoc(help: "show help and exit") })

    static func main(_ argv: [String]) -> Int32 {
        // Global flags stop at the first positional (the verb).
        let global: ParsedArguments
        do {
            global = try ArgumentParser.parse(argv[...], flags: globalFlags, stopAtPositional: true)
        } catch {
            Output.stderr("skiff: \(error)\n")
            return 1
        }
        if global.bool("version") {
            Output.stdout(Help.version())
            return 0
        }
        guard let verb = global.positionals.first else {
            Output.stdout(Help.main())
            return global.bool("help") ? 0 : 1
        }
        if global.bool("help"), let command = commands.first(where: { $0.name == verb }) {
            Output.stdout(Help.command(command))
            return 0
        }
        guard let command = commands.first(where: { $0.name == verb }) else {
            Output.stderr("skiff: no such command \"\(verb)\"\n\n" + Help.main())
            return 1
        }
        do {
            try Logger.shared.configure(path: global.string("log"), format: global.string("log-format"), debug: global.bool("debug"))
        } catch {
            Output.stderr("skiff: \(error)\n")
            return 1
        }
        let rest = global.positionals.dropFirst()
        do {
            let parsed = try ArgumentParser.parse(rest, flags: command.flags, stopAtPositional: command.stopAtPositional)
            if parsed.bool("help") && (!command.stopAtPositional || parsed.positionals.isEmpty) {
                Output.stdout(Help.command(command))
                return 0
            }
            if let problem = arityProblem(command, parsed.positionals.count) {
                // runc: the command's help on stdout after "Incorrect Usage.", the error on stderr.
                Output.stdout("Incorrect Usage.\n\n" + Help.command(command))
                Logger.shared.error("skiff: \"\(command.name)\" \(problem)")
                return 1
            }
            var root = global.string("root") ?? defaultRoot()
            if root.isEmpty { root = defaultRoot() }
            root = FileSystem.absolute(root)
            if root == "/" { throw UsageError("--root: \"/\" is not a valid state directory") }
            var rootless: Bool? = nil
            switch global.string("rootless") {
            case nil, "auto"?: break
            case "true"?: rootless = true
            case "false"?: rootless = false
            case let other?: throw UsageError("--rootless: invalid value \"\(other)\" (want true, false or auto)")
            }
            var systemd = global.bool("systemd-cgroup")
            switch global.string("cgroup-manager") {
            case nil, "cgroupfs"?: break
            case "systemd"?: systemd = true
            case "disabled"?:
                if command.name == "create" || command.name == "run" {
                    throw UsageError("--cgroup-manager disabled: running a container without cgroups is not supported by skiff; use cgroupfs")
                }
            case let other?: throw UsageError("--cgroup-manager: invalid value \"\(other)\" (want cgroupfs, systemd or disabled)")
            }
            let options = RuntimeOptions(root: root, systemdCgroup: systemd, debug: global.bool("debug"),
                                         rootless: rootless)
            if let criu = global.string("criu"), !criu.isEmpty { Criu.path = criu }
            Logger.shared.debugLog("skiff \(argv.joined(separator: " "))")
            return try command.run(parsed, options)
        } catch let error as UsageError {
            Logger.shared.error("\(command.name): \(error)")
            return command.failureStatus
        } catch {
            Logger.shared.error("\(error)")
            return command.failureStatus
        }
    }

    /// runc's checkArgs wording when the number of operands is wrong, else nil.
    static func arityProblem(_ command: any Command.Type, _ count: Int) -> String? {
        // A plain loop: key paths would instantiate KeyPath objects on every invocation.
        var min = 0, max = 0
        for o in command.operands {
            if o.required { min += 1 }
            max = o.variadic ? Int.max : max + 1
        }
        if min == max && count != min { return "requires exactly \(min) argument(s)" }
        if count < min { return "requires a minimum of \(min) argument(s)" }
        if count > max { return "requires a maximum of \(max) argument(s)" }
        return nil
    }

    /// /run/skiff, or $XDG_RUNTIME_DIR/skiff for a non-root user, including the root of a user
    /// namespace a non-root user made (rootless podman), runc's shouldHonorXDGRuntimeDir.
    static func defaultRoot() -> String {
        if let xdg = ProcessControl.getenv("XDG_RUNTIME_DIR"), !xdg.isEmpty,
           Identity.euid != 0 || (ProcessControl.getenv("USER") != "root" && !IDMaps.isInitialUserNamespace()) {
            return xdg + "/skiff"
        }
        return "/run/skiff"
    }

    /// Exactly one positional: the container id.
    static func id(_ args: ParsedArguments, _ command: String) throws(UsageError) -> String {
        guard let id = args.positionals.first, !id.isEmpty else {
            throw UsageError("requires a container id: skiff \(command) <container-id>")
        }
        return id
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
