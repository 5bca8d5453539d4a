import Foundation
import VARKit

/// Loading the models once, timing each configuration's calls (plain or interleaved), handing the rows to
/// `BenchReport`.
extension BenchCommand {
    /// The models, built (or loaded) once through the first CoDe configuration (else the first one) and
    /// shared by every configuration of the sweep (`GenerationPipeline.reconfigured`).
    func load() throws -> GenerationPipeline {
        let first = pipelines.first { if case .collaborative = $0.models { true } else { false } } ?? pipelines[0]
        guard random != nil else { return try GenerationPipeline(first) }
        let w = RandomWeights(seed: 1)
        let vq = ImageTokenizer(vqvae: VQVAE(config: .official256, weights: w), path: first.tokenizer)
        let bytes = w.tensors.values.reduce(0) { $0 + $1.count } * 4
        switch first.models {
        case let .plain(m):
            return try GenerationPipeline(first, tokenizer: vq, tokenizerWeightBytes: bytes,
                                          drafter: VARModel(config: m.config, randomSeed: 1, precision: m.precision), refiner: nil)
        case let .collaborative(plan):
            return try GenerationPipeline(first, tokenizer: vq, tokenizerWeightBytes: bytes,
                                          drafter: VARModel(config: plan.drafter.config, randomSeed: 1, precision: plan.drafter.precision),
                                          refiner: VARModel(config: plan.refiner.config, randomSeed: 2, precision: plan.refiner.precision))
        }
    }

    func run(_ context: CLIContext) throws {
        runtime.apply(context.console, weightsOf: sgemm ? nil : models)
        if sgemm { return runSGEMM(context) }
        let loadClock = Date()
        let loaded = try load()
        let loadSeconds = Date().timeIntervalSince(loadClock)
        var results: [BenchResult] = []
        func result(_ pi: Int, _ made: Made, _ batch: Int, _ samples: [BenchSample]) -> BenchResult {
            BenchResult(pipeline: pipelines[pi], batch: batch, samples: samples,
                        patchSizes: made.engine.config.patchSizes, memory: made.accountant.report)
        }
        if interleave {
            // Rounds of one call per configuration: every configuration's engine (and buffers) lives throughout.
            for batch in batches {
                let made = try pipelines.indices.map { try makeEngine($0, loaded) }
                var samples = [[BenchSample]](repeating: [], count: made.count)
                for r in 0..<(warmup + repeats) {
                    for pi in made.indices {
                        let sample = try timedCall(made[pi].engine, pi, batch: batch)
                        if r >= warmup { samples[pi].append(sample) }
                    }
                }
                results += made.indices.map { result($0, made[$0], batch, samples[$0]) }
            }
        } else {
            for pi in pipelines.indices {
                let made = try makeEngine(pi, loaded)
                for batch in batches {
                    made.accountant.resetPeaks()
                    var samples: [BenchSample] = []
                    for r in 0..<(warmup + repeats) {
                        let sample = try timedCall(made.engine, pi, batch: batch)
                        if r >= warmup { samples.append(sample) }
                    }
                    results.append(result(pi, made, batch, samples))
                }
            }
        }
        var env = BenchEnvironment.current(context, loadSeconds: loadSeconds, random: random != nil,
                                           parallelism: runtime.parallelism,
                                           weights: loaded.models.drafter.weightPrecision,
                                           refinerWeights: loaded.models.refiner?.weightPrecision)
        env.mappedBytes = loaded.models.drafter.mappedWeightBytes
            + (loaded.models.refiner.map { $0 === loaded.models.drafter ? 0 : $0.mappedWeightBytes } ?? 0)
        let report = BenchReport(environment: env, peakRSS: ProcessMemory.current()?.peakResidentBytes ?? 0,
                                 repeats: repeats, warmup: warmup, settings: settings, results: results,
                                 paired: interleave, profile: profile)
        context.console.out(try report.render(format))
    }

    /// One configuration's pipeline over the loaded models, with its own accountant.
    struct Made {
        var engine: GenerationPipeline
        var accountant: MemoryAccountant { engine.accountant }
    }

    func makeEngine(_ pi: Int, _ loaded: GenerationPipeline) throws -> Made {
        Made(engine: try loaded.reconfigured(pipelines[pi]))
    }

    /// One generate + decode call of `batch` images (classes 0, 1, …), timed and split.
    func timedCall(_ engine: GenerationPipeline, _ pi: Int, batch: Int) throws -> BenchSample {
        let n = engine.config.numClasses
        let labels = (0..<batch).map { $0 % n }
        let seeds = settings[pi].seeds(count: batch)
        var sample = BenchSample()
        if profile { engine.workspace.profile = OpProfile() }
        var seen = OpProfile()
        let t0 = DispatchTime.now().uptimeNanoseconds
        let out = try engine.generateBatch(labels: labels, seeds: seeds, sampling: settings[pi]) { p in
            sample.record(p)
            if let now = engine.workspace.profile {
                sample.record(now - seen, role: ModelRole(p.stage))
                seen = now
            }
            return true
        }
        engine.workspace.profile = nil
        sample.total = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        sample.decode = out.decodeSeconds
        precondition(out.images.count == batch)     // keeps the result alive
        return sample
    }
}
