/// Predicts the peak memory of a generation run from the configurations alone (model configs, checkpoint
/// file sizes, batch, CoDe plan), before loading anything. The terms mirror what the code allocates and what
/// a `MemoryAccountant` is charged with; docs/code.md compares them with measured peak RSS.
///
/// A run goes through phases, and its peak is the largest of them:
/// - loading each checkpoint: the models loaded before, the file's mapped pages, and the copy being made (the
///   loader copies every tensor out of the mapping, which is closed once the model is built; with float16
///   weights the copy is the half-size one, each float32 tensor being transient);
/// - generating a batch: all weights, the KV arena, the transformer workspace, per-call sampling buffers;
/// - decoding it: all weights, the (kept) KV arena and workspace, and the VQVAE decoder's buffers;
/// - generating the next batch: as the first, plus the decoder's buffers, which are kept for the next decode.
public struct MemoryPrediction: Sendable {
    /// A transformer that will be loaded, in load order.
    public struct Model: Sendable {
        /// What it does in the run (names its weights category).
        public var role: ModelRole
        public var config: VARConfig
        /// Size of its checkpoint file (its pages are resident while it loads).
        public var fileBytes: Int
        /// How its linear layers' matrices will be stored (`VARModel.load(path:config:precision:)`).
        public var precision: WeightPrecision

        public init(role: ModelRole, config: VARConfig, fileBytes: Int, precision: WeightPrecision = .float32) {
            self.role = role; self.config = config; self.fileBytes = fileBytes; self.precision = precision
        }
    }

    public var vqvae: VQVAEConfig
    /// Weights the VQVAE holds (float32 copies of the tensors it uses).
    public var vqvaeWeightBytes: Int
    public var vqvaeFileBytes: Int
    /// Transformers in load order: one for plain VAR (or a CoDe pair of one model), drafter then refiner.
    public var models: [Model]
    /// CoDe: scales made by the drafter (`models[0]`); the refiner is `models[1]`, or the drafter again when
    /// there is only one model. nil: plain generation with `models[0]`.
    public var draftSteps: Int?
    /// `more_smooth` sampling keeps a second logits-sized buffer of mixture weights.
    public var moreSmooth: Bool
    /// The process before any model is loaded: executable, Swift runtime, OpenBLAS and its thread buffers.
    public var runtimeBytes: Int

    /// Default `runtimeBytes`: what `var-gen`'s peak RSS exceeds the accounted bytes by while loading
    /// (executable, Swift runtime, libraries, small allocations; measured 24–28 MiB, docs/code.md).
    public static let defaultRuntimeBytes = 26 << 20

    public init(vqvae: VQVAEConfig, vqvaeWeightBytes: Int, vqvaeFileBytes: Int, models: [Model], draftSteps: Int? = nil,
                moreSmooth: Bool = false, runtimeBytes: Int = MemoryPrediction.defaultRuntimeBytes) {
        precondition(!models.isEmpty, "MemoryPrediction needs at least one transformer")
        self.vqvae = vqvae; self.vqvaeWeightBytes = vqvaeWeightBytes; self.vqvaeFileBytes = vqvaeFileBytes
        self.models = models; self.draftSteps = draftSteps; self.moreSmooth = moreSmooth
        self.runtimeBytes = runtimeBytes
    }

    /// The predicted peak of one run with batches of `batch` images.
    public struct Peak: Sendable, Equatable {
        /// Peak bytes per accountant category (each category's own peak).
        public var categories: [MemoryAccountant.Category: Int]
        /// Peak of the accounted total (largest phase, without `runtimeBytes`).
        public var accounted: Int
        /// Predicted peak RSS: `accounted + runtimeBytes`.
        public var total: Int
        /// The phase that sets the peak ("loading drafter", "generation", "decode").
        public var phase: String
    }

    /// Generation buffers of one call with `batch` images.
    public struct Generation: Sendable, Equatable {
        public var kvCache: Int
        /// Transformer activations (workspace activation buffers + per-row condition vectors).
        public var activations: Int
        /// Attention scores and logits buffers (kept between calls).
        public var workspace: Int
        /// Guided logits (and `more_smooth` weights), freed after each call.
        public var sampling: Int
        /// Condition vectors of the live session (for CoDe: what makes `activations` peak), freed after each call.
        public var conditions: Int
    }

