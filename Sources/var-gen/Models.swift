import Foundation
import VARKit

/// Finding the shipped weights and describing which models a command uses.
enum WeightsLocator {
    /// The `weights/` directory: `$VARGEN_WEIGHTS` if set, else the first `weights/` holding `vqvae.pth`
    /// found walking up from the executable's directory, then from the current directory.
    static func directory(_ context: CLIContext) -> String? {
        if let env = context.environment["VARGEN_WEIGHTS"], !env.isEmpty { return env }
        let starts = [URL(fileURLWithPath: context.executablePath).deletingLastPathComponent().path, context.currentDirectory]
        for start in starts where !start.isEmpty {
            var dir = URL(fileURLWithPath: start).standardizedFileURL
            for _ in 0..<12 {
                let candidate = dir.appendingPathComponent("weights")
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("vqvae.pth").path) {
                    return candidate.path
                }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        return nil
    }

    /// The path of a shipped file, or a usage error with a HINT when no `weights/` directory is found or the
    /// file is missing from it. Errors name `VARGEN_WEIGHTS` when the directory came from it, not `--flag`.
    static func shipped(_ file: String, flag: String, _ context: CLIContext) throws -> String {
        guard let dir = directory(context) else {
            throw UsageError("--\(flag) not given and no shipped weights found (looked for weights/vqvae.pth above the "
                             + "executable and the current directory)\nHINT: pass --\(flag) FILE or set VARGEN_WEIGHTS=DIR")
        }
        let path = dir + "/" + file
        guard !FileManager.default.fileExists(atPath: path) else { return path }
        let source = context.environment["VARGEN_WEIGHTS"].map { $0.isEmpty ? nil : "VARGEN_WEIGHTS=\($0)" } ?? nil
        var isDir: ObjCBool = false
        if let source, !(FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) && isDir.boolValue) {
            throw UsageError("\(source): \(missingDirectoryReason(dir))\nHINT: point VARGEN_WEIGHTS at the directory holding "
                             + "vqvae.pth, drafter.pth and refiner.pth, or unset it")
        }
        throw UsageError("\(source ?? "the shipped weights directory '\(dir)'") has no \(file)\nHINT: pass --\(flag) FILE")
    }
}

/// Checks that a path names a readable regular file (validation, exit code 2); `flag` names the option.
func requireReadableFile(_ path: String, flag: String) throws {
    try requireReadableFile(path, named: "--\(flag)")
}

/// The same, with the errors prefixed by `label` ("--vae", "input PNG", …): what the user typed. Paths are
/// printed escaped (`DisplayText`): a name may come from a file (a model JSON's "vqvae").
func requireReadableFile(_ path: String, named label: String) throws {
    let shown = DisplayText.escaped(path)
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if let file = regularFileAncestor(of: parent) {
            throw UsageError("\(label): '\(shown)' cannot exist: '\(DisplayText.escaped(file))' is a file, not a directory")
        }
        throw UsageError("\(label): file '\(shown)' does not exist")
    }
    guard !isDir.boolValue else { throw UsageError("\(label): '\(shown)' is a directory, expected a file") }
    // A FIFO, device or socket would block or misbehave when read: refused by its kind, without opening it.
    do { try InputFile.requireRegular(path) } catch let f as InputFile.Failure {
        throw UsageError("\(label): '\(shown)' \(f.reason)")
    }
    guard FileManager.default.isReadableFile(atPath: path) else { throw UsageError("\(label): file '\(shown)' is not readable") }
}

/// var-gen writes PNG only: an output named `x.jpg` (or any extension but .png) is refused (exit 2) rather
/// than written as a PNG under a misleading name. A name without extension is accepted as it is.
func requirePNGName(_ path: String, flag: String) throws {
    let ext = URL(fileURLWithPath: path).pathExtension
    guard ext.isEmpty || ext.lowercased() == "png" else {
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        throw UsageError("--\(flag): '\(path)': var-gen writes PNG files only; expected a name ending in .png "
                         + "(e.g. \(stem).png)\nHINT: convert afterwards, e.g. with ImageMagick: magick \(stem).png \(URL(fileURLWithPath: path).lastPathComponent)")
    }
}

