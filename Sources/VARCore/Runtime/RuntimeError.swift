/// Failures of the runtime layer: image and array files, atomic output.
public enum RuntimeError: Error, CustomStringConvertible, Equatable {
    /// libpng refused to encode an image (its own message).
    case pngEncode(message: String)
    /// A file is not a readable PNG (truncated, corrupt, unsupported); `message` comes from libpng or the chunk parser.
    case pngDecode(path: String?, message: String)
    /// A PNG text key/value cannot be stored in a `tEXt` chunk.
    case invalidTextChunk(key: String, reason: String)
    /// An image's size or layout does not fit the operation.
    case invalidImage(String)
    /// A file system operation failed (`errno` text included).
    case io(path: String, operation: String, message: String)
    /// An NPY/NPZ/token file is malformed or has an unexpected layout.
    case invalidArrayFile(path: String?, message: String)

    public var description: String {
        switch self {
        case let .pngEncode(message):
            return "PNG encoding failed: \(message)"
        case let .pngDecode(path, message):
            return "\(path.map { "\($0): " } ?? "")not a readable PNG: \(message)\n"
                + "HINT: the file may be truncated or not a PNG; regenerate it or pass another file."
        case let .invalidTextChunk(key, reason):
            return "PNG text key '\(key)' is invalid: \(reason)"
        case let .invalidImage(message):
            return "invalid image: \(message)"
        case let .io(path, operation, message):
            return "\(operation) \(path): \(message)"
                + (operation.hasPrefix("create") || operation.hasPrefix("rename")
                   ? "\nHINT: check that the directory exists and is writable." : "")
        case let .invalidArrayFile(path, message):
            return "\(path.map { "\($0): " } ?? "")\(message)"
        }
    }
}
