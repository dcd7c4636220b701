import Testing
@testable import SkiffRuntime
import SkiffSpec

/// Issue #13: arithmetic on config values saturates instead of trapping; errors stay one
/// escaped line; an oversized init error is cut, not lost.
@Suite("hostile input (runtime)")
struct HostileInputRuntimeTests {
    @Test func hookDeadlineSaturates() {
        #expect(HookRunner.deadline(now: 5_000, timeoutSeconds: 3) == 8_000)
        // 9223372036854775 s × 1000 overflowed Int64 and trapped (SIGILL) in create and delete.
        #expect(HookRunner.deadline(now: 5_000, timeoutSeconds: 9_223_372_036_854_775) == Int64.max)
        #expect(HookRunner.deadline(now: 5_000, timeoutSeconds: Int.max) == Int64.max)
        #expect(HookRunner.deadline(now: Int64.max - 10, timeoutSeconds: 1) == Int64.max)
    }

    @Test func idMapLookupDoesNotTrapPastTheLastId() {
        let maps = [LinuxIDMapping(containerID: 0, hostID: UInt32.max - 1, size: 10)]
        #expect(IDMaps.host(0, in: maps) == UInt32.max - 1)
        #expect(IDMaps.host(5, in: maps) == nil)
    }

    @Test func runtimeErrorsAreOneEscapedLine() {
        let e = RuntimeError("mount type \"a\nb\u{1B}]0;title\u{07}\" failed")
        #expect(e.message == #"mount type "a\nb\u001b]0;title\u0007" failed"#)
        #expect(RuntimeError(e.message).message == e.message)
    }

    @Test func oversizedInitErrorsAreCutKeepingBothEnds() throws {
        let value = String(repeating: "é", count: 200_000)  // 400 kB of 2-byte characters
        let text = "config.json: mounts[0] (/x): mount src=\(value): no such file or directory"
        let bytes = SyncMessage.failed(text).bytes
        #expect(bytes.count < 65536 && bytes.count <= SyncMessage.maximumErrorBytes + 128)
        let back = try #require(SyncMessage(bytes))
        guard case .failed(let got) = back else { Issue.record("\(back)"); return }
        #expect(got.hasPrefix("config.json: mounts[0] (/x): mount src=éé"))
        #expect(got.hasSuffix("éé: no such file or directory"))
        #expect(got.contains("bytes elided"))
        #expect(!got.unicodeScalars.contains("\u{FFFD}"), "cut inside a UTF-8 sequence")
        #expect(SyncMessage.failed("short").bytes == [0x65] + Array("short".utf8))
    }
}
