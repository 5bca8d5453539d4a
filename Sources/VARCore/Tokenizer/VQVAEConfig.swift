import Foundation

/// Errors of the tokenizer module.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// The configuration contradicts itself.
    case invalidConfig(String)
    /// The checkpoint lacks a tensor needed to infer the configuration.
    case cannotInfer(key: String)
    /// A value outside the range `ConfigLimits` accepts (from the JSON, or inferred from the checkpoint).
    case outOfRange(LimitViolation)
    /// The configuration JSON could not be read or parsed.
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidConfig(let why):
            return "invalid VQVAE configuration: \(why). HINT: check the VQVAE's JSON (beside its checkpoint) against docs/design.md."
        case .cannotInfer(let key):
            return "cannot infer the VQVAE configuration: tensor \(DisplayText.escaped(key)) not found or not of the "
                + "expected rank. HINT: is this a VQVAE checkpoint? Non-official models need a JSON configuration beside the .pth."
        case .outOfRange(let v):
            return "invalid VQVAE configuration: \(v)\nHINT: the limits are listed in docs/security.md; check the "
                + "VQVAE JSON (docs/design.md) or the checkpoint it describes."
        case let .unreadable(path, reason):
            return "cannot read VQVAE config \(DisplayText.escaped(path)): \(reason)"
        }
    }
}

/// Architecture and scale schedule of a multi-scale VQVAE (docs/model.md §1.2, docs/design.md "Model configuration JSON").
public struct VQVAEConfig: Codable, Equatable, Sendable {
    /// Codebook size V.
    public var vocabSize: Int
    /// Latent channels Cvae.
    public var zChannels: Int
    /// Base channel count; level `l` has `ch · chMult[l]` channels.
    public var ch: Int
    public var chMult: [Int]
    /// ResnetBlocks per encoder level (decoder levels have one more).
    public var numResBlocks: Int
    /// Side of every scale; the last is the latent side.
    public var patchSizes: [Int]
    /// Number of φ convolutions K.
    public var phiCount: Int
    /// φ used by each scale (docs/model.md §4.6), stored rather than recomputed.
    public var phiIndex: [Int]
    /// φ mixing ratio: `φ(h) = (1 − q)·h + q·conv(h)`.
    public var quantResi: Float
    /// Image side in pixels = latent side · 2^(levels − 1).
    public var imageSize: Int

    enum CodingKeys: String, CodingKey {
        case kind
        case vocabSize = "vocab_size", zChannels = "z_channels", ch, chMult = "ch_mult"
        case numResBlocks = "num_res_blocks", patchSizes = "patch_sizes", phiCount = "phi_count"
        case phiIndex = "phi_index", quantResi = "quant_resi", imageSize = "image_size"
    }

    public init(vocabSize: Int, zChannels: Int, ch: Int, chMult: [Int], numResBlocks: Int,
                patchSizes: [Int], phiCount: Int, phiIndex: [Int], quantResi: Float = 0.5, imageSize: Int? = nil) {
        self.vocabSize = vocabSize; self.zChannels = zChannels; self.ch = ch; self.chMult = chMult
        self.numResBlocks = numResBlocks; self.patchSizes = patchSizes; self.phiCount = phiCount
        self.phiIndex = phiIndex; self.quantResi = quantResi
        self.imageSize = imageSize ?? (patchSizes.last ?? 0) << max(chMult.count - 1, 0)
    }

