import SkiffRuntime
import SkiffSpec
import SkiffSystem

enum SpecCommand: Command {
    static let name = "spec"
    static let summary = "write a default config.json (like runc spec)"
    static let usage = "[--bundle DIR] [--rootless]"
    static let flags = [FlagSpec(names: ["bundle", "b"], takesValue: true), FlagSpec(names: ["rootless"], takesValue: false)]

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let bundle = FileSystem.absolute(args.string("bundle") ?? ".")
        let path = bundle + "/config.json"
        if FileSystem.exists(path) { throw UsageError("File \(path) exists. Remove it first") }
        let spec = Spec.defaultSpec(rootless: args.bool("rootless"), hostUID: Identity.euid, hostGID: Identity.egid)
        do {
            // Same bytes as runc spec: tab indentation, no trailing newline.
            try FileSystem.writeAtomic(path, Array(SpecEncoder.encode(spec, indentString: "\t").utf8), mode: 0o644)
        } catch {
            throw RuntimeError("\(error)")
        }
        return 0
    }
}
