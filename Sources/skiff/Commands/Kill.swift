import SkiffRuntime
import SkiffSystem

enum KillCommand: Command {
    static let name = "kill"
    static let summary = "send a signal (default SIGTERM) to a container's init, or with --all to every process"
    static let usage = "[--all] <container-id> [signal]"
    static let flags = [FlagSpec(names: ["all", "a"], takesValue: false)]
    static let stopAtPositional = true

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let id = try CLI.id(args, name)
        let text = args.positionals.count > 1 ? args.positionals[1] : "SIGTERM"
        guard let signal = Signals.number(text) else { throw UsageError("invalid signal \"\(text)\"") }
        try Container.load(id, options: options).kill(signal, all: args.bool("all"))
        return 0
    }
}
