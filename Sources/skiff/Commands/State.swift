import SkiffRuntime
import SkiffSpec

enum StateCommand: Command {
    static let name = "state"
    static let summary = "print the state of a container as OCI state JSON"
    static let operands = [Operand.containerID]
    static let flags: [FlagSpec] = []

    static var doc: CommandDoc {
        CommandDoc(description: """
            Prints the container's state as OCI state JSON: ociVersion (the runtime-spec version skiff \
            implements), id, pid (0 once stopped), status (creating, created, running, paused or \
            stopped), bundle, rootfs, created, annotations and owner.
            """,
            examples: [("the state of a container", "skiff state web1")])
    }

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let container = try Container.load(try CLI.id(args, name), options: options)
        Output.stdout(SpecEncoder.encode(container.ociState(), indent: 2))
        return 0
    }
}
