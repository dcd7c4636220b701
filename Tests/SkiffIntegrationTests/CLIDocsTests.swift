import Foundation
import Glibc
import SkiffTestSupport
import Testing

/// The command line documents itself from one table (Sources/skiff): help, man pages and shell
/// completions, plus runc's argument-count errors, kill signal 0, crun's --cgroup-manager and
/// create --config, and --version naming the commit.
extension Integration {
    @Suite struct CLIDocs {
        /// Every `FlagSpec(names: [...]` in Sources/skiff, by source file, with whether it has help.
        struct SourceFlag { var names: [String]; var file: String; var hasHelp: Bool }

        static func sourceFlags() throws -> [SourceFlag] {
            let dir = TestEnvironment.packageRoot + "/Sources/skiff"
            var flags: [SourceFlag] = []
            let files = FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
            for file in files {
                let text = try String(contentsOfFile: dir + "/" + file, encoding: .utf8)
                // Each `FlagSpec(names: [...]`, and its text up to the next one: it must set help.
                let pattern = try NSRegularExpression(pattern: #"FlagSpec\(names: \[([^\]]*)\]"#)
                let matches = pattern.matches(in: text, range: NSRange(text.startIndex..., in: text))
                for (i, m) in matches.enumerated() {
                    let names = String(text[Range(m.range(at: 1), in: text)!])
                        .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
                    let end = i + 1 < matches.count ? Range(matches[i + 1].range, in: text)!.lowerBound : text.endIndex
                    let rest = text[Range(m.range, in: text)!.upperBound..<end]
                    flags.append(SourceFlag(names: names, file: file, hasHelp: rest.contains("help: \"")))
                }
            }
            return flags
        }

        /// The command names `skiff --help` lists.
        static func commands(_ h: Harness) -> [String] {
            let r = h.skiff("--help")
            guard let start = r.stdout.range(of: "COMMANDS:\n"), let end = r.stdout.range(of: "\nGLOBAL OPTIONS:") else { return [] }
            return r.stdout[start.upperBound..<end.lowerBound].split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        }

        /// The flag spellings in an OPTIONS section of a help text, e.g. ["--bundle", "-b"], and
        /// whether each takes an argument.
        static func documentedFlags(_ help: String, section: String = "OPTIONS:") -> [(spellings: [String], takesValue: Bool)] {
            guard let start = help.range(of: section + "\n") else { return [] }
            let body = help[start.upperBound...].prefix { _ in true }
            var result: [(spellings: [String], takesValue: Bool)] = []
            for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.isEmpty { break }
                guard line.hasPrefix("   -") else { continue }
                let label = line.dropFirst(3).components(separatedBy: "  ")[0]
                let parts = label.components(separatedBy: ", ")
                result.append((parts.map { String($0.split(separator: " ")[0]) }, parts[0].contains(" ")))
            }
            return result
        }

        @Test func everyParsedFlagIsDocumentedAndEveryDocumentedFlagParses() throws {
            let h = try Harness()
            let commands = Self.commands(h)
            #expect(commands.count >= 16, "\(commands)")
            var documented = Set<String>()
            // Global options: each documented one parses (then --version exits 0 without side effects).
            let main = h.skiff("--help")
            #expect(main.status == 0, "\(main)")
            for flag in Self.documentedFlags(main.stdout, section: "GLOBAL OPTIONS:") {
                for s in flag.spellings {
                    documented.insert(s)
                    let value: [String] = flag.takesValue ? [s == "--log-format" ? "json" : s == "--rootless" ? "auto" : s == "--cgroup-manager" ? "cgroupfs" : h.path("x")] : []
                    let r = ChildProcess.run(Paths.binary, [s] + value + ["--version"], stdoutPath: h.path("g-out"), stderrPath: h.path("g-err"), timeout: 10)
                    #expect(r.status == 0 && r.stdout.contains("version"), "global \(s): \(r)")
                }
            }
            for command in commands {
                let help = h.skiff(command, "--help")
                #expect(help.status == 0, "\(command) --help: \(help)")
                for section in ["NAME:", "USAGE:", "DESCRIPTION:", "OPTIONS:", "EXIT STATUS:"] {
                    #expect(help.stdout.contains(section), "\(command) --help lacks \(section): \(help.stdout)")
                }
                #expect(h.skiff(command, "-h").stdout == help.stdout)
                #expect(h.skiff("help", command).stdout == help.stdout)
                let flags = Self.documentedFlags(help.stdout)
                #expect(flags.contains { $0.spellings == ["--help", "-h"] }, "\(command)")
                for flag in flags {
                    for s in flag.spellings {
                        documented.insert(s)
                        // Parses: the flag (with an argument if it takes one) then --help prints help.
                        let r = h.skiff(args: [command, s] + (flag.takesValue ? ["1"] : []) + ["--help"])
                        #expect(r.status == 0 && r.stdout.contains("USAGE:"), "\(command) \(s): \(r)")
                    }
                }
                // Every line of an option has its meaning (no bare flag lines).
                #expect(!help.stdout.contains("(default: )"), "\(command)")
            }
            // Every flag in the parser's table (the source) is documented, with help text.
            let source = try Self.sourceFlags()
            #expect(source.count >= 50, "found only \(source.count) FlagSpec in Sources/skiff")
            for flag in source {
                #expect(flag.hasHelp, "\(flag.file): flag \(flag.names) has no help text")
                for name in flag.names {
                    let spelling = (name.count == 1 ? "-" : "--") + name
                    #expect(documented.contains(spelling), "\(flag.file): \(spelling) is parsed but not documented in any help")
                }
            }
            // And nothing is documented that the parser does not have.
            let parsed = Set(source.flatMap { $0.names.map { ($0.count == 1 ? "-" : "--") + $0 } })
            #expect(documented.subtracting(parsed).isEmpty, "documented but not parsed: \(documented.subtracting(parsed))")
        }

