// A Kubernetes-style pod through containerd's CRI plugin on skiff, with the systemd cgroup
// driver (`SystemdCgroup = true`), as a kubelet on a systemd + cgroup v2 node drives it.
//
// Private world: containerd with the CRI plugin on a socket, root and state under a temp
// directory; its default runtime "runc" (type io.containerd.runc.v2) with the options a node
// uses, except `BinaryName` = skiff (and `Root`, the runtime state directory, kept under the temp
// directory); the busybox image and a "pause" image derived from it (entrypoint `sleep`,
// cri/derive-image.py) imported into the k8s.io namespace, the latter as `sandbox_image`. The
// first pod uses the node's network namespace (no CNI plugin involved) and its own IPC and PID
// namespaces; both pods get a kubelet-style cgroup parent, kubepods-besteffort-pod<uid>.slice.
//
// The CRI calls go through cri/cri.py, a small gRPC client over cri/cri.proto (the subset of
// k8s.io/cri-api runtime/v1 the tests use), compiled for the run with grpc_tools' protoc
// (`cri.py compile`; Debian: python3-grpcio, python3-grpc-tools, python3-protobuf). A second
// pod has a network namespace of its own, set up by a test CNI plugin (cri/cni-plugin.sh: lo
// and a dummy eth0), to check the hostname and UTS namespace the containers share.
//
// Only on a systemd + cgroup v2 host (SystemdHost); scripts/vm/test.sh runs it in the test VM.
import Foundation
import Glibc
import SkiffTestSupport
import Testing

struct CRIWorld: EngineWorld {
    @TaskLocal static var current: CRIWorld?
    static var slot: TaskLocal<CRIWorld?> { $current }

    static let pauseImage = "localhost/pause:skiff"
    static let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
    static var criDir: String { EnginePaths.packageRoot + "/Tests/SkiffEngineTests/cri" }

    let dir: String
    let daemon: ChildProcess
    /// Whether kubepods.slice was already active (a real node's): then the tests leave it be.
    let kubepodsWasActive: Bool

    var socket: String { dir + "/containerd.sock" }
    var gen: String { dir + "/gen" }
    /// skiff's --root for the CRI namespace (the shim adds the namespace to the Root option).
    var skiffRoot: String { dir + "/runc/k8s.io" }

