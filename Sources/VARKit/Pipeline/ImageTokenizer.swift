import Foundation

/// The VQVAE of a pipeline, alone: loads it, and turns images into token pyramids and back (docs/model.md §4).
public final class ImageTokenizer {
    /// The checkpoint it was loaded from.
    public let path: String
    public let vqvae: VQVAE

    /// Loads the VQVAE; with an accountant, charges its file pages while loading and then its weights.
    public init(path: String, accountant: MemoryAccountant? = nil) throws {
        let pages = fileSize(path)
        accountant?.charge(pages, to: .checkpointPages)
        defer { accountant?.release(pages, from: .checkpointPages) }
        let checkpoint = try Checkpoint(path: path)
        vqvae = try VQVAE(checkpoint: checkpoint, config: try VQVAEConfig.forCheckpoint(at: path, checkpoint))
        accountant?.charge(VQVAE.weightBytes(checkpoint: checkpoint), to: .vqvaeWeights)
        self.path = path
    }

    /// A tokenizer over a VQVAE already built (e.g. random weights); `path` is a label.
    public init(vqvae: VQVAE, path: String) {
        self.vqvae = vqvae; self.path = path
    }

    /// The VQVAE's configuration, read without loading its weights (only the tensor index).
    public static func configuration(at path: String) throws -> VQVAEConfig {
        try VQVAEConfig.forCheckpoint(at: path, try Checkpoint(path: path))
    }

    public var config: VQVAEConfig { vqvae.config }

    /// Images from a token pyramid (docs/model.md §4.8); per scale `(B, pn²)`. Runs on `parallelism`
    /// (default: one worker per core), as do the other calls.
    public func decode(tokens: [[Int32]], parallelism: Parallelism = .allCores) throws -> [RGBImage] {
        try RGBImage.images(from: vqvae.decode(tokens: tokens, parallelism: parallelism))
    }

    /// The token pyramid of an image of the VQVAE's resolution (docs/model.md §4.7); per scale `(1, pn²)`.
    /// Throws `RuntimeError.nonFiniteLatent` when the encoder's output holds NaN/Inf (finite but huge weights can
    /// overflow it): the nearest-codeword search would silently turn it into token 0 everywhere.
    public func tokens(from image: RGBImage, parallelism: Parallelism = .allCores) throws -> [[Int32]] {
        let f = vqvae.encode(image.tensor(), parallelism: parallelism)     // (1, Cvae, h, w)
        let perImage = max(1, f.count / max(1, f.shape[0]))
        if let bad = Finite.firstNonFinite(f.data) { throw RuntimeError.nonFiniteLatent(index: bad / perImage) }
        // The quantizer's squared distances sum Cvae squares of differences with codewords; a finite latent whose
        // squares overflow would make every distance +∞ (and every token 0) as surely as a NaN.
        let largest = f.data.reduce(Float(0)) { max($0, abs($1)) }
        if !(largest * largest * Float(4 * max(1, f.shape.count > 1 ? f.shape[1] : 1))).isFinite {
            throw RuntimeError.nonFiniteLatent(index: 0)
        }
        return vqvae.quantizer.tokens(fromLatent: f, parallelism: parallelism)
    }

    /// The image encoded to tokens and decoded again, with its tokens.
    public func reconstruct(_ image: RGBImage,
                            parallelism: Parallelism = .allCores) throws -> (image: RGBImage, tokens: [[Int32]]) {
        let tokens = try tokens(from: image, parallelism: parallelism)
        return (try decode(tokens: tokens, parallelism: parallelism)[0], tokens)
    }
}
