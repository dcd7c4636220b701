import Glibc
import SkiffRuntime
import SkiffSystem

enum PsCommand: Command {
    static let name = "ps"
    static let summary = "list the processes running in a container"
    static let operands = [Operand.containerID, Operand(name: "[ps options...]", required: false, variadic: true, kind: .text)]
    static let flags = [FlagSpec(names: ["format", "f"], takesValue: true, doc: { FlagDoc(argument: "FORMAT",
                                 help: "table (ps(1) output limited to the container's processes) or json (an array of host pids)",
                                 defaultValue: "table", completion: .values, choices: "table json") })]

    static var doc: CommandDoc {
        CommandDoc(description: """
            Lists the processes running in the container: runs ps(1) with the given options (default \
            -ef) and keeps the lines of the container's processes. Flags end at the container id; \
            everything after it goes to ps.
            """,
            examples: [("the container's processes", "skiff ps web1"), ("host pids as JSON", "skiff ps --format json web1"),
                       ("ps options", "skiff ps web1 -o pid,comm")])
    }
    static let stopAtPositional = true

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let id = try CLI.id(args, name)
        let format = args.string("format") ?? "table"
        guard format == "table" || format == "json" else { throw UsageError("invalid format option \"\(format)\"") }
        let pids = try Container.load(id, options: options).processes()
        if format == "json" {
            Output.stdout("[" + pids.map { String($0) }.joined(separator: ",") + "]\n")
            return 0
        }
        var psArgs = Array(args.positionals.dropFirst())
        if psArgs.isEmpty { psArgs = ["-ef"] }
        let (status, output) = try capture(["ps"] + psArgs)
        if status != 0 { throw UsageError("ps \(psArgs.joined(separator: " ")) exited with status \(status): \(output)") }
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { return 0 }
        let header = lines.removeFirst()
        guard let pidIndex = header.split(separator: " ").firstIndex(of: "PID") else {
            throw UsageError("couldn't find PID field in ps output")
        }
        let wanted = Set(pids)
        var text = header + "\n"
        for line in lines where !line.isEmpty {
            let fields = line.split(separator: " ")
            guard pidIndex < fields.count, let pid = Int32(fields[pidIndex]) else {
                throw UsageError("unable to parse pid from ps output line: \(line)")
            }
            if wanted.contains(pid) { text += line + "\n" }
        }
        Output.stdout(text)
        return 0
    }

    /// Runs `argv` (PATH lookup) and returns its exit status and combined stdout+stderr.
    static func capture(_ argv: [String]) throws -> (Int32, String) {
        let (r, w) = try pipe()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, w.raw, 1)
        posix_spawn_file_actions_adddup2(&actions, w.raw, 2)
        var cargs = argv.map { strdup($0) }
        cargs.append(nil)
        defer { for p in cargs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, nil, cargs, environ)
        w.close()
        defer { r.close() }
        if rc != 0 { throw UsageError("cannot run \(argv[0]): \(SystemError.message(rc))") }
        let bytes = (try? r.readAll()) ?? []
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && currentErrno() == EINTR {}
        return (ProcessControl.exitCode(status), String(decoding: bytes, as: UTF8.self))
    }
}