/// Checks that the directory that will hold `path` exists and is writable.
func requireWritableDirectory(for path: String, flag: String) throws {
    let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
    try requireWritableDirectory(dir, flag: flag)
}

func requireWritableDirectory(_ dir: String, flag: String) throws {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
        if regularFileAncestor(of: dir) != nil { throw UsageError("--\(flag): \(missingDirectoryReason(dir))") }
        throw UsageError("--\(flag): directory '\(dir)' does not exist\nHINT: create it first (mkdir -p '\(dir)')")
    }
    guard FileManager.default.isWritableFile(atPath: dir) else {
        throw UsageError("--\(flag): directory '\(dir)' is not writable")
    }
    // Temporary files of killed runs (`.NAME.tmp-PID-…`) in a directory this run writes to are removed now.
    StaleTemporaries.remove(in: dir)
}

/// The nearest existing ancestor of `dir` (itself included) when it is a regular file, not a directory.
func regularFileAncestor(of dir: String) -> String? {
    var url = URL(fileURLWithPath: dir).standardizedFileURL
    while true {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) { return isDir.boolValue ? nil : url.path }
        let parent = url.deletingLastPathComponent()
        if parent.path == url.path { return nil }
        url = parent
    }
}

/// Why `dir` is not a usable directory: it is a file, lies under a file, or does not exist.
func missingDirectoryReason(_ dir: String) -> String {
    guard let file = regularFileAncestor(of: dir) else { return "directory '\(dir)' does not exist" }
    return file == URL(fileURLWithPath: dir).standardizedFileURL.path
        ? "'\(dir)' is a file, not a directory" : "'\(dir)' is under '\(file)', which is a file, not a directory"
}

extension WeightPrecision {
    /// The `--weights` spelling.
    var flagValue: String { self == .float16 ? "f16" : self == .int8 ? "q8" : "f32" }
}

/// The model options shared by generate, sample and edit: `--model` for plain VAR, or `--drafter`/`--refiner`/
/// `--draft-steps` for CoDe, and `--vae`.
struct ModelOptions {
    static let specs: [OptionSpec] = [
        .value("vae", "FILE", "VQVAE checkpoint.", default: "the model JSON's \"vqvae\", else weights/vqvae.pth"),
        .value("model", "FILE", "VAR checkpoint for plain generation (exclusive with --drafter/--refiner)."),
        .value("drafter", "FILE", "CoDe drafter (alone: plain generation with it).", default: "weights/drafter.pth"),
        .value("refiner", "FILE", "CoDe refiner; enables CoDe.", default: "weights/refiner.pth when --draft-steps is given"),
        .value("draft-steps", "N", "Scales made by the drafter, 1…S−1; enables CoDe.", default: "the drafter JSON's draft_steps"),
        .value("weights", "f32|f16|q8", "Storage of the transformers' linear weights: f16 halves their memory and traffic "
               + "(F16C kernels, float32 accumulation; float32 on a CPU without F16C). CoDe takes one value or "
               + "DRAFTER,REFINER or DRAFTER/REFINER (e.g. f16,f32: the drafter's small scales gain from f16). q8: int8 with per-row scales "
               + "with int8 products, a quarter of the memory (head float32; docs/quantization.md).", default: "f32"),
        .flag("mmap", "Use float32 weight matrices in place from the checkpoint's memory map instead of copying "
              + "them: VAR-d16 needs 1.1 GiB less and loads in 0.5 s instead of 2 s, and processes mapping one file "
              + "share its pages; the products ran ~8% slower on mapped pages on the project machine."),
    ]

