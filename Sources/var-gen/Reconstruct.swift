import Foundation
import VARKit

/// `var-gen reconstruct`: image → token pyramid → image through the VQVAE, with the PSNR.
struct ReconstructCommand: Command {
    static let name = "reconstruct"
    static let summary = "Encode a PNG to tokens and decode it again; prints the PSNR."
    static let usage = "INPUT.png [--vae FILE] [--output FILE] [--save-tokens FILE]"
    static let options: [OptionSpec] = [
        .value("input", "PNG", "The image (or give it as the argument)."),
        .value("vae", "FILE", "VQVAE checkpoint.", default: "weights/vqvae.pth"),
        .value("output", "FILE", "Reconstructed PNG.", default: "reconstruction.png"),
        .value("save-tokens", "FILE", "Also save the token pyramid (safetensors)."),
    ] + RuntimeOptions.specs

    var input: String
    /// How the user named the input (`--input` or the argument), for messages.
    var inputLabel: String
    var vae: String?
    var output: String
    var saveTokens: String?
    var runtime: RuntimeOptions
    var vaePath = ""

    init(_ p: ParsedOptions, context: CLIContext) throws {
        guard let i = try p.input(placeholder: "INPUT.png") else { throw UsageError("expected one input PNG (see --help)") }
        (input, inputLabel) = i
        vae = p.string("vae")
        output = p.string("output") ?? "reconstruction.png"
        saveTokens = p.string("save-tokens")
        runtime = try RuntimeOptions(p)
    }

    mutating func validate(_ context: CLIContext) throws {
        try requirePNGName(output, flag: "output")
        try requireReadableFile(input, named: inputLabel)
        vaePath = try vae ?? WeightsLocator.shipped("vqvae.pth", flag: "vae", context)
        try requireReadableFile(vaePath, flag: "vae")
        try requireImage(input, fits: vaePath, label: inputLabel)
        try OutputCheck.requireFile(output, flag: "output")
        if let saveTokens {
            try OutputCheck.requireFile(saveTokens, flag: "save-tokens")
            try OutputCheck.requireDistinct([("output", output), ("save-tokens", saveTokens)])
        }
        Records.prefetch([input, vaePath])
    }

    func run(_ context: CLIContext) throws {
        runtime.apply(context.console)
        let image = try PNG.read(input).image
        let vq = try ImageTokenizer(path: vaePath)
        try requireModelSize(image, vq.config, label: inputLabel)
        let (out, tokens) = try vq.reconstruct(image, parallelism: runtime.parallelism)
        var record = GenerationRecord(command: .reconstruct, version: CLI.version, vqvae: try Records.identity(vaePath))
        record.input = try Records.identity(input)
        try Records.write(out, record: record, classNames: [], steps: nil, to: output)
        context.console.out(output + "\n")
        if let saveTokens {
            try TokenFile.write(tokens: tokens, labels: [-1], seeds: [0], patchSizes: vq.config.patchSizes,
                                metadata: ["vae": URL(fileURLWithPath: vaePath).lastPathComponent, "source": input], to: saveTokens)
            context.console.out(saveTokens + "\n")
        }
        context.console.out(String(format: "PSNR %.2f dB\n", psnr(image, out)))
    }
}

/// Validation: `path` is a readable PNG of the VQVAE's resolution (reads the VQVAE's configuration only).
func requireImage(_ path: String, fits vaePath: String, label: String) throws {
    let config: VQVAEConfig
    do { config = try ImageTokenizer.configuration(at: vaePath) } catch {
        throw UsageError("--vae: cannot read the VQVAE configuration of '\(DisplayText.escaped(vaePath))': \(userFacing(error))")
    }
    // The size is in the header: an image of another size is refused before a pixel is decoded.
    let (width, height) = try pngHeaderSize(path, label: label)
    guard width == config.imageSize, height == config.imageSize else {
        throw UsageError("\(label): the image is \(width)×\(height) but the VQVAE works at \(config.imageSize)×\(config.imageSize)"
                         + "\nHINT: resize or crop the image to \(config.imageSize)×\(config.imageSize) first")
    }
    do { _ = try PNG.read(path, maxPixels: width * height) } catch { throw UsageError("\(label): \(userFacing(error))") }
}

/// A PNG's width and height from its IHDR chunk (the chunk list is checked; nothing is decoded).
func pngHeaderSize(_ path: String, label: String) throws -> (Int, Int) {
    do {
        let size = try PNG.dimensions(try FileIO.readAll(path), path: path)
        return (size.width, size.height)
    } catch { throw UsageError("\(label): \(userFacing(error))") }
}

/// The VQVAE works at one resolution; other sizes are refused rather than silently resized.
func requireModelSize(_ image: RGBImage, _ c: VQVAEConfig, label: String) throws {
    guard image.width == c.imageSize, image.height == c.imageSize else {
        throw UsageError("\(label): the image is \(image.width)×\(image.height) but the VQVAE works at \(c.imageSize)×\(c.imageSize)"
                         + "\nHINT: resize or crop the image to \(c.imageSize)×\(c.imageSize) first")
    }
}
