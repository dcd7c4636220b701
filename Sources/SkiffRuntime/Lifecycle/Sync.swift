import Glibc
import SkiffSpec
import SkiffSystem

/// The parent ↔ init handshake during create, over a SOCK_SEQPACKET pair (one message per
/// packet):
///
///     parent                                   init
///     clone (into the cgroup2 directory) ────▶ (pdeathsig, not dumpable), new network namespace
///     v1 cgroups
///     .join ─────────────────────────────────▶ joins the v1 cgroups (writes 0 to tasks)
///     limits, uid/gid maps
///     .mountSource(i) + fd, one per bind ────▶ (new user namespace: sources opened as the host)
///     .go ───────────────────────────────────▶ join namespaces, mounts, devices
///          ◀─────────────────────────────────── .mountsReady
///     prestart + createRuntime hooks
///     .hooksDone ────────────────────────────▶ createContainer hooks, pivot_root, process setup
///          ◀─────────────────────────────────── .ready   (or .failed(message) at any point)
///     (state.json written while init mounts)
///     publish state.json, pid file
///     .commit ───────────────────────────────▶ clear pdeathsig
///          ◀─────────────────────────────────── .committed; init blocks on exec.fifo
enum SyncMessage: Equatable {
    case join, go, mountsReady, hooksDone, ready, commit, committed
    /// Carries the seccomp user-notification fd (SCM_RIGHTS) for the listener.
    case seccompFD
    /// Carries a bind mount's source (SCM_RIGHTS), opened by the parent as the host's user
    /// in init's mount namespace, for mounts[index].
    case mountSource(Int)
    case failed(String)

    var bytes: [UInt8] {
        switch self {
        case .join: [0x6a]
        case .go: [0x67]
        case .mountsReady: [0x6d]
        case .hooksDone: [0x68]
        case .ready: [0x72]
        case .commit: [0x63]
        case .committed: [0x43]
        case .seccompFD: [0x73]
        case .mountSource(let index): [0x6f] + Array(String(index).utf8)
        case .failed(let text): [0x65] + Array(text.utf8)
        }
    }

    init?(_ bytes: [UInt8]) {
        guard let tag = bytes.first else { return nil }
        switch tag {
        case 0x6a: self = .join
        case 0x67: self = .go
        case 0x6d: self = .mountsReady
        case 0x68: self = .hooksDone
        case 0x72: self = .ready
        case 0x63: self = .commit
        case 0x43: self = .committed
        case 0x73: self = .seccompFD
        case 0x6f:
            guard let index = Int(String(decoding: bytes.dropFirst(), as: UTF8.self)), index >= 0 else { return nil }
            self = .mountSource(index)
        case 0x65: self = .failed(String(decoding: bytes.dropFirst(), as: UTF8.self))
        default: return nil
        }
    }
}

/// Every wait between create and init has a deadline (a peer that never answers — init stuck
/// in a frozen cgroup — must not hang create): `stepSeconds` when only skiff's own code runs
/// in between, plus the hooks' timeouts when hooks run there. A hook without a timeout may
/// run as long as it likes (runtime-spec), so a wait spanning one has no deadline; the parent
/// still gives up when the container's cgroup gets frozen (`stalled`). (Waits without
/// `within` have none: `exec --ignore-paused` waits for the container to be resumed.)
struct SyncChannel {
    let fd: FD
    /// Asked about once a second while waiting: a reason to give up (nil: go on waiting).
    var stalled: (() -> String?)? = nil

    init(fd: FD, stalled: (() -> String?)? = nil) {
        self.fd = fd
        self.stalled = stalled
    }

    static let stepSeconds = 60

    /// stepSeconds plus the timeouts of the hooks run meanwhile; nil (no deadline) when one
    /// of them has none, or they add up to more than a year.
    static func deadline(_ spec: Spec, hooks kinds: [HookRunner.Kind]) -> Int? {
        let year = 366 * 24 * 3600
        var total = stepSeconds
        for kind in kinds {
            for hook in HookRunner.hooks(spec, kind) {
                guard let t = hook.timeout, t > 0, t < year, total < year else { return nil }
                total += t
            }
        }
        return total < year ? total : nil
    }

    func send(_ message: SyncMessage) throws(RuntimeError) {
        do { try fd.write(message.bytes) } catch { throw RuntimeError("sync: \(error)") }
    }

    /// nil when the peer closed its end (init died, or the parent went away).
    func receive(within seconds: Int? = nil) throws(RuntimeError) -> SyncMessage? {
        try receiveWithFD(within: seconds).message
    }

    /// Blocks until a message is there, at most `seconds` (nil: no limit), asking `stalled`
    /// about once a second.
    private func awaitMessage(within seconds: Int?) throws(RuntimeError) {
        let start = Clock.monotonicMilliseconds()
        while true {
            var p = pollfd(fd: fd.raw, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, 1000)
            if r > 0 { return }
            if r < 0 && currentErrno() != EINTR { throw RuntimeError("sync: poll: \(SystemError.message(currentErrno()))") }
            if let reason = stalled?() { throw RuntimeError(reason) }
            if let seconds, Clock.monotonicMilliseconds() - start >= Int64(seconds) * 1000 {
                throw RuntimeError("sync: no answer from the other side within \(seconds)s")
            }
        }
    }

    /// A message and the fd that came with it (SCM_RIGHTS), if any.
    func receiveWithFD(within seconds: Int? = nil) throws(RuntimeError) -> (message: SyncMessage?, fd: FD?) {
        try awaitMessage(within: seconds)
        let got: (bytes: [UInt8], fd: FD?)
        do { got = try Terminal.receiveFD(fd, max: 65536) } catch { throw RuntimeError("sync: \(error)") }
        if got.bytes.isEmpty { got.fd?.close(); return (nil, nil) }
        guard let message = SyncMessage(got.bytes) else {
            got.fd?.close()
            throw RuntimeError("sync: unexpected message")
        }
        return (message, got.fd)
    }

    func send(_ message: SyncMessage, passing passed: FD) throws(RuntimeError) {
        do { try Terminal.sendFD(fd, passed, name: String(decoding: message.bytes, as: UTF8.self)) } catch {
            throw RuntimeError("sync: \(error)")
        }
    }

    func expect(_ wanted: SyncMessage, within seconds: Int? = nil) throws(RuntimeError) {
        guard let got = try receive(within: seconds) else { throw RuntimeError("sync: peer went away") }
        if case .failed(let text) = got { throw RuntimeError(text) }
        if got != wanted { throw RuntimeError("sync: expected \(wanted), got \(got)") }
    }
}
