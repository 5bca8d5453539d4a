import Foundation

extension VARConfig {
    /// Infers an official checkpoint's architecture from its tensor shapes (see `init(inferringFromShapes:names:)`).
    public init(inferringFrom checkpoint: Checkpoint) throws {
        try self.init(inferringFromShapes: { checkpoint.entry($0)?.shape }, names: checkpoint.names)
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
    /// Builds the model from a scoped weight reader (docs/design.md); keys are the official ones (spec §2.2).
    /// With `inPlace`, float32 matrices stored contiguous and aligned are used in place from the file's memory map.
    public convenience init(config: VARConfig, precision: WeightPrecision = .float32, inPlace: Bool = false,
                            scope: WeightScope) {
        self.init(config: config, precision: precision, inPlace: inPlace ? { scope.inPlace($0, $1) } : nil) {
            key, shape in scope(key, shape)
        }
    }

    /// Loads a VAR checkpoint (`.pth` or `.safetensors`) with its JSON or inferred configuration.
    /// Throws one error listing every missing, unused or mis-shaped tensor. `precision` chooses how the linear
    /// layers' matrices are held (float16: rounded once here, tensor by tensor). `inPlace` reads float32 matrices
    /// from the file's memory map instead of copying them: no copy and a quicker load, but on the project machine
    /// the products ran ~8% slower on those pages than on a copy (docs/performance.md), so copying is the default.
    public static func load(path: String, config: VARConfig? = nil, precision: WeightPrecision = .float32,
                            inPlace: Bool = false) throws -> VARModel {
        let checkpoint = try Checkpoint(path: path)
        let cfg = try config ?? VARConfig.forCheckpoint(at: path, checkpoint: checkpoint)
        let reader = WeightReader(checkpoint, optional: optionalKeys(for: cfg))
        let model = VARModel(config: cfg, precision: precision, inPlace: inPlace, scope: reader.root)
        try reader.finish()
        return model
    }
}
