import Foundation

/// Loads a VQVAE and one or two transformers (plain VAR or CoDe) and generates images with them.
///
/// The run's memory is predicted from the configurations and file sizes before anything is loaded
/// (`prediction`); the `accountant` is charged with each model's weights, with a checkpoint's pages while it
/// loads, and (through the generator) with the KV arena, activations and work buffers.
/// Every kernel it runs uses `parallelism` (from `configuration.threads`), passed down as a value, so pipelines
/// with different thread counts can live in one process. Not thread-safe: one call at a time.
public final class GenerationPipeline {
    public let configuration: PipelineConfiguration
    /// The workers of the engine's loops and large BLAS products (`configuration.threads`, default all cores).
    public var parallelism: Parallelism { configuration.parallelism }
    public let tokenizer: ImageTokenizer
    public let accountant: MemoryAccountant
    /// The run's memory, predicted before loading (`predictMemory(batch:)` gives a batch's peak).
    public let prediction: MemoryPrediction
    private enum Generator { case plain(VARGenerator), collaborative(CoDeGenerator) }
    private let generator: Generator
    /// The loaded transformers (the refiner is the drafter for a CoDe pair of one file; nil for plain VAR).
    private let drafterModel: VARModel, refinerModel: VARModel?
    /// Bytes of the VQVAE's weights (charged to `accountant`).
    private let tokenizerWeightBytes: Int
    /// The decoder, whose buffers stay from one batch to the next (`ImageDecoder`), and the bytes charged to
    /// `accountant` for them (`.vqvaeDecode`, from the first decode on, while they are kept).
    private let decoder: ImageDecoder
    private var decoderCharge = 0

    /// Loads every model (the slow part of start-up). `onLoad` is told each file before it is read.
    public convenience init(_ configuration: PipelineConfiguration, accountant: MemoryAccountant = MemoryAccountant(),
                            onLoad: (String) -> Void = { _ in }) throws {
        let prediction = try Self.predictMemory(configuration)
        onLoad(configuration.tokenizer)
        let tokenizer = try ImageTokenizer(path: configuration.tokenizer, accountant: accountant)
        var loaded: [VARModel] = []
        for (role, source) in configuration.roles {
            onLoad(source.path)
            let pages = source.fileBytes
            accountant.charge(pages, to: .checkpointPages)
            defer { accountant.release(pages, from: .checkpointPages) }
            // The mapping closes on return unless the matrices are used in place.
            let model = try source.load(parallelism: configuration.parallelism)
            accountant.charge(model.weightBytes, to: .weights(role))
            loaded.append(model)
        }
        try self.init(configuration, tokenizer: tokenizer, drafter: loaded[0], refiner: loaded.count > 1 ? loaded[1] : nil,
                      prediction: prediction, accountant: accountant, tokenizerWeightBytes: prediction.vqvaeWeightBytes)
    }

    /// A pipeline over models already built (e.g. random weights of official shapes); the sources'
    /// paths are labels. Charges `accountant` with the models' weights (`tokenizerWeightBytes` for the VQVAE)
    /// and predicts the memory from the configurations. `refiner` nil (or the drafter) for a CoDe pair of one model.
    public convenience init(_ configuration: PipelineConfiguration, tokenizer: ImageTokenizer, tokenizerWeightBytes: Int,
                            drafter: VARModel, refiner: VARModel?, accountant: MemoryAccountant = MemoryAccountant()) throws {
        accountant.charge(tokenizerWeightBytes, to: .vqvaeWeights)
        let models = refiner.map { $0 === drafter ? [drafter] : [drafter, $0] } ?? [drafter]
        for (i, entry) in configuration.roles.enumerated() where i < models.count {
            accountant.charge(models[i].weightBytes, to: .weights(entry.role))
        }
        let prediction = Self.predictMemory(configuration, vqvae: tokenizer.config, vqvaeWeightBytes: tokenizerWeightBytes,
                                            vqvaeFileBytes: fileSize(configuration.tokenizer))
        try self.init(configuration, tokenizer: tokenizer, drafter: drafter, refiner: refiner, prediction: prediction,
                      accountant: accountant, tokenizerWeightBytes: tokenizerWeightBytes)
    }

    private init(_ configuration: PipelineConfiguration, tokenizer: ImageTokenizer, drafter: VARModel, refiner: VARModel?,
                 prediction: MemoryPrediction, accountant: MemoryAccountant, tokenizerWeightBytes: Int) throws {
        self.configuration = configuration
        self.drafterModel = drafter
        self.refinerModel = refiner
        self.tokenizerWeightBytes = tokenizerWeightBytes
        self.tokenizer = tokenizer
        self.accountant = accountant
        self.prediction = prediction
        decoder = ImageDecoder(vqvae: tokenizer.vqvae, parallelism: configuration.parallelism)
        switch configuration.models {
        case .plain:
            let g = try VARGenerator(model: drafter, tokenizer: tokenizer.vqvae.quantizer,
                                     workspace: VARWorkspace(parallelism: configuration.parallelism))
            g.account(to: accountant)
            generator = .plain(g)
        case let .collaborative(plan):
            let g = try CoDeGenerator(drafter: drafter, refiner: refiner ?? drafter, tokenizer: tokenizer.vqvae.quantizer,
                                      draftSteps: plan.draftSteps,
                                      workspace: VARWorkspace(parallelism: configuration.parallelism))
            g.account(to: accountant)
            generator = .collaborative(g)
        }
    }