    /// The official `vae_ch160v4096z32.pth` (docs/model.md §1.2).
    public static let official256 = VQVAEConfig(
        vocabSize: 4096, zChannels: 32, ch: 160, chMult: [1, 1, 2, 2, 4], numResBlocks: 2,
        patchSizes: [1, 2, 3, 4, 5, 6, 8, 10, 13, 16], phiCount: 4,
        phiIndex: [0, 0, 1, 1, 1, 2, 2, 3, 3, 3], quantResi: 0.5, imageSize: 256)

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let kind = try c.decodeIfPresent(String.self, forKey: .kind), kind != "vqvae" {
            throw TokenizerError.invalidConfig("kind is \"\(DisplayText.escaped(kind))\", expected \"vqvae\"")
        }
        self.init(vocabSize: try c.decode(Int.self, forKey: .vocabSize),
                  zChannels: try c.decode(Int.self, forKey: .zChannels),
                  ch: try c.decode(Int.self, forKey: .ch),
                  chMult: try c.decode([Int].self, forKey: .chMult),
                  numResBlocks: try c.decode(Int.self, forKey: .numResBlocks),
                  patchSizes: try c.decode([Int].self, forKey: .patchSizes),
                  phiCount: try c.decode(Int.self, forKey: .phiCount),
                  phiIndex: try c.decode([Int].self, forKey: .phiIndex),
                  quantResi: try c.decodeIfPresent(Float.self, forKey: .quantResi) ?? 0.5,
                  imageSize: try c.decodeIfPresent(Int.self, forKey: .imageSize))
        try validate()
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("vqvae", forKey: .kind)
        try c.encode(vocabSize, forKey: .vocabSize); try c.encode(zChannels, forKey: .zChannels)
        try c.encode(ch, forKey: .ch); try c.encode(chMult, forKey: .chMult)
        try c.encode(numResBlocks, forKey: .numResBlocks); try c.encode(patchSizes, forKey: .patchSizes)
        try c.encode(phiCount, forKey: .phiCount); try c.encode(phiIndex, forKey: .phiIndex)
        try c.encode(quantResi, forKey: .quantResi); try c.encode(imageSize, forKey: .imageSize)
    }

    /// Reads `weights/<stem>.json` (a regular file of at most `VARConfig.maxJSONBytes`) and validates it.
    public init(contentsOf url: URL) throws {
        let path = url.path
        let bytes: [UInt8]
        do { bytes = try InputFile.readAll(path, limit: VARConfig.maxJSONBytes) } catch let f as InputFile.Failure {
            throw TokenizerError.unreadable(path: path, reason: f.reason)
        }
        do {
            self = try JSONDecoder().decode(VQVAEConfig.self, from: Data(bytes))
        } catch TokenizerError.outOfRange(let v) {
            throw TokenizerError.outOfRange(v.from(path))
        } catch let e as TokenizerError {
            throw e
        } catch {
            if let kind = FileKind.describe(bytes), kind != "a JSON document", kind != "a text file" {
                throw TokenizerError.unreadable(path: path, reason: "is \(kind), not a VQVAE JSON")
            }
            throw TokenizerError.unreadable(path: path, reason: DisplayText.escaped(JSONErrorText.describe(error), limit: 400))
        }
    }

    /// Checks the invariants the model relies on and the size bounds (`ConfigLimits.check`).
    public func validate() throws {
        do { try ConfigLimits.check(self) } catch let v as LimitViolation { throw TokenizerError.outOfRange(v) }
    }

    /// Latent side (the last patch size).
    public var latentSize: Int { patchSizes.last ?? 0 }
    /// Channels of each resolution level.
    public var levelChannels: [Int] { chMult.map { ch * $0 } }

    /// The φ table of the official code for `scaleCount` scales and `phiCount` convolutions (docs/model.md §4.6),
    /// evaluated in Double like NumPy: ticks `linspace(1/3/K, 1 − 1/3/K, K)` for K = 4, else
    /// `linspace(1/2/K, 1 − 1/2/K, K)`; scale `s` takes the first tick nearest to `s/(S−1)`.
    /// Stored configurations keep the table; this exists to make them and to cross-check the preset.
    public static func phiTable(scaleCount: Int, phiCount: Int) -> [Int] {
        let k = phiCount
        if k == 1 { return [Int](repeating: 0, count: scaleCount) }
        let start = k == 4 ? 1.0 / 3.0 / Double(k) : 1.0 / 2.0 / Double(k)
        let stop = 1 - start
        let step = (stop - start) / Double(k - 1)
        var ticks = (0..<k).map { Double($0) * step + start }
        ticks[k - 1] = stop
        return (0..<scaleCount).map { s in
            let at = scaleCount > 1 ? Double(s) / Double(scaleCount - 1) : 0
            var best = 0
            for i in 1..<k where abs(ticks[i] - at) < abs(ticks[best] - at) { best = i }
            return best
        }
    }

    /// Infers the configuration of an official checkpoint (no JSON beside it) from tensor shapes:
    /// `shape(name)` returns a stored tensor's shape or nil. Widths, levels and block counts come
    /// from the encoder; the scale schedule is the official one (docs/model.md §1.1), and so is the φ table
    /// when there are 4 φ convolutions.
    public init(inferringFrom shape: (String) -> [Int]?) throws {
        /// The shape of `k` when it has `rank` dimensions.
        func need(_ k: String, rank: Int) throws -> [Int] {
            guard let s = shape(k), s.count == rank else { throw TokenizerError.cannotInfer(key: k) }
            return s
        }
        func tooMany(_ field: String, _ limit: Int) -> TokenizerError {
            .outOfRange(LimitViolation(field: field, value: "more than \(limit)", allowed: "at most \(limit)"))
        }
        let convIn = try need("encoder.conv_in.weight", rank: 4)           // (ch, 3, 3, 3)
        let codebook = try need("quantize.embedding.weight", rank: 2)      // (V, Cvae)
        let ch = convIn[0]
        guard (1...ConfigLimits.maxVQVAEChannels).contains(ch) else {
            throw TokenizerError.outOfRange(LimitViolation(
                field: "ch (encoder.conv_in.weight dim 0)", value: String(ch),
                allowed: "an integer in 1…\(ConfigLimits.maxVQVAEChannels)"))
        }
        var mult: [Int] = []
        while let w = shape("encoder.down.\(mult.count).block.0.conv1.weight") {
            guard mult.count < ConfigLimits.maxLevels else { throw tooMany("levels (encoder.down.N)", ConfigLimits.maxLevels) }
            guard w.count == 4, w[0] > 0, w[0] % ch == 0 else {
                throw TokenizerError.cannotInfer(key: "encoder.down.\(mult.count).block.0.conv1.weight")
            }
            mult.append(w[0] / ch)
        }
        if mult.isEmpty { throw TokenizerError.cannotInfer(key: "encoder.down.0.block.0.conv1.weight") }
        var blocks = 0
        while shape("encoder.down.0.block.\(blocks).conv1.weight") != nil {
            guard blocks < ConfigLimits.maxResBlocks else { throw tooMany("num_res_blocks", ConfigLimits.maxResBlocks) }
            blocks += 1
        }
        var phis = 0
        while shape("quantize.quant_resi.qresi_ls.\(phis).weight") != nil {
            guard phis < ConfigLimits.maxPhi else { throw tooMany("phi_count", ConfigLimits.maxPhi) }
            phis += 1
        }
        if phis == 0 { throw TokenizerError.cannotInfer(key: "quantize.quant_resi.qresi_ls.0.weight") }
        let official = VQVAEConfig.official256
        let patchSizes = official.patchSizes
        let table = phis == 4 ? official.phiIndex : VQVAEConfig.phiTable(scaleCount: patchSizes.count, phiCount: phis)
        self.init(vocabSize: codebook[0], zChannels: codebook[1], ch: ch, chMult: mult, numResBlocks: blocks,
                  patchSizes: patchSizes, phiCount: phis, phiIndex: table, quantResi: 0.5)
        try validate()
    }
}
