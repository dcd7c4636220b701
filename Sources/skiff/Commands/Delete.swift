import SkiffRuntime

enum DeleteCommand: Command {
    static let name = "delete"
    static let summary = "delete a container and everything it holds on the host"
    static let operands = [Operand.containerID]
    static let flags = [FlagSpec(names: ["force", "f"], takesValue: false,
                                 doc: { FlagDoc(help: "kill the container first if it is running (SIGKILL to every process), and succeed for an unknown id") })]

    static var doc: CommandDoc {
        CommandDoc(description: """
            Deletes a stopped (or created) container and everything it holds on the host: its processes, \
            cgroups, mounts and state; then runs the poststop hooks (a failing hook is a warning). A running \
            or paused container needs --force.
            """,
            examples: [("delete a stopped container", "skiff delete web1"),
                       ("kill and delete, whatever its state", "skiff delete --force web1")])
    }

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let id = try CLI.id(args, name)
        let force = args.bool("force")
        let loaded = Result { () throws(RuntimeError) -> Container in try Container.load(id, options: options) }
        switch loaded {
        case .success(let container):
            try container.delete(force: force)
        case .failure(let error):
            // --force on an unknown or unreadable id: remove any leftover state and succeed (runc).
            guard force else { throw error }
            try ContainerID.validate(id)
            Container.forceRemove(id, options: options)
        }
        return 0
    }
}
