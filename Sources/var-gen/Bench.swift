import Foundation
import VARKit

/// `var-gen bench`: seconds per image of generate + decode, with warm-up and repeats (performance.md §5),
/// split into transformer time per model and per scale, sampling and VQVAE decode; sweeps over batch sizes
/// and CoDe splits in one call; real checkpoints, the shipped models, or random weights of official shapes.
struct BenchCommand: Command {
    static let name = "bench"
    static let summary = "Time generation: warm-up, repeats, medians and spread, time split; Markdown or --json."
    static let usage = "[--random d16 | --random d30,d16] [--batch 1,8] [--draft-steps 8,6] [-r R] [--warmup W] "
        + "[model and sampling options]"
    static let options: [OptionSpec] = ModelOptions.specs.filter { $0.name != "draft-steps" } + benchSpecs
        + SamplingOptions.specs + RuntimeOptions.specs
    static let benchSpecs: [OptionSpec] = [
        .value("draft-steps", "N[,N…]", "Scales made by the drafter (CoDe); a list sweeps several splits; "
               + "`off` runs the drafter alone, the baseline of the CoDe speed-up table.",
               default: "the drafter JSON's draft_steps"),
        .value("random", "dA[,dB]", "Random weights of official shapes, no files: one VAR depth (plain) or "
               + "drafter,refiner (CoDe), with a random official VQVAE."),
        .value("batch", "N[,N…]", "Images per timed call; a list sweeps several batch sizes.", default: "1"),
        .value("repeats", "R", "Timed calls per configuration.", default: "3", short: "r"),
        .value("warmup", "W", "Untimed calls first, per configuration.", default: "1"),
        .flag("interleave", "Alternate the configurations call by call (all warm-ups, then rounds of one timed "
              + "call each) so that drift on a shared machine hits them alike; holds every configuration's buffers "
              + "at once."),
        .flag("json", "Print one JSON record instead of Markdown tables."),
        .flag("profile", "Also time each kind of transformer operation (linear layers, attention, norms…)."),
        .flag("sgemm", "Measure the sgemm peak instead (2048×1024 · 1024×4096, float32) in GFLOP/s."),
    ]

    var models: ModelOptions
    var sampling: SamplingOptions
    var runtime: RuntimeOptions
    var batches: [Int]
    /// `--draft-steps` values; nil = the default split, 0 = `off` (the drafter alone).
    var draftSteps: [Int?]
    var random: [Int]?
    var repeats: Int, warmup: Int
    var json: Bool
    var sgemm: Bool
    var profile: Bool
    var interleave: Bool
    /// One pipeline per `--draft-steps` value (one plain pipeline without CoDe).
    var pipelines: [PipelineConfiguration] = []
    var settings: [SamplingConfig] = []

    init(_ p: ParsedOptions, context: CLIContext) throws {
        let steps = try Self.parseDraftSteps(p.string("draft-steps"))
        var single = p
        single.values["draft-steps"] = steps?.first { $0 > 0 }.map(String.init)   // `off` alone: no CoDe split
        models = try ModelOptions(single)
        sampling = try SamplingOptions(p)
        runtime = try RuntimeOptions(p)
        batches = try p.ints("batch") ?? [1]
        repeats = try p.int("repeats") ?? 3
        warmup = try p.int("warmup") ?? 1
        json = p.flag("json")
        sgemm = p.flag("sgemm")
        profile = p.flag("profile")
        interleave = p.flag("interleave")
        if let bad = batches.first(where: { $0 < 1 }) {
            throw UsageError.invalid("batch", String(bad), expected: "batch sizes ≥ 1 (e.g. 1,8)")
        }
        guard repeats > 0 else { throw UsageError.invalid("repeats", String(repeats), expected: "a count ≥ 1") }
        guard warmup >= 0 else { throw UsageError.invalid("warmup", String(warmup), expected: "a count ≥ 0") }
        if let s = p.string("random") {
            random = try Self.parseRandom(s)
            for flag in ["model", "drafter", "refiner", "vae", "mmap"] where p.has(flag) {
                throw UsageError("--random cannot be combined with --\(flag) (random weights need no files)")
            }
            if random!.count == 1 && steps != nil && steps != [0] {
                throw UsageError("--draft-steps needs a drafter and a refiner: use --random dA,dB (e.g. --random d30,d16)")
            }
        }
        draftSteps = steps ?? [nil]
        if steps?.contains(0) == true && p.has("model") {
            throw UsageError("--draft-steps off (the drafter alone) needs --drafter, not --model")
        }
    }

