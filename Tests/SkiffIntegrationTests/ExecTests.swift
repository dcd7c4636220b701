import Foundation
import Glibc
import Testing

extension Integration {
    /// `exec` (runtime-cli.md §2.6). Checked against runc 1.1.5.
    @Suite
    struct Exec {
        @Test func execRunsInTheContainer() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            let pid = h.pid(id)
            let r = h.skiff("exec", id, "sh", "-c", "hostname; for n in net pid mnt; do readlink /proc/self/ns/$n; done")
            #expect(r.status == 0, "\(r)")
            let expected = ["skiff-sleep"] + ["net", "pid", "mnt"].map {
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\($0)")) ?? "?"
            }
            #expect(r.lines == expected, "\(r)")
        }

        /// `exec -t` attached without --console-socket: skiff relays the pty (CRI-O's
        /// streaming exec) and keeps the exit status.
        @Test func execTTYRelaysThePty() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            let r = h.skiff("exec", "-t", id, "sh", "-c", "tty; echo via-pty; exit 6")
            #expect(r.status == 6, "\(r)")
            #expect(r.out.contains("/dev/pts/"), "\(r)")
            #expect(r.out.contains("via-pty"), "\(r)")
            #expect(h.skiff("delete", "--force", id).status == 0)
            h.expectNothingLeft(id)
        }

        @Test func execExitStatus() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            #expect(h.skiff("exec", id, "sh", "-c", "exit 4").status == 4)
        }

        @Test func execDetachedWritesPidFile() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            let pidFile = h.path("exec.pid")
            let r = h.skiff("exec", "--detach", "--pid-file", pidFile, id, "sleep", "30")
            #expect(r.status == 0, "\(r)")
            let pid = Int(readFile(pidFile) ?? "") ?? 0
            #expect(pid > 0 && fileExists("/proc/\(pid)"), "pid file: \(readFile(pidFile) ?? "nil")")
            #expect(h.cmdline(pid).hasPrefix("sleep 30"), "\(h.cmdline(pid))")
        }

        @Test func execProcessJSON() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            let process: [String: Any] = [
                "args": ["sh", "-c", "id -u; pwd; echo $FOO"], "cwd": "/tmp", "env": ["FOO=bar", "PATH=/bin"],
                "user": ["uid": 1000, "gid": 1000],
            ]
            let file = h.path("process.json")
            try JSONSerialization.data(withJSONObject: process).write(to: URL(fileURLWithPath: file))
            let r = h.skiff("exec", "--process", file, id)
            #expect(r.status == 0, "\(r)")
            #expect(r.lines == ["1000", "/tmp", "bar"], "\(r)")
        }

        @Test func execInStoppedContainerFails() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { $0.args = ["true"] }
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            #expect(waitUntil { h.status(id) == "stopped" })
            let r = h.skiff("exec", id, "true")
            #expect(r.status != 0, "\(r)")
            #expect(r.stderr.contains("cannot exec in a stopped container"), "\(r)")
        }

        @Test func execExecutableNotFound() throws {
            let h = try Harness()
            let bundle = try Bundle.make(from: "sleep", in: h)
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            let r = h.skiff("exec", id, "no-such-binary-xyz")
            #expect(r.status == 255, "\(r)")
            #expect(r.stderr.contains("executable file not found in $PATH"), "\(r)")
        }
    }
}
