import Foundation
import VARKit

/// `var-gen edit`: zero-shot inpainting, outpainting and class-conditional editing (docs/model.md §11).
struct EditCommand: Command {
    static let name = "edit"
    static let summary = "Inpaint/outpaint or re-class a region of an image (zero-shot, docs/model.md §11)."
    static let usage = "[--input] PNG (--mask PNG | --box y0,x0,y1,x1 [--outpaint]) [--class C] [options]"
    static let options: [OptionSpec] = ModelOptions.specs + SamplingOptions.specs + [
        .value("input", "PNG", "Image to edit (or give it as the argument); other sizes are cropped to the central square and area-resized to the VQVAE's."),
        .value("mask", "PNG", "Edit mask of the input's size (cropped/resized like it): white = generate, black = keep."),
        .value("box", "y0,x0,y1,x1", "Rectangle in fractions of the image (0…1): regenerated (inpainting)."),
        .flag("outpaint", "With --box: keep the rectangle and regenerate everything around it."),
        .value("class", "C", "Class of the generated region; 'uncond' for pure in/outpainting.", default: "uncond"),
        .value("count", "N", "Variants (seeds seed…seed+N−1).", default: "1"),
        .value("output", "FILE", "PNG to write (several: FILE_0.png, …).", default: "edit.png"),
        .flag("grid", "Write all variants as one grid."),
        .value("save-tokens", "FILE", "Also save every scale's tokens of the edits (safetensors; read by `var-gen decode`)."),
        .flag("scales", "Also write NAME.scales.png beside each output: the picture after every scale (one VQVAE decode per scale)."),
    ] + RuntimeOptions.specs

    var models: ModelOptions
    var sampling: SamplingOptions
    var runtime: RuntimeOptions
    var input: String
    /// How the user named the input (`--input` or the argument), for messages.
    var inputLabel: String
    var maskPath: String?
    var box: [Double]?
    var outpaint: Bool
    var classText: String
    var count: Int
    var output: String
    var grid: Bool
    var saveTokens: String?
    /// `--scales`: write the coarse-to-fine strip beside each output.
    var scales: Bool

    var pipeline: PipelineConfiguration
    var settings = SamplingConfig()
    var label = 0

    init(_ p: ParsedOptions, context: CLIContext) throws {
        models = try ModelOptions(p)
        sampling = try SamplingOptions(p)
        runtime = try RuntimeOptions(p)
        guard let i = try p.input(placeholder: "PNG") else { throw UsageError("the image to edit is required: --input PNG or PNG") }
        (input, inputLabel) = i
        maskPath = p.string("mask")
        box = try p.doubles("box")
        outpaint = p.flag("outpaint")
        classText = p.string("class") ?? "uncond"
        count = try p.int("count") ?? 1
        output = p.string("output") ?? "edit.png"
        grid = p.flag("grid")
        saveTokens = p.string("save-tokens")
        scales = p.flag("scales")
        guard count > 0 else { throw UsageError.invalid("count", String(count), expected: "a number of images ≥ 1") }
        switch (maskPath, box) {
        case (nil, nil): throw UsageError("give the region to edit with --mask PNG or --box y0,x0,y1,x1")
        case (_?, _?): throw UsageError("--mask and --box are alternatives; give one")
        case (_?, nil) where outpaint: throw UsageError("--outpaint applies to --box; with --mask, paint the area to generate white")
        default: break
        }
        if let b = box {
            guard b.count == 4, b.allSatisfy({ (0...1).contains($0) }), b[0] < b[2], b[1] < b[3] else {
                throw UsageError.invalid("box", p.string("box")!, expected: "y0,x0,y1,x1 in [0, 1] with y0 < y1 and x0 < x1")
            }
        }
        // Then the checks that need files (the model configurations, paths).
        try requireReadableFile(input, named: inputLabel)
        if let maskPath { try requireReadableFile(maskPath, flag: "mask") }
        pipeline = try models.resolve(context)
        let image: RGBImage
        do { image = try PNG.read(input).image } catch { throw UsageError("\(inputLabel): \(userFacing(error))") }
        guard image.width > 0, image.height > 0 else { throw UsageError("\(inputLabel): '\(input)' is empty") }
        if let maskPath {
            let m: RGBImage
            let (mw, mh) = try pngHeaderSize(maskPath, label: "--mask")      // compared before decoding
            guard mw == image.width, mh == image.height else {
                throw UsageError("--mask is \(mw)×\(mh) but --input is \(image.width)×\(image.height); expected the same size")
            }
            do { m = try PNG.read(maskPath).image } catch { throw UsageError("--mask: \(userFacing(error))") }
            guard m.width == image.width, m.height == image.height else {
                throw UsageError("--mask is \(m.width)×\(m.height) but --input is \(image.width)×\(image.height); "
                                 + "expected the same size")
            }
        }
        settings = try sampling.resolve(for: pipeline)
        pipeline.sampling = settings
        pipeline.threads = runtime.threads
        let labels = try ClassList.parse(classText, flag: "class", config: pipeline.primary.config)
        guard labels.count == 1 else { throw UsageError("--class: give one class for an edit") }
        label = labels[0]
        try SeedOption.check(seed: settings.seed, count: count)
        try BatchPlan.requireFits(batches: [count], pipelines: [pipeline], random: false, budget: runtime.memoryBudget, flag: "count")
        Records.prefetch(pipeline)
        Records.prefetch([input, maskPath])
        try requirePNGName(output, flag: "output")
        try OutputCheck.requireFile(output, flag: "output")
        if let saveTokens {
            try OutputCheck.requireFile(saveTokens, flag: "save-tokens")
            try OutputCheck.requireDistinct([("output", output), ("save-tokens", saveTokens)])
        }
        for note in models.notices(for: pipeline) { context.console.err("var-gen: note: \(note)\n") }
    }