    /// "8,6" → [8, 6]; "off,8" → [0, 8] (0: the drafter alone).
    static func parseDraftSteps(_ text: String?) throws -> [Int]? {
        guard let text else { return nil }
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmed.lowercased() }
        let values = items.map { $0 == "off" ? 0 : Int($0).flatMap { $0 > 0 ? $0 : nil } }
        guard !items.isEmpty, values.allSatisfy({ $0 != nil }) else {
            throw UsageError.invalid("draft-steps", text, expected: "scale counts ≥ 1 or off, comma-separated (e.g. off,8,6)")
        }
        return values.map { $0! }
    }

    /// "d16" → [16]; "d30,d16" → [30, 16] (drafter, refiner).
    static func parseRandom(_ s: String) throws -> [Int] {
        let items = s.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmed.lowercased() }
        let depths = items.map { $0.hasPrefix("d") ? Int($0.dropFirst()) : nil }
        guard (1...2).contains(items.count), depths.allSatisfy({ $0 != nil && (1...64).contains($0!) }) else {
            throw UsageError.invalid("random", s, expected: "one or two official depths such as d16 or d30,d16")
        }
        return depths.map { $0! }
    }

    mutating func validate(_ context: CLIContext) throws {
        pipelines = []
        if sgemm { return }
        for n in draftSteps {
            if let random {
                let depths = n == 0 ? [random[0]] : random
                pipelines.append(try Self.randomPipeline(depths, draftSteps: n, precision: models.precision,
                                                          refinerPrecision: models.refinerPrecision))
            } else {
                var m = models
                m.draftSteps = n == 0 ? nil : n
                if n == 0 { m.refiner = nil }
                pipelines.append(try m.resolve(context))
            }
        }
        settings = try pipelines.map { try sampling.resolve(for: $0) }
        for i in pipelines.indices {
            pipelines[i].sampling = settings[i]
            pipelines[i].threads = runtime.threads
        }
    }

    /// Pipelines over official configurations; paths are labels ("random-d30"), never opened.
    static func randomPipeline(_ depths: [Int], draftSteps: Int?, precision: WeightPrecision = .float32,
                               refinerPrecision: WeightPrecision? = nil) throws -> PipelineConfiguration {
        func file(_ d: Int, plainDefaults: Bool, _ precision: WeightPrecision) -> ModelSource {
            var c = VARConfig.official(depth: d)
            if !plainDefaults { c.sampling = nil }    // CoDe: the official CoDe settings (top-k 600, temperatures)
            return ModelSource(path: "random-d\(d)", config: c, precision: precision)
        }
        if depths.count == 1 {
            return try PipelineConfiguration(models: .plain(file(depths[0], plainDefaults: true, precision)), tokenizer: "random")
        }
        let d = file(depths[0], plainDefaults: false, precision)
        let r = file(depths[1], plainDefaults: false, refinerPrecision ?? precision)
        let plan = try ModelOptions.plan(drafter: d, refiner: r, draftSteps: draftSteps, pairFlag: "--random")
        return try PipelineConfiguration(models: .collaborative(plan), tokenizer: "random")
    }

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
                                           weights: loaded.models.drafter.weightPrecision,
                                           refinerWeights: loaded.models.refiner?.weightPrecision)
        env.mappedBytes = loaded.models.drafter.mappedWeightBytes
            + (loaded.models.refiner.map { $0 === loaded.models.drafter ? 0 : $0.mappedWeightBytes } ?? 0)
        let peakRSS = ProcessMemory.current()?.peakResidentBytes ?? 0
        if json {
            let record: [String: Any] = [
                "environment": env.json, "peak_rss_bytes": peakRSS, "repeats": repeats, "warmup": warmup,
                "sampling": settings.map(describe), "runs": results.map(\.json),
            ]
            let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
            context.console.out(String(decoding: data, as: UTF8.self) + "\n")
        } else {
            context.console.out(env.markdown + "- sampling: \(settings.map(describe).joined(separator: "; "))\n"
                                + "- \(warmup) warm-up + \(repeats) timed calls per row; medians over the timed calls; "
                                + "spread = min–max of s/image\n- process peak RSS (whole run): \(ByteSize.format(peakRSS))\n\n")
            context.console.out(BenchResult.summaryTable(results) + "\n" + BenchResult.scaleTable(results))
            let speedUps = BenchResult.speedUpTable(results, paired: interleave)
            if !speedUps.isEmpty { context.console.out("\n" + speedUps) }
            if profile { context.console.out("\n" + BenchResult.profileTable(results)) }
        }
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

