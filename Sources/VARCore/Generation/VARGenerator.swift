/// Plain VAR generation (docs/model.md §6.1): a model, its tokenizer, and buffers reused across calls.
///
/// Image b of a call uses its own MT19937 seeded `seeds[b]` (docs/design.md), so an image does not depend
/// on the batch it is generated in.
public final class VARGenerator {
    public let model: VARModel
    public let tokenizer: ScaleTokenizer
    /// KV-cache storage, kept between calls (page faults are expensive).
    public let arena: KVArena
    /// Activation buffers, kept between calls.
    public let workspace: VARWorkspace

    /// Refuses a tokenizer whose schedule, vocabulary or latent width differ from the model's.
    public init(model: VARModel, tokenizer: ScaleTokenizer, arena: KVArena = KVArena(),
                workspace: VARWorkspace = VARWorkspace()) throws {
        try VARGenerator.check(model.config, fits: tokenizer)
        self.model = model; self.tokenizer = tokenizer; self.arena = arena; self.workspace = workspace
    }

    static func check(_ c: VARConfig, fits t: ScaleTokenizer) throws {
        guard c.patchSizes == t.patchSizes else {
            throw GenerationError.incompatibleTokenizer(property: .patchSizes, model: c.patchSizes, tokenizer: t.patchSizes)
        }
        guard c.vocabSize == t.vocabSize else {
            throw GenerationError.incompatibleTokenizer(property: .vocabulary, model: [c.vocabSize], tokenizer: [t.vocabSize])
        }
        guard c.zChannels == t.latentChannels else {
            throw GenerationError.incompatibleTokenizer(property: .latentChannels, model: [c.zChannels],
                                                        tokenizer: [t.latentChannels])
        }
    }

    /// Validates a batch and maps negative labels to the unconditional class (docs/model.md §6.1 label conventions).
    static func checkBatch(labels: [Int], seeds: [UInt64], numClasses: Int) throws -> [Int] {
        guard !labels.isEmpty else { throw GenerationError.emptyBatch }
        guard labels.count == seeds.count else {
            throw GenerationError.seedCount(labels: labels.count, seeds: seeds.count)
        }
        for l in labels where l > numClasses {
            throw GenerationError.labelOutOfRange(label: l, numClasses: numClasses)
        }
        return labels.map { $0 < 0 ? numClasses : $0 }
    }

    /// Generates `labels.count` images: returns every scale's tokens and f̂ `(B, Cvae, P, P)`.
    ///
    /// - Parameters:
    ///   - labels: class per image, `0..<numClasses`, or `numClasses` (or any negative value) for unconditional.
    ///   - seeds: one seed per image (`sampling.seeds(count:)` gives `seed + i`); `sampling.seed` is ignored.
    ///   - editing: optional teacher forcing of kept positions (docs/model.md §11).
    ///   - progress: called after every scale; returning false cancels.
    public func generate(labels rawLabels: [Int], seeds: [UInt64], sampling: SamplingConfig,
                         editing: EditingHook? = nil, progress: ProgressHandler? = nil) throws -> GenerationResult {
        let c = model.config, B = rawLabels.count
        let labels = try VARGenerator.checkBatch(labels: rawLabels, seeds: seeds, numClasses: c.numClasses)
        try ScaleRunner.validate(editing: editing, patchSizes: c.patchSizes, batch: B, vocab: c.vocabSize)
        try ScaleRunner.validate(sampling: sampling, config: c)
        let session = VARSession(model: model, labels: labels + Array(repeating: c.unconditionalClass, count: B),
                                 capacity: c.tokenCount, arena: arena, workspace: workspace)
        let runner = ScaleRunner(tokenizer: tokenizer, sampling: sampling, editing: editing, seeds: seeds,
                                 accountant: workspace.accountant, parallelism: workspace.parallelism)
        let ends = c.scaleEnds
        for si in 0..<c.scaleCount {
            try runner.step(session: session, scale: si)
            if let progress, !progress(GenerationProgress(stage: .generate, scale: si, scaleCount: c.scaleCount,
                                                          tokensDone: ends[si], tokenCount: c.tokenCount,
                                                          transformerSeconds: runner.lastTransformerSeconds,
                                                          samplingSeconds: runner.lastSamplingSeconds)) {
                throw GenerationError.cancelled
            }
        }
        return GenerationResult(tokens: runner.tokens, fHat: runner.fHat)
    }

    /// Charges the KV arena, the workspace and the per-call buffers to `accountant` (nil: stop).
    public func account(to accountant: MemoryAccountant?) {
        arena.account(to: accountant)
        workspace.account(to: accountant)
    }
}

/// Plain VAR generation in one call (docs/model.md §6.1); see `VARGenerator.generate`.
public func generate(labels: [Int], seeds: [UInt64], sampling: SamplingConfig, model: VARModel,
                     tokenizer: ScaleTokenizer, editing: EditingHook? = nil,
                     progress: ProgressHandler? = nil) throws -> GenerationResult {
    try VARGenerator(model: model, tokenizer: tokenizer)
        .generate(labels: labels, seeds: seeds, sampling: sampling, editing: editing, progress: progress)
}
