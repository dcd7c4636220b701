import SkiffRuntime

enum ResumeCommand: Command {
    static let name = "resume"
    static let summary = "resume every process of a paused container"
    static let usage = "<container-id>"
    static let flags: [FlagSpec] = []

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        try Container.load(try CLI.id(args, name), options: options).resume()
        return 0
    }
}
