import SkiffRuntime

enum CreateCommand: Command {
    static let name = "create"
    static let summary = "create a container from a bundle, leaving its process blocked before exec"
    static let usage = "[--bundle DIR] [--pid-file FILE] [--console-socket SOCK] [--no-pivot] [--no-new-keyring] [--preserve-fds N] <container-id>"
    static let flags = createFlags

    static let createFlags: [FlagSpec] = [
        FlagSpec(names: ["bundle", "b"], takesValue: true),
        FlagSpec(names: ["pid-file"], takesValue: true),
        FlagSpec(names: ["console-socket"], takesValue: true),
        FlagSpec(names: ["pidfd-socket"], takesValue: true),
        FlagSpec(names: ["no-pivot"], takesValue: false),
        FlagSpec(names: ["no-new-keyring"], takesValue: false),
        FlagSpec(names: ["preserve-fds"], takesValue: true),
    ]

    static func options(_ args: ParsedArguments) throws(UsageError) -> CreateOptions {
        var opts = CreateOptions(bundle: args.string("bundle") ?? ".", pidFile: args.string("pid-file"),
                                 consoleSocket: args.string("console-socket"))
        opts.noPivot = args.bool("no-pivot")
        opts.noNewKeyring = args.bool("no-new-keyring")
        opts.preserveFds = try args.int("preserve-fds") ?? 0
        if let listen = ProcessControlEnv.listenFds {
            let (sum, overflowed) = opts.preserveFds.addingReportingOverflow(listen)  // refused by create, never a trap
            opts.preserveFds = overflowed ? Int.max : sum
        }
        return opts
    }

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let id = try CLI.id(args, name)
        _ = try Container.create(id: id, options: try Self.options(args), runtime: options)
        return 0
    }
}

/// LISTEN_FDS socket activation: those fds pass through like --preserve-fds (runc).
enum ProcessControlEnv {
    static var listenFds: Int? {
        guard let text = SkiffSystem.ProcessControl.getenv("LISTEN_FDS"), let n = Int(text), n > 0 else { return nil }
        return n
    }
}

import SkiffSystem
