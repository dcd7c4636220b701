import SkiffRuntime
import SkiffSystem

enum HelpCommand: Command {
    static let name = "help"
    static let summary = "show the help of skiff or of a command; write the manual pages or a shell completion script"
    static let operands = [Operand(name: "[command]", required: false, kind: .commandName)]
    static let flags: [FlagSpec] = [
        FlagSpec(names: ["man"], takesValue: true, doc: { FlagDoc(argument: "DIR",
                 help: "write the manual pages (skiff.8, skiff-COMMAND.8 and skiff-config.5) into DIR, creating it",
                 completion: .directory) }),
        FlagSpec(names: ["completion"], takesValue: true, doc: { FlagDoc(argument: "SHELL",
                 help: "print the completion script for bash, zsh or fish", completion: .values, choices: "bash zsh fish") }),
    ]

    static var doc: CommandDoc {
        CommandDoc(description: """
            Without arguments, prints skiff's help (as skiff --help); with a command, that command's \\
            help (as skiff COMMAND --help): synopsis, description, every option with its argument, \\
            default and meaning, exit status and examples. --man and --completion generate the manual \\
            pages and the shell completions from the same table; scripts/install.sh and \\
            scripts/package-deb.sh use them.
            """,
            examples: [("a command's options", "skiff help create"),
                       ("the manual pages", "skiff help --man /usr/local/share/man/man8"),
                       ("bash completion for this shell", "source <(skiff help --completion bash)")])
    }

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        if let dir = args.string("man") {
            do {
                try FileSystem.mkdirAll(dir)
                for (file, text) in Help.manPages() {
                    try FileSystem.writeAtomic(dir + "/" + file, Array(text.utf8), mode: 0o644)
                }
            } catch {
                throw RuntimeError("--man \(dir): \(error)")
            }
            return 0
        }
        if let shell = args.string("completion") {
            guard let script = Help.completion(shell) else {
                throw UsageError("--completion: unknown shell \"\(shell)\" (want bash, zsh or fish)")
            }
            Output.stdout(script)
            return 0
        }
        guard let verb = args.positionals.first else {
            Output.stdout(Help.main())
            return 0
        }
        guard let command = CLI.commands.first(where: { $0.name == verb }) else {
            throw UsageError("no such command \"\(verb)\"")
        }
        Output.stdout(Help.command(command))
        return 0
    }
}
