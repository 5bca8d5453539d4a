/// Everything that can go wrong while opening or reading a checkpoint.
///
/// Every case names the file; cases about one place in the file carry the byte offset (absolute in
/// the file for container structures, relative to `data.pkl` for pickle errors) so that a user can look
/// at the bytes with `xxd`/`pickletools`. Every message ends with a `HINT:` saying what to do.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or memory-mapped.
    case cannotOpen(file: String, reason: String)
    /// The content is none of the supported formats (or a format we deliberately refuse, e.g. legacy torch).
    case unsupportedFormat(file: String, reason: String)
    /// The ZIP container of a `.pth` file is damaged or uses a feature we refuse (compression, encryption).
    case badZip(file: String, offset: Int, reason: String)
    /// The safetensors header is damaged or inconsistent with the data section.
    case badSafetensors(file: String, reason: String)
    /// `data.pkl` is malformed: truncated, stack misuse, limits exceeded, wrong structure.
    case badPickle(file: String, offset: Int, reason: String)
    /// `data.pkl` uses an opcode the data-only machine does not execute.
    case forbiddenOpcode(file: String, opcode: UInt8, name: String, offset: Int)
    /// `data.pkl` references a global outside the allow-list (or uses an allowed one illegally).
    case forbiddenGlobal(file: String, global: String, offset: Int, reason: String)
    /// A tensor's description does not fit its storage (range, strides, sizes, dtype).
    case badTensor(file: String, key: String, reason: String)
    /// A dtype that var-gen does not read.
    case unsupportedDType(file: String, key: String, dtype: String)
    /// `tensor(_:)`/`int64s(_:)` was asked for a key that the file does not hold.
    case tensorNotFound(file: String, key: String)
    /// The tensor exists but has the wrong kind of element for the request (floats read as integers).
    case wrongDType(file: String, key: String, dtype: DType, wanted: String)
    /// The model's key/shape contract failed; lists every problem at once (docs/design.md, convention 2).
    case contract(file: String, missing: [String], unused: [String], misshaped: [ShapeMismatch])
    /// A weight holds NaN or ±Inf (element `index` in row-major order).
    case nonFiniteWeight(file: String, key: String, index: Int, value: Float)
    /// The file does not hold enough data for the model its configuration describes, or describes more
    /// work than its size justifies (amplification limits, docs/security.md).
    case exceedsLimit(file: String, reason: String)

    /// One mis-shaped tensor of a `.contract` error.
    public struct ShapeMismatch: Equatable, Sendable {
        public var key: String
        public var expected: [Int]
        public var actual: [Int]
        public init(key: String, expected: [Int], actual: [Int]) {
            self.key = key; self.expected = expected; self.actual = actual
        }
    }

    /// The file the error is about.
    public var file: String {
        switch self {
        case .cannotOpen(let f, _), .unsupportedFormat(let f, _), .badZip(let f, _, _),
             .badSafetensors(let f, _), .badPickle(let f, _, _), .forbiddenOpcode(let f, _, _, _),
             .forbiddenGlobal(let f, _, _, _), .badTensor(let f, _, _), .unsupportedDType(let f, _, _),
             .tensorNotFound(let f, _), .wrongDType(let f, _, _, _), .contract(let f, _, _, _),
             .nonFiniteWeight(let f, _, _, _), .exceedsLimit(let f, _):
            return f
        }
    }

    public var description: String {
        func e(_ s: String) -> String { DisplayText.escaped(s) }
        func r(_ s: String) -> String { DisplayText.escaped(s, limit: 2000) }   // reasons may quote a name
        switch self {
        case let .cannotOpen(file, reason):
            return "cannot open checkpoint \(e(file)): \(r(reason))\n"
                + "HINT: check the path and the file's permissions."
        case let .unsupportedFormat(file, reason):
            return "\(e(file)): unsupported checkpoint format: \(r(reason))\n"
                + "HINT: var-gen reads torch.save ZIP files (PyTorch ≥ 1.6) and .safetensors; re-save with "
                + "`torch.save(torch.load(f), g)` or convert to safetensors."
        case let .badZip(file, offset, reason):
            return "\(e(file)): damaged .pth ZIP container at byte \(offset): \(r(reason))\n"
                + "HINT: the file is truncated or corrupt; download it again and compare its size/checksum."
        case let .badSafetensors(file, reason):
            return "\(e(file)): invalid safetensors file: \(r(reason))\n"
                + "HINT: the file is truncated or was not written by a safetensors writer; regenerate it."
        case let .badPickle(file, offset, reason):
            return "\(e(file)): invalid data.pkl at pickle byte \(offset): \(r(reason))\n"
                + "HINT: the file is corrupt or is not a plain state dict; save `model.state_dict()`."
        case let .forbiddenOpcode(file, opcode, name, offset):
            let hex = (opcode < 16 ? "0" : "") + String(opcode, radix: 16, uppercase: false)
            let what = name == "UNKNOWN" ? "an unknown pickle opcode (0x\(hex))" : "pickle opcode \(name) (0x\(hex))"
            return "\(e(file)): data.pkl uses \(what) at pickle byte \(offset), which var-gen refuses to execute\n"
                + "HINT: only plain state dicts of tensors are loaded; never load untrusted pickles with "
                + "torch.load(weights_only=False). Re-save with `torch.save(model.state_dict(), f)`."
        case let .forbiddenGlobal(file, global, offset, reason):
            return "\(e(file)): data.pkl references global `\(e(global))` at pickle byte \(offset): \(r(reason))\n"
                + "HINT: this file may try to run code when loaded with torch.load; do not trust it. "
                + "Only state dicts of tensors are accepted."
        case let .badTensor(file, key, reason):
            return "\(e(file)): tensor `\(e(key))`: \(r(reason))\n"
                + "HINT: the file is corrupt or was written by an unsupported tool; re-save the state dict."
        case let .unsupportedDType(file, key, dtype):
            return "\(e(file)): tensor `\(e(key))` has dtype \(e(dtype)), which var-gen does not read\n"
                + "HINT: convert the checkpoint to float32/float16/bfloat16 "
                + "(e.g. `{k: v.float() for k, v in sd.items()}`)."
        case let .tensorNotFound(file, key):
            return "\(e(file)): no tensor named `\(e(key))`\n"
                + "HINT: list the file's keys with `var-gen inspect` and compare with the model's keys."
        case let .wrongDType(file, key, dtype, wanted):
            return "\(e(file)): tensor `\(e(key))` has dtype \(dtype), expected \(wanted)\n"
                + "HINT: the key holds a different kind of data than this model expects; is this the right file?"
        case let .contract(file, missing, unused, misshaped):
            return Self.contractMessage(file: e(file), missing: missing.map(e), unused: unused.map(e),
                                        misshaped: misshaped.map { .init(key: e($0.key), expected: $0.expected, actual: $0.actual) })
        case let .nonFiniteWeight(file, key, index, value):
            return "\(e(file)): tensor `\(e(key))` holds \(value) at element \(index); weights must be finite numbers\n"
                + "HINT: the checkpoint is damaged or came from a diverged training run; use another file."
        case let .exceedsLimit(file, reason):
            return "\(e(file)): \(r(reason))\n"
                + "HINT: the file is damaged or crafted; var-gen bounds the work a file can ask for (docs/security.md)."
        }
    }

    static func shapeText(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }

    private static func contractMessage(file: String, missing: [String], unused: [String],
                                        misshaped: [ShapeMismatch]) -> String {
        let limit = 20
        var lines = ["\(file) does not match the model: \(missing.count) missing, \(unused.count) unused, "
                     + "\(misshaped.count) mis-shaped tensor(s)"]
        func list(_ title: String, _ items: [String]) {
            for item in items.prefix(limit) { lines.append("  \(title) \(item)") }
            if items.count > limit { lines.append("  \(title) … and \(items.count - limit) more") }
        }
        list("missing:   ", missing)
        list("unused:    ", unused)
        list("mis-shaped:", misshaped.map {
            "\($0.key): model expects \(shapeText($0.expected)), file has \(shapeText($0.actual))"
        })
        lines.append("HINT: " + contractHint(missing: missing, unused: unused, misshaped: misshaped))
        return lines.joined(separator: "\n")
    }

    /// Guess the most likely mistake from the key names (VQVAE vs VAR file, wrong model size).
    private static func contractHint(missing: [String], unused: [String], misshaped: [ShapeMismatch]) -> String {
        func looksVQVAE(_ keys: [String]) -> Bool {
            keys.contains { $0.hasPrefix("encoder.") || $0.hasPrefix("decoder.") || $0.hasPrefix("quantize.") }
        }
        func looksVAR(_ keys: [String]) -> Bool {
            keys.contains { $0.hasPrefix("blocks.") || $0 == "pos_1LC" || $0.hasPrefix("class_emb.") }
        }
        if !missing.isEmpty && !unused.isEmpty {
            if looksVAR(missing) && looksVQVAE(unused) && !looksVAR(unused) {
                return "this looks like a VQVAE file; is it passed as --model instead of --vqvae?"
            }
            if looksVQVAE(missing) && looksVAR(unused) && !looksVQVAE(unused) {
                return "this looks like a VAR transformer file; is it passed as --vqvae instead of --model?"
            }
        }
        if missing.isEmpty && unused.isEmpty {
            return "the file is for a different model size (depth/width/vocabulary); "
                + "check the config JSON beside it or pass the matching checkpoint."
        }
        if !unused.isEmpty && missing.isEmpty {
            return "the file has extra tensors: it is probably a different (larger or newer) model variant."
        }
        return "the file holds a different model; check the --model/--vqvae paths and the config JSON."
    }
}
