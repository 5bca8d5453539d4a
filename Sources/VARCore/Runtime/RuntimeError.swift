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
    /// The decoded image `index` of a batch holds NaN/Inf (damaged weights or numerics); it is not written.
    case nonFiniteImage(index: Int)
    /// The encoder's latent of image `index` holds NaN/Inf (damaged or out-of-range VQVAE weights); no tokens are made.
    case nonFiniteLatent(index: Int)
    /// A PNG input is larger than the accepted size (read from its header, before decoding).
    case imageTooLarge(path: String?, width: Int, height: Int, maxPixels: Int)

    public var description: String {
        switch self {
        case let .pngEncode(message):
            return "PNG encoding failed: \(message)"
        case let .pngDecode(path, message):
            return "\(path.map { "\(DisplayText.escaped($0)): " } ?? "")not a readable PNG: \(DisplayText.escaped(message, limit: 400))\n"
                + "HINT: the file may be truncated or not a PNG; regenerate it or pass another file."
        case let .invalidTextChunk(key, reason):
            return "PNG text key '\(key)' is invalid: \(reason)"
        case let .invalidImage(message):
            return "invalid image: \(message)"
        case let .io(path, operation, message):
            return "\(operation) \(DisplayText.escaped(path)): \(message)"
                + (operation.hasPrefix("create") || operation.hasPrefix("rename")
                   ? "\nHINT: check that the directory exists and is writable." : "")
        case let .invalidArrayFile(path, message):
            return "\(path.map { "\(DisplayText.escaped($0)): " } ?? "")\(message)"
        case let .nonFiniteImage(index):
            return "decoded image \(index) of the batch holds non-finite values (NaN or Inf); it was not written\n"
                + "HINT: the VQVAE weights or the tokens' latent are damaged."
        case let .nonFiniteLatent(index):
            return "the VQVAE encoder's latent of image \(index) is not finite or too large to quantize (NaN, Inf, or squares that overflow float32); no tokens were made from it\n"
                + "HINT: the VQVAE weights are damaged or far out of the usual range."
        case let .imageTooLarge(path, width, height, maxPixels):
            return "\(path.map { "\(DisplayText.escaped($0)): " } ?? "")the image is \(width)×\(height) pixels, more than "
                + "the \(maxPixels)-pixel limit (checked in its header, before decoding)\n"
                + "HINT: downscale the image first."
        }
    }
}
