import SkiffRuntime
import SkiffSystem

/// The --log sink: stderr by default, or a file (opened create+append) in text or json.
struct Logger {
    enum Format: String { case text, json }
    var file: FD?
    var format: Format = .text
    var debug = false

    nonisolated(unsafe) static var shared = Logger()

    mutating func configure(path: String?, format: String?, debug: Bool) throws(UsageError) {
        if let format {
            guard let f = Format(rawValue: format) else {
                throw UsageError("invalid log-format: \(format)")
            }
            self.format = f
        }
        self.debug = debug
        if let path, !path.isEmpty, path != "/dev/stderr" {
            do {
                file = try FileSystem.openAppend(FileSystem.absolute(path))
            } catch {
                throw UsageError("cannot open log file: \(error)")
            }
        }
    }

    func line(level: String, _ message: String) -> String {
        let time = Clock.rfc3339Now()
        switch format {
        case .json:
            return "{\"level\":\(quote(level)),\"msg\":\(quote(message)),\"time\":\(quote(time))}\n"
        case .text:
            return "time=\(quote(time)) level=\(level) msg=\(quote(message))\n"
        }
    }

    /// Errors go to the log sink and, when that is a file, also plainly to stderr.
    func error(_ message: String) {
        if let file {
            try? file.write(line(level: "error", message))
        }
        Output.stderr(message + "\n")
    }

    func warning(_ message: String) {
        if let file { try? file.write(line(level: "warning", message)) } else { Output.stderr(line(level: "warning", message)) }
    }

    /// The message is built only when debugging (an eager `argv.joined` cost every command a
    /// conformance lookup).
    func debugLog(_ message: @autoclosure () -> String) {
        guard debug else { return }
        let message = message()
        if let file { try? file.write(line(level: "debug", message)) } else { Output.stderr(line(level: "debug", message)) }
    }

    private func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

enum Output {
    static func stdout(_ text: String) { try? FD(1).write(text) }
    static func stderr(_ text: String) { try? FD(2).write(text) }
}
