import Foundation
import VARKit

/// `var-gen sample`: many images per class for FID-style evaluation, as files `DIR/{class}_{k}.png`.
///
/// Image k of class c always uses seed `f(base, c, k) = (base + c·1_000_003 + k) mod 2³²` — it depends on
/// nothing else (not on batch size, shard, order, or which images already exist), so shards and resumed runs
/// produce exactly the images of one uninterrupted run. Sharding `i/n` takes every n-th (class, k) pair in
/// class-major order. The directory's settings are fixed by `var-gen-sample.json` (`SampleManifest`), written by
/// the first run: a run with other settings is refused, and an existing PNG is kept only when its record matches
/// the manifest (atomic writes guarantee no partial file survives); others are regenerated.
struct SampleCommand: Command {
    static let name = "sample"
    static let summary = "Sample N images per class into DIR/{class}_{k}.png (resumable, shardable)."
    static let usage = "--output DIR [--per-class N] [--class all|0-9|list] [--shard i/n|auto|auto/n] [options]\n"
        + "       var-gen sample --status DIR [the same --per-class, --classes, --shard …/n and model flags]"
    static let options: [OptionSpec] = ModelOptions.specs
        + SamplingOptions.specs(seedHelp: "Base seed; image k of class c uses (seed + c·1000003 + k) mod 2³².") + [
        .value("output", "DIR", "Directory for the PNGs (created if missing)."),
        .value("per-class", "N", "Images per class.", default: "50", short: "n"),
        .value("class", "LIST", "Classes: 'all', a range a-b, ids or names, comma-separated (as in generate).",
               default: "all", aliases: ["classes"]),
        .value("shard", "i/n", "Only every n-th (class, k) pair, starting at pair i (0 ≤ i < n); 'auto' takes i and n from a "
               + "Slurm array or srun task, 'auto/n' takes i from SLURM_ARRAY_TASK_ID, SLURM_PROCID or JOB_COMPLETION_INDEX "
               + "(docs/sampling.md)."),
        .value("status", "DIR", "Generate nothing: report the images present per shard and overall and list the missing "
               + "ones (exit 0 when complete, 3 when not)."),
        .value("batch", "N", "Images generated together.", default: "8"),
        .flag("scales", "Also write DIR/scales/{class}_{k}.scales.png for each image generated: the picture after every "
              + "scale (one VQVAE decode per scale; outside the set that --status and pack read)."),
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

    /// `--status` lists what is missing: at most this many expected images.
    static let maxStatusImages = 10_000_000

    var models: ModelOptions
    var sampling: SamplingOptions
    var runtime: RuntimeOptions
    var output: String
    var perClass: Int
    var classText: String
    var shard = 0, shardCount = 1
    var shardRequest = ShardAssignment.Request.fixed(index: 0, count: 1)
    var shardOrigin: String?
    var statusOnly = false
    var batch: Int
    /// `--scales`: strips in `DIR/scales/` (`stripDirectory`).
    var scales = false

    var pipeline: PipelineConfiguration
    var settings = SamplingConfig()
    var classes: [Int] = []
    /// The settings every image of the directory must share (`DIR/var-gen-sample.json`).
    var manifest: SampleManifest

    init(_ p: ParsedOptions, context: CLIContext) throws {
        guard p.positionals.isEmpty else { throw UsageError("unexpected argument '\(p.positionals[0])' (see --help)") }
        models = try ModelOptions(p)
        sampling = try SamplingOptions(p)
        runtime = try RuntimeOptions(p)
        if let dir = p.string("status"), let out = p.string("output"), dir != out {
            throw UsageError("--status '\(dir)' and --output '\(out)' name different directories; give one of them")
        }
        statusOnly = p.has("status")
        guard let out = p.string("status") ?? p.string("output") else { throw UsageError("--output DIR is required") }
        output = out
        perClass = try p.int("per-class") ?? 50
        guard perClass > 0 else { throw UsageError.invalid("per-class", String(perClass), expected: "a count ≥ 1") }
        classText = p.string("class") ?? "all"
        scales = p.flag("scales")
        batch = try p.int("batch") ?? 8
        guard batch > 0 else { throw UsageError.invalid("batch", String(batch), expected: "a batch size ≥ 1") }
        if let s = p.string("shard") {
            guard let request = ShardAssignment.Request(parsing: s) else {
                throw UsageError.invalid("shard", s, expected: "i/n with n ≥ 1 and 0 ≤ i < n (e.g. 0/4), auto, or auto/n")
            }
            shardRequest = request
        }
        // Then the checks that need files (the model configurations, paths).
        pipeline = try models.resolve(context)
        settings = try sampling.resolve(for: pipeline)
        pipeline.sampling = settings
        pipeline.threads = runtime.threads
        classes = try ClassList.parse(classText, flag: "class", config: pipeline.primary.config)
        guard !classes.count.multipliedReportingOverflow(by: perClass).overflow else {
            throw UsageError("--per-class \(perClass) × \(classes.count) classes is more images than can be counted")
        }
        for note in models.notices(for: pipeline) { context.console.err("var-gen: note: \(terminalSafe(note))\n") }
        Records.prefetch(pipeline)
        manifest = SampleManifest(version: CLI.version, vqvae: try Records.identity(pipeline.tokenizer),
                                  models: try Records.models(pipeline), sampling: .init(settings), baseSeed: settings.seed)
        if statusOnly {
            // The report lists every expected image: its size follows the count, so the count is capped.
            guard classes.count * perClass <= Self.maxStatusImages else {
                throw UsageError("--status checks at most \(Self.maxStatusImages) images; --per-class \(perClass) × \(classes.count) "
                                 + "classes is more\nHINT: check a subset with --class, or shard by shard")
            }
            if scales { context.console.err("var-gen: note: --scales has no effect with --status (nothing is generated)\n") }
            shardCount = try SampleStatus.shardCount(shardRequest, environment: context.environment)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: output, isDirectory: &isDir), isDir.boolValue else {
                throw UsageError("--status: directory '\(output)' does not exist")
            }
            return
        }
        do {
            let assignment = try ShardAssignment.resolve(shardRequest, environment: context.environment)
            (shard, shardCount) = (assignment.index, assignment.count)
            if case .fromEnvironment = shardRequest { shardOrigin = assignment.description }
        } catch {
            throw UsageError("\(error)")
        }
        try OutputCheck.requireDirectory(output, flag: "output")
        let existing: SampleManifest?
        do { existing = try SampleManifest.read(directory: output) } catch { throw UsageError("--output: \(error)") }
        if let existing {
            let differences = existing.differences(from: manifest)
            guard differences.isEmpty else {
                throw UsageError("--output: '\(output)' holds samples made with other settings (\(SampleManifest.fileName)); "
                                 + "field: directory's value vs this run's:\n  " + differences.map(\.description).joined(separator: "\n  ")
                                 + "\nHINT: sample into another directory, or use the directory's settings")
            }
        }
    }