extension BenchCommand {
    /// The float32 arithmetic ceiling: sgemm of the shape of a large linear layer, medians of `repeats`.
    func runSGEMM(_ context: CLIContext) {
        let m = 2048, k = 1024, n = 4096
        var a = [Float](repeating: 0, count: m * k), b = [Float](repeating: 0, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        for i in a.indices { a[i] = Float(i % 7) * 0.25 - 0.75 }
        for i in b.indices { b[i] = Float(i % 5) * 0.25 - 0.5 }
        var rates: [Double] = []
        for r in 0..<(warmup + repeats) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n)
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            if r >= warmup { rates.append(2 * Double(m * n * k) / dt / 1e9) }
        }
        let env = BenchEnvironment.current(context, loadSeconds: 0, random: false)
        if json {
            let record: [String: Any] = ["environment": env.json, "sgemm_shape": [m, k, n],
                                         "gflops_median": median(rates), "gflops_min": rates.min() ?? 0,
                                         "gflops_max": rates.max() ?? 0]
            if let data = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) {
                context.console.out(String(decoding: data, as: UTF8.self) + "\n")
            }
        } else {
            context.console.out(env.markdown + "\n| sgemm (m×k · k×n) | GFLOP/s median | min–max |\n| --- | --- | --- |\n"
                                + String(format: "| %d×%d · %d×%d | %.1f | %.1f–%.1f |\n", m, k, k, n, median(rates),
                                         rates.min() ?? 0, rates.max() ?? 0))
        }
    }
}

/// The timings of one call (seconds, whole batch).
struct BenchSample {
    var total = 0.0, decode = 0.0, sampling = 0.0
    /// Transformer seconds by model role ("drafter", "refiner", or "model" for plain VAR).
    var transformer: [ModelRole: Double] = [:]
    /// Per scale: (role, transformer seconds, sampling seconds).
    var scales: [(role: ModelRole, transformer: Double, sampling: Double)] = []

    /// Operation times by model role (with `--profile`).
    var profile: [ModelRole: OpProfile] = [:]

    mutating func record(_ ops: OpProfile, role: ModelRole) {
        profile[role] = (profile[role] ?? OpProfile()) + ops
    }

    mutating func record(_ p: GenerationProgress) {
        let role = ModelRole(p.stage)
        transformer[role, default: 0] += p.transformerSeconds
        sampling += p.samplingSeconds
        scales.append((role, p.transformerSeconds, p.samplingSeconds))
    }
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    guard !s.isEmpty else { return 0 }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// One row of the sweep: a pipeline (models, CoDe split) at one batch size.
struct BenchResult {
    var pipeline: PipelineConfiguration
    var batch: Int
    var samples: [BenchSample]
    var patchSizes: [Int]
    var memory: MemoryAccountant.Report

    var accountedPeak: Int { memory.total.peak }
    /// Peak KV cache plus peak activations (each category's own peak), bytes.
    var kvActivationPeak: Int { memory[.kvCache].peak + memory[.activations].peak }

    var roles: [ModelRole] {
        if case .collaborative = pipeline.models { return [.drafter, .refiner] }
        return [.model]
    }
    var perImage: [Double] { samples.map { $0.total / Double(batch) } }
    var secondsPerImage: Double { median(perImage) }
    var imagesPerSecond: Double { median(samples.map { Double(batch) / $0.total }) }
    var sd: Double {
        let xs = perImage, m = xs.reduce(0, +) / Double(xs.count)
        return (xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(max(1, xs.count - 1))).squareRoot()
    }
    func transformer(_ role: ModelRole) -> Double { median(samples.map { ($0.transformer[role] ?? 0) / Double(batch) }) }
    var sampling: Double { median(samples.map { $0.sampling / Double(batch) }) }
    var decode: Double { median(samples.map { $0.decode / Double(batch) }) }
    /// Per scale, medians over the repeats of the whole call's seconds.
    var scaleRows: [(scale: Int, role: ModelRole, transformer: Double, sampling: Double)] {
        guard let first = samples.first else { return [] }
        return first.scales.indices.map { i in
            (i, first.scales[i].role, median(samples.map { $0.scales[i].transformer }),
             median(samples.map { $0.scales[i].sampling }))
        }
    }
    var label: String {
        pipeline.modelDescription + (pipeline.draftSteps.map { " N=\($0)" } ?? "")
    }

