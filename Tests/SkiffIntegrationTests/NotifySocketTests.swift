import Foundation
import Glibc
import Testing

extension Integration {
    /// NOTIFY_SOCKET: the container's READY=1 reaches the caller's socket through `start`,
    /// with MAINPID = the container's init, and `start` returns only after it.
    @Suite struct NotifySocket {
        static let sender = #"""
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/socket.h>
        #include <sys/un.h>
        int main(int argc, char **argv) {
            const char *path = getenv("NOTIFY_SOCKET");
            if (!path) return 2;
            int s = socket(AF_UNIX, SOCK_DGRAM, 0);
            struct sockaddr_un a; memset(&a, 0, sizeof a); a.sun_family = AF_UNIX;
            strncpy(a.sun_path, path, sizeof a.sun_path - 1);
            const char *msg = argc > 1 ? argv[1] : "READY=1";
            return sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof a) < 0;
        }
        """#

        @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/gcc")))
        func readyIsForwardedWithMainPid() throws {
            let h = try Harness()
            let markers = h.path("markers")
            try FileManager.default.createDirectory(atPath: markers, withIntermediateDirectories: true)
            let bundle = try Bundle.make(from: "sleep", in: h, rootfs: .copy) { c in
                c.bind(markers, at: "/m")
                c.shell("sleep 0.5; /notify STATUS=busy; touch /m/sending-ready; /notify READY=1; sleep 30")
            }
            let source = h.path("notify.c")
            try writeFile(source, Self.sender)
            let cc = h.sh("gcc -static -O2 -x c -o \(bundle.rootfs)/notify \(source)")
            try #require(cc.status == 0, "\(cc)")

            // The caller's socket, as systemd or conmon would have it.
            let hostSocket = h.path("host-notify.sock")
            let sock = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(sock) }
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                for (i, b) in hostSocket.utf8.enumerated() { raw[i] = b }
            }
            let bound = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(sock, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            try #require(bound == 0)

            let notify = ["NOTIFY_SOCKET=" + hostSocket]
            let id = h.newID()
            #expect(h.skiff(args: ["create", "-b", bundle.path, id], env: notify).status == 0)
            let s = h.skiff(args: ["start", id], env: notify)
            #expect(s.status == 0, "\(s)")
            // start waits for READY=1, which the program sends only after this marker.
            #expect(fileExists(markers + "/sending-ready"), "start returned before READY=1")
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(sock, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            let message = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
            let pid = h.pid(id)
            #expect(message == "READY=1\nMAINPID=\(pid)\n", "got \(message)")
            #expect(h.skiff("delete", "--force", id).status == 0)
            h.expectNothingLeft(id)
        }
    }
}
