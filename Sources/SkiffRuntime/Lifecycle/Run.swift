import Glibc
import SkiffSpec
import SkiffSystem

extension Container {
    /// create + start; attached, waits for the container (relaying its terminal when
    /// process.terminal is true), removes it unless `keep`, and returns its exit status.
    public static func run(id: String, options: CreateOptions, runtime: RuntimeOptions, detach: Bool, keep: Bool) throws(RuntimeError) -> Int32 {
        var opts = options
        var relayEnd: FD? = nil
        if !detach && opts.consoleSocket == nil {
            let spec = try loadSpec(bundle: FileSystem.absolute(opts.bundle), config: opts.config.map(FileSystem.absolute))
            if spec.process?.terminal == true {
                do {
                    let (ours, theirs) = try Terminal.streamPair()
                    relayEnd = ours
                    opts.consoleSocketFD = theirs
                } catch {
                    throw RuntimeError("\(error)")
                }
            }
        }
        let launched: Launched
        do {
            launched = try create(id: id, options: opts, runtime: runtime)
        } catch {
            opts.consoleSocketFD?.close()
            relayEnd?.close()
            throw error
        }
        opts.consoleSocketFD?.close()
        var master: FD? = nil
        if let relayEnd {
            master = try? Terminal.receiveFD(relayEnd, max: 4096).fd
            relayEnd.close()
        }
        do {
            try launched.container.start()
        } catch {
            master?.close()
            try? launched.container.delete(force: true)
            throw error
        }
        if detach { return 0 }
        Signals.forward(to: launched.pid)
        let status: Int32
        if let master {
            status = ConsoleRelay.relay(master: master, pid: launched.pid)
            master.close()
        } else {
            status = launched.container.waitForExit(pid: launched.pid)
        }
        if !keep { try? launched.container.delete(force: true) }
        return status
    }
}

/// Attached terminal for `run`: our stdin (raw when it is a terminal) goes to the pty
/// master, the master's output to our stdout, window size changes follow ours.
enum ConsoleRelay {
    static func relay(master: FD, pid: pid_t) -> Int32 {
        let stdin = FD(0), stdout = FD(1)
        let saved = Terminal.makeRaw(stdin)
        defer { if let saved { Terminal.restore(stdin, saved) } }
        var size = Terminal.size(stdin)
        if let size { try? Terminal.setSize(master, rows: size.rows, cols: size.cols) }
        try? master.setNonblocking()
        let pidfd = try? ProcessControl.pidfdOpen(pid)
        defer { pidfd?.close() }
        var stdinOpen = true
        var exited = false
        while !exited {
            var fds = [pollfd(fd: stdinOpen ? stdin.raw : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: master.raw, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: pidfd?.raw ?? -1, events: Int16(POLLIN), revents: 0)]
            let r = poll(&fds, 3, 200)
            if r < 0 && currentErrno() != EINTR { break }
            if fds[0].revents != 0 {
                if let data = stdin.readSome(), !data.isEmpty { try? master.write(data) } else { stdinOpen = false }
            }
            if fds[1].revents != 0 {
                while let data = master.readSome(), !data.isEmpty { try? stdout.write(data) }
            }
            if fds[2].revents != 0 || (pidfd == nil && waitpid(pid, nil, WNOHANG) == pid) { exited = true }
            if let now = Terminal.size(stdin), size == nil || now != size! {
                size = now
                try? Terminal.setSize(master, rows: now.rows, cols: now.cols)
            }
        }
        // Whatever the program wrote last.
        while let data = master.readSome(), !data.isEmpty { try? stdout.write(data) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && currentErrno() == EINTR {}
        return ProcessControl.exitCode(status)
    }
}
