import Foundation

/// Architecture of a VAR transformer (docs/model.md §1.3), read from the model's JSON (docs/design.md) or
/// inferred from an official checkpoint's tensor shapes.
public struct VARConfig: Codable, Sendable, Equatable {
    /// Always "var" in the JSON.
    public var kind: String = "var"
    /// Number of AdaLN blocks d.
    public var depth: Int
    /// Model width C (also the condition width D).
    public var width: Int
    /// Attention heads H; head dim = C / H.
    public var heads: Int
    /// Number of real classes; class index `numClasses` is the unconditional class.
    public var numClasses: Int
    /// Codebook size V.
    public var vocabSize: Int
    /// Latent channels Cvae (input width of `word_embed`).
    public var zChannels: Int
    /// Side of every scale, e.g. `(1, 2, 3, 4, 5, 6, 8, 10, 13, 16)`.
    public var patchSizes: [Int]
    /// FFN hidden width = round(C · mlpRatio).
    public var mlpRatio: Double = 4
    /// Human-readable class names (optional; index = class id).
    public var classNames: [String]? = nil
    /// File name of the VQVAE this model was trained with (relative to the JSON), if known.
    public var vqvae: String? = nil
    /// The shipped model's sampling defaults.
    public var sampling: SamplingDefaults? = nil

    enum CodingKeys: String, CodingKey {
        case kind, depth, width, heads, vocabSize = "vocab_size", numClasses = "num_classes"
        case zChannels = "z_channels", patchSizes = "patch_sizes", mlpRatio = "mlp_ratio"
        case classNames = "class_names", vqvae, sampling
    }

    public init(depth: Int, width: Int, heads: Int, numClasses: Int, vocabSize: Int, zChannels: Int,
                patchSizes: [Int], mlpRatio: Double = 4, classNames: [String]? = nil,
                vqvae: String? = nil, sampling: SamplingDefaults? = nil) {
        self.depth = depth; self.width = width; self.heads = heads; self.numClasses = numClasses
        self.vocabSize = vocabSize; self.zChannels = zChannels; self.patchSizes = patchSizes
        self.mlpRatio = mlpRatio; self.classNames = classNames; self.vqvae = vqvae; self.sampling = sampling
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decodeIfPresent(String.self, forKey: .kind) ?? "var"
        depth = try c.decode(Int.self, forKey: .depth)
        width = try c.decode(Int.self, forKey: .width)
        heads = try c.decode(Int.self, forKey: .heads)
        numClasses = try c.decode(Int.self, forKey: .numClasses)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        zChannels = try c.decode(Int.self, forKey: .zChannels)
        patchSizes = try c.decode([Int].self, forKey: .patchSizes)
        mlpRatio = try c.decodeIfPresent(Double.self, forKey: .mlpRatio) ?? 4
        classNames = try c.decodeIfPresent([String].self, forKey: .classNames)
        vqvae = try c.decodeIfPresent(String.self, forKey: .vqvae)
        sampling = try c.decodeIfPresent(SamplingDefaults.self, forKey: .sampling)
    }

    /// Largest model JSON read (bytes); real ones are about 1 KB, with class names a few tens of KB.
    public static let maxJSONBytes = 16 << 20

    /// Reads a model JSON (docs/design.md) and validates it (`ConfigLimits.check`). Only a regular file is
    /// opened (a FIFO or device is refused without blocking) and at most `maxJSONBytes` are read.
    public static func load(json path: String) throws -> VARConfig {
        let bytes: [UInt8]
        do { bytes = try InputFile.readAll(path, limit: maxJSONBytes) } catch let f as InputFile.Failure {
            throw VARConfigError.unreadable(path: path, reason: f.reason)
        }
        let config: VARConfig
        do { config = try JSONDecoder().decode(VARConfig.self, from: Data(bytes)) } catch {
            let kind = FileKind.describe(bytes)
            if let kind, kind != "a JSON document", kind != "a text file" {
                throw VARConfigError.unreadable(path: path, reason: "is \(kind), not a model JSON")
            }
            throw VARConfigError.unreadable(path: path, reason: DisplayText.escaped(JSONErrorText.describe(error), limit: 400))
        }
        if config.kind != "var" {
            throw VARConfigError.wrongKind(path: path, found: config.kind)
        }
        do { try config.validate() } catch VARConfigError.outOfRange(let v) { throw VARConfigError.outOfRange(v.from(path)) }
        return config
    }

    // MARK: derived quantities

