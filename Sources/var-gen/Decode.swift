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
    ] + RuntimeOptions.specs

    var tokensPath: String
    /// How the user named the tokens file (`--input`, `--tokens` or the argument), for messages.
    var tokensLabel: String
    var vae: String?
    var output: String
    var grid: Bool
    var runtime: RuntimeOptions
    var vaePath = ""

    init(_ p: ParsedOptions, context: CLIContext) throws {
        guard let input = try p.input(placeholder: "TOKENS") else { throw UsageError("expected one tokens file (see --help)") }
        (tokensPath, tokensLabel) = input
        vae = p.string("vae")
        output = p.string("output") ?? "decoded.png"
        grid = p.flag("grid")
        runtime = try RuntimeOptions(p)
    }

    mutating func validate(_ context: CLIContext) throws {
        try requirePNGName(output, flag: "output")
        try requireReadableFile(tokensPath, named: tokensLabel)
        vaePath = try vae ?? WeightsLocator.shipped("vqvae.pth", flag: "vae", context)
        try requireReadableFile(vaePath, flag: "vae")
        try requireWritableDirectory(for: output, flag: "output")
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
        let images = try vq.decode(tokens: contents.tokens)
        let paths = try writeImages(images, output: output, grid: grid,
                                    text: { i in "decoded from \(URL(fileURLWithPath: tokensPath).lastPathComponent)"
                                            + (contents.labels.map { " class=\($0[i])" } ?? "") })
        for p in paths { context.console.out(p + "\n") }
    }
}

/// Writes one image, a grid, or `stem_i.png` files; returns the paths written.
func writeImages(_ images: [RGBImage], output: String, grid: Bool, gridText: String? = nil,
                 text: (Int) -> String) throws -> [String] {
    if images.count == 1 || grid {
        let image = images.count == 1 ? images[0] : try RGBImage.grid(images)
        let meta = images.count == 1 ? text(0) : gridText ?? "grid of \(images.count)"
        try PNG.write(image, text: [PNGTextChunk(key: "var-gen", text: meta)], to: output)
        return [output]
    }
    return try images.indices.map { i in
        let path = GenerateCommand.outputPath(output, index: i, count: images.count)
        try PNG.write(images[i], text: [PNGTextChunk(key: "var-gen", text: text(i))], to: path)
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
