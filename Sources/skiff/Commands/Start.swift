import SkiffRuntime

enum StartCommand: Command {
    static let name = "start"
    static let summary = "start the user process of a created container"
    static let operands = [Operand.containerID]
    static let flags: [FlagSpec] = []

    static var doc: CommandDoc {
        CommandDoc(description: """
            Starts the program (process.args) of a created container: runs the startContainer hooks \
            inside it, lets its process execute, then runs the poststart hooks. Returns once the program \
            has been executed (with NOTIFY_SOCKET, once it sent READY=1).
            """,
            examples: [("start a created container", "skiff start web1")])
    }

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        try Container.load(try CLI.id(args, name), options: options).start()
        return 0
    }
}
