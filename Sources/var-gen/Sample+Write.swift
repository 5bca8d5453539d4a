import Foundation
import VARKit

extension SampleCommand {
    /// The subdirectory of `--scales` strips, apart from the images so that `--status`, `pack` and resuming
    /// never take a strip for a sample.
    static let stripDirectory = "scales"

    /// Writes a generated batch: image (c, k) as `DIR/{c}_{k}.png` with the record the manifest expects and,
    /// with `--scales`, its strip as `DIR/scales/{c}_{k}.scales.png` with the same record marked as a strip
    /// (written first, so that an image present means its strip is too).
    func write(_ out: GeneratedBatch, pairs: [(classID: Int, index: Int)], engine: GenerationPipeline) throws {
        let config = pipeline.config
        var strips: [RGBImage] = []
        if scales {
            try FileManager.default.createDirectory(atPath: output + "/" + Self.stripDirectory, withIntermediateDirectories: true)
            strips = try ScaleStrip.strips(tokens: out.tokens, vqvae: engine.tokenizer.vqvae, draftSteps: pipeline.draftSteps,
                                             parallelism: engine.parallelism)
        }
        for (j, pair) in pairs.enumerated() {
            let name = Self.fileName(classID: pair.classID, index: pair.index)
            let choice = GenerationRecord.ClassChoice(label: pair.classID, unconditionalClass: config.unconditionalClass)
            let record = manifest.record(classID: choice, index: pair.index,
                                         seed: Self.seed(base: settings.seed, classID: pair.classID, index: pair.index))
            let names = [ClassList.name(pair.classID, config)]
            if scales {
                try Records.writeStrip(strips[j], record: record, classNames: names, steps: config.scaleCount,
                                       to: Records.stripPath(output + "/" + Self.stripDirectory + "/" + name))
            }
            try Records.write(out.images[j], record: record, classNames: names, steps: config.scaleCount, to: output + "/" + name)
        }
    }
}
