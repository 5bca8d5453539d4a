import Foundation
import VARKit

/// `var-gen sample`: many images per class for FID-style evaluation, as files `DIR/{class}_{k}.png`.
///
/// Image k of class c always uses seed `f(base, c, k) = (base + c·1_000_003 + k) mod 2³²` — it depends on
/// nothing else (not on batch size, shard, order, or which images already exist), so shards and resumed runs
/// produce exactly the images of one uninterrupted run. Sharding `i/n` takes every n-th (class, k) pair in
/// class-major order. Existing valid PNGs are skipped (atomic writes guarantee no partial file survives).
struct SampleCommand: Command {
    static let name = "sample"
    static let summary = "Sample N images per class into DIR/{class}_{k}.png (resumable, shardable)."
    static let usage = "--output DIR [--per-class N] [--class all|0-9|list] [--shard i/n] [options]"
    static let options: [OptionSpec] = ModelOptions.specs
        + SamplingOptions.specs(seedHelp: "Base seed; image k of class c uses (seed + c·1000003 + k) mod 2³².") + [
        .value("output", "DIR", "Directory for the PNGs (created if missing)."),
        .value("per-class", "N", "Images per class.", default: "50", short: "n"),
        .value("class", "LIST", "Classes: 'all', a range a-b, ids or names, comma-separated (as in generate).",
               default: "all", aliases: ["classes"]),
        .value("shard", "i/n", "Only every n-th (class, k) pair, starting at pair i (0 ≤ i < n)."),
        .value("batch", "N", "Images generated together.", default: "8"),
    ] + RuntimeOptions.specs

    /// The per-image seed (see the type's documentation).
    static func seed(base: UInt64, classID c: Int, index k: Int) -> UInt64 {
        (base &+ UInt64(c) &* 1_000_003 &+ UInt64(k)) & 0xFFFF_FFFF
    }

    /// The (class, k) pairs of shard `shard` of `shardCount`, class-major.
    static func pairs(classes: [Int], perClass: Int, shard: Int, of shardCount: Int) -> [(classID: Int, index: Int)] {
        var out: [(Int, Int)] = []
        var j = 0
        for c in classes {
            for k in 0..<perClass {
                if j % shardCount == shard { out.append((c, k)) }
                j += 1
            }
        }
        return out
    }

    static func fileName(classID c: Int, index k: Int) -> String { "\(c)_\(k).png" }

    var models: ModelOptions
    var sampling: SamplingOptions
    var runtime: RuntimeOptions
    var output: String
    var perClass: Int
    var classText: String
    var shard = 0, shardCount = 1
    var batch: Int

    var pipeline: PipelineConfiguration!
    var settings = SamplingConfig()
    var classes: [Int] = []

    init(_ p: ParsedOptions, context: CLIContext) throws {
        guard p.positionals.isEmpty else { throw UsageError("unexpected argument '\(p.positionals[0])' (see --help)") }
        models = try ModelOptions(p)
        sampling = try SamplingOptions(p)
        runtime = try RuntimeOptions(p)
        guard let out = p.string("output") else { throw UsageError("--output DIR is required") }
        output = out
        perClass = try p.int("per-class") ?? 50
        guard perClass > 0 else { throw UsageError.invalid("per-class", String(perClass), expected: "a count ≥ 1") }
        classText = p.string("class") ?? "all"
        batch = try p.int("batch") ?? 8
        guard batch > 0 else { throw UsageError.invalid("batch", String(batch), expected: "a batch size ≥ 1") }
        if let s = p.string("shard") {
            let parts = s.split(separator: "/")
            guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (0..<n).contains(i) else {
                throw UsageError.invalid("shard", s, expected: "i/n with n ≥ 1 and 0 ≤ i < n, e.g. 0/4")
            }
            shard = i; shardCount = n
        }
    }

    mutating func validate(_ context: CLIContext) throws {
        pipeline = try models.resolve(context)
        settings = try sampling.resolve(for: pipeline)
        pipeline.sampling = settings
        pipeline.threads = runtime.threads
        classes = try ClassList.parse(classText, flag: "class", config: pipeline.primary.config)
        for note in models.notices(for: pipeline) { context.console.err("var-gen: note: \(note)\n") }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDir) {
            guard isDir.boolValue else { throw UsageError("--output: '\(output)' exists and is not a directory") }
            try requireWritableDirectory(output, flag: "output")
        } else {
            try requireWritableDirectory(for: output, flag: "output")
        }
    }

    func run(_ context: CLIContext) throws {
        let console = context.console
        runtime.apply(console, weightsOf: models)
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let all = Self.pairs(classes: classes, perClass: perClass, shard: shard, of: shardCount)
        let pending = all.filter { !PNG.isValidFile(output + "/" + Self.fileName(classID: $0.classID, index: $0.index)) }
        let progress = ProgressPrinter(console: console, pipeline: pipeline, quiet: runtime.quiet)
        progress.message("\(all.count) images in this shard, \(all.count - pending.count) already present, \(pending.count) to generate")
        guard !pending.isEmpty else { return }
        let engine = try GenerationPipeline(pipeline) { progress.message("loading \($0)") }
        guard let b = engine.batchSize(upTo: batch, budget: runtime.memoryBudget) else {
            throw CLIFailure("--memory-budget is too small for one image\nHINT: raise the budget")
        }
        let start = Date()
        var done = 0
        for lo in stride(from: 0, to: pending.count, by: b) {
            let chunk = pending[lo..<min(pending.count, lo + b)]
            let labels = chunk.map(\.classID)
            let seeds = chunk.map { Self.seed(base: settings.seed, classID: $0.classID, index: $0.index) }
            let images = try engine.generateBatch(labels: labels, seeds: seeds, sampling: settings).images
            for (pair, (image, seed)) in zip(chunk, zip(images, seeds)) {
                let path = output + "/" + Self.fileName(classID: pair.classID, index: pair.index)
                let meta = "class=\(pair.classID) seed=\(seed) \(describe(settings)) model=\(pipeline.modelDescription)"
                    + (pipeline.draftSteps.map { " draft_steps=\($0)" } ?? "") + " version=\(CLI.version)"
                try PNG.write(image, text: [PNGTextChunk(key: "var-gen", text: meta)], to: path)
            }
            done += chunk.count
            let elapsed = Date().timeIntervalSince(start)
            let rate = Double(done) / max(elapsed, 1e-9)
            let eta = Double(pending.count - done) / max(rate, 1e-9)
            progress.line(String(format: "%d/%d images, %.2f images/s, ETA %@", done, pending.count, rate, formatDuration(eta)),
                          final: done == pending.count)
        }
        progress.finish()
        console.out(output + "\n")
        if runtime.memoryStats { console.err(renderMemoryReport(engine.accountant.report)) }
    }
}

func formatDuration(_ s: Double) -> String {
    guard s.isFinite else { return "?" }
    let t = Int(s.rounded())
    if t >= 3600 { return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) }
    if t >= 60 { return String(format: "%dm%02ds", t / 60, t % 60) }
    return "\(t)s"
}
