import Foundation
import VARKit

/// `var-gen bench`: seconds per image of generate + decode, with warm-up and repeats (docs/performance.md §5),
/// split into transformer time per model and per scale, sampling and VQVAE decode; sweeps (`BenchSweep`) over
/// batch sizes, CoDe splits, weight precisions, threads and sampling values in one call; real checkpoints, the
/// shipped models, or random weights of official shapes.
struct BenchCommand: Command {
    static let name = "bench"
    static let summary = "Time generation: warm-up, repeats, medians and spread, time split; sweeps; md/json/jsonl/csv."
    static let usage = "[--random d16 | --random d30,d16] [-b 1,8] [--draft-steps off,8,6] [--weights f32,f16,q8/f32] "
        + "[-t 1,2] [--cfg 1,4] [--top-k 900,600] [--top-p …] [--temp …] [-r R] [--warmup W] [-o md|json|jsonl|csv]"
    static let options: [OptionSpec] = ModelOptions.specs.filter { $0.name != "draft-steps" && $0.name != "weights" }
        + benchSpecs + sweptSampling + RuntimeOptions.specs.map { spec in
            guard spec.name == "threads" else { return spec }
            return .value("threads", "N[,N…]", "Threads for BLAS and the engine's loops; a list sweeps several counts.",
                          default: "all cores")
        }
    /// The sampling flags, each a sweep (a comma separates configurations, `/` the values of one per-scale setting).
    static let sweptSampling: [OptionSpec] = SamplingOptions.specs.map { spec in
        switch spec.name {
        case "cfg": return .value("cfg", "X[,X…]", "Classifier-free guidance; a list sweeps several.", default: "model JSON, else 4")
        case "top-k": return .value("top-k", "K[,K…]", "Top-k (0 = off); a list sweeps several; one value per scale is "
                                    + "written K/K/…/K.", default: "model JSON, else 900 (CoDe 600)")
        case "top-p": return .value("top-p", "P[,P…]", "Top-p (0 = off); a list sweeps several.", default: "model JSON, else 0.95")
        case "temp": return .value("temp", "T[,T…]", "Temperature; a list sweeps several; one value per scale is written "
                                   + "T/T/…/T.", default: "model JSON, else 1 (CoDe 1.1×7, 1.0…)")
        default: return spec
        }
    }
    static let benchSpecs: [OptionSpec] = [
        .value("draft-steps", "N[,N…]", "Scales made by the drafter (CoDe); a list sweeps several splits; "
               + "`off` runs the drafter alone, the baseline of the CoDe speed-up table.",
               default: "the drafter JSON's draft_steps"),
        .value("weights", "W[,W…]", "Linear-weight precision f32, f16 or q8 (as in generate); a list sweeps several; "
               + "a drafter/refiner pair is written D/R, e.g. q8/f32.", default: "f32"),
        .value("random", "dA[,dB]", "Random weights of official shapes, no files: one VAR depth (plain) or "
               + "drafter,refiner (CoDe), with a random official VQVAE."),
        .value("batch", "N[,N…]", "Images per timed call; a list sweeps several batch sizes.", default: "1"),
        .value("repeats", "R", "Timed calls per configuration.", default: "3", short: "r"),
        .value("warmup", "W", "Untimed calls first, per configuration.", default: "1"),
        .flag("interleave", "Alternate the configurations call by call (all warm-ups, then rounds of one timed "
              + "call each) so that drift on a shared machine hits them alike; holds every configuration's buffers "
              + "at once."),
        .value("output-format", "md|json|jsonl|csv", "Markdown tables; one JSON record; one JSON object per row "
               + "(with the environment); or CSV with a header line (llama-bench's -o).", default: "md", short: "o"),
        .flag("json", "Same as --output-format json."),
        .flag("profile", "Also time each kind of transformer operation (linear layers, attention, norms…)."),
        .flag("sgemm", "Measure the sgemm peak instead (2048×1024 · 1024×4096, float32) in GFLOP/s."),
    ]

    /// The first configuration's options (the others differ only in the swept flags).
    var models: ModelOptions
    var sampling: SamplingOptions
    var runtime: RuntimeOptions
    var batches: [Int]
    var sweep: BenchSweep
    /// The configurations: every combination of the swept lists, and the options of each.
    var points: [BenchSweep.Point]
    var pointOptions: [ParsedOptions]
    /// `--draft-steps` values; nil = the default split, 0 = `off` (the drafter alone).
    var draftSteps: [Int?] { sweep.draftSteps }
    var random: [Int]?
    var repeats: Int, warmup: Int
    var format: BenchOutputFormat
    var sgemm: Bool
    var profile: Bool
    var interleave: Bool
    /// The original options (for the notes about lists that sweep).
    var parsed: ParsedOptions
    /// One pipeline per configuration, with its sampling settings and threads.
    var pipelines: [PipelineConfiguration] = []
    var settings: [SamplingConfig] = []

    init(_ p: ParsedOptions, context: CLIContext) throws {
        parsed = p
        sweep = try BenchSweep(p)
        let seed = try SeedOption.parse(p.string("seed"))?.seed ?? 0
        points = sweep.points
        pointOptions = points.map { BenchSweep.options(p, $0, seed: seed) }
        let steps = try Self.parseDraftSteps(p.string("draft-steps"))
        if p.has("model"), let pair = sweep.weights.first(where: { $0.drafter != $0.refiner }) {
            throw UsageError("--weights \(pair.text): a drafter/refiner pair needs CoDe, not --model; give one precision "
                             + "per value (f32, f16 or q8; a list such as f32,f16 sweeps them)")
        }
        for q in pointOptions.dropFirst() { _ = try ModelOptions(q); _ = try SamplingOptions(q) }
        models = try ModelOptions(pointOptions[0])
        sampling = try SamplingOptions(pointOptions[0])
        runtime = try RuntimeOptions(pointOptions[0])
        batches = try p.ints("batch") ?? [1]
        repeats = try p.int("repeats") ?? 3
        warmup = try p.int("warmup") ?? 1
        format = try BenchOutputFormat(flag: p.string("output-format"), json: p.flag("json"))
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
        settings = []
        if sgemm { return }
        for (point, q) in zip(points, pointOptions) {
            let n = point.draftSteps
            var pipeline: PipelineConfiguration
            if let random {
                let depths = n == 0 ? [random[0]] : random
                pipeline = try Self.randomPipeline(depths, draftSteps: n, precision: point.weights.drafter,
                                                   refinerPrecision: point.weights.refiner)
            } else {
                var m = try ModelOptions(q)
                if n == 0 { m.refiner = nil; m.draftSteps = nil }
                pipeline = try m.resolve(context)
            }
            let s = try SamplingOptions(q).resolve(for: pipeline)
            pipeline.sampling = s
            pipeline.threads = point.threads
            pipelines.append(pipeline)
            settings.append(s)
        }
        let collaborative = pipelines.contains { if case .collaborative = $0.models { true } else { false } }
        if !collaborative, let pair = sweep.weights.first(where: { $0.drafter != $0.refiner }) {
            throw UsageError("--weights \(pair.text): a drafter/refiner pair needs CoDe (--refiner or --draft-steps); "
                             + "give one precision per value")
        }
        for note in sweep.notes(parsed, collaborative: collaborative, scaleCount: pipelines[0].config.scaleCount)
            + models.notices(for: pipelines[0]) {
            context.console.err("var-gen: note: \(note)\n")
        }
        try BatchPlan.requireFits(batches: batches, pipelines: pipelines, random: random != nil, budget: runtime.memoryBudget)
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
}
