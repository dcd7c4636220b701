import SkiffRuntime

enum PauseCommand: Command {
    static let name = "pause"
    static let summary = "suspend every process in the container (cgroup freezer)"
    static let usage = "<container-id>"
    static let flags: [FlagSpec] = []

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        try Container.load(try CLI.id(args, name), options: options).pause()
        return 0
    }
}
