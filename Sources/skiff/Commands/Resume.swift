import SkiffRuntime

enum ResumeCommand: Command {
    static let name = "resume"
    static let summary = "resume every process of a paused container"
    static let operands = [Operand.containerID]
    static let flags: [FlagSpec] = []

    static var doc: CommandDoc {
        CommandDoc(description: "Resumes every process of a paused container (cgroup freezer); the status becomes \"running\".",
                   examples: [("thaw a container", "skiff resume web1")])
    }

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        try Container.load(try CLI.id(args, name), options: options).resume()
        return 0
    }
}
