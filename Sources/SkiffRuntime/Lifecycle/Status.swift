/// Container status as runc reports it (never the spec's "creating": create holds the lock).
public enum ContainerStatus: String, Sendable {
    case created, running, paused, stopped

    public var canStart: Bool { self == .created }
    public var canKill: Bool { self != .stopped }
    /// Plain delete: stopped, or created (runc and containerd rely on deleting a created container).
    public var canDeleteWithoutForce: Bool { self == .stopped || self == .created }
    public var canExec: Bool { self == .created || self == .running }
    public var canPause: Bool { self == .created || self == .running }

    /// The error runc prints when `start` meets this status.
    public var startError: String? {
        switch self {
        case .created: nil
        case .running: "cannot start an already running container"
        case .paused: "cannot start a container in the paused state"
        case .stopped: "cannot start a container that has stopped"
        }
    }

    /// Derives the status from what the host shows (runc's refreshState).
    public static func derive(initAlive: Bool, execFifoExists: Bool, frozen: Bool) -> ContainerStatus {
        if !initAlive { return .stopped }
        if frozen { return .paused }
        return execFifoExists ? .created : .running
    }
}
