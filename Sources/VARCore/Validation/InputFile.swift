import Glibc

/// Opening files named by the user or by another file, without ever blocking: only regular files are
/// opened. The path is `stat`ed first (a FIFO, device, socket or directory is refused, naming what it is,
/// before any `open` that could wait for a writer or touch a device), then opened with `O_NONBLOCK` and
/// checked again with `fstat` (the path may have been replaced in between); `O_NONBLOCK` is cleared
/// before the descriptor is returned.
public enum InputFile {
    /// Why a path could not be opened for reading.
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public var path: String
        /// What went wrong, in words ("is a FIFO (named pipe), not a regular file", "No such file or directory").
        public var reason: String
        public var description: String { "\(DisplayText.escaped(path)): \(reason)" }
    }

    /// What a `stat` mode describes, in words ("a FIFO (named pipe)", "a directory", …).
    public static func kindName(mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "not a regular file"
        }
    }

    /// A read-only descriptor of the regular file at `path` and its size; the caller closes it.
    public static func openRegular(_ path: String) throws -> (fd: Int32, size: Int) {
        var st = stat()
        guard stat(path, &st) == 0 else { throw Failure(path: path, reason: errnoText()) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw Failure(path: path, reason: "is \(kindName(mode: st.st_mode)), not a regular file")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw Failure(path: path, reason: errnoText()) }
        guard fstat(fd, &st) == 0 else {
            let reason = errnoText(); close(fd)
            throw Failure(path: path, reason: reason)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw Failure(path: path, reason: "is \(kindName(mode: st.st_mode)), not a regular file")
        }
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        return (fd, Int(st.st_size))
    }

    /// Checks without opening that `path` is a regular file (for paths used later, e.g. by another process).
    public static func requireRegular(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { throw Failure(path: path, reason: errnoText()) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw Failure(path: path, reason: "is \(kindName(mode: st.st_mode)), not a regular file")
        }
    }

    /// The whole regular file at `path`; refused above `limit` bytes (checked before reading).
    public static func readAll(_ path: String, limit: Int = Int.max) throws -> [UInt8] {
        let (fd, size) = try openRegular(path)
        defer { close(fd) }
        guard size <= limit else {
            throw Failure(path: path, reason: "is \(size) bytes, more than the \(limit)-byte limit for this kind of file")
        }
        var out = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(path: path, reason: n < 0 ? errnoText() : "the file shrank while being read") }
            done += n
        }
        return out
    }

    static func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
}
