import SkiffRuntime

enum StartCommand: Command {
    static let name = "start"
    static let summary = "start the user process of a created container"
    static let usage = "<container-id>"
    static let flags: [FlagSpec] = []

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        try Container.load(try CLI.id(args, name), options: options).start()
        return 0
    }
}
