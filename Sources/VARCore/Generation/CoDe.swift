/// What the drafter hands to the refiner (docs/model.md §7.2).
public struct CoDeDraft {
    public let labels: [Int]
    public let seeds: [UInt64]
    /// Tokens of scales `0 … N−1`, each `(B, pn²)`.
    public let tokens: [[Int32]]
    /// f̂ after scales `0 … N−1`, `(B, Cvae, P, P)`.
    public let fHat: Tensor
    /// The token hub `concat(v_1 … v_N)`, `(B, end_N − 1, Cvae)`: transformer inputs of positions `1 … end_N − 1`.
    public let hub: Tensor
    /// When drafter and refiner are the same model: the drafter's live session and generators, handed over
    /// instead of re-prefilling.
    let handover: (session: VARSession, rngs: [MT19937], nextInput: Tensor?)?
}

/// Collaborative decoding (docs/model.md §7): a large drafter generates scales `0 … N−1`, a small refiner prefills
/// the drafter's token hub in one block-causal pass and generates scales `N … S−1`.
///
/// Both models share one KV arena and one workspace: the drafter's cache storage is reused by the refiner,
/// so the KV peak is the larger of the two caches, not their sum. Not thread-safe: one call at a time.
public final class CoDeGenerator {
    public let drafter: VARModel
    public let refiner: VARModel
    public let tokenizer: ScaleTokenizer
    /// N: scales produced by the drafter.
    public let draftSteps: Int
    public let arena: KVArena
    public let workspace: VARWorkspace

    /// Refuses, before any work, a pair whose vocabularies, latent widths, schedules or class counts differ,
    /// a tokenizer that fits neither, or N outside `1 … S−1`.
    public init(drafter: VARModel, refiner: VARModel, tokenizer: ScaleTokenizer, draftSteps: Int,
                arena: KVArena = KVArena(), workspace: VARWorkspace = VARWorkspace()) throws {
        try CoDeGenerator.checkPair(drafter.config, refiner.config, draftSteps: draftSteps)
        try VARGenerator.check(drafter.config, fits: tokenizer)
        self.drafter = drafter; self.refiner = refiner; self.tokenizer = tokenizer
        self.draftSteps = draftSteps; self.arena = arena; self.workspace = workspace
    }

    /// The pair and split checks of `init`, usable before loading weights.
    public static func checkPair(_ d: VARConfig, _ r: VARConfig, draftSteps n: Int) throws {
        guard d.vocabSize == r.vocabSize else {
            throw GenerationError.incompatiblePair(property: .vocabulary, drafter: [d.vocabSize], refiner: [r.vocabSize])
        }
        guard d.zChannels == r.zChannels else {
            throw GenerationError.incompatiblePair(property: .latentChannels, drafter: [d.zChannels], refiner: [r.zChannels])
        }
        guard d.patchSizes == r.patchSizes else {
            throw GenerationError.incompatiblePair(property: .patchSizes, drafter: d.patchSizes, refiner: r.patchSizes)
        }
        guard d.numClasses == r.numClasses else {
            throw GenerationError.incompatiblePair(property: .classCount, drafter: [d.numClasses], refiner: [r.numClasses])
        }
        let allowed = 1...max(1, d.scaleCount - 1)
        guard d.scaleCount > 1, allowed.contains(n) else {
            throw GenerationError.invalidDraftSteps(draftSteps: n, allowed: allowed)
        }
    }

    var sameModel: Bool { drafter === refiner }

    /// Charges the shared KV arena, the workspace and the per-call buffers to `accountant` (nil: stop).
    public func account(to accountant: MemoryAccountant?) {
        arena.account(to: accountant)
        workspace.account(to: accountant)
    }

    /// Drafter cache positions: `end_{N−1}`, or all L when the cache is handed over to the same model.
    var drafterCapacity: Int {
        sameModel ? drafter.config.tokenCount : drafter.config.scaleEnds[draftSteps - 1]
    }

    /// KV-cache bytes of one call with `batch` images: the larger of the drafter's and the refiner's
    /// caches (they share the arena).
    public func kvCacheBytes(batch: Int) -> Int {
        max(drafterKVCacheBytes(batch: batch), refinerKVCacheBytes(batch: batch))
    }

    public func drafterKVCacheBytes(batch: Int) -> Int { drafter.kvCacheBytes(batch: batch, positions: drafterCapacity) }

    public func refinerKVCacheBytes(batch: Int) -> Int { sameModel ? 0 : refiner.kvCacheBytes(batch: batch) }

