import SkiffRuntime
import SkiffSystem

enum KillCommand: Command {
    static let name = "kill"
    static let summary = "send a signal (default SIGTERM) to a container's init, or with --all to every process"
    static let operands = [Operand.containerID, Operand(name: "[signal]", required: false, kind: .signal)]
    static let flags = [FlagSpec(names: ["all", "a"], takesValue: false,
                                 doc: { FlagDoc(help: "send the signal to every process in the container's cgroup, not only init") })]

    static var doc: CommandDoc {
        CommandDoc(description: """
            Sends a signal to the container's init process (or, with --all, to all its processes). The \
            signal is a name with or without SIG (TERM, SIGKILL, RTMIN+3) or a number; the default is \
            SIGTERM. Signal 0 sends nothing and only checks that the container can be signalled.
            """,
            exitStatus: "0 when the signal was sent; 1 on any error, e.g. the container does not exist or is not running.",
            examples: [("stop a container politely", "skiff kill web1"),
                       ("kill every process", "skiff kill --all web1 KILL"),
                       ("is it still there?", "skiff kill web1 0")])
    }
    static let stopAtPositional = true

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let id = try CLI.id(args, name)
        let text = args.positionals.count > 1 ? args.positionals[1] : "SIGTERM"
        // 0 (no signal, a liveness check) is valid, as in runc.
        guard let signal = text == "0" ? 0 : Signals.number(text) else { throw UsageError("invalid signal \"\(text)\"") }
        try Container.load(id, options: options).kill(signal, all: args.bool("all"))
        return 0
    }
}
