import Foundation
import VARKit

/// `var-gen generate --from FILE.png`: runs the command recorded in a PNG again (generate, grid, a sample
/// image, edit, decode or reconstruct) with the recorded settings. Each recorded file (models, VQVAE, edit
/// inputs, token file) is found by name beside the PNG, in the weights directory or in the current directory,
/// and must have the recorded SHA-256; a renamed or moved file is passed with its flag (`--model`, `--drafter`,
/// `--refiner`, `--vae`, `--input`, `--mask`, `--tokens`) and is accepted when its content hash matches.
/// With the same files the output has the same bytes as the original.
enum Replay {
    static let fileFlags = ["model", "drafter", "refiner", "vae", "input", "mask", "tokens"]

    static let specs: [OptionSpec] = [
        .value("from", "PNG", "Re-run the image from its own metadata (all settings come from the PNG)."),
        .value("output", "FILE", "Where to write the re-made PNG.", default: "NAME.rerun.png in the current directory"),
        .value("model", "FILE", "The recorded plain model, if renamed or moved (checked by content hash)."),
        .value("drafter", "FILE", "The recorded drafter, if renamed or moved."),
        .value("refiner", "FILE", "The recorded refiner, if renamed or moved."),
        .value("vae", "FILE", "The recorded VQVAE, if renamed or moved."),
        .value("input", "PNG", "The recorded edit or reconstruct input, if renamed or moved."),
        .value("mask", "PNG", "The recorded edit mask, if renamed or moved."),
        .value("tokens", "FILE", "The recorded token file of a decode, if renamed or moved."),
        .flag("scales", "Also write the coarse-to-fine strip beside the re-made image (implied when PNG is a strip)."),
    ]

    /// Whether a `generate` command line asks for a re-run.
    static func requested(_ arguments: [String]) -> Bool {
        arguments.contains { $0 == "--from" || $0.hasPrefix("--from=") }
    }

    /// Parses `generate --from …`, builds the recorded command and validates it (usage errors: exit 2).
    static func command(_ arguments: [String], context: CLIContext) throws -> Command {
        let allowed = specs + RuntimeOptions.specs
        for arg in arguments where arg.hasPrefix("--") {
            let name = String(arg.dropFirst(2).prefix { $0 != "=" })
            if !allowed.contains(where: { $0.name == name }), GenerateCommand.options.contains(where: { $0.name == name }) {
                throw UsageError("--\(name) cannot be combined with --from: the settings come from the PNG "
                                 + "(--output, file flags and runtime flags such as --threads can be given)")
            }
        }
        let p = try OptionParser.parse(arguments, specs: allowed)
        guard p.positionals.isEmpty else { throw UsageError("unexpected argument '\(p.positionals[0])' with --from") }
        guard let source = p.string("from") else { throw UsageError("--from needs a PNG") }
        try requireReadableFile(source, flag: "from")
        let record: GenerationRecord
        do { record = try GenerationRecord.read(png: source) } catch { throw UsageError("--from: \(error)") }
        // A strip (`NAME.scales.png`) is made again with its image: NAME.rerun.png and NAME.rerun.scales.png.
        let isStrip = record.strip == true
        var stem = URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent
        if isStrip, stem.hasSuffix(".scales") { stem.removeLast(".scales".count) }
        let output = p.string("output") ?? stem + ".rerun.png"
        let scales = isStrip || p.flag("scales")
        if scales && [.decode, .reconstruct].contains(record.command) {
            throw UsageError("--scales: \(source) was written by '\(record.command.rawValue)', which has no scales to show")
        }
        if isStrip {
            context.console.err("var-gen: note: \(source) is the --scales strip of an image: making the image (\(output)) and its "
                                + "strip (\(Records.stripPath(output))) again\n")
        }
        let dirs: [String] = [URL(fileURLWithPath: source).deletingLastPathComponent().path, WeightsLocator.directory(context),
                    context.currentDirectory].compactMap { $0 }
        var used: Set<String> = []
        func find(_ id: GenerationRecord.FileIdentity, _ flag: String, _ role: String) throws -> String {
            used.insert(flag)
            return try locate(id, role: role, flag: flag, given: p.string(flag), searchDirectories: dirs)
        }
        var runtime: [String] = []
        for spec in RuntimeOptions.specs {
            if p.flag(spec.name) { runtime.append("--\(spec.name)") }
            if let v = p.string(spec.name) { runtime += ["--\(spec.name)", v] }
        }
        var args: [String] = []
        let vae = try find(record.vqvae, "vae", "VQVAE")
        if let m = record.models {
            if let model = m.model { args += ["--model", try find(model, "model", "model")] }
            if let d = m.drafter, let r = m.refiner, let n = m.draftSteps {
                args += ["--drafter", try find(d, "drafter", "drafter"), "--refiner", try find(r, "refiner", "refiner"),
                         "--draft-steps", String(n)]
            }
            args += ["--weights", m.weights]
        }
        args += ["--vae", vae]
        if let s = record.sampling { args += samplingArguments(s) }
        let classes = (record.classes ?? []).map(\.description).joined(separator: ",")
        let count = String(record.grid?.count ?? 1)
        let type: Command.Type
        switch record.command {
        case .generate, .grid, .sample:
            type = GenerateCommand.self
            args += ["--class", classes, "--count", count, "--seed", String(record.seed ?? 0)]
            if let g = record.grid { args += ["--grid"] + (g.columns.map { ["--columns", String($0)] } ?? []) }
        case .edit:
            type = EditCommand.self
            guard let e = record.edit else { throw UsageError("--from: \(source) has no edit inputs") }
            args += ["--input", try find(e.input, "input", "edit input"),
                     "--class", record.classes?.first?.description ?? "uncond", "--count", count,
                     "--seed", String(record.seed ?? 0)]
            if let mask = e.mask { args += ["--mask", try find(mask, "mask", "edit mask")] }
            if let box = e.box { args += ["--box", box.map { String($0) }.joined(separator: ",")] }
            if e.outpaint { args.append("--outpaint") }
            if record.grid != nil { args.append("--grid") }
        case .decode:
            type = DecodeCommand.self
            guard let t = record.tokens else { throw UsageError("--from: \(source) names no token file") }
            args = [try find(t.file, "tokens", "token file"), "--vae", vae] + (record.grid != nil ? ["--grid"] : [])
                + (t.index.map { ["--index", String($0)] } ?? [])
        case .reconstruct:
            type = ReconstructCommand.self
            guard let i = record.input else { throw UsageError("--from: \(source) names no input image") }
            args = [try find(i, "input", "input image"), "--vae", vae]
        }
        // A file flag the record has no use for would be silently ignored: refuse it.
        for flag in fileFlags where p.string(flag) != nil && !used.contains(flag) {
            throw UsageError("--\(flag): the record of \(source) (a '\(record.command.rawValue)') names no such file; "
                             + "nothing would read it\nHINT: leave --\(flag) out")
        }
        args += ["--output", output] + runtime + (scales ? ["--scales"] : [])
        do {
            var command = try type.init(try OptionParser.parse(args, specs: type.options), context: context)
            if var g = command as? GenerateCommand, let s = record.sample {
                try checkSampleSeed(record, s, config: g.pipeline.primary.config, source: source)
                g.sampleOrigin = s
                command = g
            }
            try command.validate(context)
            return command
        } catch let e as UsageError {
            throw recordFieldError(e, source: source)
        }
    }