    /// The buffers generation with `batch` images grows to.
    public func generation(batch B: Int) -> Generation {
        let d = models[0].config, S = d.scaleCount, rows = 2 * B
        var plan = VARWorkspace.Plan()
        var kv: Int, cond: Int
        func kvBytes(_ c: VARConfig, _ positions: Int) -> Int {
            KVCache.floats(depth: c.depth, rows: rows, heads: c.heads, headDim: c.headDim, capacity: positions)
                * MemoryLayout<Float>.stride
        }
        if let N = draftSteps, models.count > 1 {
            let r = models[1].config, P = r.scaleEnds[N], pnN = r.patchSizes[N]
            kv = max(kvBytes(d, d.scaleEnds[N - 1]), kvBytes(r, r.tokenCount))
            let dp = models[0].precision, rp = models[1].precision
            plan.scales(d, rows: rows, 0..<N, precision: dp)
            let drafting = plan.activationBytes + VARSession.conditionBytes(d, rows: rows)
            plan.forward(r, rows: rows, n: P, keys: P, group: pnN * pnN, logitPositions: pnN * pnN, precision: rp)
            plan.scales(r, rows: rows, (N + 1)..<S, precision: rp)
            // The drafter's session (and its condition vectors) is freed before the refiner's is made.
            cond = max(VARSession.conditionBytes(r, rows: rows), drafting - plan.activationBytes)
        } else {
            kv = kvBytes(d, d.tokenCount)
            plan.scales(d, rows: rows, 0..<S, precision: models[0].precision)
            cond = VARSession.conditionBytes(d, rows: rows)
        }
        let last = d.patchSizes.last ?? 1
        let sampling = B * last * last * d.vocabSize * MemoryLayout<Float>.stride * (moreSmooth ? 2 : 1)
        return Generation(kvCache: kv, activations: plan.activationBytes + cond, workspace: plan.workspaceBytes,
                          sampling: sampling, conditions: cond)
    }

    /// Predicted VQVAE decoder bytes for `batch` images: `decodeMaps` full-resolution feature maps of the
    /// first level per image (live maps, the workspace's recycled arrays, lower levels), plus a constant
    /// for convolution blocks. Calibrated on the official VQVAE at batch 8 (docs/code.md).
    public func decodeBytes(batch B: Int) -> Int {
        let c = vqvae, map = c.ch * (c.chMult.first ?? 1) * c.imageSize * c.imageSize * MemoryLayout<Float>.stride
        return Int(Double(B * map) * MemoryPrediction.decodeMaps) + MemoryPrediction.decodeFixedBytes
    }

    /// Full-resolution first-level feature maps per image resident at the decoder's peak (measured: 5.6).
    public static let decodeMaps = 5.6
    /// Per-decode constant (im2col blocks, small arrays; calibrated on the shipped and official VQVAEs).
    public static let decodeFixedBytes = 4 << 20

    public func peak(batch: Int) -> Peak {
        typealias Cat = MemoryAccountant.Category
        var cats: [Cat: Int] = [:]
        func note(_ c: Cat, _ v: Int) { cats[c] = max(cats[c] ?? 0, v) }
        var best = (bytes: 0, phase: "")
        func phase(_ name: String, _ bytes: Int) { if bytes > best.bytes { best = (bytes, name) } }

        // Loading: VQVAE, then each transformer; the file's pages and the copy are resident together.
        var held = 0
        note(.vqvaeWeights, vqvaeWeightBytes)
        note(.checkpointPages, vqvaeFileBytes)
        phase("loading vqvae", vqvaeFileBytes + vqvaeWeightBytes)
        held += vqvaeWeightBytes
        for m in models {
            let w = VARModel.weightBytes(config: m.config, precision: m.precision)
            note(.weights(m.role), w)
            note(.checkpointPages, m.fileBytes)
            phase("loading \(m.role)", held + m.fileBytes + w)
            held += w
        }
        // Generation and decode.
        let g = generation(batch: batch), dec = decodeBytes(batch: batch)
        note(.kvCache, g.kvCache); note(.activations, g.activations)
        note(.workspace, g.workspace + g.sampling); note(.vqvaeDecode, dec)
        phase("generation", held + g.kvCache + g.activations + g.workspace + g.sampling)
        phase("decode", held + g.kvCache + g.activations - g.conditions + g.workspace + dec)
        // From the second batch on, the decoder's buffers of the previous one are kept (VARKit's ImageDecoder).
        phase("generation after a decode", held + g.kvCache + g.activations + g.workspace + g.sampling + dec)
        return Peak(categories: cats, accounted: best.bytes, total: best.bytes + runtimeBytes, phase: best.phase)
    }

    /// The largest batch ≤ `requested` whose predicted peak fits in `budget` bytes, or nil if one image
    /// does not fit.
    /// The peak grows with the batch (about linearly): the search starts below the batch the per-image growth
    /// allows, so no peak is computed for a batch whose byte count could overflow, and bisects from there
    /// (a few dozen predictions for any `requested`, e.g. 99 999 999 999).
    public func largestBatch(upTo requested: Int, budget: Int) -> Int? {
        guard requested >= 1 else { return nil }
        let one = peak(batch: 1).total
        guard one <= budget else { return nil }
        let perImage = max(1, peak(batch: 2).total - one)
        var lo = 1, hi = min(requested, 1 + (budget - one) / perImage, 1 << 32)
        while lo < hi {                           // invariant: peak(lo) fits
            let mid = lo + (hi - lo + 1) / 2
            if peak(batch: mid).total <= budget { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }
}
