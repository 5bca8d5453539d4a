import Foundation

/// A VAR model file and its configuration, and how its linear layers' weights will be held. The configuration
/// comes from the JSON beside the checkpoint (`model.pth` → `model.json`), else is inferred from the
/// checkpoint's tensor shapes (this maps the file but loads no weights).
public struct ModelSource: Sendable {
    /// The checkpoint (`.pth` or `.safetensors`).
    public var path: String
    /// The architecture (and the JSON's sampling defaults and VQVAE name, if any).
    public var config: VARConfig
    /// Storage of the linear layers' matrices (default float32; `precision.effective` is what a CPU without
    /// F16C gets).
    public var precision: WeightPrecision
    /// Use float32 matrices in place from the file's memory map instead of copying them (default false).
    public var inPlace: Bool

    /// A source with a known configuration (e.g. `VARConfig.official(depth:)` for random weights).
    public init(path: String, config: VARConfig, precision: WeightPrecision = .float32, inPlace: Bool = false) {
        self.path = path; self.config = config; self.precision = precision; self.inPlace = inPlace
    }

    /// Opens a model file's configuration: its JSON if there is one beside it, else inferred from its shapes.
    public init(path: String, precision: WeightPrecision = .float32, inPlace: Bool = false) throws {
        let config: VARConfig
        do {
            let json = URL(fileURLWithPath: path).deletingPathExtension().appendingPathExtension("json").path
            if FileManager.default.fileExists(atPath: json) {
                config = try VARConfig.load(json: json)
            } else {
                config = try VARConfig(inferringFrom: try Checkpoint(path: path))
            }
        } catch {
            throw PipelineError.modelConfiguration(path: path, underlying: error)
        }
        self.init(path: path, config: config, precision: precision, inPlace: inPlace)
    }

    /// The model, with this source's configuration, precision and in-place choice (int8 matrices are quantized
    /// on `parallelism`).
    public func load(parallelism: Parallelism = .allCores) throws -> VARModel {
        try VARModel.load(path: path, config: config, precision: precision, inPlace: inPlace, parallelism: parallelism)
    }

    /// The file name ("drafter.pth").
    public var name: String { URL(fileURLWithPath: path).lastPathComponent }

    /// The VQVAE named by the model's JSON (`"vqvae": "vqvae.pth"`, relative to the model), if any, without
    /// checking where it points; `referencedVQVAE()` is the checked form every loader uses.
    public var vqvaePath: String? {
        guard let v = config.vqvae else { return nil }
        if v.hasPrefix("/") { return v }
        return URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(v).path
    }

    /// The VQVAE named by the model's JSON, if any, checked to stay beside it: a plain name or a relative
    /// path that, after resolving `..` and symbolic links, lies inside the JSON's directory. An absolute
    /// path, an empty name, or one that escapes throws `PipelineError.referenceOutsideDirectory`.
    public func referencedVQVAE() throws -> String? {
        guard let name = config.vqvae else { return nil }
        let json = URL(fileURLWithPath: path).deletingPathExtension().appendingPathExtension("json").path
        return try ContainedPath.resolve(name, besideFile: path, json: json, field: "vqvae")
    }

    /// True when both sources name the same file (after standardising the paths).
    public func isSameFile(as other: ModelSource) -> Bool {
        URL(fileURLWithPath: path).standardizedFileURL == URL(fileURLWithPath: other.path).standardizedFileURL
    }

    /// Bytes of the file (0 when it does not exist, e.g. a label for random weights).
    var fileBytes: Int { fileSize(path) }
}

/// Bytes of a file (0 if it cannot be read; callers have validated the path).
func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}
