import Foundation
import VARKit

/// The CLI's view of the engine: loads the VQVAE and the transformer(s) of a `Pipeline`, generates batches
/// (plain VAR or CoDe), decodes and encodes images, and charges a `MemoryAccountant` with what it holds.
final class Engine {
    let pipeline: Pipeline
    let vqvae: VQVAE
    let vaePath: String
    let accountant: MemoryAccountant
    /// The run's memory, predicted from the configurations and file sizes before anything was loaded.
    let prediction: MemoryPrediction
    private enum Generator { case plain(VARGenerator), collaborative(CoDeGenerator) }
    private let generator: Generator

    /// Loads every model (this is the slow part of start-up). `onLoad` is told each file before it is read.
    /// The accountant is charged with each model's weights, with the checkpoint pages while a file is being
    /// loaded, and (through the generator) with the KV arena, activations and work buffers.
    convenience init(pipeline: Pipeline, vaePath: String, accountant: MemoryAccountant = MemoryAccountant(),
                     moreSmooth: Bool = false, onLoad: (String) -> Void = { _ in }) throws {
        let prediction = try Engine.predict(pipeline: pipeline, vaePath: vaePath, moreSmooth: moreSmooth)
        onLoad(vaePath)
        let vqvae = try TokenizerLoader.load(vaePath, accountant: accountant)
        func load(_ m: ModelFile, role: String) throws -> VARModel {
            onLoad(m.path)
            let pages = fileSize(m.path)
            accountant.charge(pages, to: .checkpointPages)
            defer { accountant.release(pages, from: .checkpointPages) }
            // The mapping closes on return unless the matrices are used in place (--mmap).
            let model = try m.load()
            accountant.charge(model.weightBytes, to: .weights(role))
            return model
        }
        switch pipeline {
        case let .plain(m):
            try self.init(pipeline: pipeline, vqvae: vqvae, vaePath: vaePath, drafter: try load(m, role: "model"),
                          refiner: nil, prediction: prediction, accountant: accountant)
        case let .collaborative(d, r, _):
            let same = Engine.sameFile(d, r)
            let drafter = try load(d, role: same ? "drafter+refiner" : "drafter")
            // The same file as drafter and refiner is one model (CoDe then hands its cache over).
            let refiner = same ? drafter : try load(r, role: "refiner")
            try self.init(pipeline: pipeline, vqvae: vqvae, vaePath: vaePath, drafter: drafter, refiner: refiner,
                          prediction: prediction, accountant: accountant)
        }
    }

    /// An engine over models already built (e.g. random weights of official shapes for `bench --random`).
    /// The caller has charged the models' weights to `accountant`; the generator's buffers are charged here.
    init(pipeline: Pipeline, vqvae: VQVAE, vaePath: String, drafter: VARModel, refiner: VARModel?,
         prediction: MemoryPrediction, accountant: MemoryAccountant = MemoryAccountant()) throws {
        self.pipeline = pipeline
        self.vqvae = vqvae
        self.vaePath = vaePath
        self.accountant = accountant
        self.prediction = prediction
        switch pipeline {
        case .plain:
            let g = try VARGenerator(model: drafter, tokenizer: vqvae.quantizer)
            g.account(to: accountant)
            generator = .plain(g)
        case let .collaborative(_, _, n):
            let g = try CoDeGenerator(drafter: drafter, refiner: refiner ?? drafter, tokenizer: vqvae.quantizer,
                                      draftSteps: n)
            g.account(to: accountant)
            generator = .collaborative(g)
        }
    }

    static func sameFile(_ a: ModelFile, _ b: ModelFile) -> Bool {
        URL(fileURLWithPath: a.path).standardizedFileURL == URL(fileURLWithPath: b.path).standardizedFileURL
    }

    /// The run's memory from the configurations and file sizes alone (reads only the VQVAE's tensor index).
    static func predict(pipeline: Pipeline, vaePath: String, moreSmooth: Bool) throws -> MemoryPrediction {
        let checkpoint = try Checkpoint(path: vaePath)
        return predict(pipeline: pipeline, vqvae: try VQVAEConfig.forCheckpoint(at: vaePath, checkpoint),
                       vqvaeWeightBytes: VQVAE.weightBytes(checkpoint: checkpoint), vqvaeFileBytes: fileSize(vaePath),
                       moreSmooth: moreSmooth)
    }

