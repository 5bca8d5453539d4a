/// The coarse-to-fine view of a generation (VAR's signature): the picture after every scale — the cumulative
/// latent `f̂_s = Σ_{t ≤ s} φ_t(U_t(E[idx_t]))` (docs/model.md §4.8) decoded after scale 1, 2, …, S — laid out
/// side by side in one strip. Under each tile a bar says which transformer made that scale: orange for a CoDe
/// drafter, blue for the refiner, grey for a plain model. The last tile is the image itself.
/// Cost: one VQVAE decode per scale (S decodes instead of 1).
public enum ScaleStrip {
    /// Which transformer produced a scale (the colour of its bar).
    public enum Maker: Sendable, Equatable {
        case model, drafter, refiner

        /// The bar colour (RGB).
        public var color: (UInt8, UInt8, UInt8) {
            switch self {
            case .model: return (150, 150, 150)
            case .drafter: return (235, 140, 30)
            case .refiner: return (40, 120, 230)
            }
        }

        /// Per scale: plain model everywhere, or CoDe's drafter for scales 0…draftSteps−1 and refiner after.
        public static func schedule(scaleCount: Int, draftSteps: Int?) -> [Maker] {
            (0..<scaleCount).map { si in draftSteps.map { si < $0 ? .drafter : .refiner } ?? .model }
        }
    }

    /// Layout constants (pixels): border and gap between tiles, the gap above a bar, the bar's height.
    public static let padding = 2, barGap = 1, barHeight = 3
    /// Background between tiles.
    public static let background: (UInt8, UInt8, UInt8) = (24, 24, 24)

    /// Per image b, the S pictures after scales 0…S−1 of a token pyramid (`tokens[si]` `(B, pn_si²)`), decoded
    /// by `vqvae`: `result[b][si]`.
    public static func stages(tokens: [[Int32]], vqvae: VQVAE, parallelism: Parallelism) throws -> [[RGBImage]] {
        let q = vqvae.quantizer
        guard tokens.count == q.patchSizes.count else {
            throw RuntimeError.stripScaleCount(expected: q.patchSizes.count, found: tokens.count)
        }
        let b = tokens[0].count / (q.patchSizes[0] * q.patchSizes[0])
        var fHat = Tensor(zeros: [b, q.latentChannels, q.latentSize, q.latentSize])   // (B, Cvae, P, P)
        var out = [[RGBImage]](repeating: [], count: b)
        let workspace = ConvWorkspace(winogradTile: 4, parallelism: parallelism)
        for si in tokens.indices {
            guard tokens[si].count == b * q.patchSizes[si] * q.patchSizes[si] else {
                throw RuntimeError.stripTokenCount(scale: si, batch: b, patchSize: q.patchSizes[si], found: tokens[si].count)
            }
            q.addScale(q.embed(tokens[si], scale: si), scale: si, to: &fHat, parallelism: parallelism)
            let images = try RGBImage.images(from: vqvae.decode(fHat, workspace: workspace))
            for i in 0..<b { out[i].append(images[i]) }
        }
        return out
    }

    /// One strip: the tiles left to right with `padding` around them, and under each the bar of its maker
    /// (`makers` one per tile; nil draws no bars). Tiles must share one size.
    public static func strip(_ tiles: [RGBImage], makers: [Maker]?) throws -> RGBImage {
        guard let first = tiles.first else { throw RuntimeError.emptyLayout(.scaleStrip) }
        guard tiles.allSatisfy({ $0.width == first.width && $0.height == first.height }) else {
            throw RuntimeError.unequalImageSizes(.scaleStrip)
        }
        if let makers, makers.count != tiles.count {
            throw RuntimeError.stripMakerCount(tiles: tiles.count, makers: makers.count)
        }
        let w = first.width, h = first.height
        let barSpace = makers == nil ? 0 : barGap + barHeight
        let width = tiles.count * w + (tiles.count + 1) * padding
        let height = h + barSpace + 2 * padding
        var out = RGBImage(width: width, height: height, fill: background)
        for (i, tile) in tiles.enumerated() {
            let x0 = padding + i * (w + padding)
            for y in 0..<h {
                let dst = ((padding + y) * width + x0) * 3
                out.pixels.replaceSubrange(dst..<(dst + w * 3), with: tile.pixels[(y * w * 3)..<((y + 1) * w * 3)])
            }
            guard let maker = makers?[i] else { continue }
            let c = maker.color
            for y in (padding + h + barGap)..<(padding + h + barSpace) {
                for x in x0..<(x0 + w) {
                    let p = (y * width + x) * 3
                    out.pixels[p] = c.0; out.pixels[p + 1] = c.1; out.pixels[p + 2] = c.2
                }
            }
        }
        return out
    }

    /// Strips for every image of a token pyramid: `stages`, then `strip` with the makers of `draftSteps`
    /// (nil: plain VAR).
    public static func strips(tokens: [[Int32]], vqvae: VQVAE, draftSteps: Int?,
                              parallelism: Parallelism) throws -> [RGBImage] {
        let makers = Maker.schedule(scaleCount: tokens.count, draftSteps: draftSteps)
        return try stages(tokens: tokens, vqvae: vqvae, parallelism: parallelism).map { try strip($0, makers: makers) }
    }
}
