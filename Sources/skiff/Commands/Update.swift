import SkiffRuntime
import SkiffSpec
import SkiffSystem

enum UpdateCommand: Command {
    static let name = "update"
    static let summary = "update a container's resource limits"
    static let operands = [Operand.containerID]
    static let flags: [FlagSpec] = [
        FlagSpec(names: ["resources", "r"], takesValue: true, doc: { FlagDoc(argument: "FILE",
                 help: "a JSON file with linux.resources (\"-\": stdin); the other flags are then ignored", completion: .file) }),
        FlagSpec(names: ["blkio-weight"], takesValue: true, doc: { FlagDoc(argument: "N", help: "block IO weight, 10 to 1000") }),
        FlagSpec(names: ["cpu-period"], takesValue: true, doc: { FlagDoc(argument: "USEC", help: "CPU CFS period in microseconds") }),
        FlagSpec(names: ["cpu-quota"], takesValue: true, doc: { FlagDoc(argument: "USEC", help: "CPU CFS quota in microseconds per period (-1: none)") }),
        FlagSpec(names: ["cpu-burst"], takesValue: true, doc: { FlagDoc(argument: "USEC", help: "CPU CFS burst in microseconds") }),
        FlagSpec(names: ["cpu-share"], takesValue: true, doc: { FlagDoc(argument: "N", help: "CPU shares (relative weight)") }),
        FlagSpec(names: ["cpu-rt-period"], takesValue: true, doc: { FlagDoc(argument: "USEC", help: "CPU realtime period in microseconds") }),
        FlagSpec(names: ["cpu-rt-runtime"], takesValue: true, doc: { FlagDoc(argument: "USEC", help: "CPU realtime runtime in microseconds") }),
        FlagSpec(names: ["cpuset-cpus"], takesValue: true, doc: { FlagDoc(argument: "LIST", help: "CPUs the container may use (0-3,5)") }),
        FlagSpec(names: ["cpuset-mems"], takesValue: true, doc: { FlagDoc(argument: "LIST", help: "memory nodes the container may use (0,1)") }),
        FlagSpec(names: ["cpu-idle"], takesValue: true, doc: { FlagDoc(argument: "0|1", help: "cgroup v2 cpu.idle") }),
        FlagSpec(names: ["kernel-memory"], takesValue: true, doc: { FlagDoc(argument: "SIZE", help: "kernel memory limit (cgroup v1; deprecated by the kernel)") }),
        FlagSpec(names: ["kernel-memory-tcp"], takesValue: true, doc: { FlagDoc(argument: "SIZE", help: "kernel TCP buffer memory limit (cgroup v1)") }),
        FlagSpec(names: ["memory"], takesValue: true, doc: { FlagDoc(argument: "SIZE", help: "memory limit: bytes or 512k, 256m, 1.5g (-1: none)") }),
        FlagSpec(names: ["memory-reservation"], takesValue: true, doc: { FlagDoc(argument: "SIZE", help: "memory soft limit") }),
        FlagSpec(names: ["memory-swap"], takesValue: true, doc: { FlagDoc(argument: "SIZE", help: "memory plus swap limit (-1: unlimited swap)") }),
        FlagSpec(names: ["pids-limit"], takesValue: true, doc: { FlagDoc(argument: "N", help: "maximum number of processes (-1: none)") }),
        FlagSpec(names: ["l3-cache-schema"], takesValue: true, doc: { FlagDoc(argument: "SCHEMA", help: "Intel RDT L3 cache schema: not supported, refused") }),
        FlagSpec(names: ["mem-bw-schema"], takesValue: true, doc: { FlagDoc(argument: "SCHEMA", help: "Intel RDT memory bandwidth schema: not supported, refused") }),
    ]

