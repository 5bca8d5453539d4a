/// Reusable work buffers of transformer forwards (allocated once, grown on demand, shared by a drafter and
/// a refiner in turn).
public final class VARWorkspace {
    let x = ScratchBuffer()       // (rows, n, C) residual stream
    let y = ScratchBuffer()       // (rows, n, C) modulated LN output / sub-layer output
    let qkv = ScratchBuffer()     // (rows, n, 3C)
    let attn = ScratchBuffer()    // (rows, n, C)
    let hidden = ScratchBuffer()  // (rows, n, hidden)
    let scores = ScratchBuffer()  // (group, keys)
    let logits = ScratchBuffer()  // (rows, nLogits, V)
    let weights = ScratchBuffer() // (out, in) a float16 matrix widened for one many-row product (HalfGEMM)

    /// Time by operation of every forward on this workspace, when not nil (set it to `OpProfile()` to start).
    public var profile: OpProfile?

    /// The workers of every forward on this workspace (and of the sampling of the generator that owns it).
    public let parallelism: Parallelism

    /// Default: one worker per core.
    public init(parallelism: Parallelism = .allCores) { self.parallelism = parallelism }

    /// Bytes currently held.
    public var bytes: Int {
        [x, y, qkv, attn, hidden, scores, logits, weights].reduce(0) { $0 + $1.capacity } * MemoryLayout<Float>.stride
    }

    /// The accountant sessions on this workspace charge their per-row AdaLN vectors to.
    private(set) var accountant: MemoryAccountant?

    /// Charges the buffers to `accountant` (activations: x, y, qkv, attn, hidden; workspace: scores,
    /// logits, weights), now and whenever they grow; nil stops charging.
    public func account(to accountant: MemoryAccountant?) {
        self.accountant = accountant
        for b in [x, y, qkv, attn, hidden] { b.meter = accountant.map { MemoryMeter($0, .activations) } }
        for b in [scores, logits, weights] { b.meter = accountant.map { MemoryMeter($0, .workspace) } }
    }

    /// The buffer sizes (floats) a sequence of forwards grows the workspace to: each buffer is the largest
    /// any forward asks of it. Mirrors `VARSession.embed`/`forward` and is used to predict memory.
    public struct Plan: Equatable, Sendable {
        public var x = 0, y = 0, qkv = 0, attn = 0, hidden = 0, scores = 0, logits = 0, weights = 0

        public init() {}

        /// One forward of `rows` rows over `n` new positions ending at key position `keys`, with the largest
        /// block-causal query group `group` and logits for `logitPositions` positions per row. Attention keeps
        /// one score slice per core (`Parallelism.processorCount`). A float16 model widens each block matrix (and
        /// the head's) of a product with at least `HalfGEMM.wholeRows` rows into `weights`.
        public mutating func forward(_ c: VARConfig, rows: Int, n: Int, keys: Int, group: Int, logitPositions: Int,
                                     precision: WeightPrecision = .float32) {
            let R = rows * n, C = c.width
            x = max(x, R * C); y = max(y, R * C); qkv = max(qkv, R * 3 * C); attn = max(attn, R * C)
            hidden = max(hidden, R * c.mlpHidden)
            let slice = CachedAttention.scoreSlice(maxGroup: group, keys: keys, headDim: c.headDim)
            scores = max(scores, Parallelism.processorCount * slice)
            logits = max(logits, rows * logitPositions * c.vocabSize)
            if precision.effective == .int8 {    // the quantized inputs of the widest product
                let g = Int8GEMM.groupSize, kC = Int8GEMM.paddedWidth(C), kH = Int8GEMM.paddedWidth(c.mlpHidden)
                weights = max(weights, Int8GEMM.scratchFloats(rows: R, paddedIn: kC, group: g),
                              Int8GEMM.scratchFloats(rows: R, paddedIn: kH, group: g))
            }
            guard precision.effective == .float16 else { return }
            if R >= HalfGEMM.wholeRows { weights = max(weights, C * max(3 * C, c.mlpHidden)) }
            // The head runs on all R rows, or one row's tail at a time (`VARSession.forward`).
            let headRows = logitPositions == n ? R : logitPositions
            if headRows >= HalfGEMM.wholeRows { weights = max(weights, c.vocabSize * C) }
        }

