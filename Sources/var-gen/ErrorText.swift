import Foundation

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
