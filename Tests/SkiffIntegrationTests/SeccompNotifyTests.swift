import Foundation
import Glibc
import Testing

extension Integration {
    /// linux.seccomp.listenerPath: the notify fd reaches the agent with the container
    /// process state, and what the agent does with it decides the syscall's fate.
    @Suite struct SeccompNotify {
        static let listener = #"""
        import socket, os, sys, json
        path, out = sys.argv[1], sys.argv[2]
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path); s.listen(1)
        s.settimeout(20)
        conn, _ = s.accept()
        msg, fds, flags, addr = socket.recv_fds(conn, 65536, 1)
        link = os.readlink(f"/proc/self/fd/{fds[0]}") if fds else ""
        json.dump({"message": json.loads(msg), "fdlink": link, "nfds": len(fds)}, open(out, "w"))
        for fd in fds: os.close(fd)
        """#

        @Test func listenerReceivesTheNotifyFDAndState() throws {
            let h = try Harness()
            let script = h.path("listener.py")
            try writeFile(script, Self.listener)
            let socketPath = h.path("agent.sock")
            let report = h.path("agent.json")
            let agent = try Child("/usr/bin/python3", [script, socketPath, report],
                                  stdoutPath: h.path("agent.out"), stderrPath: h.path("agent.err"))
            defer { if agent.isRunning { kill(agent.pid, SIGKILL); _ = agent.wait(timeout: 5) } }
            #expect(waitUntil { fileExists(socketPath) }, "listener did not start")
            let bundle = try Bundle.make(in: h) { c in
                c.shell("mkdir /dev/shm/x 2>&1; echo rc=$?")
                c["linux.seccomp"] = [
                    "defaultAction": "SCMP_ACT_ALLOW",
                    "listenerPath": socketPath,
                    "listenerMetadata": "agent-meta",
                    "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"]],
                ] as [String: Any]
            }
            let id = h.newID()
            let r = h.run(bundle, id: id, timeout: 30)
            _ = agent.wait(timeout: 10)
            #expect(r.status == 0, "\(r)")
            // The agent closed the fd without answering: the notified syscall fails ENOSYS.
            #expect(r.out.contains("Function not implemented"), "\(r)")
            #expect(r.out.contains("rc=1"), "\(r)")
            let got = try #require(parseJSONObject(readFile(report) ?? ""), "listener got nothing")
            #expect(got["fdlink"] as? String == "anon_inode:seccomp notify")
            #expect((got["nfds"] as? NSNumber)?.intValue == 1)
            let message = try #require(got["message"] as? [String: Any])
            #expect(message["fds"] as? [String] == ["seccompFd"])
            #expect(message["metadata"] as? String == "agent-meta")
            #expect(((message["pid"] as? NSNumber)?.intValue ?? 0) > 0)
            let state = try #require(message["state"] as? [String: Any])
            #expect(state["id"] as? String == id)
            #expect(state["status"] as? String == "creating")
            h.expectNothingLeft(id)
        }

        @Test func missingListenerFailsCreateAndLeavesNothing() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["linux.seccomp"] = [
                    "defaultAction": "SCMP_ACT_ALLOW",
                    "listenerPath": h.path("nobody-listens.sock"),
                    "syscalls": [["names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"]],
                ] as [String: Any]
            }
            let id = h.newID()
            let r = h.skiff(args: ["create", "-b", bundle.path, id])
            #expect(r.status == 1)
            #expect(r.err.contains("linux.seccomp.listenerPath"), "\(r)")
            h.expectNothingLeft(id)
        }
    }
}
