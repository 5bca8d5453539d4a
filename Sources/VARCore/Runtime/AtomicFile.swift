#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Whole-file reads and writes with POSIX calls (errors carry `errno` text).
public enum FileIO {
    /// The whole regular file at `path` (a FIFO, device, socket or directory is refused without blocking;
    /// see `InputFile`).
    public static func readAll(_ path: String, limit: Int = Int.max) throws -> [UInt8] {
        do { return try InputFile.readAll(path, limit: limit) } catch let f as InputFile.Failure {
            throw RuntimeError.io(path: path, operation: "read", message: f.reason)
        }
    }

    static func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
}

/// Temporary files currently being written, so that an interrupted program can delete them (the CLI's
/// SIGINT/SIGTERM handler calls `removeAll()`). Thread-safe.
public final class TemporaryFiles: @unchecked Sendable {
    public static let shared = TemporaryFiles()
    private let lock = NSLock()
    private var paths: Set<String> = []
    private var closed = false

    public init() {}

    public func register(_ path: String) { lock.lock(); paths.insert(path); lock.unlock() }
    public func unregister(_ path: String) { lock.lock(); paths.remove(path); lock.unlock() }
    public var pending: Set<String> { lock.lock(); defer { lock.unlock() }; return paths }

    /// Creates `path` exclusively and registers it in one step under the lock, so that a concurrent
    /// `removeAll` sees either both or neither. Returns the descriptor, or −1 (errno set; `ECANCELED` once
    /// the registry was closed by `removeAll(closing: true)`).
    func create(_ path: String) -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { errno = ECANCELED; return -1 }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd >= 0 { paths.insert(path) }
        return fd
    }

    /// Deletes every registered file (best effort) and forgets them. With `closing` (the interrupt handler,
    /// which runs while other threads keep working until the process exits) no new file can be created
    /// afterwards, so none is left behind.
    public func removeAll(closing: Bool = false) {
        lock.lock()
        if closing { closed = true }
        let all = paths
        paths.removeAll()
        for p in all { unlink(p) }
        lock.unlock()
    }
}

/// A file written under a temporary name in the destination's directory and renamed into place by
/// `commit()`: readers never see a partial file, and `abort()` (or an interrupt, via `TemporaryFiles`)
/// leaves nothing behind. Supports sequential writes and positioned patches (used by the NPZ writer).
public final class AtomicFile {
    public let path: String
    public let temporaryPath: String
    private var fd: Int32
    public private(set) var offset: UInt64 = 0

    private let registry: TemporaryFiles

    public init(path: String, registry: TemporaryFiles = .shared) throws {
        self.path = path
        self.registry = registry
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        temporaryPath = dir + "/." + name + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = registry.create(temporaryPath)
        guard fd >= 0 else {
            let message = errno == ECANCELED ? "the program is being interrupted" : FileIO.errnoText()
            throw RuntimeError.io(path: path, operation: "create a temporary file for", message: message)
        }
        _ = flock(fd, LOCK_EX | LOCK_NB)   // marks the file busy for `StaleTemporaries` (released when closed)
    }

    deinit { abort() }

    /// Appends bytes at the current end.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try write(bytes, at: offset)
        offset += UInt64(bytes.count)
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// Overwrites bytes at `position` (which must already have been written) without moving the end.
    public func patch(_ bytes: [UInt8], at position: UInt64) throws {
        precondition(position + UInt64(bytes.count) <= offset, "AtomicFile.patch beyond the written end")
        try bytes.withUnsafeBytes { try write($0, at: position) }
    }

    private func write(_ bytes: UnsafeRawBufferPointer, at position: UInt64) throws {
        guard fd >= 0 else { throw RuntimeError.io(path: path, operation: "write", message: "file already closed") }
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(position) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw RuntimeError.io(path: path, operation: "write", message: FileIO.errnoText()) }
            done += n
        }
    }

    /// Closes the temporary file and renames it to `path` (replacing any existing file).
    public func commit() throws {
        guard fd >= 0 else { throw RuntimeError.io(path: path, operation: "commit", message: "file already closed") }
        let closed = close(fd)
        fd = -1
        guard closed == 0 else {
            let message = FileIO.errnoText()
            abort()
            throw RuntimeError.io(path: path, operation: "close", message: message)
        }
        // Never rename over a device, FIFO, socket or directory (`-o /dev/null` must not replace the device).
        var st = stat()
        if lstat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG, (st.st_mode & S_IFMT) != S_IFLNK {
            abort()
            throw RuntimeError.io(path: path, operation: "replace", message: "it is \(InputFile.kindName(mode: st.st_mode)), "
                                  + "not a regular file; not replaced")
        }
        guard rename(temporaryPath, path) == 0 else {
            let message = FileIO.errnoText()
            abort()
            throw RuntimeError.io(path: path, operation: "rename into", message: message)
        }
        registry.unregister(temporaryPath)
    }

    /// Discards the temporary file (no effect after `commit()`).
    public func abort() {
        if fd >= 0 { close(fd); fd = -1 }
        if registry.pending.contains(temporaryPath) {
            unlink(temporaryPath)
            registry.unregister(temporaryPath)
        }
    }

    /// Writes `bytes` to `path` atomically.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let file = try AtomicFile(path: path)
        do {
            try file.write(bytes)
            try file.commit()
        } catch {
            file.abort()
            throw error
        }
    }
}