    var json: [String: Any] {
        var t: [String: Any] = [:]
        for r in roles { t[r.description] = transformer(r) }
        return [
            "models": pipeline.modelDescription, "draft_steps": pipeline.draftSteps ?? NSNull(), "batch": batch,
            "seconds_per_image_median": secondsPerImage, "seconds_per_image_sd": sd,
            "seconds_per_image_min": perImage.min() ?? 0, "seconds_per_image_max": perImage.max() ?? 0,
            "images_per_second_median": imagesPerSecond,
            "transformer_seconds_per_image": t, "sampling_seconds_per_image": sampling,
            "decode_seconds_per_image": decode, "accounted_peak_bytes": accountedPeak,
            "kv_cache_peak_bytes": memory[.kvCache].peak, "activations_peak_bytes": memory[.activations].peak,
            "scales": scaleRows.map { ["scale": $0.scale, "pn": patchSizes[$0.scale], "model": $0.role.description,
                                        "transformer_seconds_per_call": $0.transformer,
                                        "sampling_seconds_per_call": $0.sampling] as [String: Any] },
        ]
    }

    static func summaryTable(_ rs: [BenchResult]) -> String {
        var s = "| models | batch | s/image (median) | spread (min–max, sd) | images/s | transformer s/image | "
            + "sampling s/image | decode s/image | peak accounted |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        for r in rs {
            let tr = r.roles.map { role in
                String(format: "%.3f", r.transformer(role)) + (role == .model ? "" : " (\(role))")
            }.joined(separator: " + ")
            s += String(format: "| %@ | %d | %.3f | %.3f–%.3f, %.3f | %.3f | %@ | %.3f | %.3f | %@ |\n",
                        r.label, r.batch, r.secondsPerImage, r.perImage.min() ?? 0, r.perImage.max() ?? 0, r.sd,
                        r.imagesPerSecond, tr, r.sampling, r.decode, ByteSize.format(r.accountedPeak))
        }
        return s
    }

    /// Median seconds per image of `op` for `role`, and the FLOP rate.
    func profile(_ role: ModelRole, _ op: OpProfile.Op) -> (seconds: Double, gflops: Double) {
        let secs = samples.map { ($0.profile[role]?[op] ?? 0) / Double(batch) }
        let flops = (samples.first?.profile[role]?.flops(op) ?? 0) / Double(batch)
        let s = median(secs)
        return (s, s > 0 ? flops / s / 1e9 : 0)
    }

    static func profileTable(_ rs: [BenchResult]) -> String {
        var s = "Transformer time by operation (seconds per image, medians; GFLOP/s where the operation is a product):\n\n"
            + "| models | batch | model | operation | s/image | share | GFLOP/s |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        for r in rs {
            for role in r.roles where r.samples.contains(where: { $0.profile[role] != nil }) {
                let rows = OpProfile.Op.allCases.map { ($0, r.profile(role, $0)) }
                let total = rows.reduce(0) { $0 + $1.1.seconds }
                for (op, v) in rows where v.seconds > 0 {
                    s += String(format: "| %@ | %d | %@ | %@ | %.4f | %.1f %% | %@ |\n", r.label, r.batch, role.description, op.name,
                                v.seconds, 100 * v.seconds / max(total, 1e-12),
                                v.gflops > 0 ? String(format: "%.1f", v.gflops) : "")
                }
                s += String(format: "| %@ | %d | %@ | **all operations** | %.4f | 100 %% | |\n", r.label, r.batch, role.description, total)
            }
        }
        return s
    }

    /// For every CoDe row whose drafter also ran alone (`--draft-steps off`) at the same batch size: the
    /// drafter alone's seconds over CoDe's. With `--interleave` the calls pair up by round and the speed-up is
    /// the median of the per-round ratios (drift cancels); otherwise the ratio of the medians.
    static func speedUpTable(_ rs: [BenchResult], paired: Bool) -> String {
        var s = "CoDe speed-up over the drafter alone (its seconds per image ÷ CoDe's):\n\n"
            + "| models | batch | drafter alone | transformer | transformer + sampling + decode | pairing "
            + "| KV cache + activations peak |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        var any = false
        for r in rs {
            guard case let .collaborative(plan) = r.pipeline.models,
                  let base = rs.first(where: { b in
                      if case let .plain(m) = b.pipeline.models { m.name == plan.drafter.name && b.batch == r.batch } else { false }
                  }) else { continue }
            any = true
            func ratio(_ f: (BenchSample) -> Double) -> Double {
                if paired && base.samples.count == r.samples.count { return median(zip(base.samples, r.samples).map { f($0) / max(f($1), 1e-12) }) }
                return median(base.samples.map(f)) / max(median(r.samples.map(f)), 1e-12)
            }
            let transformer = ratio { $0.transformer.values.reduce(0, +) }
            let total = ratio(\.total)
            let memory = String(format: "%.2fx (%@ vs %@)", Double(r.kvActivationPeak) / Double(max(base.kvActivationPeak, 1)),
                                ByteSize.format(r.kvActivationPeak), ByteSize.format(base.kvActivationPeak))
            s += String(format: "| %@ | %d | %@ | %.2fx | %.2fx | %@ | %@ |\n", r.label, r.batch, base.label, transformer,
                        total, paired ? "median of \(r.samples.count) paired calls" : "ratio of medians", memory)
        }
        return any ? s : ""
    }

    static func scaleTable(_ rs: [BenchResult]) -> String {
        var s = "Per scale (seconds per call of the whole batch, medians):\n\n"
            + "| models | batch | scale | pn | model | transformer s | sampling s |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        for r in rs {
            for row in r.scaleRows {
                s += String(format: "| %@ | %d | %d | %d | %@ | %.4f | %.4f |\n", r.label, r.batch, row.scale + 1,
                            r.patchSizes[row.scale], row.role.description, row.transformer, row.sampling)
            }
        }
        return s
    }
}

