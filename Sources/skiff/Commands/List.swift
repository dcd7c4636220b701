import SkiffRuntime
import SkiffSpec
import SkiffSystem

enum ListCommand: Command {
    static let name = "list"
    static let summary = "list containers under --root"
    static let operands: [Operand] = []
    static let flags = [
        FlagSpec(names: ["format", "f"], takesValue: true, doc: { FlagDoc(argument: "FORMAT",
                 help: "output format: table or json (an array of OCI states, null when empty)",
                 defaultValue: "table", completion: .values, choices: "table json") }),
        FlagSpec(names: ["quiet", "q"], takesValue: false, doc: { FlagDoc(help: "print only the container ids, one a line") }),
    ]

    static var doc: CommandDoc {
        CommandDoc(description: """
            Lists the containers under --root with their init pid, status, bundle, creation time and owner.
            """,
            examples: [("a table", "skiff list"), ("ids only, for scripts", "skiff list -q"),
                       ("JSON", "skiff --root /run/containerd/runc/default list --format json")])
    }

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let format = args.string("format") ?? "table"
        guard format == "table" || format == "json" else { throw UsageError("invalid format option \"\(format)\"") }
        let containers = try Container.all(options: options)
        if args.bool("quiet") {
            Output.stdout(containers.map { $0.id + "\n" }.joined())
            return 0
        }
        let states = containers.map { c in
            var s = c.ociState()
            s.owner = Users.name(c.state.owner)
            return s
        }
        if format == "json" {
            if states.isEmpty { Output.stdout("null\n"); return 0 }
            Output.stdout(SpecEncoder.encode(states) + "\n")
            return 0
        }
        var rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
        for s in states { rows.append([s.id, "\(s.pid)", s.status, s.bundle, s.created, s.owner]) }
        // Go tabwriter(minwidth 12, padding 3): each column as wide as its widest cell + 3.
        var widths = [Int](repeating: 12, count: 6)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count + 3) } }
        var text = ""
        for row in rows {
            for (i, cell) in row.enumerated() {
                text += i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }
            text += "\n"
        }
        Output.stdout(text)
        return 0
    }
}

enum Users {
    /// User name for a uid from /etc/passwd, or "#uid" (runc's list).
    static func name(_ uid: UInt32) -> String {
        if let passwd = try? FileSystem.readText("/etc/passwd") {
            for line in passwd.split(separator: "\n") {
                let f = line.split(separator: ":", omittingEmptySubsequences: false)
                if f.count > 2, UInt32(f[2]) == uid { return String(f[0]) }
            }
        }
        return "#\(uid)"
    }
}
