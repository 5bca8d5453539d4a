import Foundation
import VARKit

/// The text of an error as the user sees it: the CLI's own errors as they are, Foundation's file and JSON
/// errors in plain words (never `Error Domain=NSCocoaErrorDomain …` or `CodingKeys(…)`).
func userFacing(_ error: Error) -> String {
    if let e = error as? DecodingError { return describe(e) }
    if error is UsageError || error is CLIFailure { return "\(error)" }
    let ns = error as NSError
    guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return "\(error)" }
    let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
    let what: String
    switch ns.code {
    case NSFileNoSuchFileError, NSFileReadNoSuchFileError: what = "no such file or directory"
    case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: what = "permission denied"
    case NSFileWriteOutOfSpaceError: what = "no space left on the device"
    case NSFileWriteVolumeReadOnlyError: what = "the file system is read-only"
    case NSFileWriteFileExistsError: what = "the file already exists"
    case NSFileReadCorruptFileError, NSPropertyListReadCorruptError: what = "the file is not valid JSON"
    default: what = (ns.userInfo[NSUnderlyingErrorKey] as? NSError).map { String(cString: strerror(Int32($0.code))) }
        ?? "an I/O error (code \(ns.code))"
    }
    return path.map { "'\($0)': \(what)" } ?? what
}

/// A JSON decoding error as "field 'a.b' is missing" / "has the wrong type".
private func describe(_ e: DecodingError) -> String {
    func path(_ keys: [CodingKey]) -> String { keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") }
    switch e {
    case let .keyNotFound(key, c): return "the JSON has no field '\(path(c.codingPath + [key]))'"
    case let .typeMismatch(_, c), let .valueNotFound(_, c): return "the JSON field '\(path(c.codingPath))' has the wrong type"
    case let .dataCorrupted(c): return c.codingPath.isEmpty ? "the file is not valid JSON" : "the JSON field '\(path(c.codingPath))' is invalid"
    @unknown default: return "the JSON does not match the expected configuration"
    }
}

/// Text for stderr made safe for a terminal, whatever a file put into it (class names from a JSON, names in a PNG
/// record, paths): control characters other than newline and tab, DEL, C1 controls and invisible direction or
/// format characters are shown escaped (`\x1b`, `\u{202e}`, as `DisplayText`), lines are cut at 2,000
/// characters. Applied to every error, note and progress message the CLI prints.
func terminalSafe(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
        var out = "", kept = 0
        for u in line.unicodeScalars {
            if kept >= 2_000 { out += "…"; break }
            kept += 1
            let v = u.value
            if v == 0x09 { out.unicodeScalars.append(u) }
            else if v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) { out += "\\x" + (v < 0x10 ? "0" : "") + String(v, radix: 16) }
            else if DisplayText.isInvisibleControl(v) { out += "\\u{" + String(v, radix: 16) + "}" }
            else { out.unicodeScalars.append(u) }
        }
        return out
    }.joined(separator: "\n")
}