        /// groff and man-db: .ci/run installs them (scripts/install-deps.sh); the VM guest has neither.
        static var manToolsInstalled: Bool {
            ["/usr/bin/groff", "/usr/bin/man"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
        }

        @Test(.enabled(if: manToolsInstalled, "needs groff and man (man-db, groff-base)"))
        func manPagesRenderWithoutWarnings() throws {
            let h = try Harness()
            let dir = h.path("man")
            let r = h.skiff("help", "--man", dir)
            #expect(r.status == 0, "\(r)")
            let pages = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            var expected = Set(Self.commands(h).map { "skiff-\($0).8" })
            expected.formUnion(["skiff.8", "skiff-config.5"])
            #expect(Set(pages) == expected)
            for page in pages.sorted() {
                let text = try #require(readFile(dir + "/" + page))
                #expect(text.utf8.allSatisfy { $0 < 0x80 }, "\(page) has non-ASCII characters")
                let groff = h.sh("LANG=C groff -ww -z -man \(dir)/\(page)")
                #expect(groff.status == 0 && groff.stderr.isEmpty, "groff -ww -z -man \(page): \(groff)")
                let man = h.sh("LANG=C MANWIDTH=80 man -l -P cat \(dir)/\(page)")
                #expect(man.status == 0 && man.stderr.isEmpty, "man -l \(page): \(man)")
                #expect(man.stdout.contains("NAME") && man.stdout.contains("SEE ALSO"), "\(page): \(man.stdout)")
                if page.hasPrefix("skiff-"), page.hasSuffix(".8") {
                    let command = String(page.dropFirst(6).dropLast(2))
                    for flag in Self.documentedFlags(h.skiff(command, "--help").stdout) {
                        // man renders "\-\-bundle" as "--bundle" (or with U+2010 on UTF-8 terminals: -P cat, LANG unset).
                        #expect(man.stdout.contains(flag.spellings[0]), "\(page) lacks \(flag.spellings[0])")
                    }
                }
            }
            let config = h.sh("LANG=C MANWIDTH=80 man -l -P cat \(dir)/skiff-config.5")
            #expect(config.stdout.contains("DIFFERENCES FROM RUNC") && config.stdout.contains("1.3.0"), "\(config.stdout)")
        }

        @Test func completionScriptsAreValidAndComplete() throws {
            let h = try Harness()
            let commands = Self.commands(h)
            for shell in ["bash", "zsh", "fish"] {
                let r = h.skiff("help", "--completion", shell)
                #expect(r.status == 0, "\(shell): \(r)")
                let file = h.path("completion.\(shell)")
                try r.stdout.write(toFile: file, atomically: true, encoding: .utf8)
                for command in commands { #expect(r.stdout.contains(command), "\(shell) lacks \(command)") }
                for flag in ["--bundle", "--console-socket", "--preserve-fds", "--format", "--force", "--all", "--root", "--log-format", "--cgroup-manager"] {
                    let word = shell == "fish" ? "-l " + flag.dropFirst(2) : flag
                    #expect(r.stdout.contains(word), "\(shell) lacks \(flag)")
                }
                #expect(r.stdout.contains("SIGKILL") && r.stdout.contains("table json") && r.stdout.contains("text json"), "\(shell)")
                #expect(r.stdout.contains("list -q"), "\(shell) does not complete container ids")
                // Syntax: each shell's own parser, where the shell is installed (bash always is).
                let checker = ["/bin/bash", "/usr/bin/zsh", "/usr/bin/fish"].first { $0.hasSuffix("/" + shell) }!
                if shell == "bash" || FileManager.default.isExecutableFile(atPath: checker) {
                    let n = h.sh("\(checker) -n \(file)")
                    #expect(n.status == 0 && n.stderr.isEmpty, "\(shell) -n: \(n)")
                }
            }
            #expect(h.skiff("help", "--completion", "tcsh").status == 1)
        }

        /// The bash completion, run for real: commands, flags, flag values, container ids from
        /// `list -q` under the --root given on the command line, signals after the id.
        @Test func bashCompletionCompletesIdsUnderTheGivenRoot() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h)
            let (id, _) = h.create(bundle)
            let script = h.path("completion.bash")
            try h.skiff("help", "--completion", "bash").stdout.write(toFile: script, atomically: true, encoding: .utf8)
            func complete(_ words: [String]) -> [String] {
                let quoted = words.map { "'\($0)'" }.joined(separator: " ")
                let driver = h.path("drive.bash")
                try? """
                    . \(script)
                    COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1)
                    _skiff
                    printf '%s\\n' "${COMPREPLY[@]}"
                    """.write(toFile: driver, atomically: true, encoding: .utf8)
                let r = h.sh("bash \(driver)")
                #expect(r.status == 0, "\(words): \(r)")
                return r.lines
            }
            let bin = Paths.binary
            #expect(complete([bin, "cre"]) == ["create"])
            #expect(complete([bin, "--root", h.root, "state", ""]) == [id])
            #expect(complete([bin, "--root", h.root, "kill", id, "SIGKI"]) == ["SIGKILL"])
            #expect(complete([bin, "--root", h.root, "delete", "-f", ""]) == [id], "a boolean flag takes no value")
            #expect(complete([bin, "list", "--format", ""]).sorted() == ["json", "table"])
            #expect(complete([bin, "--log-format", ""]).sorted() == ["json", "text"])
            #expect(complete([bin, "create", "--no-p"]) == ["--no-pivot"])
            #expect(complete([bin, "--root", h.path("empty"), "state", ""]) == [], "ids come from the --root given")
        }