    static func start() async throws -> CRIWorld {
        let dir = try Scratch.makeDir("cri")
        let kubepodsWasActive = SystemdHost.activeState("kubepods.slice") == "active"
        let config = """
            version = 2
            root = "\(dir)/root"
            state = "\(dir)/state"
            [grpc]
              address = "\(dir)/containerd.sock"
            [ttrpc]
              address = "\(dir)/containerd.sock.ttrpc"
            [debug]
              level = "info"
            [metrics]
              address = ""
            [plugins."io.containerd.grpc.v1.cri"]
              sandbox_image = "\(pauseImage)"
              [plugins."io.containerd.grpc.v1.cri".cni]
                bin_dir = "\(dir)/cni/bin"
                conf_dir = "\(dir)/cni/net.d"
              [plugins."io.containerd.grpc.v1.cri".containerd]
                default_runtime_name = "runc"
                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
                  runtime_type = "io.containerd.runc.v2"
                  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
                    BinaryName = "\(EnginePaths.skiff)"
                    Root = "\(dir)/runc"
                    SystemdCgroup = true
            """
        for sub in ["gen", "cni/bin", "cni/net.d", "logs"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
        }
        try config.write(toFile: dir + "/config.toml", atomically: true, encoding: .utf8)
        // The test CNI plugin (cri/cni-plugin.sh) as `loopback` and `skiff-test-net`, for the
        // pods with a network namespace of their own.
        for name in ["loopback", "skiff-test-net"] {
            try FileManager.default.copyItem(atPath: criDir + "/cni-plugin.sh", toPath: dir + "/cni/bin/" + name)
            chmod(dir + "/cni/bin/" + name, 0o755)
        }
        try #"{"cniVersion": "0.4.0", "name": "skiff-test", "plugins": [{"type": "skiff-test-net"}]}"#
            .write(toFile: dir + "/cni/net.d/10-skiff-test.conflist", atomically: true, encoding: .utf8)
        let protoc = run([python, criDir + "/cri.py", "compile", dir + "/gen"], timeout: 120, workDir: dir)
        guard protoc.status == 0 else {
            Scratch.remove(dir)
            throw EngineError("compiling cri.proto failed (python3-grpc-tools installed?): \(protoc)")
        }
        let daemon: ChildProcess
        do {
            daemon = try startProcess(["containerd", "--config", dir + "/config.toml"],
                                      stdoutPath: dir + "/containerd.log", stderrPath: dir + "/containerd.log")
        } catch {
            Scratch.remove(dir)
            throw error
        }
        let world = CRIWorld(dir: dir, daemon: daemon, kubepodsWasActive: kubepodsWasActive)
        do {
            let up = waitUntil(timeout: 30) {
                daemon.poll() == nil && (try? world.call("Version", ["version": "v1"])) != nil
            }
            guard up else {
                let log = (try? String(contentsOfFile: dir + "/containerd.log", encoding: .utf8)) ?? ""
                throw EngineError("containerd's CRI service did not come up: \(log.suffix(3000))")
            }
            let image = try Scratch.buildImage(into: dir)
            let pause = dir + "/pause-image.tar"
            let derive = run([python, criDir + "/derive-image.py", image, pause, pauseImage, "[\"sleep\",\"2147483647\"]"],
                             timeout: 60, workDir: dir)
            guard derive.status == 0 else { throw EngineError("derive-image.py: \(derive)") }
            for tar in [image, pause] {
                let imp = run(["ctr", "--address", world.socket, "--namespace", "k8s.io", "images", "import", tar],
                              timeout: 120, workDir: dir)
                guard imp.status == 0 else { throw EngineError("ctr images import failed: \(imp)") }
            }
            // The CRI plugin learns about imported images from containerd's events.
            let seen = waitUntil(timeout: 30) {
                let r = try? world.call("ImageStatus", ["image": ["image": pauseImage]])
                return ((r?["image"] as? [String: Any])?["id"] as? String)?.isEmpty == false
            }
            guard seen else { throw EngineError("the CRI plugin does not see \(pauseImage)") }
        } catch {
            await world.stop()
            throw error
        }
        return world
    }

    func stop() async {
        if daemon.poll() == nil {
            // What a test left behind: every pod (its containers go with it).
            if let pods = try? call("ListPodSandbox", [:])["items"] as? [[String: Any]] {
                for pod in pods {
                    guard let id = pod["id"] as? String else { continue }
                    _ = try? call("StopPodSandbox", ["pod_sandbox_id": id])
                    _ = try? call("RemovePodSandbox", ["pod_sandbox_id": id])
                }
            }
            for i in run(["ctr", "--address", socket, "--namespace", "k8s.io", "images", "ls", "-q"], timeout: 30, workDir: dir).lines
            where !i.isEmpty {
                _ = run(["ctr", "--address", socket, "--namespace", "k8s.io", "images", "rm", "--sync", i], timeout: 30, workDir: dir)
            }
        }
        daemon.stop(grace: 15)
        // The kubelet removes a pod's slice; here the test does (and kubepods.slice when it
        // made it).
        for slice in podSlices() { _ = run(["systemctl", "stop", slice], timeout: 60, workDir: "/tmp") }
        if !kubepodsWasActive {
            _ = run(["systemctl", "stop", "kubepods-besteffort.slice", "kubepods.slice"], timeout: 60, workDir: "/tmp")
        }
        Scratch.remove(dir)
    }

