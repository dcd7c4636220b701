import Glibc
import SkiffSpec
import SkiffSystem

/// The last steps before exec, the same for a container's init and for `exec`: rlimits, the
/// exec trampoline, seccomp when it must come early, no_new_privs, identity, working
/// directory and the console.
enum ProcessSetup {
    /// Returns the trampoline and whether the seccomp filter is already loaded (otherwise the
    /// caller loads it right before exec).
    static func finish(_ plan: ProcessPlan, seccomp: SeccompPlan?, channel: SyncChannel, console: FD?,
                       field: String) throws(RuntimeError) -> (trampoline: FD?, seccompLoaded: Bool) {
        // Before the identity changes (see fixStdioOwnership).
        fixStdioOwnership(uid: plan.uid, console: console)
        try InitProcess.applyRlimits(plan)
        do {
            if let s = plan.scheduler {
                try Scheduling.setAttributes(policy: s.policy, flags: s.flags, nice: s.nice, priority: s.priority,
                                             runtime: s.runtime, deadline: s.deadline, period: s.period)
            }
        } catch { throw RuntimeError("\(field).scheduler: \(error)") }
        do {
            if let io = plan.ioPriority { try Scheduling.setIOPriority(class: io.ioclass, level: io.level) }
        } catch { throw RuntimeError("\(field).ioPriority: \(error)") }
        do {
            if let mask = plan.cpuAffinity { try Scheduling.setAffinity(mask) }
        } catch { throw RuntimeError("\(field).execCPUAffinity: \(error)") }
        // Made before seccomp so a profile without memfd_create still works.
        let trampoline = ProcessControl.makeTrampoline()
        // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it before the
        // capabilities go. With it, load as late as possible, right before exec — except a
        // notify filter, whose fd must reach the parent (then the listener) first.
        let loadEarly = seccomp.map { !plan.noNewPrivileges || $0.usesNotify } ?? false
        if plan.noNewPrivileges {
            do { try ProcessControl.prctl(PR_SET_NO_NEW_PRIVS, 1, what: "PR_SET_NO_NEW_PRIVS") } catch {
                throw RuntimeError("\(field).noNewPrivileges: \(error)")
            }
        }
        if loadEarly, let seccomp, let notify = try seccomp.load() {
            try channel.send(.seccompFD, passing: notify)
            notify.close()
        }
        // The cwd is entered before the identity switch too (runc's finalizeNamespace): a
        // directory only the runtime's user can reach still works for a non-root process.
        // Permission denied now is tried again as the process's user.
        var enteredCwd = false
        do {
            try Mounts.chdir(plan.cwd)
            enteredCwd = true
        } catch {
            if error.errno != EACCES && error.errno != EPERM { throw RuntimeError("\(field).cwd: \(error)") }
        }
        try InitProcess.applyIdentity(plan)
        if !enteredCwd {
            do { try Mounts.chdir(plan.cwd) } catch { throw RuntimeError("\(field).cwd: \(error)") }
        }
        // CVE-2024-21626: the working directory must be inside the container.
        if FileSystem.currentDirectory().hasPrefix("(unreachable)") {
            throw RuntimeError("\(field).cwd: \(plan.cwd) is outside the container")
        }
        if let console {
            do {
                for target in Int32(0)...2 { try console.duplicate(to: target) }
                try Terminal.setControlling(console)
            } catch {
                throw RuntimeError("console: \(error)")
            }
            console.close()
        }
        return (trampoline, loadEarly)
    }

    /// runc's fixStdioPermissions: before the identity changes, the process's stdio (its
    /// console when it has one) is chowned to its uid, keeping the gid (devpts' tty group),
    /// unless the uid already matches or it is /dev/null. Failures (an unmapped id, a
    /// read-only /dev) leave it as it was, as in runc.
    static func fixStdioOwnership(uid: UInt32, console: FD?) {
        var null = stat()
        let haveNull = sk_stat_path("/dev/null", &null) == 0
        for fd in console.map({ [$0] }) ?? [FD(0), FD(1), FD(2)] {
            guard let st = try? fd.stat(), st.st_uid != uid else { continue }
            if haveNull && st.st_rdev == null.st_rdev && st.st_mode & S_IFMT == S_IFCHR { continue }
            try? fd.changeOwner(uid: uid, gid: st.st_gid)
        }
    }
}
