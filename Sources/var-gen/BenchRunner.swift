import Foundation
import VARKit

/// Loading the models (once per `--weights` value), timing each configuration's calls (plain or interleaved)
/// with progress on stderr, handing the rows to `BenchReport`.
extension BenchCommand {
    /// The configurations that share one `--weights` value, in order (one load each).
    var weightGroups: [[Int]] {
        var groups: [[Int]] = []
        for (i, point) in points.enumerated() {
            if let g = groups.firstIndex(where: { points[$0[0]].weights == point.weights }) { groups[g].append(i) }
            else { groups.append([i]) }
        }
        return groups
    }

    /// The models of a group, built (or loaded) once through its first CoDe configuration (else its first one)
    /// and shared by the group's configurations (`GenerationPipeline.reconfigured`).
    func load(_ group: [Int], progress: ProgressPrinter) throws -> GenerationPipeline {
        let first = group.map { pipelines[$0] }.first { if case .collaborative = $0.models { true } else { false } }
            ?? pipelines[group[0]]
        guard random != nil else { return try GenerationPipeline(first) { progress.message("loading \($0)") } }
        progress.message("building random weights of \(first.modelDescription)")
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
        let progress = ProgressPrinter(console: context.console, quiet: runtime.quiet)
        var loadSeconds = 0.0, mapped = 0
        func loadGroup(_ group: [Int]) throws -> GenerationPipeline {
            let clock = Date()
            let loaded = try load(group, progress: progress)
            loadSeconds += Date().timeIntervalSince(clock)
            mapped = max(mapped, loaded.models.drafter.mappedWeightBytes
                + (loaded.models.refiner.map { $0 === loaded.models.drafter ? 0 : $0.mappedWeightBytes } ?? 0))
            return loaded
        }
        var results: [BenchResult] = []
        let calls = warmup + repeats
        var counter = CallCounter(total: points.count * batches.count * calls)
        func call(_ engine: GenerationPipeline, _ pi: Int, batch: Int, round r: Int) throws -> BenchSample {
            counter.done += 1
            progress.line("configuration \(pi + 1)/\(points.count)" + sweepDescription(pi) + ", batch \(batch): "
                          + (r < warmup ? "warm-up \(r + 1)/\(warmup)" : "timed call \(r - warmup + 1)/\(repeats)")
                          + ", call \(counter.done) of \(counter.total), \(progress.elapsed)", final: counter.done == counter.total)
            return try timedCall(engine, pi, batch: batch)
        }
        func result(_ pi: Int, _ engine: GenerationPipeline, _ batch: Int, _ samples: [BenchSample]) -> BenchResult {
            var r = BenchResult(pipeline: pipelines[pi], batch: batch, samples: samples,
                                patchSizes: engine.config.patchSizes, memory: engine.accountant.report)
            r.configuration = pi
            r.key = points[pi].key
            r.drafterAlone = points[pi].draftSteps == 0
            r.threads = samples.first?.threads ?? engine.parallelism.workers
            return r
        }
        if interleave {
            // Rounds of one call per configuration: every configuration's engine (and buffers) lives throughout.
            var loaded: [Int: GenerationPipeline] = [:]
            for group in weightGroups {
                let models = try loadGroup(group)
                for i in group { loaded[i] = models }
            }
            for batch in batches {
                let made = try points.indices.map { try loaded[$0]!.reconfigured(pipelines[$0]) }
                var samples = [[BenchSample]](repeating: [], count: made.count)
                for r in 0..<calls {
                    for pi in made.indices {
                        let sample = try call(made[pi], pi, batch: batch, round: r)
                        if r >= warmup { samples[pi].append(sample) }
                    }
                }
                results += made.indices.map { result($0, made[$0], batch, samples[$0]) }
            }
        } else {
            for group in weightGroups {
                let loaded = try loadGroup(group)
                for pi in group {
                    let engine = try loaded.reconfigured(pipelines[pi])
                    for batch in batches {
                        engine.accountant.resetPeaks()
                        var samples: [BenchSample] = []
                        for r in 0..<calls {
                            let sample = try call(engine, pi, batch: batch, round: r)
                            if r >= warmup { samples.append(sample) }
                        }
                        results.append(result(pi, engine, batch, samples))
                    }
                }
            }
        }
        progress.finish()
        // Fields that vary between configurations are left to the rows.
        let weights = Set(results.map { $0.weights.drafter }), refiners = Set(results.compactMap { $0.weights.refiner })
        var env = BenchEnvironment.current(context, loadSeconds: loadSeconds, random: random != nil,
                                           parallelism: runtime.parallelism,
                                           weights: weights.count == 1 ? weights.first : nil,
                                           refinerWeights: refiners.count == 1 ? refiners.first : nil)
        let threads = Set(results.map(\.threads))
        env.blasThreads = threads.count == 1 ? threads.first! : nil
        env.mappedBytes = mapped
        let report = BenchReport(environment: env, peakRSS: ProcessMemory.current()?.peakResidentBytes ?? 0,
                                 repeats: repeats, warmup: warmup, results: results,
                                 paired: interleave, profile: profile)
        context.console.out(try report.render(format))
    }

    /// How many timed and untimed calls the sweep makes, and how many are done (progress).
    struct CallCounter { var total: Int; var done = 0 }

    /// " (weights f16, cfg 4)": the values of the swept lists of configuration `pi` (empty without a sweep).
    func sweepDescription(_ pi: Int) -> String {
        let point = points[pi]
        var parts: [String] = []
        if sweep.weights.count > 1 { parts.append("weights \(point.weights.text)") }
        if sweep.draftSteps.count > 1 { parts.append("draft steps " + (point.draftSteps.map { $0 == 0 ? "off" : String($0) } ?? "default")) }
        if sweep.threads.count > 1 { parts.append("threads \(point.threads.map(String.init) ?? "all")") }
        for (flag, list, value) in [("cfg", sweep.cfg, point.cfg), ("top-k", sweep.topK, point.topK), ("top-p", sweep.topP, point.topP),
                                    ("temp", sweep.temp, point.temp)] where list.count > 1 {
            parts.append("\(flag) \(value?.replacingOccurrences(of: ",", with: "/") ?? "default")")
        }
        return parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")"
    }

    /// One generate + decode call of `batch` images (classes 0, 1, …), timed and split, with the
    /// configuration's threads.
    func timedCall(_ engine: GenerationPipeline, _ pi: Int, batch: Int) throws -> BenchSample {
        // The pipeline was built from configuration pi, so its kernels run with that configuration's threads.
        let n = engine.config.numClasses
        let labels = (0..<batch).map { $0 % n }
        let seeds = settings[pi].seeds(count: batch)
        var sample = BenchSample()
        sample.threads = engine.parallelism.workers
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
