/// The per-scale work shared by plain generation and CoDe (docs/model.md §6.1 steps 4.1–4.6): guide the logits,
/// sample, embed the codewords (or the `more_smooth` mixture), apply the editing hook, update f̂ and
/// compute the next scale's input.
final class ScaleRunner {
    let tokenizer: ScaleTokenizer
    let sampling: SamplingConfig
    let editing: EditingHook?
    /// Images B.
    let batch: Int
    /// One generator per image (seeded `seeds[b]`).
    var rngs: [MT19937]
    /// `(B, Cvae, P, P)` cumulative latent.
    var fHat: Tensor
    /// Per finished scale, `(B, pn²)` tokens.
    var tokens: [[Int32]] = []
    /// `(B, pn_{si+1}², Cvae)` input of the next scale, after a scale < S−1 finished.
    var nextInput: Tensor?
    /// Seconds of the last `step`'s transformer forward and of the last `finish`.
    var lastTransformerSeconds = 0.0, lastSamplingSeconds = 0.0
    private let guided = ScratchBuffer()
    private let weights = ScratchBuffer()
    /// Workers of the guidance, sampling and tokenizer updates (the session's forward has its workspace's).
    let parallelism: Parallelism

    init(tokenizer: ScaleTokenizer, sampling: SamplingConfig, editing: EditingHook?, seeds: [UInt64],
         accountant: MemoryAccountant? = nil, parallelism: Parallelism) {
        self.parallelism = parallelism
        if let accountant {
            guided.meter = MemoryMeter(accountant, .workspace)
            if sampling.moreSmooth { weights.meter = MemoryMeter(accountant, .workspace) }
        }
        self.tokenizer = tokenizer
        self.sampling = sampling
        self.editing = editing
        batch = seeds.count
        rngs = seeds.map { MT19937(seed: $0) }
        let last = tokenizer.patchSizes.last ?? 1
        fHat = Tensor(zeros: [seeds.count, tokenizer.latentChannels, last, last])
    }

    var scaleCount: Int { tokenizer.patchSizes.count }

    /// Advances every image's generator past scale si's draws without sampling (CoDe replay, docs/model.md §7.3 step 6).
    func skipRandomNumbers(scale si: Int) {
        let pn = tokenizer.patchSizes[si]
        let perImage = (sampling.moreSmooth ? 2 : 1) * pn * pn * tokenizer.vocabSize
        for b in 0..<batch { rngs[b].skipExponentials(perImage) }
    }

    /// Runs the embedding and forward of scale si on `session` (whose cache holds the earlier scales), then
    /// `finish`.
    func step(session: VARSession, scale si: Int) throws {
        let pn = tokenizer.patchSizes[si]
        let clock = Stopwatch()
        if si == 0 {
            session.embed(latents: nil, inputBatch: batch, p0: 0, n: 1)
        } else {
            guard let input = nextInput else { preconditionFailure("scale \(si) has no input") }
            input.data.withUnsafeBufferPointer {
                session.embed(latents: $0.baseAddress, inputBatch: batch, p0: session.position, n: pn * pn)
            }
        }
        let logits = session.forward(n: pn * pn)
        lastTransformerSeconds = clock.seconds
        try finish(scale: si, logits: logits)
    }

