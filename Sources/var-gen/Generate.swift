import Foundation
import VARKit

/// `var-gen generate`: class-conditional images with plain VAR or CoDe.
struct GenerateCommand: Command {
    static let name = "generate"
    static let summary = "Generate class-conditional images (plain VAR, or CoDe with --refiner/--draft-steps)."
    static let usage = "[--class C] [--count N] [--output FILE] [options]"
    static let options: [OptionSpec] = ModelOptions.specs + SamplingOptions.specs + [
        .value("class", "C[,C…]", "Class ids, ranges a-b, names from the model JSON, 'all' or 'uncond'; cycled over the images.",
               default: "image i gets class i mod classes", aliases: ["classes"]),
        .value("count", "N", "Number of images.", default: "number of --class entries, else 1"),
        .value("batch", "N", "Images generated together.", default: "min(count, 8)"),
        .value("output", "FILE", "PNG to write; with several images and no --grid: FILE_0.png, FILE_1.png, …", default: "var-gen.png"),
        .flag("grid", "Write all images as one grid PNG."),
        .value("columns", "N", "Grid columns.", default: "⌈√count⌉"),
        .value("save-tokens", "FILE", "Also save every scale's tokens (safetensors; read by `var-gen decode`)."),
        .flag("scales", "Also write NAME.scales.png beside each image: the picture after every scale (one VQVAE decode per scale)."),
        .value("from", "PNG", "Re-run a PNG var-gen wrote from its own metadata (same files: same bytes); see docs/cli.md."),
    ] + RuntimeOptions.specs

    var models: ModelOptions
    var sampling: SamplingOptions
    var runtime: RuntimeOptions
    var classText: String?
    var count: Int?
    var batch: Int?
    var output: String
    var grid: Bool
    var columns: Int?
    var saveTokens: String?
    /// `--scales`: write the coarse-to-fine strip beside each image.
    var scales: Bool
    /// Set by `--from` for a `sample` image: the record says `sample` with this base seed and k.
    var sampleOrigin: GenerationRecord.SampleIndex?

    // Resolved from the files at the end of init.
    var pipeline: PipelineConfiguration
    var settings = SamplingConfig()
    /// The number of images and the classes of `--class` (cycled), nil for `i mod classes`. The plan is lazy:
    /// image i's class and seed are computed when its batch starts, so the count costs no memory.
    var imageCount = 1
    var chosenClasses: [Int]?

    /// Images whose pixels or tokens are all held until the end (`--grid`, `--save-tokens`): at most this many.
    static let maxHeldImages = 100_000

    /// The class of image i.
    func label(_ i: Int) -> Int {
        chosenClasses.map { $0[i % $0.count] } ?? i % pipeline.primary.config.numClasses
    }

    /// The classes of images lo..<hi.
    func labels(_ range: Range<Int>) -> [Int] { range.map(label) }

    init(_ p: ParsedOptions, context: CLIContext) throws {
        guard p.positionals.isEmpty else { throw UsageError("unexpected argument '\(p.positionals[0])' (see --help)") }
        models = try ModelOptions(p)
        sampling = try SamplingOptions(p)
        runtime = try RuntimeOptions(p)
        classText = p.string("class")
        count = try p.int("count")
        batch = try p.int("batch")
        output = p.string("output") ?? "var-gen.png"
        grid = p.flag("grid")
        columns = try p.int("columns")
        saveTokens = p.string("save-tokens")
        scales = p.flag("scales")
        if let c = count, c <= 0 { throw UsageError.invalid("count", String(c), expected: "a number of images ≥ 1") }
        if let b = batch, b <= 0 { throw UsageError.invalid("batch", String(b), expected: "a batch size ≥ 1") }
        if let c = columns, c <= 0 { throw UsageError.invalid("columns", String(c), expected: "a column count ≥ 1") }
        // Then the checks that need files (the model configurations, paths).
        pipeline = try models.resolve(context)
        settings = try sampling.resolve(for: pipeline)
        pipeline.sampling = settings
        pipeline.threads = runtime.threads
        let config = pipeline.primary.config
        let chosen = try classText.map { try ClassList.parse($0, flag: "class", config: config) }
        let n = count ?? chosen?.count ?? 1
        chosenClasses = chosen
        imageCount = n
        try SeedOption.check(seed: settings.seed, count: n)
        if n > Self.maxHeldImages && (grid || saveTokens != nil) {
            throw UsageError("--count \(n) with \(grid ? "--grid" : "--save-tokens"): every image's \(grid ? "pixels" : "tokens") are "
                             + "held until the end; at most \(Self.maxHeldImages) images\nHINT: write numbered files (no --grid) "
                             + "or split the run")
        }
        Records.prefetch(pipeline)
        try requirePNGName(output, flag: "output")
        // Every file the run will write, before any model is loaded.
        let streamed = !grid && n > 1
        try OutputCheck.requireFiles(base: output, count: streamed ? n : 1, flag: "output") {
            Self.outputPath(output, index: $0, count: streamed ? n : 1)
        }
        if scales {
            try OutputCheck.requireFiles(base: output, count: streamed ? n : 1, flag: "output") {
                Records.stripPath(Self.outputPath(output, index: $0, count: streamed ? n : 1))
            }
        }
        var notes = models.notices(for: pipeline)
        if let chosen, chosen.count > n {
            notes.append("--count \(n) uses the first \(n) of the \(chosen.count) classes of --class; "
                         + "\(chosen.count - n) are not generated (give --count \(chosen.count) for all)")
        }
        if columns != nil && !(grid && n > 1) { notes.append("--columns applies to --grid with several images; ignored") }
        if let c = columns, grid, n > 1, c > n { notes.append("--columns \(c) is more than the \(n) images; the grid has \(n) columns") }
        for note in notes { context.console.err("var-gen: note: \(terminalSafe(note))\n") }
        if let saveTokens {
            try OutputCheck.requireFile(saveTokens, flag: "save-tokens")
            try OutputCheck.requireDistinct([("output", streamed ? Self.outputPath(output, index: 0, count: n) : output),
                                             ("save-tokens", saveTokens)]
                                            + (scales ? [("scales", Records.stripPath(output))] : []))
        }
    }

