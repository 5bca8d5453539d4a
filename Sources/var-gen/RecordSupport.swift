import Foundation
import VARKit

/// The CLI's side of generation records: content hashes of the run's files (once per file per process,
/// computed in the background while models load), records built from the options, and PNG writing with
/// both text chunks.
enum Records {
    /// SHA-256 of every file the process records (thread-safe; the library holds no such state).
    static let hashes = ContentHashes()

    /// Starts hashing files in the background (call as soon as the paths are known, before loading).
    static func prefetch(_ paths: [String?]) {
        for case let p? in paths { hashes.prefetch(p) }
    }

    /// Name and content hash of a file.
    static func identity(_ path: String) throws -> GenerationRecord.FileIdentity {
        .init(name: URL(fileURLWithPath: path).lastPathComponent, sha256: try hashes.hash(path))
    }

    /// `--weights` as the record spells it: one value, or `DRAFTER,REFINER` when they differ.
    static func weights(_ a: WeightPrecision, _ b: WeightPrecision? = nil) -> String {
        guard let b, b != a else { return a.flagValue }
        return "\(a.flagValue),\(b.flagValue)"
    }

    /// Starts hashing a pipeline's VQVAE and transformers in the background.
    static func prefetch(_ c: PipelineConfiguration) {
        prefetch([c.tokenizer] + c.roles.map { $0.source.path })
    }

    /// The transformers of a configuration as the record spells them.
    static func models(_ c: PipelineConfiguration) throws -> GenerationRecord.Models {
        switch c.models {
        case let .plain(m):
            return .init(model: try identity(m.path), weights: m.precision.flagValue)
        case let .collaborative(plan):
            return .init(drafter: try identity(plan.drafter.path), refiner: try identity(plan.refiner.path),
                         draftSteps: plan.draftSteps, weights: weights(plan.drafter.precision, plan.refiner.precision))
        }
    }

    /// A record of `kind` with the configuration's files, the sampling values (seed excluded) and classes.
    static func record(_ kind: GenerationRecord.Kind, _ c: PipelineConfiguration, sampling: SamplingConfig,
                       labels: [Int], seed: UInt64) throws -> GenerationRecord {
        var r = GenerationRecord(command: kind, version: CLI.version, vqvae: try identity(c.tokenizer))
        r.models = try models(c)
        r.sampling = .init(sampling)
        r.classes = classes(labels, c.config)
        r.seed = seed
        return r
    }

    /// Display names of labels for the `parameters` prompt.
    static func classNames(_ labels: [Int], _ c: VARConfig) -> [String] { labels.map { ClassList.name($0, c) } }

    /// Class choices of labels (`uncond` for the model's unconditional class).
    static func classes(_ labels: [Int], _ c: VARConfig) -> [GenerationRecord.ClassChoice] {
        labels.map { .init(label: $0, unconditionalClass: c.unconditionalClass) }
    }

    /// Writes `image` with the record's `var-gen` JSON and `parameters` chunks (atomically).
    static func write(_ image: RGBImage, record: GenerationRecord, classNames: [String], steps: Int?, to path: String) throws {
        try PNG.write(image, text: try record.textChunks(classNames: classNames, steps: steps, width: image.width,
                                                         height: image.height), to: path)
    }

    /// Writes the coarse-to-fine strip of the image `record` describes, with that record marked as a strip
    /// (`generate --from STRIP.png` makes the image and its strip again).
    static func writeStrip(_ strip: RGBImage, record: GenerationRecord, classNames: [String], steps: Int?, to path: String) throws {
        var r = record
        r.strip = true
        try write(strip, record: r, classNames: classNames, steps: steps, to: path)
    }

    /// `FILE.png` → `FILE.scales.png` (the coarse-to-fine strip beside an image).
    static func stripPath(_ imagePath: String) -> String {
        let url = URL(fileURLWithPath: imagePath)
        let dir = imagePath.contains("/") ? url.deletingLastPathComponent().path + "/" : ""
        return dir + url.deletingPathExtension().lastPathComponent + ".scales.png"
    }
}

/// `--seed`: an integer in 0…2³²−1 (the generator keeps 32 bits, docs/model.md §6.5), or `-1`/`random` for a
/// random one (printed and recorded).
enum SeedOption {
    /// The parsed seed and whether it was drawn at random.
    static func parse(_ text: String?) throws -> (seed: UInt64, random: Bool)? {
        guard let s = text?.trimmed else { return nil }
        if s == "-1" || s.lowercased() == "random" { return (UInt64(UInt32.random(in: 0...UInt32.max)), true) }
        guard let v = UInt64(s), v <= UInt64(UInt32.max) else {
            throw UsageError.invalid("seed", s, expected: "an integer in 0…\(UInt32.max), or -1/random for a random seed")
        }
        return (v, false)
    }

    /// Refuses `--seed S --count N` when image N−1's seed `S + N − 1` would pass 2³²−1 (it would repeat seed 0's image).
    static func check(seed: UInt64, count: Int) throws {
        let last = seed + UInt64(max(0, count - 1))
        guard last <= UInt64(UInt32.max) else {
            throw UsageError("--seed \(seed) with --count \(count): image \(count - 1) would use seed \(last), beyond "
                             + "\(UInt32.max) (seeds are 32-bit)\nHINT: use --seed ≤ \(UInt64(UInt32.max) - UInt64(count - 1))")
        }
    }
}