    /// The pod slices the tests made (their uids start with "skiff").
    func podSlices() -> [String] {
        let units = run(["systemctl", "list-units", "--all", "--plain", "--no-legend", "kubepods-besteffort-podskiff*.slice"],
                        timeout: 30, workDir: "/tmp")
        return units.lines.compactMap { $0.split(separator: " ").first.map(String.init) }.filter { $0.hasSuffix(".slice") }
    }

    /// One CRI call: the reply as a dictionary (proto field names), or the gRPC error.
    func call(_ method: String, _ request: [String: Any]) throws -> [String: Any] {
        guard let reply = try calls([(method, request)]).first else { throw EngineError("\(method): no reply") }
        return try reply.get()
    }

    /// Several CRI calls in order in one client process; one result per call.
    func calls(_ list: [(String, [String: Any])]) throws -> [Result<[String: Any], EngineError>] {
        var input = ""
        for (method, request) in list {
            let body = try JSONSerialization.data(withJSONObject: request)
            input += method + " " + String(decoding: body, as: UTF8.self) + "\n"
        }
        let r = run([Self.python, Self.criDir + "/cri.py", gen, socket, "-"], stdin: input, timeout: 600, workDir: dir)
        guard r.status == 0 else { throw EngineError("cri.py failed: \(r)") }
        let lines = r.lines
        guard lines.count == list.count else { throw EngineError("cri.py: \(list.count) calls, \(lines.count) replies: \(r)") }
        return zip(list, lines).map { call, line in
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                return .failure(EngineError("\(call.0): unreadable reply \(line)"))
            }
            if let error = obj["error"] as? String { return .failure(EngineError("\(call.0): \(error)")) }
            return .success(obj["reply"] as? [String: Any] ?? [:])
        }
    }

    /// The `info` JSON of a verbose PodSandboxStatus or ContainerStatus reply.
    static func verboseInfo(_ reply: [String: Any]) -> [String: Any] {
        guard let info = reply["info"] as? [String: Any], let text = info["info"] as? String,
              let obj = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [:] }
        return obj
    }

    var containerdLog: String { String(((try? String(contentsOfFile: dir + "/containerd.log", encoding: .utf8)) ?? "").suffix(4000)) }
}

/// A pod's CRI configuration, as a kubelet builds it (the subset the tests set).
struct CRIPod {
    let name: String
    let uid: String
    let logDirectory: String
    /// The node's network (and UTS) namespace, or the pod's own (through the test CNI plugin).
    var hostNetwork = true
    var hostname = ""
    /// "POD": the containers share the sandbox's PID namespace; "CONTAINER": each has its own.
    var pidMode = "POD"

    /// The kubelet's name for a BestEffort pod's slice (dashes of the uid become underscores).
    var slice: String { "kubepods-besteffort-pod\(uid.replacingOccurrences(of: "-", with: "_")).slice" }
    /// Where systemd puts that slice: runc's slice expansion of the dashes.
    var sliceCgroup: String { "/kubepods.slice/kubepods-besteffort.slice/\(slice)" }

    var namespaces: [String: Any] { ["network": hostNetwork ? "NODE" : "POD", "pid": pidMode, "ipc": "POD"] }

    var config: [String: Any] {
        ["metadata": ["name": name, "uid": uid, "namespace": "skiff-tests"],
         "hostname": hostname,
         "log_directory": logDirectory,
         "labels": ["skiff-test": name],
         "linux": ["cgroup_parent": slice, "security_context": ["namespace_options": namespaces]]]
    }

    func container(_ name: String, _ command: [String], memory: Int64 = 0) -> [String: Any] {
        var linux: [String: Any] = ["security_context": ["namespace_options": namespaces]]
        if memory > 0 { linux["resources"] = ["memory_limit_in_bytes": String(memory)] }
        return ["metadata": ["name": name], "image": ["image": EngineImage.ref], "command": command,
                "log_path": name + ".log", "labels": ["skiff-test-container": name], "linux": linux]
    }
}