    /// The record field each settings flag is built from, for errors about a value the record holds.
    static let recordFields = [
        "cfg": "sampling.cfg", "top-k": "sampling.topK", "top-p": "sampling.topP", "temp": "sampling.temperature",
        "weights": "models.weights", "draft-steps": "models.draftSteps", "class": "classes", "seed": "seed",
        "count": "grid.count", "columns": "grid.columns", "box": "edit.box", "index": "tokens.index",
    ]

    /// A usage error about a flag `--from` filled in from the record, reworded to name the record's field:
    /// the user never typed that flag.
    static func recordFieldError(_ e: UsageError, source: String) -> UsageError {
        for (flag, field) in recordFields where e.message.hasPrefix("--\(flag):") || e.message.hasPrefix("--\(flag) ") {
            let rest = e.message.dropFirst(flag.count + 2).drop { $0 == ":" || $0 == " " }
            return UsageError("--from: \(source): record field '\(field)': \(rest)")
        }
        return e
    }

    /// A sample image's seed must be the one its base seed, class and k give (`SampleCommand.seed`).
    static func checkSampleSeed(_ record: GenerationRecord, _ s: GenerationRecord.SampleIndex, config: VARConfig,
                                source: String) throws {
        guard let choice = record.classes?.first, let seed = record.seed else { return }
        let c = choice.label(unconditionalClass: config.unconditionalClass)
        let expected = SampleCommand.seed(base: s.baseSeed, classID: c, index: s.index)
        guard seed == expected else {
            throw UsageError("--from: \(source): record field 'seed': \(seed) is not the seed of sample image \(s.index) of class "
                             + "\(choice) from base seed \(s.baseSeed) (expected \(expected))")
        }
    }

    /// The sampling flags that reproduce `s` exactly (shortest round-trip spelling of each number).
    static func samplingArguments(_ s: GenerationRecord.Sampling) -> [String] {
        func list<T>(_ p: PerScale<T>, _ f: (T) -> String) -> String {
            switch p {
            case let .uniform(v): return f(v)
            case let .perScale(l): return l.map(f).joined(separator: ",")
            }
        }
        return ["--cfg", String(s.cfg), "--top-k", list(s.topK) { String($0) }, "--top-p", String(s.topP),
                "--temp", list(s.temperature) { String($0) }] + (s.smooth ? ["--smooth"] : [])
    }

    /// The path of a recorded file: the flag's file when given (its hash must match), else the first
    /// `name` in `searchDirectories` with the recorded hash.
    static func locate(_ id: GenerationRecord.FileIdentity, role: String, flag: String, given: String?,
                       searchDirectories: [String]) throws -> String {
        let short = String(id.sha256.prefix(12))
        let name = DisplayText.escaped(id.name)     // from the PNG: printed escaped
        if let given {
            try requireReadableFile(given, flag: flag)
            let h = try Records.hashes.hash(given)
            guard h == id.sha256 else {
                throw UsageError("--\(flag) '\(given)' has SHA-256 \(h.prefix(12))…, but the recorded \(role) \(name) "
                                 + "has \(short)…; expected the same content")
            }
            return given
        }
        var differing: [String] = []
        for dir in searchDirectories {
            let path = dir + "/" + id.name
            guard FileManager.default.isReadableFile(atPath: path) else { continue }
            if (try? Records.hashes.hash(path)) == id.sha256 { return path }
            differing.append(path)
        }
        var message = "the recorded \(role) \(name) (SHA-256 \(short)…) was not found"
        if !differing.isEmpty { message += "; \(differing.map { DisplayText.escaped($0) }.joined(separator: ", ")) has other content" }
        message += "\nHINT: pass the file with --\(flag) FILE (it is recognised by its content, whatever its name)"
        throw UsageError(message)
    }
}