    var vae: String?
    var model: String?
    var drafter: String?
    var refiner: String?
    var draftSteps: Int?
    /// `--weights`: the plain model's or the drafter's precision, and the refiner's.
    var precision: WeightPrecision
    var refinerPrecision: WeightPrecision
    /// `--mmap`.
    var inPlace: Bool

    init(_ p: ParsedOptions) throws {
        vae = p.string("vae"); model = p.string("model"); drafter = p.string("drafter"); refiner = p.string("refiner")
        draftSteps = try p.int("draft-steps")
        (precision, refinerPrecision) = try Self.precisions(p.string("weights"))
        inPlace = p.flag("mmap")
        if model != nil && (drafter != nil || refiner != nil || draftSteps != nil) {
            throw UsageError("--model (plain VAR) cannot be combined with --drafter/--refiner/--draft-steps (CoDe)")
        }
        if model != nil && precision != refinerPrecision {
            throw UsageError("--weights: two values (drafter,refiner) need CoDe, not --model; give one (f32, f16 or q8)")
        }
    }

    /// `--weights`: one precision for every model, or "drafter,refiner" (also written "drafter/refiner", the
    /// spelling `bench` uses, where a comma sweeps).
    static func precisions(_ text: String?) throws -> (WeightPrecision, WeightPrecision) {
        guard let text, text.contains(",") || text.contains("/") else { let p = try precision(text); return (p, p) }
        let items = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "," || $0 == "/" }).map { String($0) }
        guard items.count == 2 else {
            throw UsageError.invalid("weights", text, expected: "f32, f16, q8, or drafter,refiner such as q8,f32 (or q8/f32)")
        }
        return (try precision(items[0]), try precision(items[1]))
    }

    /// `--weights`: f32/float32 or f16/float16.
    static func precision(_ text: String?) throws -> WeightPrecision {
        switch text?.trimmed.lowercased() {
        case nil, "f32", "float32": return .float32
        case "f16", "float16": return .float16
        case "q8", "int8": return .int8
        case let v?: throw UsageError.invalid("weights", v, expected: "f32, f16 or q8")
        }
    }

    /// The shipped drafter; a weights directory that ships only the refiner falls back to it (still a plain
    /// VAR model of the same family) so that a bare `var-gen generate` works.
    static func defaultDrafter(_ context: CLIContext) throws -> String {
        do { return try WeightsLocator.shipped("drafter.pth", flag: "drafter", context) } catch {
            guard let refiner = try? WeightsLocator.shipped("refiner.pth", flag: "drafter", context) else { throw error }
            return refiner
        }
    }

    /// Opens the configurations (no weights), checks the pair and the split, and names the VQVAE.
    func resolve(_ context: CLIContext) throws -> PipelineConfiguration {
        func open(_ path: String, flag: String, precision: WeightPrecision) throws -> ModelSource {
            try requireReadableFile(path, flag: flag)
            do {
                let source = try ModelSource(path: path, precision: precision, inPlace: inPlace)
                // The configuration may come from the JSON alone: the checkpoint itself must open too (its index,
                // not its weights), so that a JSON, a PNG or garbage given as the model is refused now.
                _ = try Checkpoint(path: path)
                return source
            } catch {
                if let ck = try? Checkpoint(path: path), (try? VQVAEConfig.forCheckpoint(at: path, ck)) != nil {
                    throw UsageError("--\(flag): '\(path)' is a VQVAE checkpoint, not a VAR model\nHINT: pass it as --vae")
                }
                throw UsageError("--\(flag): '\(path)': \(userFacing(error))")
            }
        }
        let models: PipelineConfiguration.Models
        if let model {
            models = .plain(try open(model, flag: "model", precision: precision))
        } else {
            let d = try open(try drafter ?? Self.defaultDrafter(context), flag: "drafter", precision: precision)
            if refiner == nil && draftSteps == nil {
                models = .plain(d)
            } else {
                let r = try open(try refiner ?? WeightsLocator.shipped("refiner.pth", flag: "refiner", context), flag: "refiner",
                                 precision: refinerPrecision)
                models = .collaborative(try Self.plan(drafter: d, refiner: r, draftSteps: draftSteps, pairFlag: "--drafter/--refiner"))
            }
        }
        let primary: ModelSource
        switch models {
        case let .plain(m): primary = m
        case let .collaborative(plan): primary = plan.drafter
        }
        let vaePath: String
        let vaeLabel: String
        if let vae {
            (vaePath, vaeLabel) = (vae, "--vae")
        } else if let named = try Self.referencedVQVAE(of: primary) {
            (vaePath, vaeLabel) = (named, "the \"vqvae\" of \(URL(fileURLWithPath: primary.path).deletingPathExtension().lastPathComponent).json")
        } else {
            (vaePath, vaeLabel) = (try WeightsLocator.shipped("vqvae.pth", flag: "vae", context), "--vae")
        }
        try requireReadableFile(vaePath, named: vaeLabel)
        // The VQVAE's configuration (not its weights): a file that is not a VQVAE is refused now, as an input.
        do { _ = try ImageTokenizer.configuration(at: vaePath) } catch {
            if let ck = try? Checkpoint(path: vaePath), (try? VARConfig.forCheckpoint(at: vaePath, checkpoint: ck)) != nil {
                throw UsageError("\(vaeLabel): '\(DisplayText.escaped(vaePath))' is a VAR model, not a VQVAE checkpoint"
                                 + "\nHINT: pass it as --model (or --drafter/--refiner)")
            }
            throw UsageError("\(vaeLabel): '\(DisplayText.escaped(vaePath))': \(userFacing(error))")
        }
        return try PipelineConfiguration(models: models, tokenizer: vaePath)
    }

    /// The VQVAE a model's JSON names, which must stay beside the JSON (`ModelSource.referencedVQVAE`); a name
    /// that leaves the directory is refused as a usage error naming the JSON (give such a file as --vae).
    static func referencedVQVAE(of source: ModelSource) throws -> String? {
        do { return try source.referencedVQVAE() } catch let e as PipelineError {
            throw UsageError("\(e)\nHINT: pass the VQVAE on the command line with --vae FILE")
        }
    }

    /// Notices for flags that have no effect with this configuration: `--mmap` applies to float32 weight
    /// matrices read from float32 files only (float16 ones are converted at load, so they are copied).
    func notices(for configuration: PipelineConfiguration) -> [String] {
        guard inPlace else { return [] }
        var out: [String] = []
        for (role, source) in configuration.roles {
            let name = URL(fileURLWithPath: source.path).lastPathComponent
            if source.precision == .float16 {
                out.append("--mmap has no effect on the \(role) \(name) with --weights f16: its matrices are converted to "
                           + "float16 at load, not used in place")
            } else if let ck = try? Checkpoint(path: source.path), ck.entries.contains(where: { $0.dtype != .float32 && $0.shape.count == 2 }) {
                out.append("--mmap has no effect on the non-float32 matrices of the \(role) \(name): they are converted at "
                           + "load, not used in place")
            }
        }
        return out
    }

    /// A CoDe plan, its errors as usage errors naming the flags (`pairFlag` for an incompatible pair).
    static func plan(drafter d: ModelSource, refiner r: ModelSource, draftSteps: Int?, pairFlag: String) throws -> CoDePlan {
        do { return try CoDePlan(drafter: d, refiner: r, draftSteps: draftSteps) } catch let error as PipelineError {
            switch error {
            case .conflictingPrecisions(let path, let dp, let rp):
                throw UsageError("--weights: the drafter and the refiner are one file (\(path)), loaded once; "
                                 + "give one precision, not \(dp.flagValue),\(rp.flagValue)")
            case .draftStepsOutOfRange: throw UsageError("--draft-steps: \(error)")
            default: throw UsageError("\(pairFlag): \(error)")
            }
        }
    }
}