    /// Runs the drafter for scales `0 … N−1` (docs/model.md §7.2).
    public func draft(labels rawLabels: [Int], seeds: [UInt64], sampling: SamplingConfig, editing: EditingHook? = nil,
                      progress: ProgressHandler? = nil) throws -> CoDeDraft {
        let c = drafter.config, B = rawLabels.count, N = draftSteps
        let labels = try VARGenerator.checkBatch(labels: rawLabels, seeds: seeds, numClasses: c.numClasses)
        try ScaleRunner.validate(editing: editing, patchSizes: c.patchSizes, batch: B, vocab: c.vocabSize)
        try ScaleRunner.validate(sampling: sampling, config: c)
        let session = VARSession(model: drafter, labels: labels + Array(repeating: c.unconditionalClass, count: B),
                                 capacity: drafterCapacity, arena: arena, workspace: workspace)
        let runner = ScaleRunner(tokenizer: tokenizer, sampling: sampling, editing: editing, seeds: seeds,
                                 accountant: workspace.accountant, parallelism: workspace.parallelism)
        var parts: [Tensor] = []   // v_{si+1}: (B, pn², Cvae)
        let ends = c.scaleEnds
        for si in 0..<N {
            try runner.step(session: session, scale: si)
            if let v = runner.nextInput { parts.append(v) }
            if let progress, !progress(GenerationProgress(stage: .draft, scale: si, scaleCount: c.scaleCount,
                                                          tokensDone: ends[si], tokenCount: c.tokenCount,
                                                          transformerSeconds: runner.lastTransformerSeconds,
                                                          samplingSeconds: runner.lastSamplingSeconds)) {
                throw GenerationError.cancelled
            }
        }
        // Hub (B, P − 1, Cvae): per image, the inputs of scales 1 … N in order.
        let Cv = c.zChannels, P = ends[N]
        var hub = [Float](); hub.reserveCapacity(B * (P - 1) * Cv)
        for b in 0..<B {
            for v in parts {
                let m = v.shape[1] * Cv
                hub += v.data[(b * m)..<((b + 1) * m)]
            }
        }
        return CoDeDraft(labels: labels, seeds: seeds, tokens: runner.tokens, fHat: runner.fHat,
                         hub: Tensor(shape: [B, P - 1, Cv], data: hub),
                         handover: sameModel ? (session, runner.rngs, runner.nextInput) : nil)
    }

    /// Runs the refiner for scales `N … S−1` from a draft (docs/model.md §7.3).
    public func refine(_ draft: CoDeDraft, sampling: SamplingConfig, editing: EditingHook? = nil,
                       progress: ProgressHandler? = nil) throws -> GenerationResult {
        let c = refiner.config, B = draft.labels.count, N = draftSteps, S = c.scaleCount
        try ScaleRunner.validate(sampling: sampling, config: c)
        let runner = ScaleRunner(tokenizer: tokenizer, sampling: sampling, editing: editing, seeds: draft.seeds,
                                 accountant: workspace.accountant, parallelism: workspace.parallelism)
        runner.fHat = draft.fHat
        runner.tokens = draft.tokens
        let session: VARSession
        let ends = c.scaleEnds
        if let handover = draft.handover, handover.session.position == c.scaleEnds[N - 1] {
            // Same model, cache untouched since the draft: continue the drafter's cache and generators.
            // (A second refine of the same draft finds the cache advanced and prefills instead.)
            session = handover.session
            runner.rngs = handover.rngs
            runner.nextInput = handover.nextInput
            try runner.step(session: session, scale: N)
        } else {
            session = VARSession(model: refiner, labels: draft.labels + Array(repeating: c.unconditionalClass, count: B),
                                 capacity: c.tokenCount, arena: arena, workspace: workspace)
            // Replay: advance each generator past the draws of scales 0 … N−1 (docs/model.md §7.3 step 6).
            for si in 0..<N { runner.skipRandomNumbers(scale: si) }
            // One block-causal prefill over P = end_N positions; logits only for scale N.
            let P = ends[N]
            let clock = Stopwatch()
            draft.hub.data.withUnsafeBufferPointer {
                session.embed(latents: $0.baseAddress, inputBatch: B, p0: 0, n: P)
            }
            let logits = session.forward(n: P, logitsFrom: c.scaleBegins[N])
            runner.lastTransformerSeconds = clock.seconds
            try runner.finish(scale: N, logits: logits)
        }
        for si in N..<S {
            if si > N { try runner.step(session: session, scale: si) }
            if let progress, !progress(GenerationProgress(stage: .refine, scale: si, scaleCount: S,
                                                          tokensDone: ends[si], tokenCount: c.tokenCount,
                                                          transformerSeconds: runner.lastTransformerSeconds,
                                                          samplingSeconds: runner.lastSamplingSeconds)) {
                throw GenerationError.cancelled
            }
        }
        return GenerationResult(tokens: runner.tokens, fHat: runner.fHat)
    }

    /// Drafter then refiner: every scale's tokens and the final f̂.
    public func generate(labels: [Int], seeds: [UInt64], sampling: SamplingConfig, editing: EditingHook? = nil,
                         progress: ProgressHandler? = nil) throws -> GenerationResult {
        let d = try draft(labels: labels, seeds: seeds, sampling: sampling, editing: editing, progress: progress)
        return try refine(d, sampling: sampling, editing: editing, progress: progress)
    }
}
