import SkiffRuntime
import SkiffSpec
import SkiffSystem

/// A verb: its flags and what it does. `run` returns the exit status.
protocol Command {
    static var name: String { get }
    static var summary: String { get }
    static var usage: String { get }
    static var flags: [FlagSpec] { get }
    static var stopAtPositional: Bool { get }
    /// Exit status for a failure of the runtime itself (exec: 255).
    static var failureStatus: Int32 { get }
    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32
}

extension Command {
    static var stopAtPositional: Bool { false }
    static var failureStatus: Int32 { 1 }
}

enum CLI {
    static let version = "0.1.0"
    static let commit = "unknown"

    nonisolated(unsafe) static let commands: [any Command.Type] = [
        CreateCommand.self, StartCommand.self, StateCommand.self, KillCommand.self, DeleteCommand.self,
        RunCommand.self, ListCommand.self, SpecCommand.self, FeaturesCommand.self,
        PauseCommand.self, ResumeCommand.self, UpdateCommand.self, PsCommand.self, EventsCommand.self,
        ExecCommand.self, CheckCommand.self,
    ]

    static let globalFlags: [FlagSpec] = [
        FlagSpec(names: ["root"], takesValue: true),
        FlagSpec(names: ["log"], takesValue: true),
        FlagSpec(names: ["log-format"], takesValue: true),
        FlagSpec(names: ["debug"], takesValue: false),
        FlagSpec(names: ["systemd-cgroup"], takesValue: false),
        FlagSpec(names: ["rootless"], takesValue: true),
        FlagSpec(names: ["criu"], takesValue: true),
        FlagSpec(names: ["version", "v"], takesValue: false),
        FlagSpec(names: ["help", "h"], takesValue: false),
    ]

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
            Output.stdout("skiff version \(version)\ncommit: \(commit)\nspec: \(SpecVersion.current)\n")
            return 0
        }
        guard let verb = global.positionals.first else {
            Output.stdout(help())
            return global.bool("help") ? 0 : 1
        }
        guard let command = commands.first(where: { $0.name == verb }) else {
            if ["checkpoint", "restore"].contains(verb) {
                Output.stderr("skiff: \(verb) is not supported by this version of skiff yet\n")
                return 1
            }
            Output.stderr("skiff: no such command \"\(verb)\"\n\n" + help())
            return 1
        }
        do {
            try Logger.shared.configure(path: global.string("log"), format: global.string("log-format"), debug: global.bool("debug"))
        } catch {
            Output.stderr("skiff: \(error)\n")
            return 1
        }
        let rest = global.positionals.dropFirst()
        if rest.first == "--help" || rest.first == "-h" {
            Output.stdout("usage: skiff \(command.name) \(command.usage)\n\n\(command.summary)\n")
            return 0
        }
        do {
            let parsed = try ArgumentParser.parse(rest, flags: command.flags, stopAtPositional: command.stopAtPositional)
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
            let options = RuntimeOptions(root: root, systemdCgroup: global.bool("systemd-cgroup"), debug: global.bool("debug"),
                                         rootless: rootless)
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

    /// /run/skiff, or $XDG_RUNTIME_DIR/skiff for a non-root user, including the root of a user
    /// namespace a non-root user made (rootless podman), runc's shouldHonorXDGRuntimeDir.
    static func defaultRoot() -> String {
        if let xdg = ProcessControl.getenv("XDG_RUNTIME_DIR"), !xdg.isEmpty,
           Identity.euid != 0 || (ProcessControl.getenv("USER") != "root" && !IDMaps.isInitialUserNamespace()) {
            return xdg + "/skiff"
        }
        return "/run/skiff"
    }

    static func help() -> String {
        var text = """
        skiff \(version): an OCI container runtime (runc-compatible command line)

        usage: skiff [global options] command [command options] [arguments...]

        commands:

        """
        for c in commands { text += "   " + c.name.padding(10) + c.summary + "\n" }
        text += """

        global options:
           --root value        state directory (default: /run/skiff; $XDG_RUNTIME_DIR/skiff when not root)
           --log value         log file (default: stderr)
           --log-format value  text or json (default: text)
           --debug             debug logging
           --systemd-cgroup    cgroupsPath is slice:prefix:name (not supported on hosts without systemd)
           --rootless value    true, false or auto (default: auto: on when not root or in a user namespace)
           --version, -v       print the version

        """
        return text
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
