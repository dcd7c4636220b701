import SkiffRuntime
import SkiffSpec

enum StateCommand: Command {
    static let name = "state"
    static let summary = "print the state of a container as OCI state JSON"
    static let usage = "<container-id>"
    static let flags: [FlagSpec] = []

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let container = try Container.load(try CLI.id(args, name), options: options)
        Output.stdout(SpecEncoder.encode(container.ociState(), indent: 2))
        return 0
    }
}