        @Test func versionNamesTheCommitAndTheSpecVersionFeaturesAgree() throws {
            let h = try Harness()
            let r = h.skiff("--version")
            #expect(r.status == 0, "\(r)")
            let commit = try #require(r.lines.first { $0.hasPrefix("commit: ") }).dropFirst(8)
            let spec = try #require(r.lines.first { $0.hasPrefix("spec: ") }).dropFirst(6)
            let git = h.sh("git -c safe.directory='*' -C \(TestEnvironment.packageRoot) rev-parse HEAD")
            if git.status == 0 && Paths.binary.hasPrefix(TestEnvironment.packageRoot) {
                // Built from this checkout (possibly with local changes, "-dirty"): HEAD, or an
                // ancestor of it when the binary predates the latest commit (scripts/test.sh
                // rebuilds first, so there it is HEAD).
                #expect(commit.range(of: #"^[0-9a-f]{40}(-dirty)?$"#, options: .regularExpression) != nil, "\(commit)")
                let sha = commit.split(separator: "-").first.map(String.init) ?? ""
                let ancestor = h.sh("git -c safe.directory='*' -C \(TestEnvironment.packageRoot) merge-base --is-ancestor \(sha) HEAD")
                #expect(ancestor.status == 0, "--version says \(commit), not HEAD (\(git.out)) or an ancestor: \(ancestor)")
            } else {
                #expect(commit == "unknown" || commit.range(of: #"^[0-9a-f]{40}(-dirty)?$"#, options: .regularExpression) != nil, "\(commit)")
            }
            let features = try #require(parseJSONObject(h.skiff("features").stdout))
            #expect(features["ociVersionMax"] as? String == String(spec))
            // state reports the same version, and a config of that version is accepted.
            let bundle = try Bundle.make(in: h) { $0["ociVersion"] = String(spec) }
            let (id, _) = h.create(bundle)
            #expect(h.state(id)?["ociVersion"] as? String == String(spec))
        }

