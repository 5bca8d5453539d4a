/// Saved token pyramids (`generate --save-tokens`, `reconstruct --save-tokens`, read by `decode`): a
/// safetensors file with `scale_{si}` `(B, pn, pn)` int64 per scale, `labels` `(B)` and `seeds` `(B)`,
/// and `__metadata__` holding `patch_sizes` and provenance.
///
/// Reading validates the whole file before anything is returned (so nothing is written from a bad one):
/// scales `scale_0 … scale_{S−1}` without gaps, each `(B, pn, pn)` of an integer dtype with the same
/// B ≥ 1, sides strictly increasing and within `ConfigLimits`, `patch_sizes` metadata (when present) equal
/// to the sides, `labels` and `seeds` (when present) of shape `(B)`, no other tensors, and every token an
/// index in `0..<V` (`V` = `vocabSize` when given, else 2^31) — an int64 is never truncated.
public enum TokenFile {
    /// Writes the pyramid atomically. `tokens[si]` holds `B·pn²` indices, image-major.
    public static func write(tokens: [[Int32]], labels: [Int], seeds: [UInt64], patchSizes: [Int],
                             metadata: [String: String], to path: String) throws {
        let B = labels.count
        var tensors: [SafetensorsEncoder.Entry] = []
        for (si, t) in tokens.enumerated() {
            let pn = patchSizes[si]
            tensors.append(.init(name: "scale_\(si)", shape: [B, pn, pn], int64s: t.map(Int64.init)))
        }
        tensors.append(.init(name: "labels", shape: [B], int64s: labels.map(Int64.init)))
        tensors.append(.init(name: "seeds", shape: [B], int64s: seeds.map { Int64(bitPattern: $0) }))
        var meta = metadata
        meta["patch_sizes"] = patchSizes.map(String.init).joined(separator: ",")
        meta["format"] = "var-gen tokens 1"
        try SafetensorsEncoder.write(tensors, metadata: meta, to: path)
    }

    /// A validated token file.
    public struct Contents: Sendable {
        /// Per scale, `B·pn²` token indices (image-major, then raster order).
        public var tokens: [[Int32]]
        public var patchSizes: [Int]
        /// One class label per image, when the file has them.
        public var labels: [Int]?
        /// One seed per image, when the file has them.
        public var seeds: [UInt64]?
        /// Images B (≥ 1).
        public var count: Int
    }

    /// Reads and validates `path` (see the type's documentation). With `patchSizes`/`vocabSize` (a model's),
    /// the schedule must equal it and every token must be below `vocabSize`.
    public static func read(_ path: String, patchSizes expected: [Int]? = nil, vocabSize: Int? = nil) throws -> Contents {
        let ck = try Checkpoint(path: path)
        func bad(_ m: String) -> RuntimeError { .invalidArrayFile(path: path, message: m + "\nHINT: pass a file written by --save-tokens") }
        var sizes: [Int] = []
        var batch: Int?
        while let e = ck.entry("scale_\(sizes.count)") {
            let si = sizes.count
            guard si < ConfigLimits.maxScales else { throw bad("more than \(ConfigLimits.maxScales) scales") }
            guard e.shape.count == 3, e.shape[1] == e.shape[2], (1...ConfigLimits.maxPatchSide).contains(e.shape[1]) else {
                throw bad("scale_\(si) has shape \(e.shape); expected (B, pn, pn) with 1 ≤ pn ≤ \(ConfigLimits.maxPatchSide)")
            }
            guard !e.dtype.isFloatingPoint else { throw bad("scale_\(si) holds \(e.dtype) values; expected integer tokens") }
            if let B = batch, e.shape[0] != B {
                throw bad("scale_\(si) has \(e.shape[0]) images but scale_0 has \(B); every scale needs the same batch")
            }
            batch = e.shape[0]
            if let last = sizes.last, e.shape[1] <= last {
                throw bad("scale_\(si) has side \(e.shape[1]) after \(last); sides must increase")
            }
            sizes.append(e.shape[1])
        }
        guard let B = batch else { throw bad("the file holds no scale_0 tensor") }
        guard B >= 1 else { throw bad("the file holds 0 images") }
        let known = Set((0..<sizes.count).map { "scale_\($0)" } + ["labels", "seeds"])
        if let other = ck.names.first(where: { !known.contains($0) }) {
            throw bad("unexpected tensor `\(DisplayText.escaped(other))` (a token file holds scale_0…scale_\(sizes.count - 1), "
                      + "labels and seeds)")
        }
        if let text = ck.metadata["patch_sizes"], text != sizes.map(String.init).joined(separator: ",") {
            throw bad("metadata patch_sizes \"\(DisplayText.escaped(text))\" disagrees with the scales' sides \(sizes)")
        }
        if let expected, expected != sizes {
            throw bad("the tokens have scales \(sizes) but the model uses \(expected)")
        }
        func perImage(_ name: String) throws -> [Int64]? {
            guard let e = ck.entry(name) else { return nil }
            guard e.shape == [B], !e.dtype.isFloatingPoint else {
                throw bad("\(name) has shape \(e.shape) and dtype \(e.dtype); expected (\(B)) integers, one per image")
            }
            return try ck.int64s(name)
        }
        let labels = try perImage("labels")
        if let l = labels?.first(where: { $0 < -1 || $0 > Int64(ConfigLimits.maxClasses) }) {
            throw bad("label \(l) is outside -1…\(ConfigLimits.maxClasses)")
        }
        let seeds = try perImage("seeds")
        let limit = Int64(vocabSize ?? Int(Int32.max) + 1)
        var tokens: [[Int32]] = []
        for si in sizes.indices {
            let values = try ck.int64s("scale_\(si)")
            if let i = values.firstIndex(where: { $0 < 0 || $0 >= limit }) {
                let pn = sizes[si]
                throw bad("token \(values[i]) at scale_\(si) (image \(i / (pn * pn)), position \(i % (pn * pn))) is outside "
                          + "0…\(limit - 1)" + (vocabSize != nil ? " (the vocabulary)" : ""))
            }
            tokens.append(values.map { Int32($0) })
        }
        return Contents(tokens: tokens, patchSizes: sizes, labels: labels?.map { Int($0) },
                        seeds: seeds?.map { UInt64(bitPattern: $0) }, count: B)
    }
}