        /// Generation of scales `range` one at a time with `rows` rows (2B with CFG).
        public mutating func scales(_ c: VARConfig, rows: Int, _ range: Range<Int>, precision: WeightPrecision = .float32) {
            for si in range {
                let n = c.patchSizes[si] * c.patchSizes[si]
                forward(c, rows: rows, n: n, keys: c.scaleEnds[si], group: n, logitPositions: n, precision: precision)
            }
        }

        /// Bytes of the activation buffers and of the work buffers.
        public var activationBytes: Int { (x + y + qkv + attn + hidden) * MemoryLayout<Float>.stride }
        /// (`weights` is never empty: an unused `ScratchBuffer` holds one float.)
        public var workspaceBytes: Int { (scores + logits + max(weights, 1)) * MemoryLayout<Float>.stride }
    }
}

/// The inference state of one call of a `VARModel`: conditions of every row, the KV cache, and the
/// forward over chunks of positions that end on a scale boundary (docs/model.md §5, §6.1, §7.3).
///
/// Rows are the model's batch: for generation `2B` (conditional first, then unconditional, docs/model.md §6.1),
/// for a teacher-forced check `B`. Inputs are given for `inputBatch` samples; row r uses sample `r % inputBatch`.
public final class VARSession {
    public let model: VARModel
    public let labels: [Int]
    public var rows: Int { labels.count }
    public let cache: KVCache
    let workspace: VARWorkspace
    let condSilu: [Float]          // (rows, C)
    let classVectors: [Float]      // (rows, C) class_emb rows (sos and condition)
    let ada: [[Float]]             // per block (rows, 6C)
    let headMod: [Float]           // (rows, 2C)

    /// Positions processed so far.
    public var position: Int { cache.length }

    /// - Parameters:
    ///   - labels: class index of every row (the unconditional class is `numClasses`).
    ///   - capacity: positions the cache must hold (default all L).
    ///   - arena: storage of the KV cache (reused across calls and models).
    public init(model: VARModel, labels: [Int], capacity: Int? = nil, arena: KVArena = KVArena(),
                workspace: VARWorkspace = VARWorkspace()) {
        let c = model.config, C = c.width
        self.model = model
        self.labels = labels
        self.workspace = workspace
        cache = KVCache(depth: c.depth, rows: labels.count, heads: c.heads, headDim: c.headDim,
                        capacity: capacity ?? c.tokenCount, arena: arena)
        var cls = [Float](repeating: 0, count: labels.count * C)
        for (r, label) in labels.enumerated() {
            precondition(label >= 0 && label <= c.numClasses, "label \(label) outside 0...\(c.numClasses)")
            for i in 0..<C { cls[r * C + i] = model.classEmb.data[label * C + i] }
        }
        classVectors = cls
        var s = [Float](repeating: 0, count: cls.count)
        cls.withUnsafeBufferPointer { src in
            s.withUnsafeMutableBufferPointer { dst in
                if let a = src.baseAddress, let b = dst.baseAddress { Elementwise.silu(a, count: src.count, into: b) }
            }
        }
        condSilu = s
        let rows = labels.count
        let par = workspace.parallelism
        ada = model.blocks.map { b in VARSession.linear(s, rows: rows, b.ada, b.adaBias, parallelism: par) }
        headMod = VARSession.linear(s, rows: rows, model.headAda, model.headAdaBias, parallelism: par)
        conditionBytes = VARSession.conditionBytes(c, rows: rows)
        workspace.accountant?.charge(conditionBytes, to: .activations)
    }

    /// Bytes of the per-row condition vectors a session holds (class vectors, SiLU, AdaLN of every block
    /// and of the head).
    let conditionBytes: Int

    public static func conditionBytes(_ c: VARConfig, rows: Int) -> Int {
        rows * c.width * (2 + 6 * c.depth + 2) * MemoryLayout<Float>.stride
    }

    deinit { workspace.accountant?.release(conditionBytes, from: .activations) }

