/// Failures of the runtime layer: image and array files, atomic output.
public enum RuntimeError: Error, CustomStringConvertible, Equatable {
    /// libpng refused to encode an image (its own message).
    case pngEncode(message: String)
    /// A file is not a readable PNG (truncated, corrupt, unsupported); `message` comes from libpng or the chunk parser.
    case pngDecode(path: String?, message: String)
    /// A PNG text key/value cannot be stored in a `tEXt` chunk.
    case invalidTextChunk(key: String, reason: String)
    /// A tensor handed over as images is not `(B, 3, H, W)`.
    case imageTensorShape(found: [Int])
    /// A grid or scale strip of no images.
    case emptyLayout(ImageLayout)
    /// The images of a grid or scale strip differ in size.
    case unequalImageSizes(ImageLayout)
    /// A scale strip's token pyramid has `found` scales, the VQVAE `expected`.
    case stripScaleCount(expected: Int, found: Int)
    /// A scale strip's scale `scale` has `found` tokens where `batch` images of side `patchSize` need batch·pn².
    case stripTokenCount(scale: Int, batch: Int, patchSize: Int, found: Int)
    /// A scale strip with `makers` maker bars for `tiles` tiles.
    case stripMakerCount(tiles: Int, makers: Int)
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
        case let .imageTensorShape(found):
            return "invalid image: expected a (B, 3, H, W) tensor, got shape \(found)"
        case let .emptyLayout(layout):
            return "invalid image: a \(layout) needs at least one " + (layout == .grid ? "image" : "tile")
        case let .unequalImageSizes(layout):
            return "invalid image: \(layout) " + (layout == .grid ? "images" : "tiles") + " differ in size"
        case let .stripScaleCount(expected, found):
            return "invalid image: scale strip: \(found) scales of tokens, the VQVAE has \(expected)"
        case let .stripTokenCount(scale, batch, patchSize, found):
            return "invalid image: scale strip: scale \(scale) has \(found) tokens, expected \(batch)×\(patchSize)²"
        case let .stripMakerCount(tiles, makers):
            return "invalid image: scale strip: \(makers) makers for \(tiles) tiles"
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

/// A picture made of several images (`RGBImage.grid`, `ScaleStrip.strip`).
public enum ImageLayout: String, Sendable, CustomStringConvertible {
    case grid
    case scaleStrip = "scale strip"

    public var description: String { rawValue }
}
