import SkiffRuntime
import SkiffSpec

enum FeaturesCommand: Command {
    static let name = "features"
    static let summary = "print the OCI features document"
    static let operands: [Operand] = []
    static let flags: [FlagSpec] = []

    static var doc: CommandDoc {
        CommandDoc(description: """
            Prints the runtime-spec features document (features.md) as JSON: the spec versions skiff \
            accepts (ociVersionMin, ociVersionMax), hooks, mount options, namespaces, capabilities, \
            cgroup, seccomp, LSM, id-mapped mount and other Linux support, and skiff's annotations. \
            Container engines run it to learn what the runtime can do.
            """,
            examples: [("what the runtime supports", "skiff features")])
    }

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        Output.stdout(Features.document().serialized(indent: 4) + "\n")
        return 0
    }
}
