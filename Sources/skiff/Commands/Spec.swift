import Glibc
import SkiffRuntime
import SkiffSpec
import SkiffSystem

enum SpecCommand: Command {
    static let name = "spec"
    static let summary = "write a default config.json (like runc spec)"
    static let operands: [Operand] = []
    static let flags = [
        FlagSpec(names: ["bundle", "b"], takesValue: true, doc: { FlagDoc(argument: "DIR",
                 help: "directory to write config.json in", defaultValue: "the current directory", completion: .directory) }),
        FlagSpec(names: ["rootless"], takesValue: false,
                 doc: { FlagDoc(help: "a configuration for an unprivileged user: a user namespace mapping root to the caller, no cgroup resources") }),
    ]

    static var doc: CommandDoc {
        CommandDoc(description: """
            Writes a default config.json (runc's: terminal on, args ["sh"], root filesystem "rootfs") \
            into the bundle directory; refuses to overwrite an existing one. Edit it before use.
            """,
            examples: [("a starting point", "mkdir -p b/rootfs && cd b && skiff spec")])
    }

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let bundle = FileSystem.absolute(args.string("bundle") ?? ".")
        let path = bundle + "/config.json"
        if FileSystem.exists(path) { throw UsageError("File \(path) exists. Remove it first") }
        // runc 1.1.5's specconv.Example() adds a cgroup namespace only when the host is
        // cgroup2-unified (/sys/fs/cgroup is cgroup2); on a v1 or hybrid host it has none.
        let spec = Spec.defaultSpec(rootless: args.bool("rootless"), hostUID: Identity.euid, hostGID: Identity.egid,
                                    cgroupNamespace: hostIsCgroup2Unified())
        do {
            // Same bytes as runc spec: tab indentation, no trailing newline.
            try FileSystem.writeAtomic(path, Array(SpecEncoder.encode(spec, indentString: "\t").utf8), mode: 0o644)
        } catch {
            throw RuntimeError("\(error)")
        }
        return 0
    }

    /// statfs("/sys/fs/cgroup") is CGROUP2_SUPER_MAGIC (runc's cgroups.IsCgroup2UnifiedMode).
    static func hostIsCgroup2Unified() -> Bool {
        guard let fd = try? FileSystem.open("/sys/fs/cgroup", O_PATH | O_DIRECTORY) else { return false }
        defer { fd.close() }
        return Mounts.filesystemType(fd) == Mounts.cgroup2Magic
    }
}