    /// An input of any size at the model's `size × size`: the central square (`RGBImage.centerSquare`), then
    /// area resampling (`RGBImage.resizedByArea`). Images that already fit are unchanged.
    static func fitted(_ image: RGBImage, size: Int) -> RGBImage {
        image.centerSquare().resizedByArea(width: size, height: size)
    }

    /// The last scale's mask (`side²`, row-major, 1 = keep) from a box, by the notebook's rule (docs/model.md §11):
    /// the rectangle is regenerated (inpainting) or kept (`outpaint`).
    static func keepMask(box b: [Double], side: Int, outpaint: Bool) -> [Float] {
        EditingMask.rectangle(side: side, y0: b[0], x0: b[1], y1: b[2], x1: b[3], inpainting: !outpaint)
    }

    /// The last scale's keep mask from a mask image (white = generate), brought to the `side × side` grid the
    /// way the input is brought to the model: central square, then area means over each cell. A cell is
    /// generated when its mean brightness (channel mean, 0…1) exceeds one half, kept otherwise; the per-scale
    /// masks then follow docs/model.md §11 (`EditingMask.keepFlags`: bilinear, `> 0.5`).
    static func keepMask(image m: RGBImage, side: Int) -> [Float] {
        let means = m.centerSquare().areaMeans(width: side, height: side)    // (side, side, 3), 0…255
        return (0..<(side * side)).map { cell in
            let brightness: Double = (means[cell * 3] + means[cell * 3 + 1] + means[cell * 3 + 2]) / 765
            return brightness > 0.5 ? Float(0) : Float(1)
        }
    }

    /// How the region was given, for messages and PNG metadata.
    var modeDescription: String {
        if let maskPath { return "mode=mask mask=\(URL(fileURLWithPath: maskPath).lastPathComponent)" }
        let b = box!.map { String(format: "%g", $0) }.joined(separator: ",")
        return "mode=\(outpaint ? "outpaint" : "inpaint") box=\(b)"
    }

