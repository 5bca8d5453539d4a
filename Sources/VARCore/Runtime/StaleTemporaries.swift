import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Removal of the temporary files that a killed var-gen left behind (`AtomicFile` names them
/// `.NAME.tmp-PID-RANDOM` in the destination's directory; SIGKILL or a power cut gives no chance to delete them).
///
/// A file is removed only when all of these hold: its name has exactly that form; it is a regular file (not
/// a symbolic link); its PID is not a live process on this machine (`kill(pid, 0)` fails with `ESRCH`); and
/// no process holds the exclusive `flock` that every `AtomicFile` keeps on its temporary file while writing
/// (so a live writer on another machine sharing the directory, whose PID means nothing here, is left alone).
public enum StaleTemporaries {
    /// The PID in a name of the temporary-file form, or nil for any other name.
    public static func writerPID(ofName name: String) -> Int32? {
        guard name.hasPrefix("."), let marker = name.range(of: ".tmp-", options: .backwards),
              marker.lowerBound > name.index(after: name.startIndex) else { return nil }
        let parts = name[marker.upperBound...].split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
              let pid = Int32(parts[0]), pid > 0, parts[0].allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return pid
    }

    /// Whether a process with this PID exists on this machine.
    static func isAlive(_ pid: Int32) -> Bool {
        if pid == getpid() { return true }
        return kill(pid, 0) == 0 || errno != ESRCH
    }

    /// Removes the stale temporary files in `directory` (see the type's documentation) and returns their
    /// names. Reads the directory as a stream (memory does not grow with its size); errors are ignored
    /// (best effort: a file that cannot be removed stays).
    @discardableResult
    public static func remove(in directory: String) -> [String] {
        guard let dir = opendir(directory.isEmpty ? "." : directory) else { return [] }
        defer { closedir(dir) }
        var removed: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let pid = writerPID(ofName: name), !isAlive(pid) else { continue }
            let path = (directory.isEmpty ? "." : directory) + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
            guard fd >= 0 else { continue }
            // A writer holds LOCK_EX until it commits or aborts: skip the file if it is busy.
            if flock(fd, LOCK_EX | LOCK_NB) == 0, unlink(path) == 0 { removed.append(name) }
            close(fd)
        }
        return removed
    }
}