    /// A pipeline over this one's loaded models with another configuration of the same files (e.g. another
    /// CoDe split, or the drafter alone), with its own accountant charged with the weights it uses. Nothing is
    /// loaded again.
    public func reconfigured(_ configuration: PipelineConfiguration) throws -> GenerationPipeline {
        let refiner: VARModel?
        if case .collaborative = configuration.models { refiner = refinerModel ?? drafterModel } else { refiner = nil }
        return try GenerationPipeline(configuration, tokenizer: tokenizer, tokenizerWeightBytes: tokenizerWeightBytes,
                                      drafter: drafterModel, refiner: refiner)
    }

    /// The loaded transformers: the plain model or the drafter, and the refiner (nil for plain VAR).
    public var models: (drafter: VARModel, refiner: VARModel?) { (drafterModel, refinerModel) }

    /// The primary model's configuration (classes, schedule).
    public var config: VARConfig { configuration.config }

    /// The transformer work buffers (and their optional `OpProfile`) of the generator.
    public var workspace: VARWorkspace {
        switch generator {
        case let .plain(g): g.workspace
        case let .collaborative(g): g.workspace
        }
    }

    /// Generates and decodes one batch (B = labels.count images, one seed each). `progress` is called after
    /// every scale; returning false cancels (`GenerationError.cancelled`).
    public func generateBatch(labels: [Int], seeds: [UInt64], sampling: SamplingConfig? = nil,
                              editing: EditingHook? = nil, progress: ProgressHandler? = nil) throws -> GeneratedBatch {
        let sampling = sampling ?? configuration.sampling
        let result: GenerationResult
        let start = Date()
        switch generator {
        case let .plain(g):
            result = try g.generate(labels: labels, seeds: seeds, sampling: sampling, editing: editing, progress: progress)
        case let .collaborative(g):
            result = try g.generate(labels: labels, seeds: seeds, sampling: sampling, editing: editing, progress: progress)
        }
        // The decoder's buffers are not metered one by one: charge the calibrated estimate. They stay for the
        // next batch of this size (`ImageDecoder`), and so does the charge; another size replaces both.
        if decoder.keptBatch != labels.count {
            accountant.release(decoderCharge, from: .vqvaeDecode)
            decoderCharge = prediction.decodeBytes(batch: labels.count)
            accountant.charge(decoderCharge, to: .vqvaeDecode)
        }
        let decodeStart = Date()
        let images = try RGBImage.images(from: decoder.decode(result.fHat))
        return GeneratedBatch(index: 0, count: 1, firstImage: 0, labels: labels, seeds: seeds, images: images,
                              tokens: result.tokens, transformerSeconds: decodeStart.timeIntervalSince(start),
                              decodeSeconds: Date().timeIntervalSince(decodeStart))
    }

    /// Generates `request` batch by batch, handing each scale's progress and each finished batch to
    /// `onEvent` as it happens, so the caller can write images while the next batch runs. Returning false
    /// from `onEvent` cancels: the call then throws `GenerationError.cancelled`.
    public func generate(_ request: GenerationRequest, onEvent: (GenerationEvent) throws -> Bool) throws {
        // The progress handler is an escaping closure type, but it never outlives a call.
        try withoutActuallyEscaping(onEvent) { try stream(request, $0) }
    }

    private func stream(_ request: GenerationRequest, _ onEvent: @escaping (GenerationEvent) throws -> Bool) throws {
        let n = request.labels.count, b = request.batchSize
        guard request.seeds.count == n else { throw PipelineError.seedCount(labels: n, seeds: request.seeds.count) }
        let count = (n + b - 1) / b
        for (bi, lo) in stride(from: 0, to: n, by: b).enumerated() {
            let hi = min(n, lo + b)
            var failure: Error?
            var batch = try generateBatch(labels: Array(request.labels[lo..<hi]), seeds: Array(request.seeds[lo..<hi]),
                                          sampling: request.sampling) { p in
                do { return try onEvent(.progress(batch: bi, p)) } catch { failure = error; return false }
            }
            if let failure { throw failure }
            batch.index = bi; batch.count = count; batch.firstImage = lo
            guard try onEvent(.batch(batch)) else { throw GenerationError.cancelled }
        }
    }

    /// Images from a token pyramid (docs/model.md §4.8).
    public func decode(tokens: [[Int32]]) throws -> [RGBImage] {
        try tokenizer.decode(tokens: tokens, parallelism: parallelism)
    }

    /// The image encoded to tokens and decoded again, with its tokens.
    public func reconstruct(_ image: RGBImage) throws -> (image: RGBImage, tokens: [[Int32]]) {
        try tokenizer.reconstruct(image, parallelism: parallelism)
    }
}
