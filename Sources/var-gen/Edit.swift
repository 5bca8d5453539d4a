import Foundation
import VARKit

/// `var-gen edit`: zero-shot inpainting, outpainting and class-conditional editing (spec §11).
struct EditCommand: Command {
    static let name = "edit"
    static let summary = "Inpaint/outpaint or re-class a region of an image (zero-shot, spec §11)."
    static let usage = "--input PNG (--mask PNG | --box y0,x0,y1,x1 [--outpaint]) [--class C] [options]"
    static let options: [OptionSpec] = ModelOptions.specs + SamplingOptions.specs + [
        .value("input", "PNG", "Image to edit, at the VQVAE's resolution."),
        .value("mask", "PNG", "Edit mask of the input's size: white = generate, black = keep."),
        .value("box", "y0,x0,y1,x1", "Rectangle in fractions of the image (0…1): regenerated (inpainting)."),
        .flag("outpaint", "With --box: keep the rectangle and regenerate everything around it."),
        .value("class", "C", "Class of the generated region; 'uncond' for pure in/outpainting.", default: "uncond"),
        .value("count", "N", "Variants (seeds seed…seed+N−1).", default: "1"),
        .value("output", "FILE", "PNG to write (several: FILE_0.png, …).", default: "edit.png"),
        .flag("grid", "Write all variants as one grid."),
    ] + RuntimeOptions.specs

    var models: ModelOptions
    var sampling: SamplingOptions
    var runtime: RuntimeOptions
    var input: String
    var maskPath: String?
    var box: [Double]?
    var outpaint: Bool
    var classText: String
    var count: Int
    var output: String
    var grid: Bool

    var pipeline: Pipeline!
    var vaePath = ""
    var settings = SamplingConfig()
    var label = 0

    init(_ p: ParsedOptions, context: CLIContext) throws {
        guard p.positionals.isEmpty else { throw UsageError("unexpected argument '\(p.positionals[0])' (see --help)") }
        models = try ModelOptions(p)
        sampling = try SamplingOptions(p)
        runtime = try RuntimeOptions(p)
        guard let i = p.string("input") else { throw UsageError("--input PNG is required") }
        input = i
        maskPath = p.string("mask")
        box = try p.doubles("box")
        outpaint = p.flag("outpaint")
        classText = p.string("class") ?? "uncond"
        count = try p.int("count") ?? 1
        output = p.string("output") ?? "edit.png"
        grid = p.flag("grid")
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
    }

    mutating func validate(_ context: CLIContext) throws {
        try requireReadableFile(input, flag: "input")
        if let maskPath { try requireReadableFile(maskPath, flag: "mask") }
        (pipeline, vaePath) = try models.resolve(context)
        try requireImage(input, fits: vaePath, flag: "input")
        if let maskPath {
            let (m, i) = (try PNG.read(maskPath).image, try PNG.read(input).image)
            guard m.width == i.width, m.height == i.height else {
                throw UsageError("--mask is \(m.width)×\(m.height) but --input is \(i.width)×\(i.height)")
            }
        }
        settings = try sampling.resolve(for: pipeline)
        let labels = try ClassList.parse(classText, flag: "class", config: pipeline.primary.config)
        guard labels.count == 1 else { throw UsageError("--class: give one class for an edit") }
        label = labels[0]
        try requireWritableDirectory(for: output, flag: "output")
    }

    /// The last scale's mask (`side²`, row-major, 1 = keep) from a box, by the notebook's rule (spec §11):
    /// the rectangle is regenerated (inpainting) or kept (`outpaint`).
    static func keepMask(box b: [Double], side: Int, outpaint: Bool) -> [Float] {
        EditingMask.rectangle(side: side, y0: b[0], x0: b[1], y1: b[2], x1: b[3], inpainting: !outpaint)
    }

    /// The last scale's keep mask from a mask image (white = generate): a cell is generated when the mean
    /// brightness of its pixels exceeds one half.
    static func keepMask(image m: RGBImage, side: Int) -> [Float] {
        (0..<(side * side)).map { cell in
            let cy = cell / side, cx = cell % side
            let ys = (cy * m.height / side)..<max(cy * m.height / side + 1, (cy + 1) * m.height / side)
            let xs = (cx * m.width / side)..<max(cx * m.width / side + 1, (cx + 1) * m.width / side)
            var sum = 0, n = 0
            for y in ys { for x in xs {
                let p = (y * m.width + x) * 3
                sum += Int(m.pixels[p]) + Int(m.pixels[p + 1]) + Int(m.pixels[p + 2]); n += 3
            } }
            return Double(sum) / Double(max(n, 1)) <= 127.5 ? 1 : 0
        }
    }

    func run(_ context: CLIContext) throws {
        let console = context.console
        runtime.apply(console)
        let image = try PNG.read(input).image
        let progress = ProgressPrinter(console: console, pipeline: pipeline)
        let engine = try Engine(pipeline: pipeline, vaePath: vaePath) { progress.message("loading \($0)") }
        try requireModelSize(image, engine.vqvae.config, flag: "input")
        let sizes = engine.config.patchSizes, side = sizes.last!
        let keepLast: [Float]
        if let maskPath {
            let m = try PNG.read(maskPath).image
            guard m.width == image.width, m.height == image.height else {
                throw CLIFailure("--mask is \(m.width)×\(m.height) but --input is \(image.width)×\(image.height)")
            }
            keepLast = Self.keepMask(image: m, side: side)
        } else {
            keepLast = Self.keepMask(box: box!, side: side, outpaint: outpaint)
        }
        let original = engine.vqvae.tokens(from: image.tensor())       // per scale (1, pn²)
        let hook = EditingHook(mask: keepLast, side: side, patchSizes: sizes, originalTokens: original, batch: count)
        let seeds = settings.seeds(count: count)
        progress.message("editing \(input): \(keepLast.filter { $0 <= 0.5 }.count)/\(keepLast.count) cells regenerated as class "
                         + "\(ClassList.name(label, engine.config)), \(describe(settings))")
        let images = try engine.generate(labels: Array(repeating: label, count: count), seeds: seeds, sampling: settings,
                                         editing: hook, progress: progress.handler(prefix: "")).images
        progress.finish()
        let paths = try writeImages(images, output: output, grid: grid) { i in
            "edit of \(URL(fileURLWithPath: input).lastPathComponent) class=\(label) seed=\(seeds[i]) \(describe(settings)) "
                + "model=\(pipeline.modelDescription) version=\(CLI.version)"
        }
        for p in paths { console.out(p + "\n") }
        if runtime.memoryStats { console.err(renderMemoryReport(engine.accountant.report)) }
    }
}