private let criBinaries = ["containerd", "ctr", "containerd-shim-runc-v2", "systemctl"]

@Suite(
    "containerd CRI (SystemdCgroup) pods on skiff",
    .serialized,
    .enabled(if: SystemdHost.skipReason(engine: "containerd CRI", binaries: criBinaries) == nil,
             Comment(rawValue: SystemdHost.skipReason(engine: "containerd CRI", binaries: criBinaries) ?? "")),
    EngineScope<CRIWorld>()
)
struct CRIPodTests {
    @Test("CRI runtime status: containerd with skiff as the runc binary and SystemdCgroup")
    func status() throws {
        let w = try currentWorld(CRIWorld.self)
        let version = try w.call("Version", ["version": "v1"])
        #expect(version["runtime_name"] as? String == "containerd", "\(version)")
        #expect(version["runtime_api_version"] as? String == "v1", "\(version)")
        let status = try w.call("Status", ["verbose": true])
        let conditions = ((status["status"] as? [String: Any])?["conditions"] as? [[String: Any]]) ?? []
        let runtimeReady = conditions.first { $0["type"] as? String == "RuntimeReady" }
        #expect(runtimeReady?["status"] as? Bool == true, "\(status)")
        let config = (status["info"] as? [String: Any])?["config"] as? String ?? ""
        #expect(config.contains(EnginePaths.skiff) && config.contains("\"SystemdCgroup\":true"), "\(config.prefix(3000))")
    }