    /// The file of image i: the output itself for one image or a grid, else `stem_i.ext` with i zero-padded
    /// to the width of `count` (`seven_007.png` for 100 or more images) so the files sort in order.
    static func outputPath(_ output: String, index: Int, count: Int) -> String {
        guard count > 1 else { return output }
        let digits = String(index), width = String(count).count
        let index = String(repeating: "0", count: max(0, width - digits.count)) + digits
        let slash = output.lastIndex(of: "/").map { output.index(after: $0) } ?? output.startIndex
        let dir = output[..<slash], name = output[slash...]
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            return "\(dir)\(name[..<dot])_\(index)\(name[dot...])"
        }
        return "\(dir)\(name)_\(index).png"
    }

    func run(_ context: CLIContext) throws {
        let console = context.console
        runtime.apply(console, weightsOf: models)
        let progress = ProgressPrinter(console: console, pipeline: pipeline, quiet: runtime.quiet)
        let n = imageCount
        let b = try chooseBatch(images: n, progress: progress)
        let engine = try GenerationPipeline(pipeline) { progress.message("loading \($0)") }
        if runtime.verbose { progress.message("timing: models loaded at \(progress.elapsed)") }
        func seed(_ i: Int) -> UInt64 { settings.seed &+ UInt64(i) }     // SamplingConfig.seeds(count:)
        let config = pipeline.primary.config
        progress.message("generating \(n) image\(n == 1 ? "" : "s") with \(pipeline.modelDescription)"
                         + (pipeline.draftSteps.map { " (CoDe, draft steps \($0))" } ?? "")
                         + ", batch \(b), \(sampling.randomSeed ? "random " : "")seed \(settings.seed), \(describe(settings))")
        // Numbered files are written as soon as their batch is done (each atomically), so an interrupted or
        // failed run keeps every finished image; a grid (or one image) needs them all first.
        let streamed = !grid && n > 1
        func writeNumbered(_ i: Int, _ image: RGBImage, strip: RGBImage?) throws {
            let path = Self.outputPath(output, index: i, count: n)
            let name = ClassList.name(label(i), config)
            let record = try Records.record(.generate, pipeline, sampling: settings, labels: [label(i)], seed: seed(i))
            try Records.write(image, record: record, classNames: [name], steps: config.scaleCount, to: path)
            console.out(path + "\n")
            if let strip {
                try Records.writeStrip(strip, record: record, classNames: [name], steps: config.scaleCount, to: Records.stripPath(path))
                console.out(Records.stripPath(path) + "\n")
            }
        }
        var images: [RGBImage] = []
        var strips: [RGBImage] = []
        var tokens: [[Int32]] = Array(repeating: [], count: config.scaleCount)
        let batches = (n + b - 1) / b
        // One request per batch, its classes and seeds made when it starts: nothing grows with the count
        // except what --grid and --save-tokens must hold (bounded by `maxHeldImages`).
        for bi in 0..<batches {
            let lo = bi * b, hi = min(n, lo + b)
            let handler = progress.handler(prefix: batches > 1 ? "batch \(bi + 1)/\(batches): " : "")
            let request = GenerationRequest(labels: labels(lo..<hi), seeds: (lo..<hi).map(seed), batchSize: b)
            try engine.generate(request) { event in
                switch event {
                case let .progress(_, p): return handler(p)
                case var .batch(out):
                    out.firstImage += lo
                    if runtime.verbose {
                        let k = Double(out.images.count), tt = out.transformerSeconds, td = out.decodeSeconds
                        progress.message(String(format: "timing: batch of %d: transformer %.2fs (%.2fs/image), decode %.2fs "
                                                + "(%.2fs/image), total %.2fs/image", out.images.count, tt, tt / k,
                                                td, td / k, (tt + td) / k))
                    }
                    var batchStrips: [RGBImage] = []
                    if scales {
                        let start = Date()
                        batchStrips = try ScaleStrip.strips(tokens: out.tokens, vqvae: engine.tokenizer.vqvae, draftSteps: pipeline.draftSteps,
                                                            parallelism: engine.parallelism)
                        if runtime.verbose {
                            let t = Date().timeIntervalSince(start)
                            progress.message(String(format: "timing: scale strips of %d: %.3fs (%.3fs/image, %d decodes each)",
                                                    out.images.count, t, t / Double(out.images.count), config.scaleCount))
                        }
                    }
                    if streamed {
                        for (j, image) in out.images.enumerated() {
                            try writeNumbered(out.firstImage + j, image, strip: scales ? batchStrips[j] : nil)
                        }
                    } else {
                        images += out.images
                        strips += batchStrips
                    }
                    if saveTokens != nil { for si in 0..<tokens.count { tokens[si] += out.tokens[si] } }
                    return true
                }
            }
        }
        progress.message("done in \(progress.elapsed)")
        if !streamed {
            let image = n == 1 ? images[0] : try RGBImage.grid(images, columns: columns)
            let names = Records.classNames(labels(0..<n), config)
            var record = try Records.record(n == 1 ? (sampleOrigin == nil ? .generate : .sample) : .grid, pipeline,
                                            sampling: settings, labels: labels(0..<n), seed: seed(0))
            if n > 1 { record.grid = .init(count: n, columns: columns) }
            record.sample = sampleOrigin
            try Records.write(image, record: record, classNames: names, steps: config.scaleCount, to: output)
            console.out(output + "\n")
            if scales {
                let strip = n == 1 ? strips[0] : try RGBImage.grid(strips, columns: 1)
                try Records.writeStrip(strip, record: record, classNames: names, steps: config.scaleCount, to: Records.stripPath(output))
                console.out(Records.stripPath(output) + "\n")
            }
        }
        if let saveTokens {
            try TokenFile.write(tokens: tokens, labels: labels(0..<n), seeds: (0..<n).map(seed), patchSizes: config.patchSizes,
                                metadata: ["vae": URL(fileURLWithPath: pipeline.tokenizer).lastPathComponent,
                                           "model": pipeline.modelDescription, "sampling": describe(settings)],
                                to: saveTokens)
            console.out(saveTokens + "\n")
        }
        if runtime.memoryStats {
            console.err(renderMemoryReport(engine.accountant.report, predicted: engine.predictMemory(batch: b)))
        }
    }

    /// The batch size: `--batch` (default min(count, 8)), never more than the images, lowered by
    /// `--memory-budget` (else the physical memory) to the largest batch whose predicted peak, plus what a
    /// grid or `--save-tokens` holds, fits; refuses (exit 2) before loading anything when one image does not fit.
    func chooseBatch(images n: Int, progress: ProgressPrinter) throws -> Int {
        let requested = min(batch ?? 8, n)
        let prediction = try GenerationPipeline.predictMemory(pipeline)
        let choice = try BatchPlan.choose(requested: requested, prediction: prediction, budget: runtime.memoryBudget,
                                          heldBytes: heldBytes(images: n, imageSide: prediction.vqvae.imageSize))
        if let note = choice.note { progress.message(note) }
        return choice.batch
    }

    /// Bytes kept for the whole run: the images of a grid (or of one image) with their strips, and the
    /// tokens of `--save-tokens` (as generated and as encoded).
    func heldBytes(images n: Int, imageSide side: Int) -> Int {
        let c = pipeline.primary.config, image = side * side * 3
        var held = 0
        if grid || n == 1 { held += n * image * 2 * (scales ? 1 + c.scaleCount : 1) }
        if saveTokens != nil { held += n * (c.tokenCount * (4 + 8 + 8) + 32) }
        return held
    }
}
