import SkiffRuntime
import SkiffSystem

enum RunCommand: Command {
    static let name = "run"
    static let summary = "create and start a container; without --detach, wait and exit with its status"
    static let operands = [Operand.containerID]
    static let flags = CreateCommand.createFlags + [
        FlagSpec(names: ["detach", "d"], takesValue: false,
                 doc: { FlagDoc(help: "return once the container started instead of waiting for it (it is then not removed)") }),
        FlagSpec(names: ["keep"], takesValue: false, doc: { FlagDoc(help: "do not delete the container after it exits") }),
        FlagSpec(names: ["no-subreaper"], takesValue: false,
                 doc: { FlagDoc(help: "do not make skiff a child subreaper (orphaned processes of the container go to the host's init)") }),
    ]

    static var doc: CommandDoc {
        CommandDoc(description: """
            Creates and starts a container (as create then start). Without --detach, skiff relays \
            the container's stdio, waits for it, deletes it (unless --keep) and exits with its exit status.
            """,
            exitStatus: "Without --detach: the container's exit status (128+N when killed by signal N); 1 when skiff itself fails. With --detach: 0 or 1.",
            examples: [("run the bundle in the current directory and wait", "skiff run c1"),
                       ("run in the background", "skiff run --detach --bundle /containers/web web1")])
    }

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let id = try CLI.id(args, name)
        let detach = args.bool("detach")
        if !detach && !args.bool("no-subreaper") {
            try? ProcessControl.prctl(PR_SET_CHILD_SUBREAPER, 1, what: "PR_SET_CHILD_SUBREAPER")
        }
        return try Container.run(id: id, options: try CreateCommand.options(args), runtime: options,
                                 detach: detach, keep: args.bool("keep"))
    }
}
