import Foundation

/// Weights of one AdaLN self-attention block (docs/model.md §2.2, §5.2).
struct VARBlockWeights {
    let qkv: LinearWeight    // (3C, C) mat_qkv.weight
    let qkvBias: Tensor      // (3C) concat(q_bias, 0, v_bias)
    let scaleMul: [Float]    // (H) exp(min(scale_mul_1H11, ln 100))
    let proj: LinearWeight   // (C, C)
    let projBias: Tensor     // (C)
    let fc1: LinearWeight    // (hidden, C)
    let fc1Bias: Tensor      // (hidden)
    let fc2: LinearWeight    // (C, hidden)
    let fc2Bias: Tensor      // (C)
    let ada: LinearWeight    // (6C, C) ada_lin.1.weight: γ1, γ2, s1, s2, β1, β2
    let adaBias: Tensor      // (6C)

    /// Block `i` from its scope `blocks.i` (docs/model.md §2.2). `matrix` reads a linear layer's weight matrix.
    init(config c: VARConfig, block w: some WeightSource, matrix: (any WeightSource, String, [Int]) -> LinearWeight) {
        let C = c.width, H = c.heads
        let attn = w.scope("attn"), ffn = w.scope("ffn"), ada = w.scope("ada_lin").scope(1)
        qkv = matrix(attn, "mat_qkv.weight", [3 * C, C])
        let qb = attn("q_bias", [C]), vb = attn("v_bias", [C])
        // A placeholder (problem recorded, model refused later) must not be indexed by the expected size.
        qkvBias = qb.count == C && vb.count == C
            ? Tensor(shape: [3 * C], data: qb.data + [Float](repeating: 0, count: C) + vb.data) : .placeholder(rank: 1)
        let sm = attn("scale_mul_1H11", [1, H, 1, 1])
        let maxLog = Float(log(100.0))
        scaleMul = sm.data.map { expf(min($0, maxLog)) }
        proj = matrix(attn, "proj.weight", [C, C]); projBias = attn("proj.bias", [C])
        fc1 = matrix(ffn, "fc1.weight", [c.mlpHidden, C]); fc1Bias = ffn("fc1.bias", [c.mlpHidden])
        fc2 = matrix(ffn, "fc2.weight", [C, c.mlpHidden]); fc2Bias = ffn("fc2.bias", [C])
        self.ada = matrix(ada, "weight", [6 * C, C]); adaBias = ada("bias", [6 * C])
    }
}

/// The VAR transformer (docs/model.md §5): embeddings, d AdaLN blocks with cosine attention, AdaLN head.
/// Immutable after loading; inference state lives in a `VARSession`.
public final class VARModel {
    public let config: VARConfig
    let posStart: Tensor       // (C) pos_start
    let lvlPos: Tensor         // (L, C) lvl_embed[scale(p)] + pos_1LC[p]
    let wordEmbed: Tensor      // (C, Cvae)
    let wordEmbedBias: Tensor  // (C)
    let classEmb: Tensor       // (numClasses + 1, C)
    let blocks: [VARBlockWeights]
    let headAda: LinearWeight  // (2C, C) head_nm.ada_lin.1.weight: scale, shift
    let headAdaBias: Tensor    // (2C)
    let head: LinearWeight     // (V, C)
    let headBias: Tensor       // (V)
    /// How the linear layers' weight matrices are stored (float16 only on a CPU with F16C).
    public let weightPrecision: WeightPrecision

    /// Builds the model from weights by official key (docs/model.md §2.2). Buffers (`lvl_1L`,
    /// `attn_bias_for_masking`, `blocks.N.attn.zero_k_bias`) are recomputed and never requested; declare
    /// them optional to the reader with `VARModel.optionalKeys(for:)`. The linear layers' weight matrices
    /// (blocks' qkv, proj, fc1, fc2, ada and the head's) are stored with `precision.effective`; embeddings,
    /// biases and norms stay float32. Float32 matrices come from `inPlace` when it has them (no copy). int8
    /// matrices are quantized on `parallelism` (default: one worker per core).
    public convenience init(config: VARConfig, precision: WeightPrecision = .float32, inPlace: Bool = false,
                            parallelism: Parallelism = .allCores, weights w: some WeightSource) {
        self.init(config: config, precision: precision, int8Group: Int8GEMM.groupSize, inPlace: inPlace,
                  parallelism: parallelism, weights: w)
    }

    /// `int8Group`: inputs per int8 weight scale (0: per row; measured alternatives, docs/quantization.md).
    init(config: VARConfig, precision: WeightPrecision, int8Group: Int, inPlace: Bool, parallelism: Parallelism,
         weights w: some WeightSource) {
        self.config = config
        weightPrecision = precision.effective
        func matrix(_ scope: any WeightSource, _ name: String, _ shape: [Int], _ p: WeightPrecision) -> LinearWeight {
            if inPlace, p.effective == .float32, let m = scope.inPlace(name, shape) {
                return LinearWeight(mapped: m, shape: shape)
            }
            return LinearWeight(scope(name, shape), precision: p, int8Group: int8Group, parallelism: parallelism)
        }
        let C = config.width, L = config.tokenCount
        let start = w("pos_start", [1, 1, C])
        posStart = start.count == C ? start.reshaped([C]) : .placeholder(rank: 1)
        let pos = w("pos_1LC", [1, L, C])
        let lvl = w.scope("lvl_embed")("weight", [config.scaleCount, C])
        // lvl_embed[scale(p)] + pos_1LC[p], only from tensors the file supplied (never sized by the config alone).
        if pos.count == L * C && lvl.count == config.scaleCount * C {
            var lp = [Float](repeating: 0, count: L * C)
            for (p, si) in config.scaleOfPosition.enumerated() {
                for i in 0..<C { lp[p * C + i] = lvl.data[si * C + i] + pos.data[p * C + i] }
            }
            lvlPos = Tensor(shape: [L, C], data: lp)
        } else {
            lvlPos = .placeholder(rank: 2)
        }
        let word = w.scope("word_embed")
        wordEmbed = word("weight", [C, config.zChannels])
        wordEmbedBias = word("bias", [C])
        classEmb = w.scope("class_emb")("weight", [config.numClasses + 1, C])
        let blockScope = w.scope("blocks")
        blocks = (0..<config.depth).map {
            VARBlockWeights(config: config, block: blockScope.scope($0), matrix: { matrix($0, $1, $2, precision) })
        }
        let headAdaScope = w.scope("head_nm").scope("ada_lin").scope(1)
        headAda = matrix(headAdaScope, "weight", [2 * C, C], precision.head)
        headAdaBias = headAdaScope("bias", [2 * C])
        let headScope = w.scope("head")
        head = matrix(headScope, "weight", [config.vocabSize, C], precision.head)
        headBias = headScope("bias", [config.vocabSize])
    }

