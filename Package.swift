// swift-tools-version:6.0
// skiff: an OCI container runtime. No package dependencies: see README "Dependencies" for why
// swift-argument-parser and Foundation are not used (start-up time and RSS, runc's flag grammar).
import PackageDescription

// Without the implicit _StringProcessing (Regex) and _Concurrency imports the static binary
// is smaller and start-up pages in less code; skiff uses neither.
let lean: [SwiftSetting] = [
    .unsafeFlags(["-Xfrontend", "-disable-implicit-string-processing-module-import",
                  "-Xfrontend", "-disable-implicit-concurrency-module-import",
                  "-Xfrontend", "-function-sections"]),
]
// The code every invocation runs, laid out together at the start of .text (bench/gen-link-order.sh
// records it with callgrind): fewer pages faulted in, so less RSS and a faster start. lld, because
// its --symbol-ordering-file also moves the sections of C code built without -ffunction-sections
// (glibc: malloc, start-up, string functions), which gold's --section-ordering-file cannot name.
let linkOrder = Context.packageDirectory + "/bench/link-order.txt"
// Swift's local helpers without a symbol, which the order file cannot name, go together too.
let linkScript = Context.packageDirectory + "/bench/link-order.ld"

let package = Package(
    name: "skiff",
    products: [
        .executable(name: "skiff", targets: ["skiff"]),
    ],
    targets: [
        // Thin CLI: argument parsing, output, exit codes. One file per verb.
        .executableTarget(
            name: "skiff",
            dependencies: ["SkiffRuntime", "SkiffSpec"],
            swiftSettings: lean,
            // sk_entry (CSkiffSys/faultaround.c) maps the image page by page, then runs _start.
            linkerSettings: [.unsafeFlags(["-static-executable", "-use-ld=lld",
                                           "-Xlinker", "--symbol-ordering-file=" + linkOrder,
                                           "-Xlinker", "--no-warn-symbol-ordering",
                                           "-Xlinker", "--script=" + linkScript,
                                           "-Xlinker", "--entry=sk_entry"])],
            // BuildInfo.commit: the git commit, for --version (Plugins/BuildInfo).
            plugins: ["BuildInfo"],
        ),
        // Writes BuildInfo.swift (the git commit of the tree, "unknown" outside a checkout) when
        // git's HEAD, index or branch ref changes; runs /bin/sh and git, no package dependency.
        .plugin(name: "BuildInfo", capability: .buildTool()),
        // Lifecycle, state machine, one file per spec section (plan + apply).
        .target(name: "SkiffRuntime", dependencies: ["SkiffSpec", "SkiffSystem"], swiftSettings: lean),
        // Pure config/state/features model; JSON; validation with JSON paths. No syscalls.
        .target(name: "SkiffSpec", swiftSettings: lean),
        // The only Swift layer over C and Glibc.
        .target(name: "SkiffSystem", dependencies: ["CSkiffSys", "CSeccomp", "CCap"], swiftSettings: lean),
        // Raw syscalls and the code between clone and exec.
        .target(name: "CSkiffSys", cSettings: [.unsafeFlags(["-ffunction-sections"])]),
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CCap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),

        // Shared by the test targets that drive the built binary: where it and spec-fixtures
        // are, the rootless test user, child processes with a deadline (ChildProcess).
        .target(name: "SkiffTestSupport", path: "Tests/SkiffTestSupport"),
        .testTarget(name: "SkiffSpecTests", dependencies: ["SkiffSpec"]),
        .testTarget(name: "SkiffRuntimeTests", dependencies: ["SkiffRuntime", "SkiffSpec", "SkiffSystem"]),
        // Root integration tests: drive the built binary ($SKIFF_BIN, else .build/release or
        // .build/debug skiff) on spec-fixtures bundles. No dependency on the executable target:
        // it links statically and cannot be linked into a test bundle.
        .testTarget(name: "SkiffIntegrationTests", dependencies: ["SkiffTestSupport"]),
        .testTarget(name: "SkiffConformanceTests", dependencies: ["SkiffTestSupport"]),
        // Root engine tests: podman, containerd (ctr, CRI), dockerd and buildah using $SKIFF_BIN as
        // their OCI runtime. cri/ holds the CRI client (python, run by the tests), not Swift.
        .testTarget(name: "SkiffEngineTests", dependencies: ["SkiffTestSupport"], exclude: ["cri"]),
    ]
)
