/// A property a model must share with its tokenizer, or a CoDe drafter with its refiner.
public enum SharedProperty: String, Sendable, CustomStringConvertible {
    /// The scale schedule `patchSizes`.
    case patchSizes = "patch sizes"
    /// The codebook size V.
    case vocabulary
    /// The latent width Cvae.
    case latentChannels = "latent channels"
    /// The number of classes.
    case classCount = "class count"

    public var description: String { rawValue }

    /// "vocabulary 4096 vs 4000", "patch sizes [1, 2] vs [1, 2, 3]": the two values, scalars without brackets.
    public func mismatch(_ a: [Int], _ b: [Int]) -> String {
        func show(_ v: [Int]) -> String { self == .patchSizes || v.count != 1 ? "\(v)" : "\(v[0])" }
        return "\(rawValue) \(show(a)) vs \(show(b))"
    }
}

/// Errors of generation and CoDe. Each case carries the values at fault; `description` is the message.
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    /// The model and the tokenizer differ in `property` (values: the model's, the tokenizer's).
    case incompatibleTokenizer(property: SharedProperty, model: [Int], tokenizer: [Int])
    /// A call without labels.
    case emptyBatch
    /// A call whose seed count differs from its label count.
    case seedCount(labels: Int, seeds: Int)
    /// A label above the unconditional class `numClasses`.
    case labelOutOfRange(label: Int, numClasses: Int)
    /// Editing masks for `keep` and `tokens` scales where the model has `expected`.
    case editingScaleCount(expected: Int, keep: Int, tokens: Int)
    /// Editing masks of scale `scale` with `found` entries where the batch needs `expected` (B·pn²).
    case editingEntryCount(scale: Int, expected: Int, found: Int)
    /// A kept original token outside the vocabulary `0..<vocabulary`.
    case editingToken(token: Int32, scale: Int, vocabulary: Int)
    /// The drafter and the refiner differ in `property` (values: the drafter's, the refiner's).
    case incompatiblePair(property: SharedProperty, drafter: [Int], refiner: [Int])
    /// CoDe's split N outside `allowed` (1…S−1).
    case invalidDraftSteps(draftSteps: Int, allowed: ClosedRange<Int>)
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
        case let .incompatibleTokenizer(property, model, tokenizer):
            return "the VAR model does not fit the tokenizer: \(property.mismatch(model, tokenizer)). "
                + "HINT: use the VQVAE the model was trained with"
        case .emptyBatch: return "invalid batch: no labels"
        case let .seedCount(labels, seeds): return "invalid batch: \(labels) labels but \(seeds) seeds"
        case let .labelOutOfRange(label, numClasses):
            return "invalid batch: label \(label) outside 0...\(numClasses) (\(numClasses) or negative = unconditional)"
        case let .editingScaleCount(expected, keep, tokens):
            return "invalid editing masks: need keep flags and original tokens for all \(expected) scales, got \(keep) "
                + "and \(tokens)"
        case let .editingEntryCount(scale, expected, found):
            return "invalid editing masks: scale \(scale) needs \(expected) entries (batch × pn²), got \(found)"
        case let .editingToken(token, scale, vocabulary):
            return "invalid editing masks: token \(token) at scale \(scale) outside the vocabulary 0…\(vocabulary - 1)"
        case let .incompatiblePair(property, drafter, refiner):
            return "drafter and refiner cannot be combined: \(property.mismatch(drafter, refiner)). "
                + "HINT: both must share the VQVAE, classes and scale schedule"
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
