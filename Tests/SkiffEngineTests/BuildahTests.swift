// buildah building images with skiff as the OCI runtime for RUN steps (`--isolation oci`,
// `--runtime SKIFF`): buildah calls `skiff create --bundle B --pid-file B/pid ID`, `start`,
// `state` and `delete` directly, with no conmon.
//
// Private world: storage and run directories under a temp directory, a containers.conf with
// cgroupfs, and the busybox image loaded with `buildah pull docker-archive:…`.
import Foundation
import Glibc
import Testing

struct BuildahWorld: EngineWorld {
    @TaskLocal static var current: BuildahWorld?
    static var slot: TaskLocal<BuildahWorld?> { $current }

    let dir: String
    var env: [String: String] { ["CONTAINERS_CONF": dir + "/containers.conf", "TMPDIR": dir + "/tmp"] }
    var globalArgs: [String] { ["--root", dir + "/storage", "--runroot", dir + "/run"] }
    static let runtimeArgs = ["--runtime", EnginePaths.skiff, "--isolation", "oci"]
    /// For `bud` (buildah run has no --ulimit and sets no rlimits by default).
    static let ulimits = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]

    static func start() async throws -> BuildahWorld {
        let dir = try Scratch.makeDir("buildah")
        let world = BuildahWorld(dir: dir)
        do {
            try """
                [engine]
                cgroup_manager = "cgroupfs"
                events_logger = "file"
                """.write(toFile: dir + "/containers.conf", atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: true)
            let image = try Scratch.buildImage(into: dir)
            let pull = world.buildah(["pull", "-q", "docker-archive:\(image)"], timeout: 120)
            guard pull.status == 0 else { throw EngineError("buildah pull docker-archive failed: \(pull)") }
        } catch {
            await world.stop()
            throw error
        }
        return world
    }

    func stop() async {
        _ = buildah(["rm", "--all"], timeout: 60)
        _ = buildah(["rmi", "--all", "--force"], timeout: 60)
        Scratch.remove(dir)
    }

    func buildah(_ args: [String], timeout: TimeInterval = 120) -> CmdResult {
        run(["buildah"] + globalArgs + args, env: env, timeout: timeout, workDir: dir)
    }

    /// A build context directory holding `Containerfile` with `text`.
    func context(_ text: String) throws -> String {
        let ctx = dir + "/" + uniqueName("ctx")
        try FileManager.default.createDirectory(atPath: ctx, withIntermediateDirectories: true)
        try text.write(toFile: ctx + "/Containerfile", atomically: true, encoding: .utf8)
        return ctx
    }
}

private let buildahBinaries = ["buildah", "script"]

@Suite(
    "buildah on skiff",
    .serialized,
    .enabled(if: EnginePaths.skipReason(engine: "buildah", binaries: buildahBinaries) == nil,
             Comment(rawValue: EnginePaths.skipReason(engine: "buildah", binaries: buildahBinaries) ?? "")),
    EngineScope<BuildahWorld>()
)
struct BuildahTests {
    @Test("bud: RUN steps execute on skiff and their changes land in the image")
    func build() throws {
        let w = try currentWorld(BuildahWorld.self)
        let ctx = try w.context("""
            FROM \(EngineImage.ref)
            RUN echo built-with-skiff > /built && cat /built
            RUN test "$(cat /built)" = built-with-skiff && mkdir -p /data && echo layer2 > /data/f
            """)
        let tag = "localhost/built:\(getpid())"
        let bud = w.buildah(["bud"] + BuildahWorld.runtimeArgs + BuildahWorld.ulimits + ["-t", tag, ctx])
        #expect(bud.status == 0, "\(bud)")
        #expect(bud.stdout.contains("built-with-skiff"), "\(bud)")

        // Run the result (on skiff too) and read both layers back.
        let from = w.buildah(["from", "--pull=never", tag])
        try #require(from.status == 0, "\(from)")
        let container = from.lines.last ?? ""
        defer { _ = w.buildah(["rm", container]) }
        let read = w.buildah(["run"] + BuildahWorld.runtimeArgs + [container, "--", "cat", "/built", "/data/f"])
        #expect(read.status == 0, "\(read)")
        #expect(read.lines == ["built-with-skiff", "layer2"], "\(read)")
    }

    @Test("bud: a failing RUN fails the build with the step's exit status")
    func failingRun() throws {
        let w = try currentWorld(BuildahWorld.self)
        let three = w.buildah(["bud"] + BuildahWorld.runtimeArgs + BuildahWorld.ulimits
                              + [try w.context("FROM \(EngineImage.ref)\nRUN exit 3\n")])
        #expect(three.status == 3, "\(three)")
        #expect(three.stderr.contains("exit status 3"), "\(three)")

        let missing = w.buildah(["bud"] + BuildahWorld.runtimeArgs + BuildahWorld.ulimits
                                + [try w.context("FROM \(EngineImage.ref)\nRUN [\"/no-such-binary\"]\n")])
        #expect(missing.status != 0, "\(missing)")
        #expect(missing.stderr.contains("no such file or directory") || missing.stderr.contains("not found"), "\(missing)")
    }

    @Test("buildah run: output, exit status, env and workdir")
    func runCommand() throws {
        let w = try currentWorld(BuildahWorld.self)
        let from = w.buildah(["from", "--pull=never", EngineImage.ref])
        try #require(from.status == 0, "\(from)")
        let container = from.lines.last ?? ""
        defer { _ = w.buildah(["rm", container]) }
        _ = w.buildah(["config", "--env", "FOO=bar", "--workingdir", "/tmp", container])
        let r = w.buildah(["run"] + BuildahWorld.runtimeArgs
                          + [container, "--", "sh", "-c", "echo $FOO $(pwd); exit 2"])
        #expect(r.status == 2, "\(r)")
        #expect(r.out == "bar /tmp", "\(r)")
    }
}
