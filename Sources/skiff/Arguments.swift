/// runc's flag grammar, by hand: `--flag value`, `--flag=value`, `-f value`, single-dash long
/// names (`-root`), booleans with an optional `=true|false`, flags before positionals, and for
/// some verbs no flag parsing after the first positional.
///
/// Each flag carries its own documentation (argument name, default, meaning, completion) in
/// `doc`, so the parser, `--help`, the man pages and the shell completions come from this one
/// table. `doc` is a closure: the documentation is built only when help is asked for, and
/// parsing copies no more than names and a function pointer.
struct FlagSpec: Sendable {
    var names: [String]
    var takesValue: Bool
    var repeatable = false
    var doc: @Sendable () -> FlagDoc = { FlagDoc() }
    var name: String { names[0] }
}

struct FlagDoc {
    /// The argument's name in help (`DIR`, `FILE`); empty for booleans.
    var argument = ""
    /// What the flag does, one sentence or two.
    var help = ""
    /// The default when the flag is absent, as shown in help; nil when there is none to show.
    var defaultValue: String? = nil
    /// What the shells complete for the argument.
    var completion: Completion = .none
    /// The accepted values, space-separated, for help and completion (`.values`).
    var choices = ""

    enum Completion {
        case none, file, directory, signal, values
    }
}

struct FlagValue {
    var name: String
    var value: String
}

struct ParsedArguments {
    /// Flag values in command-line order, each under its canonical name. A list, not a
    /// `[String: [String]]`: a handful of flags, and that dictionary type's first use costs
    /// every invocation a scan of the runtime's conformance records (~120k instructions).
    var values: [FlagValue] = []
    var positionals: [String] = []

    func string(_ name: String) -> String? { values.last(where: { $0.name == name })?.value }
    func strings(_ name: String) -> [String] { values.filter { $0.name == name }.map(\.value) }
    func bool(_ name: String) -> Bool {
        guard let v = string(name) else { return false }
        return v != "false" && v != "0"
    }
    func int(_ name: String) throws(UsageError) -> Int? {
        guard let v = string(name) else { return nil }
        guard let n = Int(v), n >= 0 else { throw UsageError("invalid value \"\(v)\" for flag --\(name)") }
        return n
    }
}

struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ text: String) { description = text }
}

enum ArgumentParser {
    /// Parses `args` against `flags`. With `stopAtPositional`, everything from the first
    /// positional on is positional (kill, exec, ps). `--` always ends flags.
    static func parse(_ args: ArraySlice<String>, flags: [FlagSpec], stopAtPositional: Bool = false,
                      allowInterleaved: Bool = false) throws(UsageError) -> ParsedArguments {
        var result = ParsedArguments()
        var i = args.startIndex
        var flagsDone = false
        while i < args.endIndex {
            let arg = args[i]
            i += 1
            if flagsDone || !arg.hasPrefix("-") || arg == "-" {
                result.positionals.append(arg)
                if stopAtPositional { flagsDone = true }
                continue
            }
            if arg == "--" { flagsDone = true; continue }
            // One or two dashes (runc's `-root` and `--root`); `---root` is not a flag.
            var name = String(arg.dropFirst(arg.hasPrefix("--") ? 2 : 1))
            if name.hasPrefix("-") { throw UsageError("bad flag syntax: \(arg)") }
            var inline: String? = nil
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            // Every command takes --help/-h (CLI.helpFlag), without it being in each table.
            if (name == "help" || name == "h") && inline == nil {
                result.values.append(FlagValue(name: "help", value: "true"))
                continue
            }
            guard let spec = flags.first(where: { $0.names.contains(name) }) else {
                throw UsageError("flag provided but not defined: -\(name)")
            }
            if spec.takesValue {
                let value: String
                if let inline {
                    value = inline
                } else if i < args.endIndex {
                    value = args[i]
                    i += 1
                } else {
                    throw UsageError("flag needs an argument: -\(name)")
                }
                result.values.append(FlagValue(name: spec.name, value: value))
            } else {
                let value = inline ?? "true"
                guard ["true", "false", "1", "0"].contains(value) else {
                    throw UsageError("invalid boolean value \"\(value)\" for -\(name)")
                }
                result.values.append(FlagValue(name: spec.name, value: value))
            }
        }
        return result
    }
}
