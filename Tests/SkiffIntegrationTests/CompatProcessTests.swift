import Foundation
import Glibc
import Testing

/// Process, exec, hook, seccomp and cgroup behaviours that engines and runc's own suite rely
/// on (issue 14), each checked against what the container and the host see.
extension Integration {
    @Suite struct CompatProcess {
        /// `run` with NOTIFY_SOCKET ends when the container exits without READY=1. The
        /// poststart hook delays `start` past the program's exit, so init is already gone when
        /// the wait for READY=1 begins (the case that hung forever).
        @Test func notifySocketRunEndsWhenTheContainerExitsWithoutReady() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c.args = ["true"]
                c["hooks"] = ["poststart": [["path": "/bin/sleep", "args": ["sleep", "0.5"]]]]
            }
            let id = h.newID()
            let r = h.skiff(args: ["run", "-b", bundle.path, id], env: ["NOTIFY_SOCKET=" + h.path("caller.sock")],
                            timeout: 20)
            #expect(!r.timedOut, "run hung waiting for READY=1: \(r)")
            #expect(r.status == 0, "\(r)")
            h.expectNothingLeft(id)
        }

        /// `exec --env NAME=…` replaces the container's NAME in place (runc's setenv loop); a
        /// repeated name keeps its last value.
        @Test func execEnvReplacesTheProcessValue() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in c.args = ["sleep", "30"] }
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            let r = h.skiff(args: ["exec", "--env", "PATH=/bin:/x", "--env", "FOO=1", "--env", "FOO=2", id, "env"])
            #expect(r.status == 0, "\(r)")
            let lines = r.stdout.split(separator: "\n").map(String.init)
            #expect(lines.filter { $0.hasPrefix("PATH=") } == ["PATH=/bin:/x"], "\(lines)")
            #expect(lines.filter { $0.hasPrefix("FOO=") } == ["FOO=2"], "\(lines)")
            // In place: the config's first entry is PATH.
            #expect(lines.first == "PATH=/bin:/x", "\(lines)")
            #expect(h.skiff("delete", "--force", id).status == 0)
            h.expectNothingLeft(id)
        }

        /// A hook without "env" runs with the environment of the process running it, as in
        /// runc: the runtime's for createRuntime, the container process's for createContainer
        /// (run by init); "env": [] is empty. createContainer hooks run in the rootfs.
        @Test func hookEnvironmentAndWorkingDirectory() throws {
            let h = try Harness()
            let log = h.path("hooklog")
            try FileManager.default.createDirectory(atPath: log, withIntermediateDirectories: true)
            let bundle = try Bundle.make(in: h) { c in
                c.args = ["true"]
                c["process.env"] = ["PATH=/usr/bin:/bin", "FROM_CONFIG=1"]
                c["hooks"] = [
                    "createRuntime": [
                        ["path": "/bin/sh", "args": ["sh", "-c", "env > \(log)/runtime.env"]],
                        ["path": "/bin/sh", "args": ["sh", "-c", "env > \(log)/empty.env"], "env": [String]()],
                    ],
                    "createContainer": [
                        ["path": "/bin/sh", "args": ["sh", "-c", "env > \(log)/container.env; pwd > \(log)/container.pwd; test -x ./bin/busybox && echo rootfs > \(log)/container.rel"]],
                    ],
                ]
            }
            let id = h.newID()
            let r = h.skiff(args: ["run", "-b", bundle.path, id], env: ["SKIFF_HOOK_MARK=from-runtime"])
            #expect(r.status == 0, "\(r)")
            let runtimeEnv = readFile(log + "/runtime.env") ?? ""
            #expect(runtimeEnv.contains("SKIFF_HOOK_MARK=from-runtime"), "\(runtimeEnv)")
            let empty = readFile(log + "/empty.env") ?? "missing"
            #expect(!empty.contains("SKIFF_HOOK_MARK") && !empty.contains("PATH=/usr"), "\(empty)")
            let containerEnv = readFile(log + "/container.env") ?? ""
            #expect(containerEnv.contains("FROM_CONFIG=1"), "\(containerEnv)")
            #expect(!containerEnv.contains("SKIFF_HOOK_MARK"), "\(containerEnv)")
            let pwd = (readFile(log + "/container.pwd") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(pwd == bundle.rootfs, "createContainer hook cwd: \(pwd)")
            #expect(readFile(log + "/container.rel") == "rootfs\n")
            h.expectNothingLeft(id)
        }

        /// startContainer hooks run under the container's seccomp filter (runc loads it
        /// first): mkdir, which the profile fails with EOPNOTSUPP, fails in the hook too.
        @Test func startContainerHooksRunUnderSeccomp() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c.args = ["sleep", "30"]
                c["process.noNewPrivileges"] = true
                c["root.readonly"] = false
                c["linux.seccomp"] = ["defaultAction": "SCMP_ACT_ALLOW",
                                      "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95]]]
                c["hooks"] = ["startContainer": [["path": "/bin/sh", "args": ["sh", "-c", "mkdir /hookdir > /hook-out 2>&1; echo rc=$? >> /hook-out"]]]]
            }
            let (id, _) = h.create(bundle)
            let s = h.skiff("start", id)
            #expect(s.status == 0, "\(s)")
            let out = readFile(bundle.rootfs + "/hook-out") ?? "missing"
            #expect(out.contains("Operation not supported") && out.contains("rc=1"), "\(out)")
            #expect(!fileExists(bundle.rootfs + "/hookdir"))
            #expect(h.skiff("delete", "--force", id).status == 0)
            h.expectNothingLeft(id)
        }

        /// The process's stdio is chowned to its uid before it drops privileges (runc's
        /// fixStdioPermissions): its pty is uid:tty, a pipe uid:(the pipe's gid).
        @Test func stdioIsOwnedByTheProcessUser() throws {
            let h = try Harness()
            let tty = try Bundle.make(in: h) { c in
                c["process.terminal"] = true
                c["process.user"] = ["uid": 1000, "gid": 1000]
                c.shell("stat -c owner=%u:%g $(tty)")
            }
            let id = h.newID()
            let r = h.run(tty, id: id)
            #expect(r.status == 0, "\(r)")
            #expect(r.stdout.contains("owner=1000:5"), "\(r)")
            h.expectNothingLeft(id)

            let piped = try Bundle.make(in: h) { c in
                c["process.user"] = ["uid": 1000, "gid": 1000]
                c.shell("stat -L -c owner=%u /proc/self/fd/1")
            }
            let id2 = h.newID()
            let r2 = h.run(piped, id: id2)
            #expect(r2.status == 0, "\(r2)")
            #expect(r2.stdout.contains("owner=1000"), "\(r2)")
            h.expectNothingLeft(id2)
        }

        /// process.user (and its uid and gid) are optional in the schema: uid 0, gid 0, as in
        /// runc — for config.json and for `exec --process`.
        @Test func processUserIsOptional() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in
                c["process.user"] = nil
                c.args = ["sleep", "30"]
            }
            let (id, create) = h.create(bundle)
            #expect(create.status == 0, "\(create)")
            #expect(h.skiff("start", id).status == 0)
            let file = h.path("process.json")
            try writeFile(file, #"{"args": ["id"], "cwd": "/", "env": ["PATH=/bin"], "user": {}}"#)
            let withEmpty = h.skiff("exec", "--process", file, id)
            #expect(withEmpty.status == 0, "\(withEmpty)")
            #expect(withEmpty.stdout.contains("uid=0(root) gid=0(root)"), "\(withEmpty)")
            try writeFile(file, #"{"args": ["sh", "-c", "id -u; id -g"], "cwd": "/", "env": ["PATH=/bin"]}"#)
            let without = h.skiff("exec", "--process", file, id)
            #expect(without.status == 0, "\(without)")
            #expect(without.stdout == "0\n0\n", "\(without)")
            #expect(h.skiff("delete", "--force", id).status == 0)
            h.expectNothingLeft(id)
        }

        /// runc's sysctl rules: kernel.hostname conflicts with the hostname field even with a
        /// uts namespace; kernel.domainname needs one; `check` reports what create refuses.
        @Test func utsSysctlsFollowRuncRules() throws {
            let h = try Harness()
            let hostnameSysctl = try Bundle.make(in: h) { c in c["linux.sysctl"] = ["kernel.hostname": "other"] }
            let id = h.newID()
            let r = h.skiff("create", "-b", hostnameSysctl.path, id)
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.contains(#"sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field"#), "\(r)")
            h.expectNothingLeft(id)
            #expect(h.skiff("check", "-b", hostnameSysctl.path).status != 0)

            let domain = try Bundle.make(in: h) { c in
                c["linux.sysctl"] = ["kernel.domainname": "skiff.example"]
                c.args = ["cat", "/proc/sys/kernel/domainname"]
            }
            let id2 = h.newID()
            let r2 = h.run(domain, id: id2)
            #expect(r2.status == 0, "\(r2)")
            #expect(r2.stdout == "skiff.example\n", "\(r2)")
            h.expectNothingLeft(id2)

            let noUTS = try Bundle.make(in: h) { c in
                c["linux.sysctl"] = ["kernel.domainname": "skiff.example"]
                c["hostname"] = nil
                c["linux.namespaces"] = (c["linux.namespaces"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != "uts" }
            }
            let check = h.skiff("check", "-b", noUTS.path)
            #expect(check.status != 0, "check accepted what create refuses: \(check)")
            #expect(check.stdout.contains("kernel.domainname") || check.stderr.contains("kernel.domainname"), "\(check)")
            let id3 = h.newID()
            let r3 = h.skiff("create", "-b", noUTS.path, id3)
            #expect(r3.status == 1 && r3.stderr.contains("is not in a separate kernel namespace"), "\(r3)")
            h.expectNothingLeft(id3)
        }

        /// Socket activation: with LISTEN_PID = the runtime's pid, its LISTEN_FDS fds reach the
        /// container at 3… with LISTEN_FDS=n and LISTEN_PID=1; with another pid, nothing.
        @Test func listenFdsPassThrough() throws {
            let h = try Harness()
            let data = h.path("fd3.txt")
            try writeFile(data, "socket-activated\n")
            let bundle = try Bundle.make(in: h) { c in
                c.shell("echo fds=$LISTEN_FDS pid=$LISTEN_PID; cat <&3")
            }
            let id = h.newID()
            // exec keeps the shell's pid ($$) for skiff.
            let r = h.sh("exec 3<\(data); LISTEN_FDS=1 LISTEN_PID=$$ exec \(Paths.binary) --root \(h.root) run -b \(bundle.path) \(id)")
            #expect(r.status == 0, "\(r)")
            #expect(r.stdout == "fds=1 pid=1\nsocket-activated\n", "\(r)")
            h.expectNothingLeft(id)

            let id2 = h.newID()
            let other = h.sh("exec 3<\(data); LISTEN_FDS=1 LISTEN_PID=1 exec \(Paths.binary) --root \(h.root) run -b \(bundle.path) \(id2)")
            #expect(other.stdout.hasPrefix("fds= pid=\n"), "\(other)")
            #expect(!other.stdout.contains("socket-activated"), "\(other)")
            h.expectNothingLeft(id2)
        }

        /// SCMP_ACT_NOTIFY for write, or as the default action, is refused as runc does (the
        /// agent would get the runtime's own writes before it has the fd).
        @Test func seccompNotifyRefusals() throws {
            let h = try Harness()
            let cases: [([String: Any], String)] = [
                (["defaultAction": "SCMP_ACT_ALLOW", "listenerPath": h.path("agent.sock"),
                  "syscalls": [["names": ["mkdir", "write"], "action": "SCMP_ACT_NOTIFY"]]],
                 "SCMP_ACT_NOTIFY cannot be used for the write syscall"),
                (["defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": h.path("agent.sock")],
                 "SCMP_ACT_NOTIFY cannot be used as default action"),
            ]
            for (seccomp, message) in cases {
                let bundle = try Bundle.make(in: h) { c in c["linux.seccomp"] = seccomp }
                let id = h.newID()
                let r = h.skiff("create", "-b", bundle.path, id)
                #expect(r.status == 1, "\(r)")
                #expect(r.stderr.contains(message) && r.stderr.contains("linux.seccomp"), "\(r)")
                h.expectNothingLeft(id)
            }
        }

        static let enosysProbe = #"""
        #include <errno.h>
        #include <stdio.h>
        #include <string.h>
        #include <unistd.h>
        #include <sys/syscall.h>
        int main(void) {
            long r = syscall(1000);
            int unknown = r < 0 ? errno : 0;
            r = syscall(SYS_mkdir, "/probe-dir", 0755);
            int listed = r < 0 ? errno : 0;
            printf("newer=%s denied=%s\n", strerror(unknown), strerror(listed));
            return 0;
        }
        """#

        /// runc's -ENOSYS stub: with a deny-by-default profile, a syscall newer than every one
        /// the profile names gets ENOSYS (so libc falls back); others get the default errno.
        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/gcc")))
        func seccompStubReturnsEnosysForNewerSyscalls() throws {
            let h = try Harness()
            let allowed = ["read", "write", "close", "fstat", "newfstatat", "mmap", "mprotect", "munmap", "brk",
                           "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "ioctl", "execve", "execveat", "exit",
                           "exit_group", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64",
                           "getrandom", "readlinkat", "uname", "openat", "fcntl", "futex", "getpid", "close_range",
                           "dup2", "dup3", "lseek", "capget", "capset", "prctl", "setgroups", "setuid", "setgid",
                           "setresuid", "setresgid", "chdir", "fchdir", "umask", "getcwd", "statfs", "fstatfs"]
            let bundle = try Bundle.make(in: h) { c in
                c.args = ["/enosys-probe"]
                c["linux.seccomp"] = ["defaultAction": "SCMP_ACT_ERRNO",
                                      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                                      "syscalls": [["names": allowed, "action": "SCMP_ACT_ALLOW"]]]
            }
            let source = h.path("probe.c")
            try writeFile(source, Self.enosysProbe)
            let cc = h.sh("gcc -static -O2 -x c -o \(bundle.rootfs)/enosys-probe \(source)")
            try #require(cc.status == 0, "\(cc)")
            let id = h.newID()
            let r = h.run(bundle, id: id)
            #expect(r.status == 0, "\(r)")
            #expect(r.stdout == "newer=Function not implemented denied=Operation not permitted\n", "\(r)")
            h.expectNothingLeft(id)

            // An ENOSYS default already says it: no stub; ALLOW by default: none either.
            let allowing = try Bundle.make(in: h) { c in
                c.args = ["/enosys-probe"]
                c["root.readonly"] = false
                c["linux.seccomp"] = ["defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                                      "syscalls": [["names": ["mkdir"], "action": "SCMP_ACT_ERRNO"]]]
            }
            _ = h.sh("cp \(bundle.rootfs)/enosys-probe \(allowing.rootfs)/enosys-probe")
            let id2 = h.newID()
            let r2 = h.run(allowing, id: id2)
            #expect(r2.stdout == "newer=Function not implemented denied=Operation not permitted\n", "\(r2)")
            h.expectNothingLeft(id2)
        }

        /// runc 1.1 warns when the container's cgroup already has processes.
        @Test func warnsAboutANonEmptyCgroup() throws {
            let h = try Harness()
            let shared = "/skiff-it-shared-\(UInt32.random(in: 0..<UInt32.max))"
            let bundle = try Bundle.make(in: h) { c in
                c.args = ["sleep", "30"]
                c["linux.cgroupsPath"] = shared
            }
            let (first, firstCreate) = h.create(bundle)
            #expect(!firstCreate.stderr.contains("not empty"), "\(firstCreate)")
            #expect(h.skiff("start", first).status == 0)
            let (second, secondCreate) = h.create(bundle)
            #expect(secondCreate.stderr.contains("container's cgroup is not empty: 1 process(es) found"), "\(secondCreate)")
            #expect(h.skiff("delete", "--force", second).status == 0)
            #expect(h.skiff("delete", "--force", first).status == 0)
            h.expectNothingLeft(first)
            h.expectNothingLeft(second)
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
                rmdir("/sys/fs/cgroup/\(entry)\(shared)")
            }
        }

        /// `exec --cgroup [controllers:]path` runs the process in an existing sub-cgroup.
        @Test func execIntoASubCgroup() throws {
            let h = try Harness()
            let bundle = try Bundle.make(in: h) { c in c.args = ["sleep", "30"] }
            let (id, _) = h.create(bundle)
            #expect(h.skiff("start", id).status == 0)
            let pid = h.pid(id)
            // The container's memory and pids cgroups (v1).
            let lines = (readFile("/proc/\(pid)/cgroup") ?? "").split(separator: "\n")
            var made: [String] = []
            for controller in ["memory", "pids"] {
                guard let line = lines.first(where: { $0.split(separator: ":", maxSplits: 2).dropFirst().first?.split(separator: ",").contains(Substring(controller)) ?? false }),
                      let path = line.split(separator: ":", maxSplits: 2).last else { continue }
                let dir = "/sys/fs/cgroup/\(controller)\(path)/sub"
                if mkdir(dir, 0o755) == 0 { made.append(controller) }
            }
            // Only v1 hierarchies are tried (a v2 sub-cgroup would need the container's own
            // cgroup to be free of processes): nothing to check on a v2-only host.
            guard !made.isEmpty else { return }
            let r = h.skiff(args: ["exec", "--cgroup", made.joined(separator: ",") + ":sub", id, "cat", "/proc/self/cgroup"])
            #expect(r.status == 0, "\(r)")
            for controller in made {
                let line = r.stdout.split(separator: "\n").first { $0.contains(":\(controller):") } ?? ""
                #expect(line.hasSuffix("/sub"), "\(controller): \(r.stdout)")
            }
            let unknown = h.skiff("exec", "--cgroup", "nope:sub", id, "true")
            #expect(unknown.status != 0 && unknown.stderr.contains("unknown controller nope"), "\(unknown)")
            let outside = h.skiff("exec", "--cgroup", "\(made[0]):../x", id, "true")
            #expect(outside.status != 0 && outside.stderr.contains("is not a sub cgroup path"), "\(outside)")
            let missing = h.skiff("exec", "--cgroup", "\(made[0]):absent", id, "true")
            #expect(missing.status != 0, "\(missing)")
            #expect(h.skiff("delete", "--force", id).status == 0)
            h.expectNothingLeft(id)
        }

        /// v1 cpuset: an existing parent (a pod cgroup someone else made) with empty cpus and
        /// mems is filled from its ancestors, at create and before update (runc's
        /// cpusetEnsureParent); without it init cannot join (ENOSPC).
        @Test(.enabled(if: FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cpuset/cpuset.cpus")))
        func cpusetParentIsFilledFromItsAncestors() throws {
            let h = try Harness()
            let pod = "/skiff-it-pod-\(UInt32.random(in: 0..<UInt32.max))"
            let podDir = "/sys/fs/cgroup/cpuset" + pod
            try #require(mkdir(podDir, 0o755) == 0)
            defer { rmdir(podDir) }
            #expect((readFile(podDir + "/cpuset.cpus") ?? "x").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
                    "a new v1 cpuset starts empty")
            let bundle = try Bundle.make(in: h) { c in
                c.args = ["sleep", "30"]
                c["linux.cgroupsPath"] = pod + "/ctr"
            }
            let (id, create) = h.create(bundle)
            #expect(create.status == 0, "\(create)")
            let rootCpus = (readFile("/sys/fs/cgroup/cpuset/cpuset.cpus") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            #expect((readFile(podDir + "/cpuset.cpus") ?? "").trimmingCharacters(in: .whitespacesAndNewlines) == rootCpus)
            #expect(!(readFile(podDir + "/cpuset.mems") ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
            #expect(h.skiff("start", id).status == 0)
            let u = h.skiff("update", "--cpuset-cpus", "0", id)
            #expect(u.status == 0, "\(u)")
            #expect(readFile(podDir + "/ctr/cpuset.cpus") == "0\n")
            #expect(h.skiff("delete", "--force", id).status == 0)
            h.expectNothingLeft(id)
        }
    }
}
