import Glibc
import SkiffSpec
import SkiffSystem

/// Container statistics for `events`, in the JSON shape of runc's types/events.go `Stats`
/// (field names, order and omitempty rules), read from v1 or v2 files as the host has them.
extension Cgroups {
    public static func stats(paths: [String], layout: CgroupLayout) -> JSONValue {
        let targets = resolveTargets(paths: paths, layout: layout)
        var data = JSONObject()
        data["cpu"] = cpuStats(targets)
        data["cpuset"] = cpusetStats(targets)
        data["memory"] = memoryStats(targets)
        data["pids"] = pidsStats(targets)
        data["blkio"] = blkioStats(targets)
        data["hugetlb"] = hugetlbStats(targets)
        data["intel_rdt"] = .object(JSONObject())
        data["network_interfaces"] = .null
        return .object(data)
    }

    // MARK: Parsing helpers (pure)

    /// "key value" lines (cpu.stat, memory.stat, cpuacct.stat) → [key: value].
    public static func keyValues(_ text: String) -> [(String, UInt64)] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            guard f.count == 2, let v = UInt64(f[1]) else { return nil }
            return (String(f[0]), v)
        }
    }

    /// "0-3,5" → [0, 1, 2, 3, 5].
    public static func parseList(_ text: String) -> [UInt16] {
        var result: [UInt16] = []
        for part in text.trimmingWhitespace().split(separator: ",") {
            let ends = part.split(separator: "-")
            if ends.count == 2, let a = UInt16(ends[0]), let b = UInt16(ends[1]), a <= b {
                result += Array(a...b)
            } else if ends.count == 1, let a = UInt16(ends[0]) {
                result.append(a)
            }
        }
        return result
    }

    static func read(_ dir: String, _ file: String) -> String? {
        try? FileSystem.readText(dir + "/" + file)
    }

    static func uint(_ dir: String, _ file: String) -> UInt64? {
        readUInt(dir + "/" + file)
    }

    static func num(_ v: UInt64) -> JSONValue { .number(JSONNumber(v)) }

    /// An object with the members whose value is not zero/empty (Go's omitempty), except
    /// those listed in `always`.
    static func object(_ members: [(String, JSONValue)], always: Set<String> = []) -> JSONValue {
        var o = JSONObject()
        for (k, v) in members where always.contains(k) || !isEmpty(v) { o[k] = v }
        return .object(o)
    }

    static func isEmpty(_ v: JSONValue) -> Bool {
        switch v {
        case .null: true
        case .number(let n): n.uint64Value == 0 || n.int64Value == 0
        case .array(let a): a.isEmpty
        case .string(let s): s.isEmpty
        case .object(let o): o.isEmpty
        case .bool(let b): !b
        }
    }

    /// Go's omitzero for a nested struct: zero when every member is zero.
    static func isZero(_ v: JSONValue) -> Bool {
        if case .object(let o) = v { return o.members.allSatisfy { isZero($0.1) } }
        return isEmpty(v)
    }

    static func omitZero(_ members: [(String, JSONValue)]) -> JSONValue {
        var o = JSONObject()
        for (k, v) in members where !isZero(v) { o[k] = v }
        return .object(o)
    }

    // MARK: Controllers

    static func cpuStats(_ t: [String: CgroupTarget]) -> JSONValue {
        var total: UInt64 = 0, user: UInt64 = 0, kernel: UInt64 = 0
        var percpu: [UInt64] = [], percpuUser: [UInt64] = [], percpuKernel: [UInt64] = []
        var periods: UInt64 = 0, throttled: UInt64 = 0, throttledTime: UInt64 = 0
        if case .v2(let dir)? = t["cpu"] ?? t["unified"] {
            let kv = Dictionary(keyValues(read(dir, "cpu.stat") ?? ""), uniquingKeysWith: { a, _ in a })
            total = (kv["usage_usec"] ?? 0) * 1000
            user = (kv["user_usec"] ?? 0) * 1000
            kernel = (kv["system_usec"] ?? 0) * 1000
            periods = kv["nr_periods"] ?? 0
            throttled = kv["nr_throttled"] ?? 0
            throttledTime = (kv["throttled_usec"] ?? 0) * 1000
        } else {
            if case .v1(let dir)? = t["cpuacct"] {
                total = uint(dir, "cpuacct.usage") ?? 0
                percpu = (read(dir, "cpuacct.usage_percpu") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt64($0) }
                // cpuacct.usage_all: "cpu user system" per line, in ns.
                for line in (read(dir, "cpuacct.usage_all") ?? "").split(separator: "\n").dropFirst() {
                    let f = line.split(separator: " ")
                    if f.count == 3, let u = UInt64(f[1]), let s = UInt64(f[2]) {
                        percpuUser.append(u)
                        percpuKernel.append(s)
                    }
                }
                // cpuacct.stat is in USER_HZ ticks.
                let ticks = UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
                for (k, v) in keyValues(read(dir, "cpuacct.stat") ?? "") {
                    if k == "user" { user = v * 1_000_000_000 / ticks }
                    if k == "system" { kernel = v * 1_000_000_000 / ticks }
                }
            }
            if case .v1(let dir)? = t["cpu"] {
                for (k, v) in keyValues(read(dir, "cpu.stat") ?? "") {
                    switch k {
                    case "nr_periods": periods = v
                    case "nr_throttled": throttled = v
                    case "throttled_time": throttledTime = v
                    default: break
                    }
                }
            }
        }
        let usage = object([
            ("total", num(total)), ("percpu", .array(percpu.map(num))),
            ("percpu_kernel", .array(percpuKernel.map(num))), ("percpu_user", .array(percpuUser.map(num))),
            ("kernel", num(kernel)), ("user", num(user)),
        ], always: ["kernel", "user"])
        let throttling = object([("periods", num(periods)), ("throttledPeriods", num(throttled)), ("throttledTime", num(throttledTime))])
        return omitZero([("usage", usage), ("throttling", throttling)])
    }

    static func cpusetStats(_ t: [String: CgroupTarget]) -> JSONValue {
        var cpus: [UInt16] = [], mems: [UInt16] = []
        var flags: [(String, JSONValue)] = []
        let names = ["cpu_exclusive", "mem_hardwall", "mem_exclusive", "memory_migrate", "memory_spread_page",
                     "memory_spread_slab", "memory_pressure", "sched_load_balance"]
        switch t["cpuset"] {
        case .v1(let dir)?:
            cpus = parseList(read(dir, "cpuset.cpus") ?? "")
            mems = parseList(read(dir, "cpuset.mems") ?? "")
            for n in names { flags.append((n, num(uint(dir, "cpuset." + n) ?? 0))) }
            let relax = Int64((read(dir, "cpuset.sched_relax_domain_level") ?? "").trimmingWhitespace()) ?? 0
            flags.append(("sched_relax_domain_level", .number(JSONNumber(relax))))
        case .v2(let dir)?:
            cpus = parseList(read(dir, "cpuset.cpus.effective") ?? "")
            mems = parseList(read(dir, "cpuset.mems.effective") ?? "")
            fallthrough
        default:
            if flags.isEmpty {
                for n in names { flags.append((n, num(0))) }
                flags.append(("sched_relax_domain_level", num(0)))
            }
        }
        var members: [(String, JSONValue)] = [("cpus", .array(cpus.map { num(UInt64($0)) }))]
        members.append(flags[0])
        members.append(("mems", .array(mems.map { num(UInt64($0)) })))
        members += flags.dropFirst()
        return object(members, always: Set(names + ["sched_relax_domain_level"]))
    }

    static func memoryEntry(limit: UInt64, usage: UInt64, max: UInt64, failcnt: UInt64) -> JSONValue {
        object([("limit", num(limit)), ("usage", num(usage)), ("max", num(max)), ("failcnt", num(failcnt))],
               always: ["limit", "failcnt"])
    }

    static func memoryStats(_ t: [String: CgroupTarget]) -> JSONValue {
        var raw: [(String, UInt64)] = []
        var members: [(String, JSONValue)] = []
        switch t["memory"] {
        case .v1(let dir)?:
            raw = keyValues(read(dir, "memory.stat") ?? "")
            func entry(_ prefix: String) -> JSONValue {
                memoryEntry(limit: uint(dir, prefix + "limit_in_bytes") ?? 0, usage: uint(dir, prefix + "usage_in_bytes") ?? 0,
                            max: uint(dir, prefix + "max_usage_in_bytes") ?? 0, failcnt: uint(dir, prefix + "failcnt") ?? 0)
            }
            members = [("usage", entry("memory.")), ("swap", entry("memory.memsw.")),
                       ("kernel", entry("memory.kmem.")), ("kernelTCP", entry("memory.kmem.tcp."))]
            members.insert(("cache", num(raw.first { $0.0 == "cache" }?.1 ?? 0)), at: 0)
        case .v2(let dir)?:
            raw = keyValues(read(dir, "memory.stat") ?? "")
            let events = Dictionary(keyValues(read(dir, "memory.events") ?? ""), uniquingKeysWith: { a, _ in a })
            let usage = uint(dir, "memory.current") ?? 0
            let limit = uint(dir, "memory.max") ?? 0
            let swapUsage = uint(dir, "memory.swap.current") ?? 0
            let swapLimit = uint(dir, "memory.swap.max") ?? 0
            // runc reports v2 swap as memory+swap, like v1's memsw.
            let swapTotalLimit = (limit == UInt64.max || swapLimit == UInt64.max) ? UInt64.max : limit &+ swapLimit
            members = [
                ("cache", num(raw.first { $0.0 == "file" }?.1 ?? 0)),
                ("usage", memoryEntry(limit: limit, usage: usage, max: uint(dir, "memory.peak") ?? 0, failcnt: events["max"] ?? 0)),
                ("swap", memoryEntry(limit: swapTotalLimit, usage: usage &+ swapUsage, max: 0, failcnt: 0)),
            ]
        default:
            break
        }
        var result = JSONObject()
        for (k, v) in members {
            if k == "cache" { if !isEmpty(v) { result[k] = v } } else if !isZero(v) { result[k] = v }
        }
        if !raw.isEmpty {
            var r = JSONObject()
            for (k, v) in raw.sorted(by: { $0.0 < $1.0 }) { r[k] = num(v) }
            result["raw"] = .object(r)
        }
        return .object(result)
    }

    static func pidsStats(_ t: [String: CgroupTarget]) -> JSONValue {
        guard let dir = t["pids"]?.directory else { return .object(JSONObject()) }
        let current = uint(dir, "pids.current") ?? 0
        var limit = uint(dir, "pids.max") ?? 0
        if limit == UInt64.max { limit = 0 }  // "max": unlimited, reported as 0 as runc does
        return object([("current", num(current)), ("limit", num(limit))])
    }

    static func blkioEntries(_ text: String) -> [JSONValue] {
        var result: [JSONValue] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 3, let v = UInt64(f[2]) else { continue }
            let mm = f[0].split(separator: ":")
            guard mm.count == 2, let major = UInt64(mm[0]), let minor = UInt64(mm[1]) else { continue }
            result.append(object([("major", num(major)), ("minor", num(minor)), ("op", .string(String(f[1]))), ("value", num(v))]))
        }
        return result
    }

    static func blkioStats(_ t: [String: CgroupTarget]) -> JSONValue {
        var bytes: [JSONValue] = [], ios: [JSONValue] = []
        if case .v1(let dir)? = t["blkio"] {
            // CFQ/BFQ files when present and non-empty, else the throttle ones (runc).
            bytes = blkioEntries(read(dir, "blkio.io_service_bytes_recursive") ?? read(dir, "blkio.bfq.io_service_bytes_recursive") ?? "")
            ios = blkioEntries(read(dir, "blkio.io_serviced_recursive") ?? read(dir, "blkio.bfq.io_serviced_recursive") ?? "")
            if bytes.isEmpty && ios.isEmpty {
                bytes = blkioEntries(read(dir, "blkio.throttle.io_service_bytes_recursive") ?? "")
                ios = blkioEntries(read(dir, "blkio.throttle.io_serviced_recursive") ?? "")
            }
        } else if case .v2(let dir)? = t["io"] {
            // io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0".
            for line in (read(dir, "io.stat") ?? "").split(separator: "\n") {
                let f = line.split(separator: " ")
                guard let first = f.first else { continue }
                let mm = first.split(separator: ":")
                guard mm.count == 2, let major = UInt64(mm[0]), let minor = UInt64(mm[1]) else { continue }
                for kv in f.dropFirst() {
                    let p = kv.split(separator: "=")
                    guard p.count == 2, let v = UInt64(p[1]) else { continue }
                    let entry: (String) -> JSONValue = { op in
                        object([("major", num(major)), ("minor", num(minor)), ("op", .string(op)), ("value", num(v))])
                    }
                    switch p[0] {
                    case "rbytes": bytes.append(entry("Read"))
                    case "wbytes": bytes.append(entry("Write"))
                    case "rios": ios.append(entry("Read"))
                    case "wios": ios.append(entry("Write"))
                    default: break
                    }
                }
            }
        }
        return object([("ioServiceBytesRecursive", .array(bytes)), ("ioServicedRecursive", .array(ios))])
    }

    static func hugetlbStats(_ t: [String: CgroupTarget]) -> JSONValue {
        var result = JSONObject()
        guard let target = t["hugetlb"], let dir = target.directory else { return .object(result) }
        let isV2: Bool = { if case .v2 = target { return true } else { return false } }()
        let suffix = isV2 ? ".max" : ".limit_in_bytes"
        let sizes = ((try? FileSystem.list(dir)) ?? []).compactMap { name -> String? in
            guard name.hasPrefix("hugetlb."), name.hasSuffix(suffix), !name.includes(".rsvd.") else { return nil }
            return String(name.dropFirst("hugetlb.".count).dropLast(suffix.count))
        }.sorted()
        for size in sizes {
            let p = "hugetlb." + size
            let usage = uint(dir, p + (isV2 ? ".current" : ".usage_in_bytes")) ?? 0
            let max = isV2 ? 0 : (uint(dir, p + ".max_usage_in_bytes") ?? 0)
            let failcnt = isV2
                ? (Dictionary(keyValues(read(dir, p + ".events") ?? ""), uniquingKeysWith: { a, _ in a })["max"] ?? 0)
                : (uint(dir, p + ".failcnt") ?? 0)
            result[size] = object([("usage", num(usage)), ("max", num(max)), ("failcnt", num(failcnt))], always: ["failcnt"])
        }
        return .object(result)
    }
}