    /// The keys of the linear layers' weight matrices (the ones `precision` applies to), as reader patterns.
    static let matrixKeyPatterns: Set<String> = [
        "blocks.*.attn.mat_qkv.weight", "blocks.*.attn.proj.weight", "blocks.*.ffn.fc1.weight", "blocks.*.ffn.fc2.weight",
        "blocks.*.ada_lin.1.weight", "head_nm.ada_lin.1.weight", "head.weight",
    ]

    /// Buffer keys an official file holds but the model recomputes (docs/model.md §2.3).
    public static func optionalKeys(for config: VARConfig) -> Set<String> {
        var keys: Set<String> = ["lvl_1L", "attn_bias_for_masking"]
        for i in 0..<config.depth { keys.insert("blocks.\(i).attn.zero_k_bias") }
        return keys
    }

    /// Number of stored weights the model holds (elements, whatever their precision).
    public var parameterCount: Int {
        let C = config.width, L = config.tokenCount
        var n = C + L * C + wordEmbed.count + wordEmbedBias.count + classEmb.count + config.scaleCount * C
        n += headAda.count + headAdaBias.count + head.count + headBias.count
        for b in blocks {
            n += b.qkv.count + 2 * C + b.scaleMul.count + b.proj.count + b.projBias.count + b.fc1.count
            n += b.fc1Bias.count + b.fc2.count + b.fc2Bias.count + b.ada.count + b.adaBias.count
        }
        return n
    }

    /// Bytes of the weights this model holds: float32 vectors and embeddings, plus the linear layers' matrices in
    /// their storage precision (matrices used in place count too: their file pages are resident once read).
    public var weightBytes: Int {
        var n = posStart.count + lvlPos.count + wordEmbed.count + wordEmbedBias.count + classEmb.count
        n += headAdaBias.count + headBias.count
        for b in blocks {
            n += b.qkvBias.count + b.scaleMul.count + b.projBias.count + b.fc1Bias.count + b.fc2Bias.count + b.adaBias.count
        }
        return n * MemoryLayout<Float>.stride + matrices.reduce(0) { $0 + $1.bytes }
    }

    /// Bytes of the linear layers' matrices read in place from the checkpoint's memory map (file pages, not a copy).
    public var mappedWeightBytes: Int {
        matrices.filter(\.isMapped).reduce(0) { $0 + $1.bytes }
    }

    /// Every linear layer's weight matrix: the head's and each block's qkv, proj, fc1, fc2, ada.
    var matrices: [LinearWeight] {
        [headAda, head] + blocks.flatMap { [$0.qkv, $0.proj, $0.fc1, $0.fc2, $0.ada] }
    }

    /// `weightBytes` of a model of this configuration loaded with `precision`, without loading it.
    public static func weightBytes(config c: VARConfig, precision: WeightPrecision = .float32) -> Int {
        let C = c.width, L = c.tokenCount, h = c.mlpHidden
        let vectors = C + L * C + C * c.zChannels + C + (c.numClasses + 1) * C + 2 * C + c.vocabSize
            + c.depth * (3 * C + c.heads + C + h + C + 6 * C)
        let p = precision.effective, head = p.head.matrixBytes(out: 2 * C + c.vocabSize, in: C)
        let block = p.matrixBytes(out: 3 * C + C + h + 6 * C, in: C) + p.matrixBytes(out: C, in: h)
        return vectors * MemoryLayout<Float>.stride + head + c.depth * block
    }

    /// KV-cache bytes for a generation of `batch` images (2B rows with CFG) over `positions` positions
    /// (default: all L): `d · 2 · 2B · C · positions · 4`.
    public func kvCacheBytes(batch: Int, positions: Int? = nil) -> Int {
        KVCache.floats(depth: config.depth, rows: 2 * batch, heads: config.heads, headDim: config.headDim,
                       capacity: positions ?? config.tokenCount) * MemoryLayout<Float>.stride
    }
}

extension VARModel {
    /// A model with deterministic pseudo-random weights (tests and speed benchmarks; the arithmetic does
    /// not depend on the values): `RandomWeights` with the `.transformer` profile, whose scales spread the
    /// logits enough to sample varied tokens.
    public convenience init(config: VARConfig, randomSeed: UInt64, precision: WeightPrecision = .float32) {
        self.init(config: config, precision: precision, weights: RandomWeights(seed: randomSeed, profile: .transformer))
    }
}
