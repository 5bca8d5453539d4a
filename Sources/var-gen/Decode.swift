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

    /// The validated token file (read whole in `validate`, before anything is written).
    var contents: TokenFile.Contents?
    /// Images decoded (and written) together: the decoder's buffers grow with the batch, the file's count
    /// does not matter.
    static let decodeBatch = 8

    mutating func validate(_ context: CLIContext) throws {
        try requirePNGName(output, flag: "output")
        try requireReadableFile(tokensPath, named: tokensLabel)
        vaePath = try vae ?? WeightsLocator.shipped("vqvae.pth", flag: "vae", context)
        try requireReadableFile(vaePath, flag: "vae")
        let config: VQVAEConfig
        do { config = try ImageTokenizer.configuration(at: vaePath) } catch {
            throw UsageError("--vae: '\(DisplayText.escaped(vaePath))': \(userFacing(error))")
        }
        let c: TokenFile.Contents
        do { c = try TokenFile.read(tokensPath) } catch { throw UsageError("\(tokensLabel): \(userFacing(error))") }
        guard c.patchSizes == config.patchSizes else {
            throw UsageError("\(tokensLabel): the tokens have scales \(c.patchSizes) but the VQVAE \(vaePath) uses \(config.patchSizes)"
                             + "\nHINT: pass the --vae the tokens were made with")
        }
        if let bad = c.tokens.joined().first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
            throw UsageError("\(tokensLabel): token \(bad) is outside the VQVAE's vocabulary 0…\(config.vocabSize - 1)")
        }
        if let i = index, i >= c.count {
            throw UsageError("--index \(i): '\(tokensPath)' holds \(c.count) image\(c.count == 1 ? "" : "s") (0…\(c.count - 1))")
        }
        if grid && c.count > GenerateCommand.maxHeldImages {
            throw UsageError("--grid: '\(tokensPath)' holds \(c.count) images; a grid holds them all, at most \(GenerateCommand.maxHeldImages)")
        }
        let n = index == nil ? c.count : 1
        try OutputCheck.requireFiles(base: output, count: grid ? 1 : n, flag: "output") {
            GenerateCommand.outputPath(output, index: $0, count: grid ? 1 : n)
        }
        contents = c
        Records.prefetch([tokensPath, vaePath])
    }

    func run(_ context: CLIContext) throws {
        runtime.apply(context.console)
        guard let contents else { return }
        let vq = try ImageTokenizer(path: vaePath)
        let decoder = ImageDecoder(vqvae: vq.vqvae, parallelism: runtime.parallelism)   // buffers kept between batches
        /// Tokens of images lo..<hi.
        func tokens(_ range: Range<Int>) -> [[Int32]] {
            contents.tokens.enumerated().map { si, t in
                let n = contents.patchSizes[si] * contents.patchSizes[si]
                return Array(t[(range.lowerBound * n)..<(range.upperBound * n)])
            }
        }
        let selected = index.map { $0..<($0 + 1) } ?? 0..<contents.count
        let base = GenerationRecord(command: .decode, version: CLI.version, vqvae: try Records.identity(vaePath))
        let file = try Records.identity(tokensPath)
        let labels = (contents.labels ?? []).filter { $0 >= 0 }
        /// Text chunks of image i of the file (nil: the grid of all of them).
        func text(_ i: Int?, _ size: RGBImage) throws -> [PNGTextChunk] {
            var r = base
            r.tokens = .init(file: file, index: i)
            if labels.count == contents.count {
                r.classes = i.map { [.id(labels[$0])] } ?? labels.map { .id($0) }
            }
            if i == nil { r.grid = .init(count: selected.count, columns: nil) }
            return try r.textChunks(classNames: (r.classes ?? []).map(\.description), steps: nil,
                                    width: size.width, height: size.height)
        }
        if grid || selected.count == 1 {
            var images: [RGBImage] = []
            for lo in stride(from: selected.lowerBound, to: selected.upperBound, by: Self.decodeBatch) {
                images += try decoder.decode(tokens: tokens(lo..<min(selected.upperBound, lo + Self.decodeBatch)))
            }
            let image = images.count == 1 ? images[0] : try RGBImage.grid(images)
            try PNG.write(image, text: try text(images.count == 1 ? selected.lowerBound : nil, images[0]), to: output)
            context.console.out(output + "\n")
            return
        }
        // Several images: decoded and written batch by batch (each file atomically).
        for lo in stride(from: 0, to: selected.count, by: Self.decodeBatch) {
            let hi = min(selected.count, lo + Self.decodeBatch)
            for (j, image) in try decoder.decode(tokens: tokens(lo..<hi)).enumerated() {
                let path = GenerateCommand.outputPath(output, index: lo + j, count: selected.count)
                try PNG.write(image, text: try text(lo + j, image), to: path)
                context.console.out(path + "\n")
            }
        }
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
