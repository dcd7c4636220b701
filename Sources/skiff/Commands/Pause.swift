import SkiffRuntime

enum PauseCommand: Command {
    static let name = "pause"
    static let summary = "suspend every process in the container (cgroup freezer)"
    static let operands = [Operand.containerID]
    static let flags: [FlagSpec] = []

    static var doc: CommandDoc {
        CommandDoc(description: """
            Suspends every process of a running container with the cgroup freezer; the status becomes \
            "paused" until `skiff resume`.
            """,
            examples: [("freeze a container", "skiff pause web1")])
    }

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        try Container.load(try CLI.id(args, name), options: options).pause()
        return 0
    }
}
