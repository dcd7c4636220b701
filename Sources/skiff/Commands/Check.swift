import SkiffRuntime

enum CheckCommand: Command {
    static let name = "check"
    static let summary = "validate a bundle without running it: every config.json problem and what this host lacks"
    static let operands: [Operand] = []
    static let flags = [FlagSpec(names: ["bundle", "b"], takesValue: true, doc: { FlagDoc(argument: "DIR",
                                 help: "path to the bundle to check", defaultValue: "the current directory",
                                 completion: .directory) })]

    static var doc: CommandDoc {
        CommandDoc(description: """
            Validates a bundle without running anything: prints every problem in config.json at once, \
            each with its JSON path, what is wrong and the runtime-spec section it breaks, and what this \
            host lacks for it (namespaces, cgroup controllers, capabilities in the bounding set, rlimits \
            above the hard limit, the program inside the root filesystem, LSMs). Warnings are printed \
            but do not fail the check. skiff-only: runc has no such command.
            """,
            exitStatus: "0 when the bundle would run on this host; 1 when a problem was found.",
            examples: [("check the bundle in the current directory", "skiff check"),
                       ("check another bundle", "skiff check --bundle /containers/web")])
    }

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
