/// A setting that is either the same at every scale or given per scale (CoDe passes lists, docs/model.md §6.3).
public enum PerScale<Value: Sendable & Equatable & Codable>: Sendable, Equatable, Codable {
    case uniform(Value)
    /// One value per scale; scales past the end use the last value.
    case perScale([Value])

    /// The value at scale `si`.
    public subscript(si: Int) -> Value {
        switch self {
        case let .uniform(v): return v
        case let .perScale(list):
            precondition(!list.isEmpty, "PerScale: empty list")
            return list[min(si, list.count - 1)]
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Value.self) { self = .uniform(v); return }
        let list = try c.decode([Value].self)
        guard !list.isEmpty else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "empty per-scale list")
        }
        self = .perScale(list)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .uniform(v): try c.encode(v)
        case let .perScale(list): try c.encode(list)
        }
    }
}

/// Every sampling setting of one generation call (docs/model.md §6). Defaults are the official VAR demo's
/// (`SamplingPolicy`: cfg 4, top-k 900, top-p 0.95, temperature 1, no more_smooth, seed 0).
public struct SamplingConfig: Sendable, Equatable {
    /// Classifier-free guidance strength; the strength at scale si is `cfg · si/(S−1)` (docs/model.md §6.1).
    public var cfg: Double
    /// Top-k per scale; 0 disables (ties at the k-th value are kept, docs/model.md §6.2).
    public var topK: PerScale<Int>
    /// Top-p (nucleus) threshold; 0 disables.
    public var topP: Double
    /// Temperature per scale, dividing the logits after filtering (CoDe's variant, docs/model.md §6.3). 1 = plain VAR.
    public var temperature: PerScale<Double>
    /// Replace hard codewords by a Gumbel-softmax mixture (docs/model.md §6.4); visualisation only.
    public var moreSmooth: Bool
    /// Base seed: image i of a call uses its own MT19937 seeded `seed + i` (docs/design.md).
    public var seed: UInt64

    public init(cfg: Double = SamplingPolicy.officialCFG, topK: PerScale<Int> = .uniform(SamplingPolicy.officialTopK),
                topP: Double = SamplingPolicy.officialTopP,
                temperature: PerScale<Double> = .uniform(1), moreSmooth: Bool = false, seed: UInt64 = 0) {
        self.cfg = cfg; self.topK = topK; self.topP = topP; self.temperature = temperature
        self.moreSmooth = moreSmooth; self.seed = seed
    }

    /// Settings from a model JSON's `sampling` defaults.
    public init(defaults d: SamplingDefaults, seed: UInt64 = 0) {
        self.init(cfg: d.cfg, topK: .uniform(d.topK), topP: d.topP, temperature: d.temperature,
                  moreSmooth: d.moreSmooth, seed: seed)
    }

    /// Per-image seeds `seed + i` for a batch of `count` images.
    public func seeds(count: Int) -> [UInt64] { (0..<count).map { seed &+ UInt64($0) } }

    /// Guidance strength at scale si of S: `cfg · (si/(S−1))`, in double as in the official code.
    public func guidance(scale si: Int, of scaleCount: Int) -> Double {
        guard scaleCount > 1 else { return cfg }
        let ratio = Double(si) / Double(scaleCount - 1)
        return cfg * ratio
    }
}