    static var doc: CommandDoc {
        CommandDoc(description: """
            Changes a running or paused container's cgroup limits: from a linux.resources JSON \
            document (--resources) or from the per-limit flags. Limits not given are left as they are.
            """,
            examples: [("a new memory limit", "skiff update --memory 512m web1"),
                       ("from a file", "skiff update --resources limits.json web1")])
    }

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let id = try CLI.id(args, name)
        let resources = try parse(args)
        var container = try Container.load(id, options: options)
        try container.update(resources: resources)
        return 0
    }

    /// The requested change: the --resources document, else the per-field flags.
    static func parse(_ args: ParsedArguments) throws -> LinuxResources {
        if let source = args.string("resources") {
            let bytes: [UInt8]
            do {
                bytes = source == "-" ? try FD(0).readAll(limit: FileSystem.configSizeLimit) : try FileSystem.readRegularFileOrPipe(source, limit: FileSystem.configSizeLimit)
            } catch {
                throw UsageError("--resources: \(error)")
            }
            return try SpecDecoder.decode(LinuxResources.self, from: bytes, file: source == "-" ? "stdin" : source)
        }
        if args.string("l3-cache-schema") != nil || args.string("mem-bw-schema") != nil {
            throw UsageError("Intel RDT is not supported by skiff")
        }
        var r = LinuxResources()
        var memory = LinuxMemory(), cpu = LinuxCPU()
        func uint(_ flag: String) throws(UsageError) -> UInt64? {
            guard let v = args.string(flag) else { return nil }
            guard let n = UInt64(v) else { throw UsageError("invalid value for \(flag): \"\(v)\"") }
            return n
        }
        func int(_ flag: String) throws(UsageError) -> Int64? {
            guard let v = args.string(flag) else { return nil }
            guard let n = Int64(v) else { throw UsageError("invalid value for \(flag): \"\(v)\"") }
            return n
        }
        func bytes(_ flag: String) throws(UsageError) -> Int64? {
            guard let v = args.string(flag) else { return nil }
            if v == "-1" { return -1 }
            guard let n = ramInBytes(v) else { throw UsageError("invalid value for \(flag): invalid size: '\(v)'") }
            return n
        }
        if let w = try uint("blkio-weight"), w != 0 {
            guard w <= UInt64(UInt16.max) else { throw UsageError("invalid value for blkio-weight: \"\(w)\"") }
            r.blockIO = LinuxBlockIO(weight: UInt16(w))
        }
        if let v = args.string("cpuset-cpus"), !v.isEmpty { cpu.cpus = v }
        if let v = args.string("cpuset-mems"), !v.isEmpty { cpu.mems = v }
        cpu.idle = try int("cpu-idle")
        cpu.burst = try uint("cpu-burst")
        cpu.period = try uint("cpu-period")
        cpu.realtimePeriod = try uint("cpu-rt-period")
        cpu.shares = try uint("cpu-share")
        cpu.quota = try int("cpu-quota")
        cpu.realtimeRuntime = try int("cpu-rt-runtime")
        memory.limit = try bytes("memory")
        memory.swap = try bytes("memory-swap")
        memory.kernel = try bytes("kernel-memory")
        memory.kernelTCP = try bytes("kernel-memory-tcp")
        memory.reservation = try bytes("memory-reservation")
        if let p = try int("pids-limit") { r.pids = LinuxPids(limit: p) }
        if cpu != LinuxCPU() { r.cpu = cpu }
        if memory != LinuxMemory() { r.memory = memory }
        return r
    }

    /// docker/go-units RAMInBytes: "512m", "1.5g", "100MiB", "1024" (bytes); binary units,
    /// case-insensitive.
    static func ramInBytes(_ text: String) -> Int64? {
        var s = Substring(text.asciiLowercased)
        let number = s.prefix { $0.isNumber || $0 == "." }
        guard !number.isEmpty, let value = Double(number), value >= 0 else { return nil }
        s = s.dropFirst(number.count)
        if s.first == " " { s = s.dropFirst() }
        var multiplier = 1.0
        if let unit = s.first, let i = "kmgtp".firstIndex(of: unit) {
            multiplier = pow1024("kmgtp".distance(from: "kmgtp".startIndex, to: i) + 1)
            s = s.dropFirst()
            if s.first == "i" { s = s.dropFirst() }
        }
        if s.first == "b" { s = s.dropFirst() }
        guard s.isEmpty else { return nil }
        let result = value * multiplier
        guard result < 9.2e18 else { return nil }
        return Int64(result)
    }

    static func pow1024(_ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<n { r *= 1024 }
        return r
    }
}
