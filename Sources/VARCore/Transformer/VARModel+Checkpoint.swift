import Foundation

extension VARConfig {
    /// Infers an official checkpoint's architecture from its tensor shapes (see `init(inferringFromShapes:names:)`).
    public init(inferringFrom checkpoint: Checkpoint) throws {
        do {
            try self.init(inferringFromShapes: { checkpoint.entry($0)?.shape }, names: checkpoint.names)
        } catch VARConfigError.outOfRange(let v) {
            throw VARConfigError.outOfRange(v.from(checkpoint.path))
        }
    }

    /// The configuration of a VAR checkpoint: the JSON of the same stem beside it (`var_d16.json` for
    /// `var_d16.pth`) when present, otherwise inferred from the official layout.
    public static func forCheckpoint(at path: String, checkpoint: Checkpoint) throws -> VARConfig {
        let url = URL(fileURLWithPath: path)
        let json = url.deletingPathExtension().appendingPathExtension("json").path
        if FileManager.default.fileExists(atPath: json) { return try VARConfig.load(json: json) }
        return try VARConfig(inferringFrom: checkpoint)
    }
}

extension VARModel {
    /// Loads a VAR checkpoint (`.pth` or `.safetensors`) with its JSON or inferred configuration.
    /// The configuration is validated (`ConfigLimits`) and must be backed by the file (no more weights than
    /// stored elements) before anything is built. Throws one error listing every missing, unused or mis-shaped
    /// tensor, or naming a tensor with NaN/Inf. `precision` chooses how the linear
    /// layers' matrices are held (float16: rounded once here, tensor by tensor). `inPlace` reads float32 matrices
    /// from the file's memory map instead of copying them: no copy and a quicker load, but on the project machine
    /// the products ran ~8% slower on those pages than on a copy (docs/performance.md §3), so copying is the default.
    /// int8 matrices are quantized on `parallelism` (default: one worker per core).
    public static func load(path: String, config: VARConfig? = nil, precision: WeightPrecision = .float32,
                            inPlace: Bool = false, parallelism: Parallelism = .allCores) throws -> VARModel {
        let checkpoint = try Checkpoint(path: path)
        let cfg = try config ?? VARConfig.forCheckpoint(at: path, checkpoint: checkpoint)
        try cfg.validate()
        do {
            try ConfigLimits.requireBacked(weights: ConfigLimits.transformerWeights(cfg) ?? Int.max, checkpoint: checkpoint)
        } catch let v as LimitViolation { throw VARConfigError.outOfRange(v) }
        let reader = WeightReader(checkpoint, optional: optionalKeys(for: cfg))
        if precision.effective == .float16 { reader.requireHalfRange(matrixKeyPatterns) }
        let model = VARModel(config: cfg, precision: precision, inPlace: inPlace, parallelism: parallelism,
                             weights: reader.root)
        try reader.finish()
        return model
    }
}
