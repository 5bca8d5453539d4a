import Foundation

extension VQVAEConfig {
    /// Infers the configuration of an official checkpoint from its tensor shapes (see
    /// `init(inferringFrom:)` with a shape lookup).
    public init(inferringFrom checkpoint: Checkpoint) throws {
        do { try self.init(inferringFrom: { checkpoint.entry($0)?.shape }) } catch TokenizerError.outOfRange(let v) {
            throw TokenizerError.outOfRange(v.from(checkpoint.path))
        }
    }

    /// The configuration for the checkpoint at `path`: `<stem>.json` beside it when present
    /// (docs/design.md), otherwise inferred from the official layout.
    public static func forCheckpoint(at path: String, _ checkpoint: Checkpoint) throws -> VQVAEConfig {
        let json = URL(fileURLWithPath: path).deletingPathExtension().appendingPathExtension("json")
        if FileManager.default.fileExists(atPath: json.path) { return try VQVAEConfig(contentsOf: json) }  // stat only
        return try VQVAEConfig(inferringFrom: checkpoint)
    }
}

extension VQVAE {
    /// The training-only buffer `quantize.ema_vocab_hit_SV` (docs/model.md §2.3): optional, never read, and its
    /// shape is not checked.
    public static let ignoredKeys: Set<String> = ["quantize.ema_vocab_hit_SV"]

    /// Builds the model from a checkpoint under the strict key/shape contract: every tensor the model
    /// needs must be present with its expected shape and every stored tensor must be used (except
    /// `ignoredKeys`); otherwise one `CheckpointError.contract` lists all problems.
    public init(checkpoint: Checkpoint, config: VQVAEConfig) throws {
        try config.validate()
        // Every tensor the model holds is one the file stores with exactly the requested shape (anything
        // else is a placeholder and refused by `finish()`), so memory follows the file's bytes.
        let reader = WeightReader(checkpoint, optional: VQVAE.ignoredKeys, ignoredShapes: VQVAE.ignoredKeys)
        self.init(config: config, weights: reader.root)
        try reader.finish()
    }

    /// Bytes of the float32 weights a VQVAE built from `checkpoint` holds: every stored tensor it reads
    /// (all but `ignoredKeys`). Reads only the checkpoint's index.
    public static func weightBytes(checkpoint: Checkpoint) -> Int {
        checkpoint.entries.filter { !ignoredKeys.contains($0.name) }.reduce(0) { $0 + $1.count }
            * MemoryLayout<Float>.stride
    }

    /// Opens `path` (.pth or .safetensors) and builds the model; the configuration comes from
    /// `config`, else from `<stem>.json` beside the file, else is inferred (official checkpoints).
    public static func load(path: String, config: VQVAEConfig? = nil) throws -> VQVAE {
        let checkpoint = try Checkpoint(path: path)
        let c = try config ?? VQVAEConfig.forCheckpoint(at: path, checkpoint)
        return try VQVAE(checkpoint: checkpoint, config: c)
    }
}
