/// The one place where a model configuration is checked before anything is allocated from it — whether it
/// was inferred from a checkpoint's tensor shapes, read from a model JSON, or built in code. Every dimension
/// is positive and within the bound below, products are computed with overflow checks, related sizes agree
/// (width divisible by heads, increasing patch sizes, GroupNorm-compatible channel counts, …), and a
/// checkpoint must hold at least as many stored elements as the configuration needs weights
/// (`requireBacked`), so memory always follows bytes the file pays for.
///
/// The bounds are far above every published VAR/CoDe model (VAR-d36: depth 36, width 2304, 2.3 G weights)
/// and far below what would overflow or exhaust a machine by arithmetic alone.
public enum ConfigLimits {
    /// Transformer blocks d.
    public static let maxDepth = 256
    /// Transformer width C (and the head count H ≤ C).
    public static let maxWidth = 1 << 16
    /// Real classes (the unconditional class is one more).
    public static let maxClasses = 1 << 20
    /// Codebook size V.
    public static let maxVocab = 1 << 20
    /// Latent channels Cvae.
    public static let maxLatentChannels = 1 << 12
    /// Scales S.
    public static let maxScales = 64
    /// Side of one scale (the latent side for the last one).
    public static let maxPatchSide = 1 << 10
    /// Tokens per image L = Σ pn².
    public static let maxTokens = 1 << 20
    /// `mlp_ratio` (FFN width / C) range, and the FFN width itself.
    public static let mlpRatioRange = (1.0 / 64)...64.0
    public static let maxMLPHidden = 1 << 20
    /// Weights of one transformer (elements).
    public static let maxWeights = 1 << 36
    /// VQVAE: base channels, resolution levels, channel multiplier, ResNet blocks per level, φ convolutions,
    /// widest level, image side.
    public static let maxVQVAEChannels = 1 << 12
    public static let maxLevels = 8
    public static let maxChannelMultiplier = 64
    public static let maxResBlocks = 16
    public static let maxPhi = 64
    public static let maxLevelChannels = 1 << 14
    public static let maxImageSide = 1 << 14

    // MARK: the VAR transformer

    /// Checks a transformer configuration (see the type's documentation); throws a `LimitViolation`.
    public static func check(_ c: VARConfig) throws {
        try Check.int(c.depth, 1...maxDepth, "depth")
        try Check.int(c.width, 1...maxWidth, "width")
        try Check.int(c.heads, 1...c.width, "heads")
        guard c.width % c.heads == 0 else {
            throw LimitViolation(field: "heads", value: String(c.heads), allowed: "a divisor of width (\(c.width))")
        }
        try Check.int(c.numClasses, 1...maxClasses, "num_classes")
        try Check.int(c.vocabSize, 1...maxVocab, "vocab_size")
        try Check.int(c.zChannels, 1...maxLatentChannels, "z_channels")
        try Check.schedule(c.patchSizes, "patch_sizes", maxScales: maxScales, maxSide: maxPatchSide, maxTokens: maxTokens)
        guard c.patchSizes[0] == 1 else {
            throw LimitViolation(field: "patch_sizes", value: "\(c.patchSizes.prefix(4))…", allowed: "a first scale of side 1")
        }
        try Check.double(c.mlpRatio, mlpRatioRange, "mlp_ratio")
        let hidden = (Double(c.width) * c.mlpRatio).rounded()
        guard hidden >= 1, hidden <= Double(maxMLPHidden) else {
            throw LimitViolation(field: "mlp_ratio", value: String(c.mlpRatio),
                                 allowed: "a ratio giving an FFN width in 1…\(maxMLPHidden) (width \(c.width))")
        }
        guard let weights = transformerWeights(c), weights <= maxWeights else {
            throw LimitViolation(field: "depth/width/vocab_size", value: "\(c.depth)/\(c.width)/\(c.vocabSize)",
                                 allowed: "at most \(maxWeights) weights in all")
        }
        if let names = c.classNames {
            guard names.count <= c.numClasses else {
                throw LimitViolation(field: "class_names", value: "\(names.count) names",
                                     allowed: "at most num_classes (\(c.numClasses)) names")
            }
            try checkSelectable(names)
        }
        if let s = c.sampling { try SamplingLimits.check(s, scaleCount: c.scaleCount, vocabSize: c.vocabSize) }
    }

