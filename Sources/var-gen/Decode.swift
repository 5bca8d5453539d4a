import Foundation
import VARKit

/// `var-gen decode`: a saved token pyramid (`--save-tokens`) back to images.
struct DecodeCommand: Command {
    static let name = "decode"
    static let summary = "Decode saved tokens (from --save-tokens) to PNG images."
    static let usage = "TOKENS.safetensors [--vae FILE] [--output FILE] [--grid]"
    static let options: [OptionSpec] = [
        .value("input", "TOKENS", "The tokens file (or give it as the argument).", aliases: ["tokens"]),
        .value("vae", "FILE", "VQVAE checkpoint.", default: "weights/vqvae.pth"),
        .value("output", "FILE", "PNG to write; several images: FILE_0.png, … unless --grid.", default: "decoded.png"),
        .flag("grid", "Write all images as one grid."),
        .value("index", "I", "Decode only image I of the file (0-based)."),
    ] + RuntimeOptions.specs

    var tokensPath: String
    /// How the user named the tokens file (`--input`, `--tokens` or the argument), for messages.
    var tokensLabel: String
    var vae: String?
    var output: String
    var grid: Bool
    var runtime: RuntimeOptions
    var vaePath = ""
    /// `--index`: only this image.
    var index: Int?

    init(_ p: ParsedOptions, context: CLIContext) throws {
        guard let input = try p.input(placeholder: "TOKENS") else { throw UsageError("expected one tokens file (see --help)") }
        (tokensPath, tokensLabel) = input
        vae = p.string("vae")
        output = p.string("output") ?? "decoded.png"
        grid = p.flag("grid")
        index = try p.int("index")
        runtime = try RuntimeOptions(p)
        if let i = index, i < 0 { throw UsageError.invalid("index", String(i), expected: "an image index ≥ 0") }
        if index != nil && grid { throw UsageError("--index picks one image; it cannot be combined with --grid") }
    }

    mutating func validate(_ context: CLIContext) throws {
        try requirePNGName(output, flag: "output")
        try requireReadableFile(tokensPath, named: tokensLabel)
        vaePath = try vae ?? WeightsLocator.shipped("vqvae.pth", flag: "vae", context)
        try requireReadableFile(vaePath, flag: "vae")
        try requireWritableDirectory(for: output, flag: "output")
        Records.prefetch([tokensPath, vaePath])
    }

    func run(_ context: CLIContext) throws {
        runtime.apply(context.console)
        let contents = try TokenFile.read(tokensPath)
        let vq = try ImageTokenizer(path: vaePath)
        guard contents.patchSizes == vq.config.patchSizes else {
            throw CLIFailure("the tokens have scales \(contents.patchSizes) but the VQVAE \(vaePath) uses \(vq.config.patchSizes)"
                             + "\nHINT: pass the --vae the tokens were made with")
        }
        if let bad = contents.tokens.joined().first(where: { $0 < 0 || Int($0) >= vq.config.vocabSize }) {
            throw CLIFailure("token \(bad) is outside the VQVAE's vocabulary 0…\(vq.config.vocabSize - 1)")
        }
        if let i = index, i >= contents.count {
            throw CLIFailure("--index \(i): '\(tokensPath)' holds \(contents.count) image\(contents.count == 1 ? "" : "s") (0…\(contents.count - 1))")
        }
        var tokens = contents.tokens
        if let i = index {
            tokens = tokens.enumerated().map { si, t in
                let n = contents.patchSizes[si] * contents.patchSizes[si]
                return Array(t[(i * n)..<((i + 1) * n)])
            }
        }
        let images = try vq.decode(tokens: tokens, parallelism: runtime.parallelism)
        let base = GenerationRecord(command: .decode, version: CLI.version, vqvae: try Records.identity(vaePath))
        let file = try Records.identity(tokensPath)
        let paths = try writeImages(images, output: output, grid: grid) { i in
            var r = base
            let first = index ?? i ?? 0
            r.tokens = .init(file: file, index: i == nil ? nil : first)
            let labels = (contents.labels ?? []).filter { $0 >= 0 }
            if labels.count == contents.count {
                r.classes = i == nil ? labels.map { .id($0) } : [.id(labels[first])]
            }
            if i == nil { r.grid = .init(count: images.count, columns: nil) }
            let size = images[0]
            return try r.textChunks(classNames: (r.classes ?? []).map(\.description), steps: nil,
                                    width: size.width, height: size.height)
        }
        for p in paths { context.console.out(p + "\n") }
    }
}

/// Writes one image, a grid, or `stem_i.png` files with the text chunks of image i (nil: the grid);
/// returns the paths written.
func writeImages(_ images: [RGBImage], output: String, grid: Bool, text: (Int?) throws -> [PNGTextChunk]) throws -> [String] {
    if images.count == 1 || grid {
        let image = images.count == 1 ? images[0] : try RGBImage.grid(images)
        try PNG.write(image, text: try text(images.count == 1 ? 0 : nil), to: output)
        return [output]
    }
    return try images.indices.map { i in
        let path = GenerateCommand.outputPath(output, index: i, count: images.count)
        try PNG.write(images[i], text: try text(i), to: path)
        return path
    }
}

/// Peak signal-to-noise ratio of two equally sized 8-bit images, dB (∞ when identical).
func psnr(_ a: RGBImage, _ b: RGBImage) -> Double {
    precondition(a.pixels.count == b.pixels.count)
    var se = 0.0
    for i in a.pixels.indices { let d = Double(a.pixels[i]) - Double(b.pixels[i]); se += d * d }
    let mse = se / Double(max(1, a.pixels.count))
    return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
}