        /// runc's checkArgs: a wrong number of operands is an error with runc's wording; a flag
        /// with three dashes is not a flag.
        @Test func strayArgumentsAreErrors() throws {
            let h = try Harness()
            let cases: [([String], String)] = [
                (["create", "a", "b"], #""create" requires exactly 1 argument(s)"#),
                (["list", "x"], #""list" requires exactly 0 argument(s)"#),
                (["state", "a", "b"], #""state" requires exactly 1 argument(s)"#),
                (["start"], #""start" requires exactly 1 argument(s)"#),
                (["delete", "-f", "a", "b"], #""delete" requires exactly 1 argument(s)"#),
                (["kill"], #""kill" requires a minimum of 1 argument(s)"#),
                (["kill", "a", "KILL", "c"], #""kill" requires a maximum of 2 argument(s)"#),
                (["ps"], #""ps" requires a minimum of 1 argument(s)"#),
                (["spec", "x"], #""spec" requires exactly 0 argument(s)"#),
                (["features", "x"], #""features" requires exactly 0 argument(s)"#),
                (["events", "a", "b"], #""events" requires exactly 1 argument(s)"#),
                (["update", "a", "b"], #""update" requires exactly 1 argument(s)"#),
                (["pause", "a", "b"], #""pause" requires exactly 1 argument(s)"#),
                (["run", "a", "b"], #""run" requires exactly 1 argument(s)"#),
            ]
            for (args, message) in cases {
                let r = h.skiff(args: args)
                #expect(r.status == 1, "\(args): \(r)")
                #expect(r.err == "skiff: " + message, "\(args): \(r)")
                #expect(r.stdout.hasPrefix("Incorrect Usage.\n"), "\(args): \(r)")
            }
            let dashes = ChildProcess.run(Paths.binary, ["---root", h.root, "list"], stdoutPath: h.path("d-out"), stderrPath: h.path("d-err"), timeout: 10)
            #expect(dashes.status == 1 && dashes.err.contains("bad flag syntax: ---root"), "\(dashes)")
            #expect(h.skiff("list", "---quiet").status == 1)
            #expect((try? FileManager.default.contentsOfDirectory(atPath: h.root))?.isEmpty == true, "something was created")
        }

        /// kill ID 0 and kill -a ID 0 check that the container can be signalled and change nothing.
        @Test func killSignalZero() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h)
            let (id, _) = h.create(bundle)
            let pid = h.pid(id)
            for args in [["kill", id, "0"], ["kill", "-a", id, "0"], ["kill", "--all", id, "0"]] {
                let r = h.skiff(args: args)
                #expect(r.status == 0, "\(args): \(r)")
            }
            #expect(h.status(id) == "created" && h.pid(id) == pid)
            #expect(h.skiff("kill", "nosuch", "0").status == 1)
            #expect(h.skiff("kill", id, "-1").status == 1)
        }

        /// crun's global --cgroup-manager and create/run --config.
        @Test func crunOptions() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { $0.args = ["echo", "from-config-flag"] }
            // --config: the configuration from another file; the bundle has no config.json.
            let moved = h.path("elsewhere.json")
            try FileManager.default.moveItem(atPath: bundle.configPath, toPath: moved)
            let run = h.skiff("--cgroup-manager", "cgroupfs", "run", "--bundle", bundle.path, "--config", moved, h.newID())
            #expect(run.status == 0 && run.out == "from-config-flag", "\(run)")
            let missing = h.skiff("create", "--bundle", bundle.path, "--config", h.path("nope.json"), h.newID())
            #expect(missing.status == 1 && missing.err.contains("nope.json"), "\(missing)")
            // systemd: the same as --systemd-cgroup (both refuse or accept the same config alike).
            let id1 = h.newID(), id2 = h.newID()
            let a = h.skiff(args: ["run", "--bundle", bundle.path, "--config", moved, id1], globals: ["--systemd-cgroup"])
            let b = h.skiff(args: ["run", "--bundle", bundle.path, "--config", moved, id2], globals: ["--cgroup-manager", "systemd"])
            #expect(a.status == b.status && a.err.replacingOccurrences(of: id1, with: "ID") == b.err.replacingOccurrences(of: id2, with: "ID"), "\(a) vs \(b)")
            // disabled: refused clearly by create and run; nothing is left.
            let disabled = h.skiff(args: ["create", "--bundle", bundle.path, "--config", moved, h.newID()], globals: ["--cgroup-manager", "disabled"])
            #expect(disabled.status == 1 && disabled.err.contains("--cgroup-manager disabled"), "\(disabled)")
            #expect(h.skiff(args: ["list", "-q"], globals: ["--cgroup-manager", "disabled"]).out.isEmpty)
            let bogus = h.skiff(args: ["list"], globals: ["--cgroup-manager", "bogus"])
            #expect(bogus.status == 1 && bogus.err.contains("--cgroup-manager"), "\(bogus)")
        }
    }
}