    @Test("pod: a sandbox and two containers sharing its IPC and PID namespaces, in systemd scopes under the pod's slice")
    func pod() throws {
        let w = try currentWorld(CRIWorld.self)
        let pod = CRIPod(name: uniqueName("pod"), uid: "skiff-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))",
                         logDirectory: w.dir + "/logs/" + uniqueName("pod"))
        try FileManager.default.createDirectory(atPath: pod.logDirectory, withIntermediateDirectories: true)

        // RunPodSandbox: the pause container, in cri-containerd-<id>.scope in the pod's slice.
        let run = try w.call("RunPodSandbox", ["config": pod.config])
        let sandbox = try #require(run["pod_sandbox_id"] as? String, "\(run)\n\(w.containerdLog)")
        var removed = false
        defer {
            if !removed {
                _ = try? w.call("StopPodSandbox", ["pod_sandbox_id": sandbox])
                _ = try? w.call("RemovePodSandbox", ["pod_sandbox_id": sandbox])
            }
        }
        let sandboxStatus = try w.call("PodSandboxStatus", ["pod_sandbox_id": sandbox, "verbose": true])
        #expect((sandboxStatus["status"] as? [String: Any])?["state"] as? String == "SANDBOX_READY", "\(sandboxStatus)")
        let sandboxInfo = CRIWorld.verboseInfo(sandboxStatus)
        let sandboxPid = try #require(sandboxInfo["pid"] as? Int, "no pid in \(sandboxStatus)")
        #expect(sandboxPid > 0)
        let sandboxScope = pod.sliceCgroup + "/cri-containerd-\(sandbox).scope"
        #expect(SystemdHost.cgroup(of: sandboxPid) == sandboxScope)
        #expect(SystemdHost.activeState("cri-containerd-\(sandbox).scope") == "active")
        #expect(skiffStatus(root: w.skiffRoot, id: sandbox) == "running", "skiff has no state for the sandbox under \(w.skiffRoot)")
        #expect(SystemdHost.namespace(sandboxPid, "net") == SystemdHost.namespace(Int(getpid()), "net"), "host network expected")
        #expect(SystemdHost.namespace(sandboxPid, "ipc") != SystemdHost.namespace(Int(getpid()), "ipc"), "the pod should have its own IPC namespace")
        #expect(SystemdHost.namespace(sandboxPid, "pid") != SystemdHost.namespace(Int(getpid()), "pid"), "the pod should have its own PID namespace")

        // Two containers joining the sandbox's namespaces; the first with a memory limit.
        let specs: [(String, [String], Int64)] = [("app", ["sleep", "86401"], 64 << 20), ("sidecar", ["sleep", "86402"], 0)]
        var ids: [String] = []
        for (name, command, memory) in specs {
            let created = try w.call("CreateContainer", ["pod_sandbox_id": sandbox, "config": pod.container(name, command, memory: memory),
                                                         "sandbox_config": pod.config])
            let id = try #require(created["container_id"] as? String, "\(created)\n\(w.containerdLog)")
            _ = try w.call("StartContainer", ["container_id": id])
            ids.append(id)
        }
        var pids: [Int] = []
        for (i, id) in ids.enumerated() {
            let st = try w.call("ContainerStatus", ["container_id": id, "verbose": true])
            let status = st["status"] as? [String: Any] ?? [:]
            #expect(status["state"] as? String == "CONTAINER_RUNNING", "\(st)")
            #expect((status["metadata"] as? [String: Any])?["name"] as? String == specs[i].0)
            let info = CRIWorld.verboseInfo(st)
            let pid = try #require(info["pid"] as? Int, "no pid in \(st)")
            pids.append(pid)
            let cgroupsPath = ((info["runtimeSpec"] as? [String: Any])?["linux"] as? [String: Any])?["cgroupsPath"] as? String
            #expect(cgroupsPath == "\(pod.slice):cri-containerd:\(id)", "systemd-style cgroupsPath expected: \(cgroupsPath ?? "nil")")
            let scope = pod.sliceCgroup + "/cri-containerd-\(id).scope"
            #expect(SystemdHost.cgroup(of: pid) == scope)
            #expect(skiffStatus(root: w.skiffRoot, id: id) == "running")
            for ns in ["ipc", "pid", "net", "uts"] {
                #expect(SystemdHost.namespace(pid, ns) == SystemdHost.namespace(sandboxPid, ns), "\(specs[i].0) is not in the pod's \(ns) namespace")
            }
        }
        let appScope = pod.sliceCgroup + "/cri-containerd-\(ids[0]).scope"
        #expect(SystemdHost.read(appScope, "memory.max") == String(64 << 20))
        #expect(SystemdHost.unitProperties("cri-containerd-\(ids[0]).scope", ["MemoryMax"])["MemoryMax"] == String(64 << 20),
                "skiff should set MemoryMax on the scope unit")
        #expect(SystemdHost.read(pod.sliceCgroup + "/cri-containerd-\(ids[1]).scope", "memory.max") == "max")

