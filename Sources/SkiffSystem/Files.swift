import CSkiffSys
import Glibc

public enum FileSystem {
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(SystemError) -> FD {
        FD(try check("open", path) { Glibc.open(path, flags | O_CLOEXEC, mode) })
    }

    public static func openAt(_ dir: FD, _ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(SystemError) -> FD {
        FD(try check("openat", path) { Glibc.openat(dir.raw, path, flags | O_CLOEXEC, mode) })
    }

    public static func readFile(_ path: String) throws(SystemError) -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { fd.close() }
        do { return try fd.readAll() } catch { throw SystemError("read", path, errno: error.errno) }
    }

    /// Size caps for files skiff reads from users: far above any real document (runc's own
    /// configs are a few KiB; a config with thousands of mounts is well under 1 MiB).
    public static let configSizeLimit = 4 << 20        // config.json, exec --process, update -r
    /// state.json embeds the config (re-serialized, so up to twice its size) plus a few paths.
    public static let stateSizeLimit = 16 << 20

    /// Reads a file that must be a regular file of at most `limit` bytes. The open cannot
    /// block (O_NONBLOCK: a fifo opens at once, and is then refused), a device such as
    /// /dev/zero is refused before the first read, and a file that grows past the limit while
    /// it is read is refused too. `noFollow`: a symlink as the last component is an error.
    public static func readRegularFile(_ path: String, limit: Int, noFollow: Bool = false) throws(SystemError) -> [UInt8] {
        let fd: FD
        do {
            fd = try open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | (noFollow ? O_NOFOLLOW : 0))
        } catch {
            if noFollow && error.errno == ELOOP {
                throw SystemError("open", path, errno: ELOOP, detail: "is a symbolic link, which is not accepted here")
            }
            throw error
        }
        defer { fd.close() }
        return try readRegular(fd, path: path, limit: limit)
    }

    /// How long `readRegularFileOrPipe` waits for a pipe's writer and its data.
    public static let pipeReadTimeoutMilliseconds: Int64 = 10_000

    /// `readRegularFile` that also accepts a fifo or pipe, as runc's `os.Open` does (`exec -p
    /// <(…)`, bash process substitution). For user-named inputs only (exec --process, update -r);
    /// config.json and state.json stay regular-only. The open never blocks (O_NONBLOCK: a fifo
    /// without a writer opens at once); the data is then read with poll() until end of file,
    /// at most `limit` bytes and for at most `pipeReadTimeoutMilliseconds`. Nothing written
    /// (end of file at once, or no writer within the deadline) is an error ("is empty").
    public static func readRegularFileOrPipe(_ path: String, limit: Int) throws(SystemError) -> [UInt8] {
        let fd = try open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY)
        defer { fd.close() }
        let st = try fd.stat()
        if st.st_mode & S_IFMT != S_IFIFO { return try readRegular(fd, path: path, limit: limit) }
        let deadline = Clock.monotonicMilliseconds() + pipeReadTimeoutMilliseconds
        var result: [UInt8] = []
        // A fifo opened before any writer reads as end of file at once; only after poll() has
        // seen a writer (data or hang-up) does an empty read mean the end.
        var writerSeen = false
        while true {
            let chunk: [UInt8]
            do {
                chunk = try fd.read(max: 65536)
            } catch {
                guard error.errno == EAGAIN else { throw SystemError("read", path, errno: error.errno) }
                writerSeen = true
                chunk = []
            }
            if !chunk.isEmpty {
                writerSeen = true
                result += chunk
                if result.count > limit { throw tooLarge(path, limit: limit) }
                continue
            }
            if writerSeen && (result.count > 0 || currentPollHangup(fd)) { break }
            let left = deadline - Clock.monotonicMilliseconds()
            if left <= 0 {
                throw SystemError("read", path, errno: ENODATA,
                                  detail: "is empty: \(fileTypeName(st.st_mode)) with nothing written to it within \(pipeReadTimeoutMilliseconds / 1000) s")
            }
            var pfd = pollfd(fd: fd.raw, events: Int16(POLLIN), revents: 0)
            let n = Glibc.poll(&pfd, 1, Int32(min(left, 1000)))
            if n < 0 && currentErrno() != EINTR { throw SystemError("poll", path, errno: currentErrno()) }
            if n > 0 { writerSeen = true }
        }
        if result.isEmpty {
            throw SystemError("read", path, errno: ENODATA, detail: "is empty: \(fileTypeName(st.st_mode)) closed with nothing written to it")
        }
        return result
    }

    /// Whether a pipe read end reports hang-up now (its writers came and went).
    private static func currentPollHangup(_ fd: FD) -> Bool {
        var pfd = pollfd(fd: fd.raw, events: Int16(POLLIN), revents: 0)
        return Glibc.poll(&pfd, 1, 0) > 0 && pfd.revents & Int16(POLLHUP) != 0
    }

    /// `readRegularFile` on an open descriptor (opened O_NONBLOCK); `path` names it in errors.
    public static func readRegular(_ fd: FD, path: String, limit: Int) throws(SystemError) -> [UInt8] {
        let st = try fd.stat()
        try requireRegular(st, path: path, call: "read")
        if Int64(st.st_size) > Int64(limit) { throw tooLarge(path, limit: limit) }
        var result: [UInt8] = []
        while true {
            let chunk: [UInt8]
            do { chunk = try fd.read(max: 65536) } catch { throw SystemError("read", path, errno: error.errno) }
            if chunk.isEmpty { break }
            result += chunk
            if result.count > limit { throw tooLarge(path, limit: limit) }
        }
        return result
    }

    /// Throws unless `st` is a regular file, naming what it is instead.
    public static func requireRegular(_ st: Glibc.stat, path: String, call: String) throws(SystemError) {
        let type = st.st_mode & S_IFMT
        if type == S_IFREG { return }
        throw SystemError(call, path, errno: type == S_IFDIR ? EISDIR : EINVAL,
                          detail: "not a regular file: it is \(fileTypeName(st.st_mode))")
    }

    /// "a directory", "a fifo", "a character device", … for messages.
    public static func fileTypeName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a fifo"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "of unknown type"
        }
    }

    private static func tooLarge(_ path: String, limit: Int) -> SystemError {
        SystemError("read", path, errno: EFBIG, detail: "file is larger than \(limit) bytes (\(limit >> 20) MiB), the limit for this file")
    }

    public static func readText(_ path: String) throws(SystemError) -> String {
        String(decoding: try readFile(path), as: UTF8.self)
    }

    /// Writes an existing file (procfs, sysfs, cgroupfs) without creating or truncating it.
    public static func writeExisting(_ path: String, _ text: String) throws(SystemError) {
        let fd = try open(path, O_WRONLY)
        defer { fd.close() }
        do { try fd.write(text) } catch { throw SystemError("write", path, errno: error.errno) }
    }

    /// Writes via a temporary file in the same directory and rename(2), so readers see the
    /// old or the new contents, never a torn file.
    public static func writeAtomic(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws(SystemError) {
        try writeStaged(path, bytes, mode: mode).commit()
    }

    /// The first half of `writeAtomic`: the temporary file, written; `commit` renames it into
    /// place. Lets a caller write while it waits for something else and publish later.
    public static func writeStaged(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws(SystemError) -> StagedFile {
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temp = dir + "/." + base + ".tmp\(getpid())"
        // Never through a symlink or into a fifo someone left at the temporary name.
        let fd = try open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK, mode: mode)
        do {
            try fd.write(bytes)
        } catch {
            fd.close()
            unlink(temp)
            throw SystemError("write", temp, errno: error.errno)
        }
        fd.close()
        return StagedFile(temp: temp, path: path)
    }

    public struct StagedFile: Sendable {
        let temp: String
        public let path: String

        public func commit() throws(SystemError) {
            if Glibc.rename(temp, path) != 0 {
                let e = currentErrno()
                unlink(temp)
                throw SystemError("rename", path, errno: e)
            }
        }

        public func discard() { unlink(temp) }
    }

    public static func exists(_ path: String) -> Bool {
        var st = Glibc.stat()
        return sk_lstat(path, &st) == 0
    }

    public static func lstat(_ path: String) throws(SystemError) -> Glibc.stat {
        var st = Glibc.stat()
        try check("lstat", path) { sk_lstat(path, &st) }
        return st
    }

    public static func stat(_ path: String) throws(SystemError) -> Glibc.stat {
        var st = Glibc.stat()
        try check("stat", path) { sk_stat(path, &st) }
        return st
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = Glibc.stat()
        return sk_stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func mkdir(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
        try check("mkdir", path) { Glibc.mkdir(path, mode) }
    }

    /// mkdir -p on the host side (never used for paths inside a container rootfs).
    public static func mkdirAll(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
        if isDirectory(path) { return }
        try makeMissing(path, mode: mode)
    }

    /// mkdir -p for a path that usually does not exist yet but whose parent does (a new
    /// cgroup): one mkdir(2), no stat first. An existing directory is fine.
    public static func createDirectories(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
        try makeMissing(path, mode: mode)
    }

    /// Creates `path`, and first its missing parents when there are any. Usually the parent
    /// exists (a new cgroup or state directory): one mkdir(2), where walking down from "/"
    /// took one per component.
    private static func makeMissing(_ path: String, mode: mode_t) throws(SystemError) {
        if Glibc.mkdir(path, mode) == 0 { return }
        var e = currentErrno()
        if e == EEXIST { return }
        if e == ENOENT, let parent = parentDirectory(path) {
            try makeMissing(parent, mode: mode)
            if Glibc.mkdir(path, mode) == 0 { return }
            e = currentErrno()
            if e == EEXIST { return }
        }
        throw SystemError("mkdir", path, errno: e)
    }

    /// The path without its last component and trailing slashes; nil for "/", "" and a single
    /// relative component (whose parent, the current directory, exists).
    private static func parentDirectory(_ path: String) -> String? {
        var utf8 = Array(path.utf8)
        while utf8.count > 1, utf8.last == UInt8(ascii: "/") { utf8.removeLast() }
        guard let slash = utf8.lastIndex(of: UInt8(ascii: "/")) else { return nil }
        var end = slash
        while end > 0, utf8[end - 1] == UInt8(ascii: "/") { end -= 1 }
        if end == 0 { return nil }  // the parent is "/"
        return String(decoding: utf8[..<end], as: UTF8.self)
    }

    public static func unlink(_ path: String) {
        _ = Glibc.unlink(path)
    }

    public static func rmdir(_ path: String) throws(SystemError) {
        try check("rmdir", path) { Glibc.rmdir(path) }
    }

    public static func readLink(_ path: String) throws(SystemError) -> String {
        try SkiffSystem.readLink(path)
    }

    public static func mkfifo(_ path: String, mode: mode_t) throws(SystemError) {
        try check("mkfifo", path) { Glibc.mkfifo(path, mode) }
        try check("chmod", path) { Glibc.chmod(path, mode) }
    }

    /// Names in a directory, without "." and "..".
    public static func list(_ path: String) throws(SystemError) -> [String] {
        guard let dir = opendir(path) else { throw SystemError("opendir", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// rm -rf without following symlinks; stays on one filesystem.
    public static func removeAll(_ path: String) throws(SystemError) {
        var st = Glibc.stat()
        if sk_lstat(path, &st) != 0 {
            if currentErrno() == ENOENT { return }
            throw SystemError("lstat", path)
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for name in try list(path) { try removeAll(path + "/" + name) }
            if Glibc.rmdir(path) != 0 && currentErrno() != ENOENT { throw SystemError("rmdir", path) }
        } else if Glibc.unlink(path) != 0 && currentErrno() != ENOENT {
            throw SystemError("unlink", path)
        }
    }

    /// Exclusive advisory lock on an open descriptor, held until it is closed.
    public static func lock(_ fd: FD, path: String) throws(SystemError) {
        try check("flock", path) { sk_flock(fd.raw, LOCK_EX) }
    }

    public static func chown(_ path: String, uid: UInt32, gid: UInt32) throws(SystemError) {
        try check("chown", path) { Glibc.chown(path, uid, gid) }
    }

    public static func realPath(_ path: String) throws(SystemError) -> String {
        guard let resolved = Glibc.realpath(path, nil) else { throw SystemError("realpath", path) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    public static func currentDirectory() -> String {
        guard let cwd = getcwd(nil, 0) else { return "/" }
        defer { free(cwd) }
        return String(cString: cwd)
    }

    /// Makes `path` absolute against the current directory, lexically cleaned.
    public static func absolute(_ path: String) -> String {
        cleanPath(path.hasPrefix("/") ? path : currentDirectory() + "/" + path)
    }
}

public func readLink(_ path: String) throws(SystemError) -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = try check("readlink", path) { Glibc.readlink(path, &buffer, Int(PATH_MAX)) }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Lexical clean like Go's filepath.Clean: collapses //, . and .. (.. never climbs above /).
public func cleanPath(_ path: String) -> String {
    // On bytes: this runs for every path in a config, and the Substring version cost
    // ~20k instructions per path.
    let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
    var source = path
    return source.withUTF8 { input -> String in
        let rooted = input.first == slash
        var out: [UInt8] = []
        out.reserveCapacity(input.count + 1)
        if rooted { out.append(slash) }
        let base = out.count       // the output below this is the root slash
        var starts: [Int] = []     // where each kept component begins in `out`
        var i = 0
        while i < input.count {
            while i < input.count, input[i] == slash { i += 1 }
            let start = i
            while i < input.count, input[i] != slash { i += 1 }
            let length = i - start
            if length == 0 || (length == 1 && input[start] == dot) { continue }
            if length == 2 && input[start] == dot && input[start + 1] == dot {
                if let last = starts.last, !(out.count - last == 2 && out[last] == dot && out[last + 1] == dot) {
                    out.removeSubrange((last == base ? base : last - 1)...)
                    starts.removeLast()
                    continue
                }
                if rooted { continue }
            }
            if out.count > base { out.append(slash) }
            starts.append(out.count)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<i]))
        }
        if out.isEmpty { return "." }
        return String(decoding: out, as: UTF8.self)
    }
}

/// stat(2) by path, for callers outside SkiffSystem that need the raw struct.
public func sk_stat_path(_ path: String, _ st: inout stat) -> Int32 {
    CSkiffSys.sk_stat_path(path, &st)
}

extension FileSystem {
    /// Opens a log file for appending (create, append, sync), 0644. The open cannot block (a
    /// fifo with no reader) and only a regular file (or /dev/null) is accepted.
    public static func openAppend(_ path: String) throws(SystemError) -> FD {
        let fd: FD
        do {
            fd = try open(path, O_WRONLY | O_CREAT | O_APPEND | O_SYNC | O_NONBLOCK | O_NOCTTY, mode: 0o644)
        } catch {
            // A fifo without a reader: ENXIO ("no such device or address") says too little.
            var st = Glibc.stat()
            if error.errno == ENXIO, sk_stat(path, &st) == 0 { try requireRegular(st, path: path, call: "open") }
            throw error
        }
        do {
            let st = try fd.stat()
            let isDevNull = (st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == 0x103  // makedev(1, 3)
            if !isDevNull { try requireRegular(st, path: path, call: "open") }
            // Back to blocking writes (O_NONBLOCK only kept open(2) from waiting).
            _ = sk_fcntl_int(fd.raw, F_SETFL, O_APPEND)
        } catch {
            fd.close()
            throw error
        }
        return fd
    }
}
