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

/// Errors of generation and CoDe.
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    case incompatibleTokenizer(String)
    case invalidBatch(String)
    case invalidEditing(String)
    case incompatiblePair(String)
    case invalidDraftSteps(Int, allowed: ClosedRange<Int>)
    /// A sampling setting outside `SamplingLimits`.
    case invalidSampling(LimitViolation)
    /// The transformer produced NaN/Inf logits at `scale` for image `image` of the call (broken weights
    /// or numerics); nothing is sampled or written from them.
    case nonFiniteLogits(scale: Int, image: Int)
    /// Finite logits at `scale` for image `image` whose magnitude (`largest`) overflows float32 once divided by
    /// the sampling temperature; sampling them would give NaN probabilities, so nothing is sampled.
    case logitsOverflow(scale: Int, image: Int, largest: Float, temperature: Double)
    case cancelled

    public var description: String {
        switch self {
        case let .incompatibleTokenizer(m):
            return "the VAR model does not fit the tokenizer: \(m). HINT: use the VQVAE the model was trained with"
        case let .invalidBatch(m): return "invalid batch: \(m)"
        case let .invalidEditing(m): return "invalid editing masks: \(m)"
        case let .incompatiblePair(m):
            return "drafter and refiner cannot be combined: \(m). HINT: both must share the VQVAE, classes and scale schedule"
        case let .invalidDraftSteps(n, allowed):
            return "draft steps \(n) outside \(allowed.lowerBound)...\(allowed.upperBound)"
        case let .invalidSampling(v): return "invalid sampling settings: \(v)"
        case let .nonFiniteLogits(scale, image):
            return "the model produced non-finite logits (NaN or Inf) at scale \(scale) for image \(image) of the batch\n"
                + "HINT: the weights are damaged or the model diverged; no image was written from them."
        case let .logitsOverflow(scale, image, largest, temperature):
            return "the model's logits at scale \(scale) for image \(image) of the batch reach \(largest), which overflows "
                + "float32 once divided by the temperature \(temperature); no image was written from them\n"
                + "HINT: the weights are damaged or far out of the usual range; a larger --temp may avoid the overflow."
        case .cancelled: return "generation cancelled"
        }
    }
}
