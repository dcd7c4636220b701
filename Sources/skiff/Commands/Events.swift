import SkiffRuntime
import SkiffSpec
import SkiffSystem

enum EventsCommand: Command {
    static let name = "events"
    static let summary = "print container events (stats every --interval, oom) as JSON lines"
    static let operands = [Operand.containerID]
    static let flags = [
        FlagSpec(names: ["stats"], takesValue: false, doc: { FlagDoc(help: "print the container's resource statistics once and exit") }),
        FlagSpec(names: ["interval"], takesValue: true, doc: { FlagDoc(argument: "DURATION",
                 help: "time between statistics events, as a Go duration (500ms, 5s, 1m30s)", defaultValue: "5s") }),
    ]

    static var doc: CommandDoc {
        CommandDoc(description: """
            Prints the container's events on stdout as JSON lines, {"type":...,"id":...,"data":...}: a "stats" \
            event (cgroup statistics, runc's shape) every --interval and an "oom" event whenever the \
            kernel's OOM killer kills a process of the container; it returns when the container stops.
            """,
            examples: [("statistics once", "skiff events --stats web1"),
                       ("stream every second", "skiff events --interval 1s web1")])
    }

    static func run(_ args: ParsedArguments, _ options: RuntimeOptions) throws -> Int32 {
        let id = try CLI.id(args, name)
        let text = args.string("interval") ?? "5s"
        guard let interval = parseDuration(text) else { throw UsageError("invalid value \"\(text)\" for flag -interval: parse error") }
        guard interval > 0 else { throw UsageError("duration interval must be greater than 0") }
        let container = try Container.load(id, options: options)
        if container.status == .stopped { throw RuntimeError("container with id \(id) is not running") }
        if args.bool("stats") {
            emit("stats", id, try container.stats())
            return 0
        }
        // Poll: OOM kills every 100 ms (or the interval if shorter), stats every interval,
        // until init has exited or the cgroup is gone.
        var lastOOM = container.oomKillCount() ?? 0
        let step = max(1, min(100, interval))
        var next = Clock.monotonicMilliseconds() + Int64(interval)
        while true {
            Clock.sleep(milliseconds: step)
            // OOM first: the kill may be what ended the container.
            if let oom = container.oomKillCount(), oom > lastOOM {
                lastOOM = oom
                emit("oom", id, nil)
            }
            if container.status == .stopped || !container.cgroupExists { return 0 }
            let now = Clock.monotonicMilliseconds()
            if now >= next {
                next = now + Int64(interval)
                if let stats = try? container.stats() { emit("stats", id, stats) }
            }
        }
    }

    static func emit(_ type: String, _ id: String, _ data: JSONValue?) {
        var event = JSONObject()
        event["type"] = .string(type)
        event["id"] = .string(id)
        if let data { event["data"] = data }
        Output.stdout(JSONValue.object(event).serialized() + "\n")
    }

    /// Go's time.ParseDuration subset: "5s", "1.5s", "500ms", "1m30s", "2h"; milliseconds.
    static func parseDuration(_ text: String) -> Int? {
        var total = 0.0
        var rest = Substring(text)
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        let units: [(String, Double)] = [("ns", 1e-6), ("us", 1e-3), ("µs", 1e-3), ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) && !(($0.0 == "m") && rest.hasPrefix("ms")) }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
        }
        return Int(total.rounded(.up))
    }
}