    /// Head dimension C / H.
    public var headDim: Int { width / heads }
    /// FFN hidden width.
    public var mlpHidden: Int {
        let h = (Double(width) * mlpRatio).rounded()
        return h.isFinite && abs(h) < 0x1p62 ? Int(h) : 0   // a configuration that fails `validate()` otherwise
    }
    /// Number of scales S.
    public var scaleCount: Int { patchSizes.count }
    /// Total token count L = Σ pn².
    public var tokenCount: Int { patchSizes.reduce(0) { $0 + $1 * $1 } }
    /// The unconditional ("null") class index.
    public var unconditionalClass: Int { numClasses }
    /// `begin[si]` … `end[si]` positions of each scale (docs/model.md §1.1).
    public var scaleBegins: [Int] { var b = [Int](); var acc = 0; for pn in patchSizes { b.append(acc); acc += pn * pn }; return b }
    /// Cumulative token counts `end[si]`.
    public var scaleEnds: [Int] { var e = [Int](); var acc = 0; for pn in patchSizes { acc += pn * pn; e.append(acc) }; return e }
    /// Scale index of every position (the `lvl_1L` buffer).
    public var scaleOfPosition: [Int] {
        var out = [Int](); out.reserveCapacity(tokenCount)
        for (si, pn) in patchSizes.enumerated() { out += [Int](repeating: si, count: pn * pn) }
        return out
    }

    /// Throws `VARConfigError.outOfRange` when the numbers cannot describe a working model of bounded size
    /// (`ConfigLimits.check`: every dimension, the schedule, the sampling defaults).
    public func validate() throws {
        do { try ConfigLimits.check(self) } catch let v as LimitViolation { throw VARConfigError.outOfRange(v) }
    }

    // MARK: presets

    /// The official 256×256 schedule `(1,2,3,4,5,6,8,10,13,16)`.
    public static let officialPatchSizes = [1, 2, 3, 4, 5, 6, 8, 10, 13, 16]

    /// An official ImageNet 256×256 model (`var_d16.pth` … `var_d30.pth`): C = 64·d, H = d.
    public static func official(depth: Int) -> VARConfig {
        VARConfig(depth: depth, width: 64 * depth, heads: depth, numClasses: 1000, vocabSize: 4096,
                  zChannels: 32, patchSizes: officialPatchSizes, mlpRatio: 4, sampling: SamplingPolicy.officialJSON)
    }

    /// Infers the architecture of an official checkpoint with no JSON beside it (docs/design.md).
    /// `shapeOf` returns a tensor's shape or nil when absent; `names` lists every tensor name.
    /// Only checkpoints with 680 positions (the official schedule) can be inferred.
    public init(inferringFromShapes shapeOf: (String) -> [Int]?, names: [String]) throws {
        func need(_ key: String, rank: Int) throws -> [Int] {
            guard let s = shapeOf(key), s.count == rank else {
                throw VARConfigError.missingTensor(key: key, rank: rank)
            }
            return s
        }
        var blockIDs = Set<Int>()
        for n in names where n.hasPrefix("blocks.") {
            let rest = n.dropFirst("blocks.".count)
            if let dot = rest.firstIndex(of: "."), let i = Int(rest[rest.startIndex..<dot]), i >= 0 { blockIDs.insert(i) }
        }
        let depth = blockIDs.count
        guard depth > 0, blockIDs.max() == depth - 1 else {
            throw VARConfigError.noBlocks
        }
        guard depth <= ConfigLimits.maxDepth else {
            throw VARConfigError.outOfRange(LimitViolation(field: "depth (blocks.N.* in the file)", value: String(depth),
                                                           allowed: "an integer in 1…\(ConfigLimits.maxDepth)"))
        }
        let width = try need("pos_start", rank: 3)[2]
        guard (1...ConfigLimits.maxWidth).contains(width) else {   // before any arithmetic on it
            throw VARConfigError.outOfRange(LimitViolation(field: "width (pos_start dim 2)", value: String(width),
                                                           allowed: "an integer in 1…\(ConfigLimits.maxWidth)"))
        }
        let heads = try need("blocks.0.attn.scale_mul_1H11", rank: 4)[1]
        let classes = try need("class_emb.weight", rank: 2)[0] - 1
        let vocab = try need("head.weight", rank: 2)[0]
        let cvae = try need("word_embed.weight", rank: 2)[1]
        let scales = try need("lvl_embed.weight", rank: 2)[0]
        let positions = try need("pos_1LC", rank: 3)[1]
        guard positions == 680, scales == VARConfig.officialPatchSizes.count else {
            throw VARConfigError.unofficialSchedule(positions: positions, scales: scales)
        }
        let hidden = shapeOf("blocks.0.ffn.fc1.weight")?.first ?? 4 * width
        // A zero width gives a non-finite ratio, which `validate()` refuses below.
        self.init(depth: depth, width: width, heads: heads, numClasses: classes, vocabSize: vocab,
                  zChannels: cvae, patchSizes: VARConfig.officialPatchSizes,
                  mlpRatio: Double(hidden) / Double(width))
        if classes == 1000 && vocab == 4096 {
            sampling = VARConfig.official(depth: depth).sampling
        }
        try validate()
    }
}

