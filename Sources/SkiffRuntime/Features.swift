import SkiffSpec
import SkiffSystem

/// The OCI features document (runtime-spec features.md) for `skiff features`.
public enum Features {
    public static func document() -> JSONValue {
        let caps = Spec.knownCapabilities.prefix(Capabilities.lastCap + 1).map { JSONValue.string($0) }
        let layout = CgroupLayout.host()
        let obj: [(String, JSONValue)] = [
            ("ociVersionMin", .string("1.0.0")),
            ("ociVersionMax", .string(SpecVersion.current)),
            ("hooks", .array(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"].map { .string($0) })),
            ("mountOptions", .array(MountOptions.known.map { .string($0) })),
            ("linux", object([
                ("namespaces", .array(["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"].map { .string($0) })),
                ("capabilities", .array(Array(caps))),
                ("cgroup", object([
                    ("v1", .bool(layout.kind == .v1 || layout.kind == .hybrid)),
                    ("v2", .bool(true)),
                    ("systemd", .bool(true)),
                    ("systemdUser", .bool(false)),
                    ("rdma", .bool(false)),
                ])),
                ("seccomp", object([
                    ("enabled", .bool(true)),
                    ("actions", .array(SeccompPlan.knownActions.map { .string($0) })),
                    ("operators", .array(SeccompPlan.knownOperators.map { .string($0) })),
                    ("archs", .array(Spec.knownSeccompArchitectures.map { .string($0) })),
                    ("knownFlags", .array(SeccompPlan.knownFlags.map { .string($0) })),
                    ("supportedFlags", .array(SeccompPlan.supportedFlags.map { .string($0) })),
                ])),
                ("apparmor", object([("enabled", .bool(false))])),
                ("selinux", object([("enabled", .bool(false))])),
                ("intelRdt", object([("enabled", .bool(false))])),
                ("mountExtensions", object([("idmap", object([("enabled", .bool(true))]))])),
            ])),
            ("annotations", object([
                ("org.opencontainers.runc.checkpoint.enabled", .string("true")),
                ("run.skiff.version", .string("0.1.0")),
            ])),
        ]
        return object(obj)
    }

    static func object(_ pairs: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject(pairs))
    }
}