/// What a benchmark ran on: commit, CPU, BLAS core and threads.
struct BenchEnvironment {
    var commit: String
    var cpu: String
    var blasCore: String
    var blasThreads: Int
    var workers: Int
    var loadSeconds: Double
    var random: Bool
    /// How the transformers' linear weights were held (nil for `--sgemm`).
    var weights: WeightPrecision?
    /// The refiner's, when a refiner was loaded.
    var refinerWeights: WeightPrecision?
    /// Bytes of float32 matrices used in place from the checkpoints' memory maps.
    var mappedBytes = 0

    static func current(_ context: CLIContext, loadSeconds: Double, random: Bool,
                        weights: WeightPrecision? = nil, refinerWeights: WeightPrecision? = nil) -> BenchEnvironment {
        BenchEnvironment(commit: gitCommit(near: context.executablePath), cpu: cpuModel(), blasCore: BLAS.coreName,
                         blasThreads: BLAS.threadCount, workers: Parallel.workerCount, loadSeconds: loadSeconds,
                         random: random, weights: weights, refinerWeights: refinerWeights)
    }

    /// `git describe --always --dirty` of the checkout holding the executable, else "unknown".
    static func gitCommit(near executable: String) -> String {
        let dir = URL(fileURLWithPath: executable).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: dir), FileManager.default.isExecutableFile(atPath: "/usr/bin/git")
        else { return "unknown" }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = ["-C", dir, "describe", "--always", "--dirty"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return "unknown" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let s = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return p.terminationStatus == 0 && !s.isEmpty ? s : "unknown"
    }

    /// The "model name" line of /proc/cpuinfo, else "unknown".
    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") { return line[line.index(after: colon)...].trimmed }
        }
        return "unknown"
    }

    var json: [String: Any] {
        ["commit": commit, "cpu": cpu, "blas_core": blasCore, "blas_threads": blasThreads, "workers": workers,
         "load_seconds": loadSeconds, "random_weights": random, "weight_precision": weights?.rawValue ?? NSNull(),
         "refiner_weight_precision": refinerWeights?.rawValue ?? NSNull(), "mapped_weight_bytes": mappedBytes]
    }

    var markdown: String {
        "- commit \(commit); CPU \(cpu); OpenBLAS core \(blasCore), \(blasThreads) BLAS threads, \(workers) workers\n"
            + String(format: "- weights: %@; load %.1f s%@\n", random ? "random, official shapes" : "files", loadSeconds,
                     mappedBytes > 0 ? "; \(ByteSize.format(mappedBytes)) of float32 matrices used in place from the file" : "")
            + (weights.map { w in
                guard let r = refinerWeights, r != w else { return "- transformer weights: \(w.kernelDescription)\n" }
                return "- transformer weights: drafter \(w.kernelDescription); refiner \(r.kernelDescription)\n"
            } ?? "")
    }
}