    /// Clears the cache (storage stays allocated).
    public func reset() { cache.reset() }

    // MARK: embeddings (docs/model.md §5.1)

    /// Writes the transformer input for positions `[p0, p0 + n)` into the workspace: the class token at
    /// position 0 (`c + pos_start + lvl_pos[0]`), `word_embed(latent) + lvl_pos[p]` elsewhere.
    /// `latents` is `(inputBatch, n − (p0 == 0 ? 1 : 0), Cvae)` row-major (ignored when only position 0).
    func embed(latents: UnsafePointer<Float>?, inputBatch: Int, p0: Int, n: Int) {
        workspace.timed(.embed) { embedUntimed(latents: latents, inputBatch: inputBatch, p0: p0, n: n) }
    }

    private func embedUntimed(latents: UnsafePointer<Float>?, inputBatch: Int, p0: Int, n: Int) {
        let c = model.config, C = c.width, Cv = c.zChannels
        let x = workspace.x.reserve(rows * n * C)
        let first = p0 == 0 ? 1 : 0
        let m = n - first
        model.lvlPos.data.withUnsafeBufferPointer { lpBuf in
            guard let lp = lpBuf.baseAddress else { return }
            // word_embed for the input samples, into the first inputBatch rows.
            if m > 0, let latents {
                model.wordEmbed.data.withUnsafeBufferPointer { wb in
                    guard let w = wb.baseAddress else { return }
                    for b in 0..<inputBatch {
                        let dst = x + (b * n + first) * C
                        for i in 0..<m { (dst + i * C).update(from: model.wordEmbedBias.data, count: C) }
                        BLAS.gemm(transB: true, m: m, n: C, k: Cv, a: latents + b * m * Cv, lda: Cv,
                                  b: w, ldb: Cv, beta: 1, c: dst, ldc: C, parallelism: workspace.parallelism)
                        for i in 0..<m {
                            let row = dst + i * C, pos = lp + (p0 + first + i) * C
                            for j in 0..<C { row[j] += pos[j] }
                        }
                    }
                }
            }
            for r in 0..<rows {
                if r >= inputBatch, m > 0 {
                    (x + (r * n + first) * C).update(from: x + ((r % inputBatch) * n + first) * C, count: m * C)
                }
                if first == 1 {
                    let row = x + r * n * C
                    for j in 0..<C {
                        row[j] = (classVectors[r * C + j] + model.posStart.data[j]) + lp[j]
                    }
                }
            }
        }
    }

    // MARK: forward

