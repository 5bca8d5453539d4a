import Dispatch

/// What a generation call returns: the token pyramid and the cumulative latent.
public struct GenerationResult: Sendable {
    /// Per scale si, `(B, pn_si²)` token indices flattened row-major (image-major, then raster order).
    public var tokens: [[Int32]]
    /// The cumulative latent f̂ `(B, Cvae, P, P)` (P the last patch size), ready for the VQVAE decoder.
    public var fHat: Tensor
}

/// Zero-shot editing by teacher forcing (docs/model.md §11 step 3): after scale si is sampled and embedded, the
/// positions with `keep[si][b·pn² + j] == true` take the original codeword `E[originalTokens[si][…]]`.
/// Sampling still draws random numbers for every position. Build the masks with the notebook's rule
/// (bilinear resize of the last-scale mask, threshold > 0.5, everything kept where pn² ≤ 3).
public struct EditingHook: Sendable {
    /// Per scale, `(B, pn²)` keep flags.
    public var keep: [[Bool]]
    /// Per scale, `(B, pn²)` original token indices (e.g. from the tokenizer's encoder).
    public var originalTokens: [[Int32]]

    public init(keep: [[Bool]], originalTokens: [[Int32]]) {
        self.keep = keep; self.originalTokens = originalTokens
    }
}

/// A progress report, handed to the caller's callback after every scale.
public struct GenerationProgress: Sendable, Equatable {
    /// Which model produced the scale.
    public enum Stage: String, Sendable { case generate, draft, refine }
    public var stage: Stage
    /// The scale just finished.
    public var scale: Int
    /// Total scales S.
    public var scaleCount: Int
    /// Tokens per image finished so far (Σ pn² through `scale`).
    public var tokensDone: Int
    /// Total tokens per image L.
    public var tokenCount: Int
    /// Wall seconds of this scale's transformer work (embedding, all blocks, head; for the first refined
    /// scale of CoDe also the refiner's prefill of the drafted positions). Measured, never printed.
    public var transformerSeconds: Double = 0
    /// Wall seconds of this scale's sampling work (CFG mix, top-k/top-p, draws, codeword embedding, f̂ and
    /// next-input update).
    public var samplingSeconds: Double = 0
}

/// A monotonic wall clock for the timing fields of `GenerationProgress`.
@usableFromInline
struct Stopwatch {
    let start = DispatchTime.now().uptimeNanoseconds
    var seconds: Double { Double(DispatchTime.now().uptimeNanoseconds &- start) * 1e-9 }
}

/// Called after every scale; return `false` to cancel the call (it then throws `GenerationError.cancelled`).
public typealias ProgressHandler = (GenerationProgress) -> Bool

extension ModelRole {
    /// The role of the model that made a scale of `stage`.
    public init(_ stage: GenerationProgress.Stage) {
        switch stage {
        case .generate: self = .model
        case .draft: self = .drafter
        case .refine: self = .refiner
        }
    }
}
