import SkiffRuntime
import SkiffSpec

enum FeaturesCommand: Command {
    static let name = "features"
    static let summary = "print the OCI features document"
    static let usage = ""
    static let flags: [FlagSpec] = []

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        Output.stdout(Features.document().serialized(indent: 4) + "\n")
        return 0
    }
}
