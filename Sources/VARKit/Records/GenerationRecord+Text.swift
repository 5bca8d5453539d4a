import Foundation

extension GenerationRecord {
    /// The `tEXt` keyword of the record's JSON.
    public static let textKey = "var-gen"
    /// The `tEXt` keyword Stable Diffusion tools (AUTOMATIC1111, sd.cpp, PNG-info viewers) read.
    public static let parametersKey = "parameters"

    /// The record as compact JSON with sorted keys (the same record always gives the same bytes), every
    /// non-ASCII character escaped as `\uXXXX` so that the text fits a Latin-1 `tEXt` chunk.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return asciiEscaped(String(decoding: try encoder.encode(self), as: UTF8.self))
    }

    /// Parses and checks a record's JSON; `path` names the file in errors.
    public static func parse(json text: String, path: String) throws -> GenerationRecord {
        let record: GenerationRecord
        do { record = try JSONDecoder().decode(GenerationRecord.self, from: Data(text.utf8)) } catch {
            throw RecordError.from(error, path: path)
        }
        try record.check(path: path)
        return record
    }

    /// The record of a PNG's text chunks; `path` names the file in errors.
    public static func from(textChunks chunks: [PNGTextChunk], path: String) throws -> GenerationRecord {
        guard let text = chunks.first(where: { $0.key == textKey })?.text else { throw RecordError.noRecord(path: path) }
        guard text.first == "{" else { throw RecordError.legacy(path: path, text: text) }
        return try parse(json: text, path: path)
    }

    /// The record of the PNG file at `path` (reads its text chunks, not its pixels).
    public static func read(png path: String) throws -> GenerationRecord {
        try from(textChunks: try PNG.readText(path), path: path)
    }

    /// The chunks to write: the record's JSON (`var-gen`) and the Stable-Diffusion-style `parameters`.
    /// - Parameters:
    ///   - classNames: the display name of each entry of `classes` (e.g. from the model JSON).
    ///   - steps: the number of scales S (shown as `Steps`).
    public func textChunks(classNames: [String], steps: Int?, width: Int, height: Int) throws -> [PNGTextChunk] {
        [PNGTextChunk(key: Self.textKey, text: try json()),
         PNGTextChunk(key: Self.parametersKey, text: parametersText(classNames: classNames, steps: steps, width: width, height: height))]
    }

    /// AUTOMATIC1111's layout: the prompt (here the class names) on the first line, then one line of
    /// `Name: value` pairs separated by `, ` (values holding `,` or `:` in double quotes). Characters outside
    /// Latin-1 become `?`. For viewers only: `--from` reads the JSON chunk.
    public func parametersText(classNames: [String], steps: Int?, width: Int, height: Int) -> String {
        var fields: [(String, String)] = []
        if let steps { fields.append(("Steps", String(steps))) }
        if sampling != nil { fields.append(("Sampler", models?.drafter != nil ? "CoDe next-scale" : "VAR next-scale")) }
        if let s = sampling { fields.append(("CFG scale", number(s.cfg))) }
        if let seed { fields.append(("Seed", String(seed))) }
        fields.append(("Size", "\(width)x\(height)"))
        if let m = models {
            if let model = m.model ?? m.drafter {
                fields.append(("Model hash", model.shortHash))
                fields.append(("Model", stem(model.name)))
            }
            if let r = m.refiner {
                fields.append(("Refiner hash", r.shortHash))
                fields.append(("Refiner", stem(r.name)))
            }
            if let n = m.draftSteps { fields.append(("Draft steps", String(n))) }
            fields.append(("Weights", m.weights))
        }
        fields.append(("VAE hash", vqvae.shortHash))
        fields.append(("VAE", vqvae.name))
        if let s = sampling {
            fields.append(("Top k", perScale(s.topK) { String($0) }))
            fields.append(("Top p", number(s.topP)))
            fields.append(("Temperature", perScale(s.temperature, number)))
            if s.smooth { fields.append(("Smooth", "true")) }
        }
        if let e = edit {
            fields.append(("Edit input", e.input.name))
            if let m = e.mask { fields.append(("Edit mask", m.name)) }
            if let b = e.box { fields.append((e.outpaint ? "Outpaint box" : "Inpaint box", b.map(number).joined(separator: ","))) }
        }
        if let t = tokens { fields.append(("Tokens", t.file.name + (t.index.map { " #\($0)" } ?? ""))) }
        if let i = input { fields.append(("Reconstructed", i.name)) }
        if strip == true { fields.append(("Scale strip", "the picture after each scale")) }
        fields.append(("Version", "var-gen \(version)"))
        let line = fields.map { "\($0.0): \(quoted($0.1))" }.joined(separator: ", ")
        let prompt = classNames.isEmpty ? "" : classNames.joined(separator: ", ")
        return latin1(prompt + "\n" + line)
    }

    /// Structural checks beyond the JSON types: the fields each kind needs, hashes, ranges.
    func check(path: String) throws {
        func bad(_ field: String, _ reason: String) -> RecordError { .invalidField(path: path, field: field, reason: reason) }
        guard format == Self.currentFormat else { throw RecordError.unsupportedFormat(path: path, format: format) }
        var files: [(String, FileIdentity)] = [("vqvae", vqvae)]
        if let m = models {
            files += [("models.model", m.model), ("models.drafter", m.drafter), ("models.refiner", m.refiner)]
                .compactMap { f in f.1.map { (f.0, $0) } }
            guard (m.model != nil) != (m.drafter != nil), (m.drafter != nil) == (m.refiner != nil),
                  (m.drafter != nil) == (m.draftSteps != nil) else {
                throw bad("models", "expected either 'model', or 'drafter', 'refiner' and 'draftSteps'")
            }
            if let n = m.draftSteps, n < 1 { throw bad("models.draftSteps", "expected ≥ 1, got \(n)") }
        }
        if let e = edit {
            files.append(("edit.input", e.input))
            if let m = e.mask { files.append(("edit.mask", m)) }
            guard (e.mask != nil) != (e.box != nil) else { throw bad("edit", "expected one of 'mask' and 'box'") }
            if let b = e.box, b.count != 4 || !b.allSatisfy({ (0...1).contains($0) }) || b[0] >= b[2] || b[1] >= b[3] {
                throw bad("edit.box", "expected y0,x0,y1,x1 in [0, 1] with y0 < y1 and x0 < x1")
            }
        }
        if let t = tokens { files.append(("tokens.file", t.file)) }
        if let i = input { files.append(("input", i)) }
        for (field, f) in files {
            guard f.sha256.count == 64, f.sha256.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
                throw bad(field + ".sha256", "expected 64 lower-case hex digits")
            }
            guard !f.name.isEmpty, !f.name.contains("/") else { throw bad(field + ".name", "expected a file name without directories") }
        }
        // Sizes first: the arithmetic below must not overflow on a hostile record.
        if let g = grid {
            guard (1...Self.maxGridImages).contains(g.count) else {
                throw bad("grid.count", "expected 1…\(Self.maxGridImages), got \(g.count)")
            }
            if let c = g.columns, c < 1 { throw bad("grid.columns", "expected ≥ 1, got \(c)") }
        }
        if let s = sample, !(0...Int(UInt32.max)).contains(s.index) {
            throw bad("sample.index", "expected 0…\(UInt32.max), got \(s.index)")
        }
        if let s = sample, s.baseSeed > UInt64(UInt32.max) { throw bad("sample.baseSeed", "expected 0…\(UInt32.max), got \(s.baseSeed)") }
        let generated: Set<Kind> = [.generate, .grid, .sample, .edit]
        if generated.contains(command) {
            if models == nil { throw bad("models", "missing (needed by '\(command.rawValue)')") }
            if sampling == nil { throw bad("sampling", "missing (needed by '\(command.rawValue)')") }
            if seed == nil { throw bad("seed", "missing (needed by '\(command.rawValue)')") }
            guard let c = classes, !c.isEmpty else { throw bad("classes", "missing (needed by '\(command.rawValue)')") }
            if let seed, seed > UInt64(UInt32.max) { throw bad("seed", "expected 0…\(UInt32.max), got \(seed)") }
            // Checked before any arithmetic with it (a record's count may be anything a file says).
            if let g = grid, g.count < 1 || g.count > Int(UInt32.max) {
                throw bad("grid.count", "expected 1…\(UInt32.max), got \(g.count)")
            }
            if let seed, let g = grid, seed > UInt64(UInt32.max) - UInt64(g.count - 1) {
                throw bad("seed", "seed \(seed) + \(g.count - 1) exceeds \(UInt32.max)")
            }
        }
        if let g = grid {
            if let c = g.columns, c < 1 { throw bad("grid.columns", "expected ≥ 1") }
            if command != .decode, let c = classes, c.count != g.count {
                throw bad("classes", "expected \(g.count) entries (one per grid cell), got \(c.count)")
            }
        } else if command != .decode, command != .reconstruct, let c = classes, c.count != 1 {
            throw bad("classes", "expected one class for a single image, got \(c.count)")
        }
        if command == .grid, grid == nil { throw bad("grid", "missing (needed by 'grid')") }
        if command == .sample, sample == nil { throw bad("sample", "missing (needed by 'sample')") }
        if command == .edit, edit == nil { throw bad("edit", "missing (needed by 'edit')") }
        if command == .decode, tokens == nil { throw bad("tokens", "missing (needed by 'decode')") }
        if command == .reconstruct, input == nil { throw bad("input", "missing (needed by 'reconstruct')") }
        if strip == true, !generated.contains(command) {
            throw bad("strip", "a scale strip is written by generate, sample and edit, not by '\(command.rawValue)'")
        }
    }
}

private func number(_ d: Double) -> String {
    d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
}

private func perScale<T>(_ p: PerScale<T>, _ render: (T) -> String) -> String {
    switch p {
    case let .uniform(v): return render(v)
    case let .perScale(list): return list.map(render).joined(separator: ",")
    }
}

private func stem(_ name: String) -> String {
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
    return String(name[..<dot])
}

private func quoted(_ value: String) -> String {
    guard value.contains(",") || value.contains(":") || value.contains("\n") || value.contains("\"") else { return value }
    return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        .replacingOccurrences(of: "\n", with: "\\n") + "\""
}

private func latin1(_ s: String) -> String {
    String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 256 ? $0 : "?" }))
}

/// JSON text with every non-ASCII scalar written as `\uXXXX` (UTF-16 surrogate pairs above U+FFFF); valid
/// because JSON only contains non-ASCII characters inside strings.
private func asciiEscaped(_ json: String) -> String {
    var out = ""
    out.unicodeScalars.reserveCapacity(json.unicodeScalars.count)
    for u in json.unicodeScalars {
        if u.isASCII { out.unicodeScalars.append(u); continue }
        for unit in String(u).utf16 { out += "\\u" + String(format: "%04x", unit) }
    }
    return out
}
