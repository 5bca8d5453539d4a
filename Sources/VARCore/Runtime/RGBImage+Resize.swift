/// Bringing an arbitrary picture to the VQVAE's square resolution (used by `var-gen edit`): the central
/// square, then area ("box") resampling. Both are exact and deterministic, so an input that already has the
/// model's size passes through unchanged.
extension RGBImage {
    /// The central square of side `min(width, height)`, starting at column `⌊(width − side)/2⌋` and row
    /// `⌊(height − side)/2⌋` (an odd surplus loses its extra pixel on the right/bottom).
    public func centerSquare() -> RGBImage {
        let side = min(width, height)
        guard side != width || side != height else { return self }
        let x0 = (width - side) / 2, y0 = (height - side) / 2
        var px = [UInt8](repeating: 0, count: side * side * 3)
        for y in 0..<side {
            let src = ((y0 + y) * width + x0) * 3
            px[(y * side * 3)..<((y + 1) * side * 3)] = pixels[src..<(src + side * 3)]
        }
        return RGBImage(width: side, height: side, pixels: px)
    }

    /// Area-resampled channel values `(height, width, 3)` in 0…255 (not rounded): output pixel `o` along an
    /// axis covers the input interval `[o·in/out, (o+1)·in/out)`, and its value is the mean of the input
    /// pixels weighted by how much of each the interval overlaps. Downscaling by an integer factor is the
    /// block mean; upscaling repeats pixels (with blends at fractional borders).
    public func areaMeans(width w: Int, height h: Int) -> [Double] {
        precondition(w > 0 && h > 0 && width > 0 && height > 0, "areaMeans: empty image")
        let columns = Self.areaWeights(from: width, to: w), rows = Self.areaWeights(from: height, to: h)
        // Horizontal pass: (height, w, 3).
        var mid = [Double](repeating: 0, count: height * w * 3)
        for y in 0..<height {
            for (ox, taps) in columns.enumerated() {
                for (ix, weight) in taps {
                    for c in 0..<3 { mid[(y * w + ox) * 3 + c] += weight * Double(pixels[(y * width + ix) * 3 + c]) }
                }
            }
        }
        var out = [Double](repeating: 0, count: h * w * 3)
        for (oy, taps) in rows.enumerated() {
            for (iy, weight) in taps {
                for i in 0..<(w * 3) { out[oy * w * 3 + i] += weight * mid[iy * w * 3 + i] }
            }
        }
        return out
    }

    /// `areaMeans` rounded to the nearest byte (halves away from zero).
    public func resizedByArea(width w: Int, height h: Int) -> RGBImage {
        guard w != width || h != height else { return self }
        let means = areaMeans(width: w, height: h)
        return RGBImage(width: w, height: h, pixels: means.map { UInt8(min(255, max(0, $0.rounded()))) })
    }

    /// Per output index, the input indices it overlaps and their normalised weights (sum 1). Computed in
    /// units of 1/(n·m) so the interval ends are exact integers.
    static func areaWeights(from n: Int, to m: Int) -> [[(Int, Double)]] {
        (0..<m).map { o in
            let lo = o * n, hi = (o + 1) * n                       // the interval in units of 1/m input pixels
            var taps: [(Int, Double)] = []
            for i in (lo / m)...min(n - 1, (hi - 1) / m) {
                let overlap = min(hi, (i + 1) * m) - max(lo, i * m)
                if overlap > 0 { taps.append((i, Double(overlap) / Double(n))) }
            }
            return taps
        }
    }
}
