import Foundation
import VARKit

/// Output paths checked before any work (exit 2 naming the flag): every file a command will write must be
/// creatable where it is asked for, so that a run never does its work and then fails to save it.
enum OutputCheck {
    /// How many numbered names (`FILE_0.png`, …) are checked one by one; beyond, only their directory is (it
    /// is the same directory for all of them).
    static let numberedNamesChecked = 10_000

    /// `path` can be written as a file: not empty, not ending in `/`, not an existing directory or other
    /// non-regular file (a FIFO or device would be replaced by the rename that commits the file), and its
    /// directory exists and is writable. Stale temporary files of killed runs in that directory are removed.
    static func requireFile(_ path: String, flag: String, checkDirectory: Bool = true) throws {
        guard !path.isEmpty else { throw UsageError("--\(flag): the path is empty; expected a file name") }
        let shown = DisplayText.escaped(path)
        guard !path.hasSuffix("/") else { throw UsageError("--\(flag): '\(shown)' ends in '/'; expected a file name, not a directory") }
        var st = stat()
        if stat(path, &st) == 0 {
            if (st.st_mode & S_IFMT) == S_IFDIR {
                throw UsageError("--\(flag): '\(shown)' is a directory; expected a file name (e.g. \(shown)/image.png)")
            }
            if (st.st_mode & S_IFMT) != S_IFREG {
                throw UsageError("--\(flag): '\(shown)' is \(InputFile.kindName(mode: st.st_mode)); expected a regular file "
                                 + "or a new name (outputs are written to a temporary file and renamed over it)")
            }
        }
        if checkDirectory { try requireWritableDirectory(for: path, flag: flag) }
    }

    /// `requireFile` for the path the user gave (`base`: even when the files are numbered after it, an empty
    /// name or a directory there is a mistake) and for every path `name(i)` of `count` outputs (the first
    /// `numberedNamesChecked`).
    static func requireFiles(base: String, count: Int, flag: String, _ name: (Int) -> String) throws {
        try requireFile(base, flag: flag)
        let directory = URL(fileURLWithPath: base).deletingLastPathComponent().path
        for i in 0..<min(count, numberedNamesChecked) where name(i) != base {
            let path = name(i)
            // Numbered names share the base's directory (checked once); only the names themselves remain.
            try requireFile(path, flag: flag, checkDirectory: URL(fileURLWithPath: path).deletingLastPathComponent().path != directory)
        }
    }

    /// A directory that will be created if missing (`sample --output`): not empty, not an existing non-directory,
    /// and, when it exists, writable; when it does not, its parent exists and is writable.
    static func requireDirectory(_ dir: String, flag: String) throws {
        guard !dir.isEmpty else { throw UsageError("--\(flag): the path is empty; expected a directory") }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw UsageError("--\(flag): '\(DisplayText.escaped(dir))' exists and is not a directory") }
            try requireWritableDirectory(dir, flag: flag)
        } else {
            var trimmed = dir
            while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
            try requireWritableDirectory(for: trimmed, flag: flag)
        }
    }

    /// Two outputs of one run naming the same file (e.g. `--save-tokens` equal to `--output`) would overwrite
    /// each other: refused, naming both flags. Paths are compared after resolving `.`/`..` and links.
    static func requireDistinct(_ outputs: [(flag: String, path: String)]) throws {
        var seen: [String: String] = [:]
        for (flag, path) in outputs {
            let key = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
            if let other = seen[key] {
                throw UsageError("--\(flag) and --\(other) both name '\(DisplayText.escaped(path))'; give two different files")
            }
            seen[key] = flag
        }
    }
}
