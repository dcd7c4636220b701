import Foundation
import Glibc
import SkiffTestSupport
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
            let agent = try ChildProcess("/usr/bin/python3", [script, socketPath, report],
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

extension Integration {
    /// Seccomp actions observed from outside: kill actions end the process with SIGSYS, the
    /// errno action returns the configured errno, and WAIT_KILLABLE_RECV (past libseccomp
    /// 2.5) still loads a working notify filter.
    @Suite struct SeccompActions {
        func run(_ h: Harness, action: String, errnoRet: Int? = nil, flags: [String] = [], listener: String? = nil,
                 script: String = "echo before; mkdir /dev/shm/x; echo after rc=$?") throws -> RunResult {
            var rule: [String: Any] = ["names": ["mkdir", "mkdirat"], "action": action]
            if let errnoRet { rule["errnoRet"] = errnoRet }
            let bundle = try Bundle.make(in: h) { c in
                c.shell(script)
                var seccomp: [String: Any] = ["defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]]
                if !flags.isEmpty { seccomp["flags"] = flags }
                if let listener { seccomp["listenerPath"] = listener }
                c["linux.seccomp"] = seccomp
            }
            let id = h.newID()
            let r = h.run(bundle, id: id, timeout: 30)
            h.expectNothingLeft(id)
            return r
        }

        @Test(arguments: ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD"])
        func killActionsEndTheProcessWithSIGSYS(action: String) throws {
            let h = try Harness()
            // A child that makes the call dies; so does pid 1 itself (exec), ending the container.
            let child = try run(h, action: action)
            #expect(child.out.contains("after rc=159"), "\(child)")  // 128 + SIGSYS
            let r = try run(h, action: action, script: "echo before; exec mkdir /dev/shm/x")
            #expect(r.status == 128 + 31, "\(r)")
            #expect(r.out == "before", "\(r)")
        }

        @Test func errnoActionReturnsTheConfiguredErrno() throws {
            let h = try Harness()
            let r = try run(h, action: "SCMP_ACT_ERRNO", errnoRet: 28)  // ENOSPC
            #expect(r.status == 0, "\(r)")
            #expect(r.err.contains("No space left on device"), "\(r)")
            #expect(r.out.contains("after rc=1"), "\(r)")
        }

        @Test func waitKillableRecvLoadsANotifyFilter() throws {
            let h = try Harness()
            let script = h.path("listener.py")
            try writeFile(script, SeccompNotify.listener)
            let socketPath = h.path("agent.sock")
            let report = h.path("agent.json")
            let agent = try ChildProcess("/usr/bin/python3", [script, socketPath, report],
                                         stdoutPath: h.path("agent.out"), stderrPath: h.path("agent.err"))
            defer { if agent.isRunning { kill(agent.pid, SIGKILL); _ = agent.wait(timeout: 5) } }
            #expect(waitUntil { fileExists(socketPath) })
            let r = try run(h, action: "SCMP_ACT_NOTIFY", flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"], listener: socketPath)
            _ = agent.wait(timeout: 10)
            #expect(r.status == 0, "\(r)")
            #expect(r.err.contains("Function not implemented"), "\(r)")
            let got = parseJSONObject(readFile(report) ?? "")
            #expect(got?["fdlink"] as? String == "anon_inode:seccomp notify")
        }
    }
}
