import SkiffRuntime
import SkiffSystem

enum RunCommand: Command {
    static let name = "run"
    static let summary = "create and start a container; without --detach, wait and exit with its status"
    static let usage = "[create options] [--detach] [--keep] <container-id>"
    static let flags = CreateCommand.createFlags + [
        FlagSpec(names: ["detach", "d"], takesValue: false),
        FlagSpec(names: ["keep"], takesValue: false),
        FlagSpec(names: ["no-subreaper"], takesValue: false),
    ]

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
