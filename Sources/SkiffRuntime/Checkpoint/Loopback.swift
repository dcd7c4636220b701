import Glibc
import SkiffSystem

/// The loopback interface of a process's network namespace. criu creates the network namespace
/// empty (runc's empty_ns always has CLONE_NEWNET), so lo comes back down; checkpoint records
/// whether it was up and restore brings it up again before criu restores the sockets (an
/// established loopback connection needs 127.0.0.1).
enum Loopback {
    /// Runs `body` in the network namespace of `pid`, then returns to ours.
    static func inNetworkNamespace<T>(of pid: Int32, _ body: () -> T?) -> T? {
        guard let own = try? FileSystem.open("/proc/self/ns/net", O_RDONLY) else { return nil }
        defer { own.close() }
        guard let target = try? FileSystem.open("/proc/\(pid)/ns/net", O_RDONLY) else { return nil }
        defer { target.close() }
        do { try ProcessControl.setns(target, ProcessControl.newNet, path: "/proc/\(pid)/ns/net") } catch { return nil }
        let result = body()
        try? ProcessControl.setns(own, ProcessControl.newNet, path: "own network namespace")
        return result
    }

    static func flags(_ sock: Int32, _ request: inout ifreq) -> Int32? {
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { raw in
            for (i, b) in "lo".utf8.enumerated() { raw[i] = b }
        }
        guard ioctl(sock, UInt(SIOCGIFFLAGS), &request) == 0 else { return nil }
        return Int32(request.ifr_ifru.ifru_flags)
    }

    /// Whether lo is up in the namespace of `pid` (nil: unknown).
    static func isUp(pid: Int32) -> Bool? {
        inNetworkNamespace(of: pid) { () -> Bool? in
            let sock = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard sock >= 0 else { return nil }
            defer { close(sock) }
            var request = ifreq()
            guard let f = flags(sock, &request) else { return nil }
            return f & Int32(IFF_UP) != 0
        }
    }

    /// Brings lo up in the namespace of `pid`; false when it could not.
    @discardableResult
    static func bringUp(pid: Int32) -> Bool {
        inNetworkNamespace(of: pid) { () -> Bool? in bringUpHere() == 0 } ?? false
    }

    /// Brings lo up in the calling process's network namespace (init, in a new one: runc's
    /// "loopback" network, which runc 1.1.5 sets up for every new network namespace); false when
    /// it could not: 0 or the errno of the failed call.
    static func bringUpHere() -> Int32 {
        let sock = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard sock >= 0 else { return currentErrno() }
        defer { close(sock) }
        var request = ifreq()
        guard let f = flags(sock, &request) else { return currentErrno() }
        if f & Int32(IFF_UP) != 0 { return 0 }
        request.ifr_ifru.ifru_flags = Int16(truncatingIfNeeded: f | Int32(IFF_UP) | Int32(IFF_RUNNING))
        return ioctl(sock, UInt(SIOCSIFFLAGS), &request) == 0 ? 0 : currentErrno()
    }
}