    /// Scale si from its logits `(2B, pn², V)` (conditional rows first). Throws
    /// `GenerationError.nonFiniteLogits` (naming the scale and the image) if the guided logits hold NaN/Inf.
    func finish(scale si: Int, logits: UnsafePointer<Float>) throws {
        let clock = Stopwatch()
        defer { lastSamplingSeconds = clock.seconds }
        let pn = tokenizer.patchSizes[si], n = pn * pn, V = tokenizer.vocabSize, B = batch
        let Cv = tokenizer.latentChannels, S = scaleCount
        // CFG in float32 (docs/model.md §6.1 step 4.2): ℓ = (1+t)·ℓ_c − t·ℓ_u.
        let t = sampling.guidance(scale: si, of: S)
        let a = Float(1 + t), bT = Float(t)
        let g = guided.reserve(B * n * V)
        let half = B * n * V
        parallelism.forEach(half, grain: 65536) { range in
            for i in range { g[i] = a * logits[i] - bT * logits[half + i] }
        }
        // Both halves enter every guided value (0·NaN is NaN), so checking g checks the forward's output.
        if let bad = Finite.firstNonFinite(UnsafeBufferPointer(start: g, count: half)) {
            throw GenerationError.nonFiniteLogits(scale: si, image: bad / (n * V))
        }
        let ratio = S > 1 ? Double(si) / Double(S - 1) : 1
        try checkSamplingRange(scale: si, guided: g, images: B, rowLength: n * V, ratio: ratio)
        var indices = [Int32](repeating: 0, count: B * n)
        let sampler = ScaleSampler(vocab: V, topK: sampling.topK[si], topP: sampling.topP,
                                   temperature: sampling.temperature[si],
                                   smoothRatio: sampling.moreSmooth ? ratio : nil)
        let w = sampling.moreSmooth ? weights.reserve(B * n * V) : nil
        indices.withUnsafeMutableBufferPointer { idx in
            guard let ip = idx.baseAddress else { return }
            sampler.sample(logits: g, images: B, rowsPerImage: n, rngs: &rngs, indices: ip, weights: w,
                           parallelism: parallelism)
        }
        // Embedding: codewords (or the soft mixture), then the editing hook.
        let codebook = tokenizer.codebook
        var hRows = [Float](repeating: 0, count: B * n * Cv)   // (B, n, Cvae)
        codebook.data.withUnsafeBufferPointer { eb in
            guard let e = eb.baseAddress else { return }
            hRows.withUnsafeMutableBufferPointer { hb in
                guard let h = hb.baseAddress else { return }
                if let w {
                    BLAS.gemm(m: B * n, n: Cv, k: V, a: w, lda: V, b: e, ldb: Cv, c: h, ldc: Cv, parallelism: parallelism)
                } else {
                    for r in 0..<(B * n) { (h + r * Cv).update(from: e + Int(indices[r]) * Cv, count: Cv) }
                }
                if let editing {
                    let keep = editing.keep[si], orig = editing.originalTokens[si]
                    for r in 0..<(B * n) where keep[r] {
                        (h + r * Cv).update(from: e + Int(orig[r]) * Cv, count: Cv)
                        indices[r] = orig[r]
                    }
                }
            }
        }
        tokens.append(indices)
        // (B, n, Cvae) → (B, Cvae, pn, pn).
        var h = Tensor(zeros: [B, Cv, pn, pn])
        for b in 0..<B { for j in 0..<n { for ch in 0..<Cv {
            h.data[(b * Cv + ch) * n + j] = hRows[(b * n + j) * Cv + ch]
        } } }
        tokenizer.addScale(h, scale: si, to: &fHat, parallelism: parallelism)
        nextInput = si < S - 1 ? tokenizer.nextInput(fHat, after: si) : nil
    }

    /// The sampler divides finite logits by the temperature (and, with `more_smooth`, scales them by 1 + ratio and
    /// divides by the Gumbel temperature τ ≥ 0.005; docs/model.md §6.3–6.4). Logits large enough to overflow float32
    /// there would turn every probability into NaN and every token into 0, so such a scale fails here instead,
    /// naming the image, before anything is sampled. One pass of max |ℓ| per image.
    private func checkSamplingRange(scale si: Int, guided g: UnsafePointer<Float>, images: Int, rowLength: Int,
                                    ratio: Double) throws {
        let temperature = Float(sampling.temperature[si])
        // Dividing finite logits by a temperature ≥ 1 cannot overflow: only colder sampling and more_smooth need the pass.
        if temperature >= 1 && !sampling.moreSmooth { return }
        // |(ℓ·(1+r) + g)/τ| with |g| = |−log E| < 104 for float32 exponentials, τ ≥ 0.005 (the Gumbel mixture).
        let smoothGrowth: Float? = sampling.moreSmooth ? Float(1 + ratio) : nil
        let smoothTau = Float(max(0.27 * (1 - ratio * 0.95), 0.005))
        for b in 0..<images {
            var largest: Float = 0
            let row = g + b * rowLength
            for i in 0..<rowLength { largest = max(largest, abs(row[i])) }
            var fits = (largest / temperature).isFinite
            if let smoothGrowth { fits = fits && ((largest * smoothGrowth + 104) / smoothTau).isFinite }
            if !fits {
                throw GenerationError.logitsOverflow(scale: si, image: b, largest: largest, temperature: sampling.temperature[si])
            }
        }
    }

    /// Checks the sampling settings against `SamplingLimits` for a model of configuration `c`.
    static func validate(sampling: SamplingConfig, config c: VARConfig) throws {
        do { try SamplingLimits.check(sampling, scaleCount: c.scaleCount, vocabSize: c.vocabSize) } catch let v as LimitViolation {
            throw GenerationError.invalidSampling(v)
        }
    }

    /// Checks the editing hook against the schedule and batch.
    static func validate(editing: EditingHook?, patchSizes: [Int], batch: Int, vocab: Int) throws {
        guard let editing else { return }
        guard editing.keep.count == patchSizes.count, editing.originalTokens.count == patchSizes.count else {
            throw GenerationError.editingScaleCount(expected: patchSizes.count, keep: editing.keep.count,
                                                    tokens: editing.originalTokens.count)
        }
        for (si, pn) in patchSizes.enumerated() {
            for found in [editing.keep[si].count, editing.originalTokens[si].count] where found != batch * pn * pn {
                throw GenerationError.editingEntryCount(scale: si, expected: batch * pn * pn, found: found)
            }
            for (r, k) in editing.keep[si].enumerated() where k {
                let v = editing.originalTokens[si][r]
                guard v >= 0 && Int(v) < vocab else {
                    throw GenerationError.editingToken(token: v, scale: si, vocabulary: vocab)
                }
            }
        }
    }
}
