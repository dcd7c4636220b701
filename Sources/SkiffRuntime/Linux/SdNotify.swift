import Glibc
import SkiffSystem

/// NOTIFY_SOCKET as runc does it: a container started under systemd (or conmon's sd-notify
/// mode) gets its own notify socket at /run/notify/notify.sock, backed by
/// <state>/notify/notify.sock on the host; `start` waits there for READY=1 and passes it on
/// to the caller's NOTIFY_SOCKET with MAINPID set to the container's init.
enum SdNotify {
    static let containerDir = "/run/notify"
    static let containerSocket = "/run/notify/notify.sock"

    /// The caller's socket, if it asked for sd_notify.
    static var callerSocket: String? {
        guard let path = ProcessControl.getenv("NOTIFY_SOCKET"), !path.isEmpty else { return nil }
        return path
    }
    static var requested: Bool { callerSocket != nil }

    static func mount(stateDir: String, index: Int) -> MountOp {
        MountOp(index: index, source: stateDir + "/notify", destination: containerDir, type: "bind",
                flags: MountFlags.bind | MountFlags.rec | MountFlags.nosuid | MountFlags.nodev | MountFlags.noexec,
                propagation: [], recursiveSet: 0, recursiveClear: 0, data: "")
    }

    static func prepare(stateDir: String) throws(RuntimeError) {
        do { try FileSystem.mkdir(stateDir + "/notify", mode: 0o755) } catch {
            throw RuntimeError("NOTIFY_SOCKET: \(error)")
        }
    }

    /// Binds the container's socket when create prepared one and the caller wants READY.
    static func listen(stateDir: String) throws(RuntimeError) -> FD? {
        guard callerSocket != nil, FileSystem.isDirectory(stateDir + "/notify") else { return nil }
        do { return try Datagram.bind(stateDir + "/notify/notify.sock") } catch {
            throw RuntimeError("NOTIFY_SOCKET: \(error)")
        }
    }

    /// Waits for READY=1 (or init's exit) and forwards it with MAINPID. `initPidFD` is the
    /// caller's (not closed here); without one, `initAlive` is polled, so a container that
    /// exits without READY=1 ends the wait either way.
    static func forwardReady(from socket: FD, initPidFD: FD?, mainPid: Int32, initAlive: () -> Bool) {
        guard let caller = callerSocket else { return }
        while true {
            var fds = [pollfd(fd: socket.raw, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: initPidFD?.raw ?? -1, events: Int16(POLLIN), revents: 0)]
            let r = poll(&fds, 2, initPidFD == nil ? 100 : -1)
            if r < 0 && currentErrno() != EINTR { return }
            if fds[0].revents != 0, let data = try? socket.read(max: 4096) {
                let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
                if lines.contains(where: { $0 == "READY=1" }) {
                    try? Datagram.send("READY=1\nMAINPID=\(mainPid)\n", to: caller)
                    return
                }
                continue
            }
            if fds[1].revents != 0 { return }
            if initPidFD == nil && !initAlive() { return }
        }
    }
}

/// systemd socket activation (sd_listen_fds), as runc does it for create and run: when
/// LISTEN_PID is the runtime's own pid, its LISTEN_FDS fds (from 3) pass to the container's
/// process at the same numbers, before any --preserve-fds ones, with LISTEN_FDS=n and
/// LISTEN_PID=1 added to its environment.
enum SocketActivation {
    static func listenFds() -> Int {
        guard let pid = ProcessControl.getenv("LISTEN_PID").flatMap({ Int32($0) }), pid == ProcessControl.pid,
              let n = ProcessControl.getenv("LISTEN_FDS").flatMap({ Int($0) }), n > 0, n <= 65536 else { return 0 }
        return n
    }
}