    func run(_ context: CLIContext) throws {
        let console = context.console
        runtime.apply(console, weightsOf: models)
        let raw = try PNG.read(input).image
        let progress = ProgressPrinter(console: console, pipeline: pipeline, quiet: runtime.quiet)
        let engine = try GenerationPipeline(pipeline) { progress.message("loading \($0)") }
        let size = engine.tokenizer.config.imageSize
        let image = Self.fitted(raw, size: size)
        if raw.width != size || raw.height != size {
            let crop = min(raw.width, raw.height)
            progress.message("input \(raw.width)×\(raw.height) → central \(crop)×\(crop) → area-resized to \(size)×\(size)")
        }
        let sizes = engine.config.patchSizes, side = sizes.last!
        let keepLast: [Float]
        if let maskPath {
            let m = try PNG.read(maskPath).image
            guard m.width == raw.width, m.height == raw.height else {
                throw CLIFailure("--mask is \(m.width)×\(m.height) but --input is \(raw.width)×\(raw.height); expected the same size")
            }
            keepLast = Self.keepMask(image: m, side: side)
        } else {
            keepLast = Self.keepMask(box: box!, side: side, outpaint: outpaint)
        }
        let regenerated = keepLast.filter { $0 <= 0.5 }.count
        if let box, (outpaint ? keepLast.count - regenerated : regenerated) == 0 {
            progress.notice("--box \(box.map { String(format: "%g", $0) }.joined(separator: ",")) covers no token cell of the "
                            + "\(side)×\(side) grid (its edges are rounded to the nearest cell border): "
                            + (outpaint ? "the whole image is regenerated" : "nothing is regenerated; the output is the input's reconstruction"))
        } else if regenerated == 0 || regenerated == keepLast.count {
            // A mask (or an outpainting box) that selects no cell, or every cell, of the last scale's grid.
            let region = maskPath.map { "--mask \(DisplayText.escaped($0))" }
                ?? "--box \(box!.map { String(format: "%g", $0) }.joined(separator: ","))" + (outpaint ? " --outpaint" : "")
            progress.notice("\(region) regenerates \(regenerated)/\(keepLast.count) cells of the \(side)×\(side) grid: "
                            + (regenerated == 0 ? "nothing is regenerated; the output is the input's reconstruction"
                                                : "the whole image is regenerated (a generation of the class, the input unused)"))
        }
        let original = try engine.tokenizer.tokens(from: image, parallelism: engine.parallelism)       // per scale (1, pn²)
        let hook = EditingHook(mask: keepLast, side: side, patchSizes: sizes, originalTokens: original, batch: count)
        let seeds = settings.seeds(count: count)
        progress.message("editing \(input): \(keepLast.filter { $0 <= 0.5 }.count)/\(keepLast.count) cells regenerated as class "
                         + "\(ClassList.name(label, engine.config)), \(describe(settings))")
        let labels = Array(repeating: label, count: count)
        let out = try engine.generateBatch(labels: labels, seeds: seeds, sampling: settings,
                                           editing: hook, progress: progress.handler(prefix: ""))
        let (images, tokens) = (out.images, out.tokens)
        progress.finish()
        let common = "input=\(URL(fileURLWithPath: input).lastPathComponent) \(modeDescription) class=\(label)"
        var record = try Records.record(.edit, pipeline, sampling: settings, labels: [label], seed: seeds[0])
        record.edit = .init(input: try Records.identity(input), mask: try maskPath.map(Records.identity), box: box, outpaint: outpaint)
        let name = ClassList.name(label, engine.config)
        /// The record of output i (nil: the grid), marked as a strip for `--scales`.
        func chunks(_ i: Int?, strip: Bool, width: Int, height: Int) throws -> [PNGTextChunk] {
            var r = record
            if let i { r.seed = seeds[i] } else {
                r.grid = .init(count: count, columns: nil)
                r.classes = Array(repeating: r.classes![0], count: count)
            }
            if strip { r.strip = true }
            return try r.textChunks(classNames: i == nil ? Array(repeating: name, count: count) : [name],
                                    steps: engine.config.scaleCount, width: width, height: height)
        }
        var paths = try writeImages(images, output: output, grid: grid) { i in
            try chunks(i, strip: false, width: images[0].width, height: images[0].height)
        }
        if scales {
            // Beside each output (a grid's strips stacked, one row per variant).
            let strips = try ScaleStrip.strips(tokens: tokens, vqvae: engine.tokenizer.vqvae, draftSteps: pipeline.draftSteps,
                                             parallelism: engine.parallelism)
            let one = count == 1 || grid
            let written = one ? [try count == 1 ? strips[0] : RGBImage.grid(strips, columns: 1)] : strips
            for (i, strip) in written.enumerated() {
                let path = Records.stripPath(one ? output : GenerateCommand.outputPath(output, index: i, count: count))
                try PNG.write(strip, text: try chunks(one && count > 1 ? nil : i, strip: true, width: strip.width, height: strip.height),
                              to: path)
                paths.append(path)
            }
        }
        if let saveTokens {
            try TokenFile.write(tokens: tokens, labels: labels, seeds: seeds, patchSizes: sizes,
                                metadata: ["vae": URL(fileURLWithPath: pipeline.tokenizer).lastPathComponent, "model": pipeline.modelDescription,
                                           "sampling": describe(settings), "edit": "\(common)"],
                                to: saveTokens)
            paths.append(saveTokens)
        }
        for p in paths { console.out(p + "\n") }
        if runtime.memoryStats { console.err(renderMemoryReport(engine.accountant.report)) }
    }
}
