import Glibc
import SkiffSystem

extension Kernel {
    /// Only sysctls that live in a namespace the container owns may be set (runc's rule):
    /// anything else would change the host.
    static func sysctlNamespace(_ key: String) -> String? {
        let ipc = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
                   "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]
        if ipc.contains(key) || key.hasPrefix("fs.mqueue.") { return "ipc" }
        if key.hasPrefix("net.") { return "network" }
        if key == "kernel.hostname" || key == "kernel.domainname" { return "uts" }
        return nil
    }

    /// runc's rules (libcontainer/configs/validate, sysctl), checked before anything is made:
    /// ipc sysctls need an ipc namespace; net.* need a network namespace that is not the
    /// runtime's own (also when joined by path); kernel.domainname needs a uts namespace;
    /// kernel.hostname is refused with one (it conflicts with the hostname field); anything
    /// else is not namespaced. kernel.domainname is refused too when the config's non-empty
    /// "domainname" field sets another `value` (skiff implements that field; runc 1.1.5 does
    /// not; crun refuses the pair only when the two differ). Returns the problem, as
    /// "config.json: linux.sysctl[…]: …".
    static func sysctlProblem(_ key: String, namespaces: NamespacePlan, domainname: String? = nil, value: String? = nil) -> String? {
        let field = "config.json: linux.sysctl[\"\(key)\"]"
        switch sysctlNamespace(key) {
        case "ipc"?:
            if namespaces.has("ipc") { return nil }
            return "\(field): sysctl \"\(key)\" is not allowed in the hosts ipc namespace"
        case "network"?:
            guard namespaces.has("network") else {
                return "\(field): sysctl \"\(key)\" not allowed in host network namespace"
            }
            if let join = namespaces.joins.first(where: { $0.type == "network" }) {
                var ours = stat(), theirs = stat()
                guard sk_stat_path(join.path, &theirs) == 0 else {
                    return "\(field): invalid netns path: \(join.path): \(SystemError.message(currentErrno()))"
                }
                if sk_stat_path("/proc/self/ns/net", &ours) == 0 && ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino {
                    return "\(field): sysctl \"\(key)\" not allowed in host network namespace"
                }
            }
            return nil
        case "uts"? where namespaces.has("uts"):
            if key == "kernel.domainname" {
                if (domainname ?? "").isEmpty || value == domainname { return nil }
                return "\(field): sysctl \"\(key)\" is not allowed as it conflicts with the OCI \"domainname\" field"
            }
            return "\(field): sysctl \"\(key)\" is not allowed as it conflicts with the OCI \"hostname\" field"
        default:
            return "\(field): sysctl \"\(key)\" is not in a separate kernel namespace"
        }
    }

    /// Every sysctl against `sysctlProblem`, in key order; the first problem is thrown.
    static func validateSysctl(_ sysctl: [String: String], namespaces: NamespacePlan, domainname: String? = nil) throws(RuntimeError) {
        for key in sysctl.keys.sorted() {
            if let problem = sysctlProblem(key, namespaces: namespaces, domainname: domainname, value: sysctl[key]) {
                throw RuntimeError(problem)
            }
        }
    }

    static func applySysctl(_ sysctl: [String: String], namespaces: NamespacePlan) throws(RuntimeError) {
        for key in sysctl.keys.sorted() {
            let field = "config.json: linux.sysctl[\"\(key)\"]"
            guard sysctlNamespace(key) != nil else {
                throw RuntimeError("\(field): sysctl \"\(key)\" is not in a separate kernel namespace")
            }
            do {
                try writeSysctl(key, sysctl[key]!)
            } catch {
                throw RuntimeError("\(field): \(error)")
            }
        }
    }
}