    /// Every class name must select its class and only it with `--class NAME` (and print harmlessly): non-empty,
    /// at most 200 characters, no control characters, not `all` or `uncond` (words of `--class`), unique, and a
    /// name that reads as an integer must be its own class id (the shipped models name class i "i").
    static func checkSelectable(_ names: [String]) throws {
        var seen = Set<String>()
        for (i, name) in names.enumerated() {
            let problem: String?
            if name.isEmpty || name.count > 200 {
                problem = "empty or longer than 200 characters"
            } else if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || DisplayText.isInvisibleControl($0.value) }) {
                problem = "holds control characters"
            } else if let n = Int(name), n != i {
                problem = "reads as class id \(n)"
            } else if ["all", "uncond"].contains(name.lowercased()) {
                problem = "is a reserved word of --class"
            } else if !seen.insert(name).inserted {
                problem = "repeats an earlier name"
            } else {
                problem = nil
            }
            if let problem {
                throw LimitViolation(field: "class_names", value: "'\(DisplayText.escaped(name))' at index \(i), which \(problem)",
                                     allowed: "distinct names that each select their own class (docs/design.md)")
            }
        }
    }

    /// Weights (elements) a transformer of this configuration holds, with overflow checks; nil on overflow.
    /// Matches `VARModel.parameterCount`: embeddings, positions, d blocks, head.
    public static func transformerWeights(_ c: VARConfig) -> Int? {
        let C = c.width, L = c.tokenCount, h = c.mlpHidden, P = SafeMath.product
        // Per block: qkv 3C², proj C², ada 6C², fc1 and fc2 2hC; biases 10C + h; scale_mul H.
        let block: [Int?] = [P([10, C, C]), P([2, h, C]), P([10, C]), h, c.heads]
        // pos_start, pos_1LC, class_emb, word_embed (+bias), head (+bias), lvl_embed, head_nm.ada_lin (+bias).
        let rest: [Int?] = [C, P([L, C]), P([c.numClasses + 1, C]), P([C, c.zChannels + 1]),
                            P([c.vocabSize, C + 1]), P([c.scaleCount, C]), P([2 * C, C + 1])]
        func sum(_ xs: [Int?]) -> Int? {
            xs.reduce(Int?(0)) { acc, x in acc.flatMap { a in x.flatMap { SafeMath.add(a, $0) } } }
        }
        guard let perBlock = sum(block), let blocks = SafeMath.mul(perBlock, c.depth) else { return nil }
        return sum(rest + [blocks])
    }

    // MARK: the VQVAE

    /// Checks a VQVAE configuration; throws a `LimitViolation`.
    public static func check(_ c: VQVAEConfig) throws {
        try Check.int(c.vocabSize, 1...maxVocab, "vocab_size")
        try Check.int(c.zChannels, 1...maxLatentChannels, "z_channels")
        try Check.int(c.ch, 1...maxVQVAEChannels, "ch")
        try Check.int(c.chMult.count, 1...maxLevels, "ch_mult (number of levels)")
        for (l, m) in c.chMult.enumerated() {
            try Check.int(m, 1...maxChannelMultiplier, "ch_mult[\(l)]")
            let width = c.ch * m   // ≤ 2^12 · 64: no overflow
            guard width <= maxLevelChannels, width % 32 == 0 else {
                throw LimitViolation(field: "ch_mult[\(l)]", value: String(m),
                                     allowed: "a level width ch·ch_mult (\(width)) that is a multiple of 32 (GroupNorm) "
                                        + "and at most \(maxLevelChannels)")
            }
        }
        try Check.int(c.numResBlocks, 1...maxResBlocks, "num_res_blocks")
        try Check.schedule(c.patchSizes, "patch_sizes", maxScales: maxScales, maxSide: maxPatchSide, maxTokens: maxTokens)
        try Check.int(c.phiCount, 1...maxPhi, "phi_count")
        guard c.phiIndex.count == c.patchSizes.count else {
            throw LimitViolation(field: "phi_index", value: "\(c.phiIndex.count) entries",
                                 allowed: "one entry per scale (\(c.patchSizes.count))")
        }
        for (si, k) in c.phiIndex.enumerated() { try Check.int(k, 0...(c.phiCount - 1), "phi_index[\(si)]") }
        guard c.quantResi.isFinite, abs(c.quantResi) <= 1 else {
            throw LimitViolation(field: "quant_resi", value: String(c.quantResi), allowed: "a finite number in −1…1")
        }
        let levels = c.chMult.count - 1   // ≤ 7
        let side = c.latentSize << levels  // ≤ 2^10 · 2^7: no overflow
        guard c.imageSize == side, side <= maxImageSide else {
            throw LimitViolation(field: "image_size", value: String(c.imageSize),
                                 allowed: "latent side · 2^(levels−1) = \(c.latentSize)·2^\(levels) = \(side), at most \(maxImageSide)")
        }
    }

    // MARK: memory the file pays for

    /// Refuses, before any key is checked, a configuration that needs far more weights than the checkpoint
    /// stores elements (more than twice as many, plus 2^20): every weight a model holds is a copy of (or a
    /// conversion from) a stored element, so such a file cannot be the model's. Smaller shortfalls reach the
    /// key/shape contract, which lists every missing tensor. Either way, loading allocates only what the file
    /// stores (mis-shaped or missing tensors become placeholders).
    public static func requireBacked(weights: Int, checkpoint: Checkpoint) throws {
        let stored = checkpoint.storedElementCount
        guard weights <= 2 * stored + (1 << 20) else {
            throw LimitViolation(field: "model size", value: "\(weights) weights",
                                 allowed: "no more weights than the checkpoint stores (\(stored) elements)",
                                 source: checkpoint.path)
        }
    }
}
