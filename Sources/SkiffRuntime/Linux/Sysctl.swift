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

    static func applySysctl(_ sysctl: [String: String], namespaces: NamespacePlan) throws(RuntimeError) {
        for key in sysctl.keys.sorted() {
            let field = "config.json: linux.sysctl[\"\(key)\"]"
            guard let ns = sysctlNamespace(key) else {
                throw RuntimeError("\(field): sysctl is not in a separate kernel namespace")
            }
            guard namespaces.has(ns) else {
                throw RuntimeError("\(field): sysctl needs a \(ns) namespace (linux.namespaces has none)")
            }
            do {
                try writeSysctl(key, sysctl[key]!)
            } catch {
                throw RuntimeError("\(field): \(error)")
            }
        }
    }
}
