/// What to generate in one `GenerationPipeline.generate(_:onEvent:)` call: one image per label, in batches.
public struct GenerationRequest: Sendable {
    /// The class of each image (`config.numClasses` is the unconditional class).
    public var labels: [Int]
    /// The seed of each image (its own MT19937), one per label.
    public var seeds: [UInt64]
    /// Images generated together (default 8); the last batch may be smaller.
    public var batchSize: Int
    /// Sampling settings; nil (default) uses the pipeline configuration's. Its `seed` is not used: `seeds` is.
    public var sampling: SamplingConfig?

    /// Images with explicit seeds (one per label; `generate` refuses other counts).
    public init(labels: [Int], seeds: [UInt64], batchSize: Int = 8, sampling: SamplingConfig? = nil) {
        self.labels = labels; self.seeds = seeds; self.batchSize = max(1, batchSize); self.sampling = sampling
    }

    /// Images whose seeds are `seed + i` (the CLI's `generate`).
    public init(labels: [Int], seed: UInt64, batchSize: Int = 8, sampling: SamplingConfig? = nil) {
        self.init(labels: labels, seeds: (0..<labels.count).map { seed &+ UInt64($0) }, batchSize: batchSize,
                  sampling: sampling)
    }
}

/// One finished batch: its images (decoded) with the metadata to reproduce them.
public struct GeneratedBatch: Sendable {
    /// Index of the batch in the request (0-based) and number of batches.
    public var index: Int, count: Int
    /// Index in the request of the batch's first image.
    public var firstImage: Int
    public var labels: [Int]
    public var seeds: [UInt64]
    /// B images.
    public var images: [RGBImage]
    /// Per scale si, `(B, pn_si²)` tokens, image-major.
    public var tokens: [[Int32]]
    /// Wall seconds of the transformer (all scales, sampling included) and of the VQVAE decode.
    public var transformerSeconds: Double, decodeSeconds: Double
}

/// An event of a streamed generation.
public enum GenerationEvent: Sendable {
    /// A scale of batch `batch` is done.
    case progress(batch: Int, GenerationProgress)
    /// A batch is finished and decoded.
    case batch(GeneratedBatch)
}