        // ExecSync: the sidecar sees the pause process as pid 1 and the app's process (shared
        // PID namespace), the app's IPC namespace, and its exit status comes back.
        let probe = "ps -o pid,args; for n in ipc pid; do readlink /proc/self/ns/$n; done; cat /proc/self/cgroup; exit 3"
        let execs = try w.calls([
            ("ExecSync", ["container_id": ids[1], "cmd": ["sh", "-c", probe], "timeout": "0"]),
            ("ExecSync", ["container_id": ids[0], "cmd": ["sh", "-c", "for n in ipc pid; do readlink /proc/self/ns/$n; done; cat /sys/fs/cgroup/memory.max"],
                          "timeout": "0"]),
        ])
        let sidecar = try execs[0].get()
        let out = sidecar["stdout"] as? String ?? ""
        #expect(sidecar["exit_code"] as? Int == 3, "\(sidecar)")
        let psLines = out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(psLines.contains("1 sleep 2147483647"), "pid 1 should be the pause process: \(out)")
        #expect(psLines.contains { $0.hasSuffix("sleep 86401") }, "the app's process should be visible: \(out)")
        #expect(out.contains(SystemdHost.namespace(sandboxPid, "ipc")) && out.contains(SystemdHost.namespace(sandboxPid, "pid")), "\(out)")
        #expect(psLines.contains("0::/"), "the container should see its own cgroup as / (cgroup namespace): \(out)")
        let app = try execs[1].get()
        #expect(app["exit_code"] as? Int == 0, "\(app)")
        #expect((app["stdout"] as? String ?? "").split(separator: "\n").map(String.init)
                == [SystemdHost.namespace(sandboxPid, "ipc"), SystemdHost.namespace(sandboxPid, "pid"), String(64 << 20)], "\(app)")

        // StopContainer: the app exits (SIGTERM), its scope goes away.
        _ = try w.call("StopContainer", ["container_id": ids[0], "timeout": "10"])
        let stopped = try w.call("ContainerStatus", ["container_id": ids[0]])
        let stoppedStatus = stopped["status"] as? [String: Any] ?? [:]
        #expect(stoppedStatus["state"] as? String == "CONTAINER_EXITED", "\(stopped)")
        #expect(stoppedStatus["exit_code"] as? Int == 143, "\(stopped)")
        #expect(waitUntil(timeout: 10) { !SystemdHost.exists(appScope) }, "\(appScope) left after StopContainer")

        // StopPodSandbox + RemovePodSandbox: nothing left, neither in the CRI, in skiff, nor in
        // systemd or the cgroup tree (the pod's slice is the kubelet's to remove).
        _ = try w.call("StopPodSandbox", ["pod_sandbox_id": sandbox])
        let notReady = try w.call("PodSandboxStatus", ["pod_sandbox_id": sandbox])
        #expect((notReady["status"] as? [String: Any])?["state"] as? String == "SANDBOX_NOTREADY", "\(notReady)")
        _ = try w.call("RemovePodSandbox", ["pod_sandbox_id": sandbox])
        removed = true
        let pods = try w.call("ListPodSandbox", ["filter": ["id": sandbox]])
        #expect((pods["items"] as? [Any])?.isEmpty ?? true, "\(pods)")
        let containers = try w.call("ListContainers", ["filter": ["pod_sandbox_id": sandbox]])
        #expect((containers["containers"] as? [Any])?.isEmpty ?? true, "\(containers)")
        for id in [sandbox] + ids {
            #expect(skiffStatus(root: w.skiffRoot, id: id) == nil, "skiff still has state for \(id)")
            #expect(!FileManager.default.fileExists(atPath: w.skiffRoot + "/" + id), "skiff state directory left for \(id)")
            #expect(!SystemdHost.exists(pod.sliceCgroup + "/cri-containerd-\(id).scope"), "cgroup of \(id) left")
            #expect(SystemdHost.activeState("cri-containerd-\(id).scope") != "active", "scope of \(id) still active")
        }
        let left = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup" + pod.sliceCgroup)) ?? []
        #expect(!left.contains { $0.hasSuffix(".scope") }, "scopes left in the pod's slice: \(left)")
        for pid in [sandboxPid] + pids { #expect(kill(pid_t(pid), 0) != 0, "process \(pid) still alive") }
    }

    @Test("pod with its own network namespace (test CNI plugin): the containers share its hostname, UTS, network and IPC, each has its own PID namespace")
    func podNetwork() throws {
        let w = try currentWorld(CRIWorld.self)
        var pod = CRIPod(name: uniqueName("netpod"), uid: "skiff-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))",
                         logDirectory: w.dir + "/logs/" + uniqueName("netpod"))
        pod.hostNetwork = false
        pod.hostname = "skiff-pod-host"
        pod.pidMode = "CONTAINER"
        try FileManager.default.createDirectory(atPath: pod.logDirectory, withIntermediateDirectories: true)

        let run = try w.call("RunPodSandbox", ["config": pod.config])
        let sandbox = try #require(run["pod_sandbox_id"] as? String, "\(run)\n\(w.containerdLog)")
        var removed = false
        defer {
            if !removed {
                _ = try? w.call("StopPodSandbox", ["pod_sandbox_id": sandbox])
                _ = try? w.call("RemovePodSandbox", ["pod_sandbox_id": sandbox])
            }
        }
        let sandboxStatus = try w.call("PodSandboxStatus", ["pod_sandbox_id": sandbox, "verbose": true])
        let status = sandboxStatus["status"] as? [String: Any] ?? [:]
        #expect((status["network"] as? [String: Any])?["ip"] as? String == "10.88.77.2", "\(sandboxStatus)")
        let sandboxPid = try #require(CRIWorld.verboseInfo(sandboxStatus)["pid"] as? Int, "no pid in \(sandboxStatus)")
        let me = Int(getpid())
        for ns in ["net", "uts", "ipc"] {
            #expect(SystemdHost.namespace(sandboxPid, ns) != SystemdHost.namespace(me, ns), "the pod should have its own \(ns) namespace")
        }
        #expect(SystemdHost.cgroup(of: sandboxPid) == pod.sliceCgroup + "/cri-containerd-\(sandbox).scope")

        var ids: [String] = []
        for (name, command) in [("web", ["sleep", "86403"]), ("log", ["sleep", "86404"])] {
            let created = try w.call("CreateContainer", ["pod_sandbox_id": sandbox, "config": pod.container(name, command),
                                                         "sandbox_config": pod.config])
            let id = try #require(created["container_id"] as? String, "\(created)\n\(w.containerdLog)")
            _ = try w.call("StartContainer", ["container_id": id])
            ids.append(id)
        }
        let probe = "hostname; cat /etc/hostname; ip -o -4 addr show | sed 's/  */ /g' | cut -d' ' -f2,4; ps -o args | grep -c '^sleep'"
        let replies = try w.calls(ids.map { ("ExecSync", ["container_id": $0, "cmd": ["sh", "-c", probe], "timeout": "0"]) }
                                  + ids.map { ("ContainerStatus", ["container_id": $0, "verbose": true]) })
        for (i, id) in ids.enumerated() {
            let exec = try replies[i].get()
            let lines = (exec["stdout"] as? String ?? "").split(separator: "\n").map(String.init)
            #expect(exec["exit_code"] as? Int == 0, "\(exec)")
            // hostname twice, lo and eth0 of the pod's network, and only its own sleep (own PID namespace).
            #expect(lines == ["skiff-pod-host", "skiff-pod-host", "lo 127.0.0.1/8", "eth0 10.88.77.2/24", "1"], "\(exec)")
            let pid = try #require(CRIWorld.verboseInfo(try replies[ids.count + i].get())["pid"] as? Int)
            for ns in ["net", "uts", "ipc"] {
                #expect(SystemdHost.namespace(pid, ns) == SystemdHost.namespace(sandboxPid, ns), "container \(i) is not in the pod's \(ns) namespace")
            }
            #expect(SystemdHost.namespace(pid, "pid") != SystemdHost.namespace(sandboxPid, "pid"), "container \(i) should have its own PID namespace")
            #expect(SystemdHost.cgroup(of: pid) == pod.sliceCgroup + "/cri-containerd-\(id).scope")
        }

        _ = try w.call("StopPodSandbox", ["pod_sandbox_id": sandbox])
        _ = try w.call("RemovePodSandbox", ["pod_sandbox_id": sandbox])
        removed = true
        for id in [sandbox] + ids {
            #expect(skiffStatus(root: w.skiffRoot, id: id) == nil, "skiff still has state for \(id)")
            #expect(!SystemdHost.exists(pod.sliceCgroup + "/cri-containerd-\(id).scope"), "cgroup of \(id) left")
        }
        #expect(kill(pid_t(sandboxPid), 0) != 0, "the sandbox process is still alive")
    }
}
