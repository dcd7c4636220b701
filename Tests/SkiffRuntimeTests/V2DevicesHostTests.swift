import Foundation
import Glibc
import Testing
import SkiffSpec
import SkiffSystem
@testable import SkiffRuntime

/// The generated device program, loaded by the real kernel's verifier and attached to a real
/// cgroup2 directory: a process in it can open an allowed device and not a denied one.
/// The host's cgroup2 mount (unified on hybrid hosts), if any.
func hostCgroup2() -> String? {
    for path in ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] {
        if FileManager.default.fileExists(atPath: path + "/cgroup.procs"),
           !FileManager.default.fileExists(atPath: path + "/tasks") { return path }
    }
    return nil
}

@Suite(.serialized, .enabled(if: getuid() == 0 && hostCgroup2() != nil))
struct V2DevicesHostTests {

    func shell(_ script: String) -> (status: Int32, output: String) {
        let p = Foundation.Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try? p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs the script in a fresh cgroup2 directory carrying the program for `rules`.
    func run(rules: [LinuxDeviceCgroup], _ script: String) throws -> [Substring] {
        let dir = try #require(hostCgroup2()) + "/skiff-devtest-\(getpid())-\(rules.count)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { _ = rmdir(dir) }
        try BPF.attachDeviceProgram(try V2Devices.program(rules), to: dir)
        return shell("echo $$ > \(dir)/cgroup.procs\n" + script).output.split(separator: "\n")
    }

    static let probe = """
        head -c 1 /dev/null && echo null-ok
        if head -c 1 /dev/urandom >/dev/null 2>&1; then echo urandom-ok; else echo urandom-denied; fi
        if dd if=/dev/kmsg of=/dev/null bs=1 count=0 iflag=nonblock 2>/dev/null; then echo kmsg-read; else echo kmsg-denied; fi
        """

    @Test func defaultsAllowTheStandardDevicesAndDenyTheRest() throws {
        // /dev/kmsg (c 1:11) is not in runc's default list.
        #expect(try run(rules: [], Self.probe) == ["null-ok", "urandom-ok", "kmsg-denied"])
    }

    @Test func configuredRulesOpenMoreDevices() throws {
        let out = try run(rules: [LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 11, access: "r")], Self.probe)
        #expect(out == ["null-ok", "urandom-ok", "kmsg-read"])
    }
}