/// A shipped model's sampling defaults (the `sampling` object of the model JSON).
public struct SamplingDefaults: Codable, Sendable, Equatable {
    public var cfg: Double
    public var topK: Int
    public var topP: Double
    /// One temperature for all scales (the JSON may also hold a per-scale list).
    public var temperature: PerScale<Double>
    public var moreSmooth: Bool
    /// CoDe's default split N.
    public var draftSteps: Int?

    enum CodingKeys: String, CodingKey {
        case cfg, topK = "top_k", topP = "top_p", temperature, moreSmooth = "more_smooth", draftSteps = "draft_steps"
    }

    public init(cfg: Double, topK: Int, topP: Double, temperature: PerScale<Double>, moreSmooth: Bool,
                draftSteps: Int? = nil) {
        self.cfg = cfg; self.topK = topK; self.topP = topP; self.temperature = temperature
        self.moreSmooth = moreSmooth; self.draftSteps = draftSteps
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self), d = SamplingPolicy.jsonFieldDefaults
        cfg = try c.decodeIfPresent(Double.self, forKey: .cfg) ?? d.cfg
        topK = try c.decodeIfPresent(Int.self, forKey: .topK) ?? d.topK
        topP = try c.decodeIfPresent(Double.self, forKey: .topP) ?? d.topP
        temperature = try c.decodeIfPresent(PerScale<Double>.self, forKey: .temperature) ?? d.temperature
        moreSmooth = try c.decodeIfPresent(Bool.self, forKey: .moreSmooth) ?? d.moreSmooth
        draftSteps = try c.decodeIfPresent(Int.self, forKey: .draftSteps)
    }
}

/// Errors of the model configuration.
public enum VARConfigError: Error, CustomStringConvertible, Equatable {
    /// The JSON could not be read or parsed (`reason`: the file or JSON problem, in words).
    case unreadable(path: String, reason: String)
    /// The JSON's `kind` is `found`, not "var".
    case wrongKind(path: String, found: String)
    /// Inference from the checkpoint: tensor `key` is missing or not of rank `rank`.
    case missingTensor(key: String, rank: Int)
    /// Inference from the checkpoint: no `blocks.0.*` … `blocks.(d−1).*` tensors.
    case noBlocks
    /// Inference from the checkpoint: `positions` positions in `scales` scales are not the official schedule.
    case unofficialSchedule(positions: Int, scales: Int)
    /// A value outside the range `ConfigLimits` accepts (from the JSON, or inferred from the checkpoint).
    case outOfRange(LimitViolation)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read VAR config \(DisplayText.escaped(path)): \(reason)"
        case let .outOfRange(v):
            return "invalid VAR config: \(v)\nHINT: the limits are listed in docs/security.md; check the model JSON "
                + "(docs/design.md) or the checkpoint it describes."
        case let .wrongKind(path, found):
            return "invalid VAR config: \(DisplayText.escaped(path)): kind is \"\(DisplayText.escaped(found))\", expected \"var\""
        case let .missingTensor(key, rank):
            return Self.cannotInfer("tensor \(DisplayText.escaped(key)) is missing or not of rank \(rank)")
        case .noBlocks:
            return Self.cannotInfer("no contiguous blocks.N.* tensors found")
        case let .unofficialSchedule(positions, scales):
            return Self.cannotInfer("\(positions) positions in \(scales) scales is not the official schedule; "
                                    + "put a JSON config (docs/design.md) beside the checkpoint")
        }
    }

    private static func cannotInfer(_ why: String) -> String {
        "cannot infer the VAR configuration from the checkpoint: \(why). HINT: write a JSON config (docs/design.md)"
    }
}
