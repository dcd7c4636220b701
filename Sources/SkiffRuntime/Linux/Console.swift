import Glibc
import SkiffSystem

/// process.terminal with --console-socket: a pty from the container's devpts, the master sent
/// to the socket (never waiting for the peer), the peer bind-mounted on /dev/console.
enum Console {
    static func setup(root: RootFS, socket: FD, size: (rows: UInt16, cols: UInt16)?) throws(RuntimeError) -> FD {
        do {
            let ptmxPath = FileSystem.exists(root.path == "/" ? "/dev/pts/ptmx" : root.path + "/dev/pts/ptmx") ? "/dev/pts/ptmx" : "/dev/ptmx"
            let ptmx = try root.open(ptmxPath, O_RDWR | O_NOCTTY)
            if Mounts.filesystemType(ptmx) != Mounts.devptsMagic && Mounts.filesystemType(ptmx) != Mounts.tmpfsMagic {
                // /dev/ptmx on the host is on devtmpfs; inside the container it must be devpts.
            }
            let pty = try Terminal.openPty(ptmx: ptmx)
            if let size { try Terminal.setSize(pty.master, rows: size.rows, cols: size.cols) }
            try Terminal.sendFD(socket, pty.master, name: pty.name)
            pty.master.close()
            if root.path != "/" {
                let target = try root.createFile("/dev/console", mode: 0o666)
                defer { target.close() }
                try root.verifyInside(target, "/dev/console")
                do {
                    try Mounts.mount(pty.peer.procPath, target.procPath, "", MountFlags.bind)
                } catch {
                    throw RuntimeError("/dev/console: \(error)")
                }
            }
            return pty.peer
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw RuntimeError("console: \(error)")
        }
    }
}
