import Foundation

/// Paths that one file names for another (a model JSON's `"vqvae"`): they must stay in the naming file's
/// directory, so that a downloaded model cannot make var-gen open `/etc/shadow` or `../../secret`.
enum ContainedPath {
    /// `name` resolved against the directory of `file`. Refused (`PipelineError.referenceOutsideDirectory`,
    /// naming `json` and `field`): an empty or absolute name, and one whose resolved form — `..` removed and
    /// symbolic links followed, for the parts that exist — is not inside the directory's own resolved form.
    static func resolve(_ name: String, besideFile file: String, json: String, field: String) throws -> String {
        func refuse(_ reason: String) -> PipelineError {
            .referenceOutsideDirectory(json: json, field: field, name: name, reason: reason)
        }
        guard !name.isEmpty else { throw refuse("is empty") }
        guard !name.hasPrefix("/") && !name.hasPrefix("~") else { throw refuse("is an absolute path") }
        guard !name.utf8.contains(0) else { throw refuse("holds a NUL byte") }
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
        let candidate = directory + "/" + name
        let root = realPath(directory)
        let resolved = realPath(candidate)
        guard resolved != root, resolved.hasPrefix(root == "/" ? "/" : root + "/") else {
            throw refuse("leaves the directory of the JSON (it resolves to \(DisplayText.escaped(resolved)))")
        }
        return candidate
    }

    /// The canonical form of `path`: `realpath` of its longest existing prefix, then the remaining components
    /// with `.` and `..` applied lexically (a missing file still resolves, so that `missing/../../x` is judged).
    static func realPath(_ path: String) -> String {
        var components = URL(fileURLWithPath: path).pathComponents   // absolute: starts with "/"
        var tail: [String] = []
        while !components.isEmpty {
            let prefix = components.count == 1 ? "/" : "/" + components.dropFirst().joined(separator: "/")
            if let p = realpath(prefix, nil) {
                defer { free(p) }
                var out = URL(fileURLWithPath: String(cString: p)).pathComponents
                for c in tail.reversed() {
                    if c == "." || c.isEmpty { continue }
                    if c == ".." { if out.count > 1 { out.removeLast() } } else { out.append(c) }
                }
                return out.count == 1 ? "/" : "/" + out.dropFirst().joined(separator: "/")
            }
            tail.append(components.removeLast())
        }
        return path
    }
}
