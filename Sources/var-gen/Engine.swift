import Foundation
import VARKit

/// The CLI's view of the engine: loads the VQVAE and the transformer(s) of a `Pipeline`, generates batches
/// (plain VAR or CoDe), decodes and encodes images, and charges a `MemoryAccountant` with what it holds.
final class Engine {
    let pipeline: Pipeline
    let vqvae: VQVAE
    let vaePath: String
    let accountant: MemoryAccountant
    private enum Generator { case plain(VARGenerator), collaborative(CoDeGenerator) }
    private let generator: Generator
    /// Seconds of the last `generate` call's VQVAE decode.
    private(set) var lastDecodeSeconds = 0.0

    /// Loads every model (this is the slow part of start-up). `onLoad` is told each file before it is read.
    convenience init(pipeline: Pipeline, vaePath: String, accountant: MemoryAccountant = MemoryAccountant(),
                     onLoad: (String) -> Void = { _ in }) throws {
        onLoad(vaePath)
        let checkpoint = try Checkpoint(path: vaePath)
        let vqvae = try VQVAE(checkpoint: checkpoint, config: try VQVAEConfig.forCheckpoint(at: vaePath, checkpoint))
        accountant.charge(checkpoint.entries.reduce(0) { $0 + $1.count } * 4, to: .weights)
        func load(_ m: ModelFile) throws -> VARModel {
            onLoad(m.path)
            return try VARModel.load(path: m.path, config: m.config)
        }
        switch pipeline {
        case let .plain(m):
            try self.init(pipeline: pipeline, vqvae: vqvae, vaePath: vaePath, drafter: try load(m), refiner: nil,
                          accountant: accountant)
        case let .collaborative(d, r, _):
            let drafter = try load(d)
            // The same file as drafter and refiner is one model (CoDe then hands its cache over).
            let same = URL(fileURLWithPath: d.path).standardizedFileURL == URL(fileURLWithPath: r.path).standardizedFileURL
            try self.init(pipeline: pipeline, vqvae: vqvae, vaePath: vaePath, drafter: drafter,
                          refiner: same ? drafter : try load(r), accountant: accountant)
        }
    }

    /// An engine over models already built (e.g. random weights of official shapes for `bench --random`).
    /// The transformers' weights are charged to `accountant` here; the VQVAE's by the caller.
    init(pipeline: Pipeline, vqvae: VQVAE, vaePath: String, drafter: VARModel, refiner: VARModel?,
         accountant: MemoryAccountant = MemoryAccountant()) throws {
        self.pipeline = pipeline
        self.vqvae = vqvae
        self.vaePath = vaePath
        self.accountant = accountant
        accountant.charge(drafter.parameterCount * 4, to: .weights)
        if let refiner, refiner !== drafter { accountant.charge(refiner.parameterCount * 4, to: .weights) }
        switch pipeline {
        case .plain:
            generator = .plain(try VARGenerator(model: drafter, tokenizer: vqvae.quantizer))
        case let .collaborative(_, _, n):
            generator = .collaborative(try CoDeGenerator(drafter: drafter, refiner: refiner ?? drafter,
                                                         tokenizer: vqvae.quantizer, draftSteps: n))
        }
    }

    var config: VARConfig { pipeline.primary.config }

    /// Bytes one call with `batch` images needs beyond the weights: KV cache, work buffers, and an estimate of
    /// the VQVAE decoder's largest activations (three full-resolution feature maps of the first level).
    func callBytes(batch: Int) -> (kvCache: Int, workspace: Int, decode: Int) {
        let c = vqvae.config
        let decode = batch * c.ch * (c.chMult.first ?? 1) * c.imageSize * c.imageSize * 4 * 3
        switch generator {
        case let .plain(g):
            let m = g.memoryBytes(batch: batch)
            return (m.kvCache, m.workspace, decode)
        case let .collaborative(g):
            return (g.kvCacheBytes(batch: batch), g.workspaceBytes(batch: batch), decode)
        }
    }

    /// The largest batch ≤ `requested` whose call fits in `budget` bytes together with the weights; nil if
    /// even one image does not fit.
    func batchSize(requested: Int, budget: Int?) -> Int? {
        guard let budget else { return requested }
        let weights = accountant.current(.weights)
        var b = requested
        while b >= 1 {
            let m = callBytes(batch: b)
            if weights + m.kvCache + m.workspace + m.decode <= budget { return b }
            b = b > 8 ? b * 3 / 4 : b - 1
        }
        return nil
    }

    /// Generates and decodes one batch: images (B of them) and every scale's tokens `(B, pn²)`.
    func generate(labels: [Int], seeds: [UInt64], sampling: SamplingConfig, editing: EditingHook? = nil,
                  progress: ProgressHandler? = nil) throws -> (images: [RGBImage], tokens: [[Int32]]) {
        let m = callBytes(batch: labels.count)
        accountant.charge(m.kvCache, to: .kvCache)
        accountant.charge(m.workspace, to: .workspace)
        let result: GenerationResult
        do {
            defer {
                accountant.release(m.kvCache, from: .kvCache)
                accountant.release(m.workspace, from: .workspace)
            }
            switch generator {
            case let .plain(g):
                result = try g.generate(labels: labels, seeds: seeds, sampling: sampling, editing: editing, progress: progress)
            case let .collaborative(g):
                result = try g.generate(labels: labels, seeds: seeds, sampling: sampling, editing: editing, progress: progress)
            }
        }
        accountant.charge(m.decode, to: .vqvaeDecode)
        defer { accountant.release(m.decode, from: .vqvaeDecode) }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let decoded = vqvae.decode(result.fHat)
        lastDecodeSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        return (try RGBImage.images(from: decoded), result.tokens)
    }

    /// Images from a token pyramid (spec §4.8).
    func decode(tokens: [[Int32]]) throws -> [RGBImage] {
        try RGBImage.images(from: vqvae.decode(tokens: tokens))
    }
}

/// The VQVAE alone (decode, reconstruct).
enum TokenizerLoader {
    static func load(_ path: String, accountant: MemoryAccountant? = nil) throws -> VQVAE {
        let checkpoint = try Checkpoint(path: path)
        let vq = try VQVAE(checkpoint: checkpoint, config: try VQVAEConfig.forCheckpoint(at: path, checkpoint))
        accountant?.charge(checkpoint.entries.reduce(0) { $0 + $1.count } * 4, to: .weights)
        return vq
    }
}

/// `--threads`: both OpenBLAS and the engine's own parallel loops.
func applyThreads(_ n: Int?) {
    guard let n else { return }
    BLAS.setThreadCount(n)
    Parallel.workerCount = n
}
