import Dispatch
import Foundation
import Glibc

/// SHA-256 content hashes of files, each computed once per instance (a process keeps one), and optionally
/// in the background while the file is being loaded (`prefetch`), so that recording model identities costs a
/// run no wall time. A file is known by device, inode, size and modification time: a renamed file keeps its
/// hash, a rewritten one gets a new one. Thread-safe.
public final class ContentHashes: @unchecked Sendable {
    private struct Key: Hashable { var device: UInt64, inode: UInt64, size: Int64, modified: Int64 }
    private final class Entry: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var result: Result<String, Error> = .failure(RuntimeError.io(path: "", operation: "hash", message: "pending"))
    }

    private let lock = NSLock()
    private var entries: [Key: Entry] = [:]
    public let kernel: SHA256.Kernel

    public init(kernel: SHA256.Kernel = .best) { self.kernel = kernel }

    /// Starts hashing `path` on a background thread unless it is known already (errors surface in `hash`).
    public func prefetch(_ path: String) {
        guard let (entry, isNew) = try? entry(path), isNew else { return }
        let kernel = self.kernel
        DispatchQueue.global(qos: .utility).async {
            entry.result = Result { try SHA256.hashFile(path, kernel: kernel) }
            entry.done.signal()
        }
    }

    /// The lower-case hex SHA-256 of `path` (waits for a prefetch in progress).
    public func hash(_ path: String) throws -> String {
        let (entry, isNew) = try entry(path)
        if isNew {
            entry.result = Result { try SHA256.hashFile(path, kernel: kernel) }
            entry.done.signal()
        }
        entry.done.wait()
        entry.done.signal()             // let other waiters through
        return try entry.result.get()
    }

    private func entry(_ path: String) throws -> (Entry, isNew: Bool) {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw RuntimeError.io(path: path, operation: "hash", message: String(cString: strerror(errno)))
        }
        let key = Key(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                      modified: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
        lock.lock(); defer { lock.unlock() }
        if let e = entries[key] { return (e, false) }
        let e = Entry()
        entries[key] = e
        return (e, true)
    }
}