    /// Whether the PNG at `path` is a complete image whose record is the one the manifest expects for
    /// image k of class c (nil: no usable file; false: a file made otherwise, to be replaced).
    func belongs(_ path: String, classID c: Int, index k: Int) -> Bool? {
        guard FileManager.default.fileExists(atPath: path), let png = try? PNG.read(path) else { return nil }
        return recordMatches(png.text, path: path, classID: c, index: k)
    }

    /// Whether a PNG's text chunks hold a record of image (c, k) made with this run's settings.
    func recordMatches(_ chunks: [PNGTextChunk], path: String, classID c: Int, index k: Int) -> Bool {
        guard let record = try? GenerationRecord.from(textChunks: chunks, path: path) else { return false }
        let choice = GenerationRecord.ClassChoice(label: c, unconditionalClass: pipeline.config.unconditionalClass)
        return manifest.differences(image: record, classID: choice, index: k, seed: Self.seed(base: settings.seed, classID: c, index: k))
            .isEmpty
    }

    func run(_ context: CLIContext) throws {
        let console = context.console
        if statusOnly { return try SampleStatus.run(self, console: console) }
        runtime.apply(console, weightsOf: models)
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        if try SampleManifest.read(directory: output) == nil { try manifest.write(directory: output) }
        // The plan is lazy: pair j (class-major) is (classes[j / perClass], j mod perClass) and the shard takes
        // j = shard, shard + n, …; nothing grows with the count. Only the files already present are listed and
        // checked up front (memory follows the directory, not --per-class), so the summary is exact.
        let total = classes.count * perClass
        let shardTotal = total > shard ? (total - shard + shardCount - 1) / shardCount : 0
        func pair(_ j: Int) -> (classID: Int, index: Int) { (classes[j / perClass], j % perClass) }
        var kept = Set<Int>(), replaced = 0
        var classIndices: [Int: [Int]] = [:]
        for (ci, c) in classes.enumerated() { classIndices[c, default: []].append(ci) }
        for name in try FileManager.default.contentsOfDirectory(atPath: output) {
            guard let (c, k) = PackCommand.parseName(name), k < perClass, name == Self.fileName(classID: c, index: k),
                  let indices = classIndices[c] else { continue }
            for ci in indices {
                let j = ci * perClass + k
                guard j % shardCount == shard else { continue }
                // An image this shard will write must not be a directory, FIFO or device: refused before any work.
                var st = stat()
                if stat(output + "/" + name, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
                    throw UsageError("--output: '\(DisplayText.escaped(output + "/" + name))' is \(InputFile.kindName(mode: st.st_mode)), "
                                     + "where this run writes an image\nHINT: move it out of the directory")
                }
                switch belongs(output + "/" + name, classID: c, index: k) {
                case true?: kept.insert(j)
                case false?: replaced += 1
                case nil: break
                }
            }
        }
        let pendingCount = shardTotal - kept.count
        let progress = ProgressPrinter(console: console, pipeline: pipeline, quiet: runtime.quiet)
        if let shardOrigin { progress.message("shard \(shardOrigin)") }
        progress.message("\(shardTotal) images in this shard, \(kept.count) already present, \(pendingCount) to generate"
                         + (replaced > 0 ? " (\(replaced) replace images whose metadata differs from \(SampleManifest.fileName): "
                                           + "foreign files, other settings or no record)" : ""))
        guard pendingCount > 0 else { return }
        let choice = try BatchPlan.choose(requested: batch, prediction: try GenerationPipeline.predictMemory(pipeline),
                                          budget: runtime.memoryBudget)
        if let note = choice.note { progress.message(note) }
        let b = choice.batch
        let engine = try GenerationPipeline(pipeline) { progress.message("loading \($0)") }
        let start = Date()
        var done = 0
        func generate(_ chunk: [(classID: Int, index: Int)]) throws {
            let labels = chunk.map(\.classID)
            let seeds = chunk.map { Self.seed(base: settings.seed, classID: $0.classID, index: $0.index) }
            let out = try engine.generateBatch(labels: labels, seeds: seeds, sampling: settings)
            try write(out, pairs: Array(chunk), engine: engine)
            done += chunk.count
            let elapsed = Date().timeIntervalSince(start)
            let rate = Double(done) / max(elapsed, 1e-9)
            let eta = Double(pendingCount - done) / max(rate, 1e-9)
            progress.line(String(format: "%d/%d images, %.2f images/s, ETA %@", done, pendingCount, rate, formatDuration(eta)),
                          final: done == pendingCount)
        }
        var chunk: [(classID: Int, index: Int)] = []
        chunk.reserveCapacity(b)
        for j in stride(from: shard, to: total, by: shardCount) where !kept.contains(j) {
            chunk.append(pair(j))
            if chunk.count == b { try generate(chunk); chunk.removeAll(keepingCapacity: true) }
        }
        if !chunk.isEmpty { try generate(chunk) }
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