    /// Runs all blocks over positions `[position, position + n)` — which must end on a scale boundary — with
    /// the block-causal rule, appends their keys/values to the cache, and returns the logits of positions
    /// `[logitsFrom, position + n)` for every row: `(rows, count, V)` in the workspace (valid until the next call).
    func forward(n: Int, logitsFrom: Int? = nil) -> UnsafeMutablePointer<Float> {
        let c = model.config, C = c.width, p0 = cache.length, p1 = p0 + n
        let ends = c.scaleEnds, begins = c.scaleBegins
        precondition(ends.contains(p1) && p1 <= cache.capacity, "forward must end on a scale boundary within capacity")
        var groups: [CachedAttention.QueryGroup] = []
        for si in 0..<c.scaleCount where ends[si] > p0 && begins[si] < p1 {
            groups.append(.init(start: max(begins[si], p0) - p0, end: ends[si] - p0, keyEnd: ends[si]))
        }
        let R = rows * n
        let ws = workspace, par = ws.parallelism
        let x = ws.x.pointer
        let y = ws.y.reserve(R * C), qkv = ws.qkv.reserve(R * 3 * C), attn = ws.attn.reserve(R * C)
        let hidden = ws.hidden.reserve(R * c.mlpHidden)
        let maxGroup = groups.map { $0.end - $0.start }.max() ?? 0
        // One score slice per core, not per current worker: the buffer's size must not depend on `--threads`
        // (or on another thread changing it), so that `Plan` predicts it exactly.
        let slots = Parallelism.processorCount
        let slice = CachedAttention.scoreSlice(maxGroup: maxGroup, keys: p1, headDim: c.headDim)
        let scores = ws.scores.reserve(slots * slice)
        let lin = { (w: LinearWeight) in 2 * Double(R) * Double(w.inFeatures * w.outFeatures) }
        // FLOPs for the profile (evaluated only when profiling).
        let heads = rows * c.heads
        let attnFlops = {
            Double(heads) * groups.reduce(0) { $0 + 4 * Double(($1.end - $1.start) * $1.keyEnd * c.headDim) }
        }
        for (bi, blk) in model.blocks.enumerated() {
            ada[bi].withUnsafeBufferPointer { aBuf in
                guard let a = aBuf.baseAddress else { return }
                // a = (γ1, γ2, s1, s2, β1, β2) per row, docs/model.md §5.2.
                ws.timed(.layerNorm) {
                    Elementwise.layerNormModulate(x, rows: R, width: C, rowsPerSample: n, scale: a + 2 * C,
                                                  shift: a + 4 * C, modStride: 6 * C, into: y, parallelism: par)
                }
                ws.timed(.qkv, flops: lin(blk.qkv)) {
                    VARSession.linear(y, rows: R, blk.qkv, blk.qkvBias, into: qkv, scratch: ws.weights, parallelism: par)
                }
                ws.timed(.attentionPrepare) {
                    CachedAttention.prepare(qkv: qkv, n: n, p0: p0, scaleMul: blk.scaleMul, cache: cache, block: bi,
                                            parallelism: par)
                }
                ws.timed(.attention, flops: attnFlops()) {
                    CachedAttention.attend(qkv: qkv, n: n, groups: groups, cache: cache, block: bi, scores: scores,
                                           slots: slots, out: attn, parallelism: par)
                }
                ws.timed(.proj, flops: lin(blk.proj)) {
                    VARSession.linear(attn, rows: R, blk.proj, blk.projBias, into: y, scratch: ws.weights, parallelism: par)
                }
                ws.timed(.residual) {
                    Elementwise.gatedResidual(x, y, rows: R, width: C, rowsPerSample: n, gate: a, gateStride: 6 * C,
                                              parallelism: par)
                }
                ws.timed(.layerNorm) {
                    Elementwise.layerNormModulate(x, rows: R, width: C, rowsPerSample: n, scale: a + 3 * C,
                                                  shift: a + 5 * C, modStride: 6 * C, into: y, parallelism: par)
                }
                ws.timed(.fc1, flops: lin(blk.fc1)) {
                    VARSession.linear(y, rows: R, blk.fc1, blk.fc1Bias, into: hidden, scratch: ws.weights,
                                      parallelism: par)
                }
                ws.timed(.gelu) { Elementwise.geluTanh(hidden, count: R * c.mlpHidden, parallelism: par) }
                ws.timed(.fc2, flops: lin(blk.fc2)) {
                    VARSession.linear(hidden, rows: R, blk.fc2, blk.fc2Bias, into: y, scratch: ws.weights,
                                      parallelism: par)
                }
                ws.timed(.residual) {
                    Elementwise.gatedResidual(x, y, rows: R, width: C, rowsPerSample: n, gate: a + C, gateStride: 6 * C,
                                              parallelism: par)
                }
            }
        }
        cache.length = p1
        // Head (docs/model.md §5.5) on the requested tail of positions.
        let from = max(logitsFrom ?? p0, p0), skip = from - p0, m = p1 - from
        let logits = ws.logits.reserve(rows * m * c.vocabSize)
        ws.timed(.head, flops: 2 * Double(rows * m) * Double(C * c.vocabSize)) {
            headMod.withUnsafeBufferPointer { hBuf in
                guard let h = hBuf.baseAddress else { return }
                Elementwise.layerNormModulate(x, rows: R, width: C, rowsPerSample: n, scale: h, shift: h + C,
                                              modStride: 2 * C, into: y, parallelism: par)
            }
            if skip == 0 {
                VARSession.linear(y, rows: R, model.head, model.headBias, into: logits, scratch: ws.weights,
                                  parallelism: par)
            } else {
                for r in 0..<rows {
                    VARSession.linear(y + (r * n + skip) * C, rows: m, model.head, model.headBias,
                                      into: logits + r * m * c.vocabSize, scratch: ws.weights, parallelism: par)
                }
            }
        }
        return logits
    }

