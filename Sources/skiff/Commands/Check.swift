import SkiffRuntime

enum CheckCommand: Command {
    static let name = "check"
    static let summary = "validate a bundle without running it: every config.json problem and what this host lacks"
    static let usage = "[--bundle DIR]"
    static let flags = [FlagSpec(names: ["bundle", "b"], takesValue: true)]

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let bundle = args.string("bundle") ?? "."
        let found = BundleCheck.run(bundle: bundle)
        Output.stdout(found.map { $0.description + "\n" }.joined())
        let problems = found.filter { !$0.isWarning }
        if problems.isEmpty {
            Output.stdout("\(bundle): OK: this bundle would run on this host\n")
            return 0
        }
        Output.stdout("\(problems.count) problem\(problems.count == 1 ? "" : "s") found\n")
        return 1
    }
}
