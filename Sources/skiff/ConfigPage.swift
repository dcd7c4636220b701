import SkiffSpec

/// skiff-config(5): config.json as skiff reads it, its extensions and the differences from runc.
/// Prose, not table data; written out by `skiff help --man` with the other pages.
enum ConfigPage {
    /// Sections of plain text; a paragraph starting with "- " is a bullet.
    static var sections: [(String, [String])] {
        [
            ("DESCRIPTION", [
                "An OCI bundle is a directory holding config.json and a root filesystem. skiff reads config.json as the OCI runtime specification describes it (Linux parts), validates all of it before creating anything, and reports each problem with the JSON path of the field at fault, what is wrong and, from skiff check, the section of the specification it breaks: config.json: process.rlimits[2].type: unknown rlimit \"RLIMIT_TEST\".",
                "skiff create --config FILE reads the configuration from another file than <bundle>/config.json; root.path and relative paths still refer to the bundle.",
            ]),
            ("SPECIFICATION VERSION", [
                "skiff implements runtime-spec \(SpecVersion.current): skiff --version, skiff features (ociVersionMax) and the ociVersion of skiff state and skiff list all say so. A config.json whose ociVersion is any 1.x.y version is accepted (features: ociVersionMin 1.0.0); another major version, or a value that is not a semantic version, is refused with the path ociVersion.",
                "Fields of runtime-spec 1.3 that skiff reads: linux.netDevices, linux.memoryPolicy, linux.intelRdt.schemata and enableMonitoring, process.ioPriority, id-mapped mounts (mount options idmap and ridmap, mount uidMappings and gidMappings).",
            ]),
            ("EXTENSIONS", [
                "skiff adds no fields of its own to config.json: a config.json that skiff runs runs under runc and crun too. Unknown keys are ignored, as the specification requires, except that sections of other platforms (windows, solaris, vm, zos, freebsd) are not read.",
                "skiff features reports the annotations run.skiff.version and org.opencontainers.runc.checkpoint.enabled (true: checkpoint and restore drive criu, which must be installed).",
                "skiff check is skiff's own command: it validates a bundle against the specification and against this host without running it.",
            ]),
            ("DIFFERENCES FROM RUNC", [
                "skiff follows runc 1.1.5's command line, state, exit codes and error wording except where the specification asks otherwise or an error can be clearer:",
                "- The default --root is /run/skiff (runc: /run/runc); with --systemd-cgroup a container without linux.cgroupsPath gets the unit skiff-<id>.scope (runc: runc-<id>.scope).",
                "- state and list report as ociVersion the runtime-spec version skiff implements (runc 1.1.5: 1.0.2-dev).",
                "- Invalid configurations are refused with the JSON path; an unknown capability is an error (runc only warns); a capability the host cannot grant is dropped with a warning (runc fails).",
                "- A failing poststart hook is a warning and the remaining hooks run (runc 1.1 kills the container); a failing poststop hook never stops the others.",
                "- start returns once the program has been executed, so poststart hooks really run after it started.",
                "- rootfsPropagation unbindable works; a config without a mount namespace but with mounts is refused instead of mounting on the host.",
                "- SELinux labels and AppArmor profiles on a host without that LSM are errors, not silently dropped.",
                "- Rootless mode keeps the network namespace (runc's rootless spec shares the host's).",
                "- Not supported, with a clear error: running without cgroups (--cgroup-manager disabled), Intel RDT.",
                "- The crun options --cgroup-manager and create --config are accepted, so skiff can stand in for crun too.",
            ]),
            ("FILES", [
                "<bundle>/config.json: the configuration. <root>/<id>/state.json: skiff's state of a container (private to skiff).",
            ]),
        ]
    }

    static func roff() -> String {
        var text = Help.header("skiff-config", 5, "config.json as skiff reads it: specification version, extensions, differences from runc")
        for (title, paragraphs) in sections {
            text += ".SH \(title)\n"
            for p in paragraphs {
                if p.hasPrefix("- ") {
                    text += ".IP \\(bu 2\n" + Help.roff(String(p.dropFirst(2))) + "\n"
                } else {
                    text += ".PP\n" + Help.roff(p) + "\n"
                }
            }
        }
        text += ".SH SEE ALSO\n\\fBskiff\\fR(8), \\fBskiff\\-check\\fR(8), \\fBrunc\\fR(8)\n"
        return text
    }
}