    /// The prediction for a VQVAE described by its configuration and sizes (model files that do not exist,
    /// such as `bench --random`'s labels, count 0 bytes of pages).
    static func predict(pipeline: Pipeline, vqvae: VQVAEConfig, vqvaeWeightBytes: Int, vqvaeFileBytes: Int,
                        moreSmooth: Bool) -> MemoryPrediction {
        let models: [MemoryPrediction.Model]
        var draftSteps: Int?
        switch pipeline {
        case let .plain(m):
            models = [.init(role: "model", config: m.config, fileBytes: fileSize(m.path), precision: m.precision)]
        case let .collaborative(d, r, n):
            draftSteps = n
            models = sameFile(d, r)
                ? [.init(role: "drafter+refiner", config: d.config, fileBytes: fileSize(d.path), precision: d.precision)]
                : [.init(role: "drafter", config: d.config, fileBytes: fileSize(d.path), precision: d.precision),
                   .init(role: "refiner", config: r.config, fileBytes: fileSize(r.path), precision: r.precision)]
        }
        return MemoryPrediction(vqvae: vqvae, vqvaeWeightBytes: vqvaeWeightBytes, vqvaeFileBytes: vqvaeFileBytes,
                                models: models, draftSteps: draftSteps, moreSmooth: moreSmooth)
    }

    var config: VARConfig { pipeline.primary.config }

    /// The transformer work buffers (and their optional `OpProfile`) of the generator.
    var workspace: VARWorkspace {
        switch generator {
        case let .plain(g): g.workspace
        case let .collaborative(g): g.workspace
        }
    }

    /// The largest batch ≤ `requested` whose predicted peak fits in `budget` bytes; nil if even one image
    /// does not fit.
    func batchSize(requested: Int, budget: Int?) -> Int? {
        guard let budget else { return requested }
        return prediction.largestBatch(upTo: requested, budget: budget)
    }

    /// Seconds of the last `generate` call: transformer (all scales, sampling included) and VQVAE decode.
    private(set) var lastTimings = (transformer: 0.0, decode: 0.0)

    /// Generates and decodes one batch: images (B of them) and every scale's tokens `(B, pn²)`.
    func generate(labels: [Int], seeds: [UInt64], sampling: SamplingConfig, editing: EditingHook? = nil,
                  progress: ProgressHandler? = nil) throws -> (images: [RGBImage], tokens: [[Int32]]) {
        let result: GenerationResult
        let start = Date()
        switch generator {
        case let .plain(g):
            result = try g.generate(labels: labels, seeds: seeds, sampling: sampling, editing: editing, progress: progress)
        case let .collaborative(g):
            result = try g.generate(labels: labels, seeds: seeds, sampling: sampling, editing: editing, progress: progress)
        }
        // The decoder's buffers are not metered one by one: charge the calibrated estimate while it runs.
        let decode = prediction.decodeBytes(batch: labels.count)
        accountant.charge(decode, to: .vqvaeDecode)
        defer { accountant.release(decode, from: .vqvaeDecode) }
        let decodeStart = Date()
        let images = try RGBImage.images(from: vqvae.decode(result.fHat))
        lastTimings = (decodeStart.timeIntervalSince(start), Date().timeIntervalSince(decodeStart))
        return (images, result.tokens)
    }

    /// Images from a token pyramid (spec §4.8).
    func decode(tokens: [[Int32]]) throws -> [RGBImage] {
        try RGBImage.images(from: vqvae.decode(tokens: tokens))
    }
}

/// Bytes of a file (0 if it cannot be read; callers have validated the path).
func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}

/// The VQVAE alone (decode, reconstruct).
enum TokenizerLoader {
    /// Loads the VQVAE; with an accountant, charges its file pages while loading and then its weights.
    static func load(_ path: String, accountant: MemoryAccountant? = nil) throws -> VQVAE {
        let pages = fileSize(path)
        accountant?.charge(pages, to: .checkpointPages)
        defer { accountant?.release(pages, from: .checkpointPages) }
        let checkpoint = try Checkpoint(path: path)
        let vq = try VQVAE(checkpoint: checkpoint, config: try VQVAEConfig.forCheckpoint(at: path, checkpoint))
        accountant?.charge(VQVAE.weightBytes(checkpoint: checkpoint), to: .weights("vqvae"))
        return vq
    }
}

/// `--threads`: both OpenBLAS and the engine's own parallel loops.
func applyThreads(_ n: Int?) {
    guard let n else { return }
    BLAS.setThreadCount(n)
    Parallel.workerCount = n
}