    // MARK: helpers

    /// `out (rows, out) = x (rows, in) · Wᵀ + bias`. float32 weights (own or mapped): `SmallGEMM` for few rows, else BLAS;
    /// float16 weights: `HalfGEMM` (with `scratch`, many-row products widen the whole matrix into it).
    static func linear(_ x: UnsafePointer<Float>, rows: Int, _ w: LinearWeight, _ bias: Tensor,
                       into out: UnsafeMutablePointer<Float>, scratch: ScratchBuffer? = nil, parallelism: Parallelism) {
        let outF = w.outFeatures, inF = w.inFeatures
        bias.data.withUnsafeBufferPointer { bb in
            guard let bp = bb.baseAddress else { return }
            switch w.storage {
            case let .float16(h):
                h.withUnsafeBufferPointer { wb in
                    guard let wp = wb.baseAddress else { return }
                    HalfGEMM.linear(x, rows: rows, weight: wp, outFeatures: outF, inFeatures: inF, bias: bp, into: out,
                                    scratch: scratch, parallelism: parallelism)
                }
            case let .int8(q):
                Int8GEMM.linear(x, rows: rows, weight: q, bias: bp, into: out, scratch: scratch, parallelism: parallelism)
            case let .float32(f):
                f.withUnsafeBufferPointer { wb in
                    if let wp = wb.baseAddress {
                        linear32(x, rows: rows, weight: wp, outF, inF, bias: bp, into: out, parallelism: parallelism)
                    }
                }
            case let .mapped(m):
                if let wp = m.buffer.baseAddress {
                    linear32(x, rows: rows, weight: wp, outF, inF, bias: bp, into: out, parallelism: parallelism)
                }
            }
        }
    }

    private static func linear32(_ x: UnsafePointer<Float>, rows: Int, weight: UnsafePointer<Float>, _ outF: Int,
                                 _ inF: Int, bias: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                                 parallelism: Parallelism) {
        if rows <= SmallGEMM.maxRows {
            SmallGEMM.linear(x, rows: rows, weight: weight, outFeatures: outF, inFeatures: inF, bias: bias, into: out,
                             parallelism: parallelism)
        } else {
            BLAS.linear(x, rows: rows, weight: weight, outFeatures: outF, inFeatures: inF, bias: bias, into: out,
                        parallelism: parallelism)
        }
    }

    static func linear(_ x: [Float], rows: Int, _ w: LinearWeight, _ bias: Tensor, parallelism: Parallelism) -> [Float] {
        var out = [Float](repeating: 0, count: rows * w.outFeatures)
        x.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBufferPointer { ob in
                if let xp = xb.baseAddress, let op = ob.baseAddress {
                    linear(xp, rows: rows, w, bias, into: op, parallelism: parallelism)
                }
            }
        }
        return out
    }
}

extension VARModel {
    /// The teacher-forced forward (docs/model.md §5.6): labels `(B)` and inputs `(B, L − 1, Cvae)` (docs/model.md §4.10) →
    /// logits `(B, L, V)` for every position, with the block-causal mask. No label dropout.
    public func teacherForcedLogits(labels: [Int], inputs: Tensor, parallelism: Parallelism = .allCores) -> Tensor {
        let c = config, L = c.tokenCount, B = labels.count
        precondition(inputs.shape == [B, L - 1, c.zChannels], "teacher-forced inputs must be (B, L−1, Cvae)")
        let session = VARSession(model: self, labels: labels, capacity: L,
                                 workspace: VARWorkspace(parallelism: parallelism))
        inputs.data.withUnsafeBufferPointer { session.embed(latents: $0.baseAddress, inputBatch: B, p0: 0, n: L) }
        let logits = session.forward(n: L)
        return Tensor(shape: [B, L, c.vocabSize], data: Array(UnsafeBufferPointer(start: logits, count: B * L * c.vocabSize)))
    }
}
