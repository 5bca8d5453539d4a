/// Edit masks of the official editing notebook (spec §11 steps 2–3). A mask lives on the last scale's grid
/// (`side × side`, row-major, 1 = keep the original, 0 = generate).
public enum EditingMask {
    /// The notebook's rectangle `[round(y0·side), round(y1·side)) × [round(x0·side), round(x1·side))` set to 1
    /// (Python's round: half to even); inverted for inpainting (the rectangle is generated, the rest kept).
    public static func rectangle(side: Int, y0: Double, x0: Double, y1: Double, x1: Double,
                                 inpainting: Bool) -> [Float] {
        func r(_ v: Double) -> Int { min(side, max(0, Int((v * Double(side)).rounded(.toNearestOrEven)))) }
        var m = [Float](repeating: 0, count: side * side)
        for y in r(y0)..<max(r(y0), r(y1)) { for x in r(x0)..<max(r(x0), r(x1)) { m[y * side + x] = 1 } }
        return inpainting ? m.map { 1 - $0 } : m
    }

    /// Per-scale keep flags `(pn²)`: the mask resized to `pn × pn` bilinearly (`align_corners = False`, source
    /// coordinate clamped at 0, float32 with PyTorch's fused multiply-adds) and thresholded `> 0.5`; every position is kept
    /// where `pn² ≤ 3`; the last scale (pn = side) uses the mask itself.
    public static func keepFlags(mask: [Float], side: Int, patchSizes: [Int]) -> [[Bool]] {
        precondition(mask.count == side * side, "mask must be side × side")
        return patchSizes.map { pn in
            if pn * pn <= 3 { return [Bool](repeating: true, count: pn * pn) }
            if pn == side { return mask.map { $0 > 0.5 } }
            let scale = Float(side) / Float(pn)
            func taps(_ o: Int) -> (Int, Int, Float, Float) {
                // PyTorch's CPU kernels are built with FMA contraction: src = fma(scale, o + 0.5, −0.5).
                let src = max(Float(-0.5).addingProduct(scale, Float(o) + 0.5), 0)
                let i0 = Int(src)
                let i1 = i0 + (i0 < side - 1 ? 1 : 0)
                let l1 = src - Float(i0)
                return (i0, i1, 1 - l1, l1)
            }
            var out = [Bool](repeating: false, count: pn * pn)
            for oy in 0..<pn {
                let (y0, y1, hy0, hy1) = taps(oy)
                for ox in 0..<pn {
                    let (x0, x1, wx0, wx1) = taps(ox)
                    // Interpolation as PyTorch accumulates it: first product, then fused multiply-adds.
                    let top = (mask[y0 * side + x0] * wx0).addingProduct(mask[y0 * side + x1], wx1)
                    let bottom = (mask[y1 * side + x0] * wx0).addingProduct(mask[y1 * side + x1], wx1)
                    let v = (top * hy0).addingProduct(bottom, hy1)
                    out[oy * pn + ox] = v > 0.5
                }
            }
            return out
        }
    }
}

extension EditingHook {
    /// A hook for `batch` images sharing one last-scale mask; `originalTokens[si]` holds `(batch, pn²)` tokens
    /// or one image's `(pn²)` tokens shared by the whole batch.
    public init(mask: [Float], side: Int, patchSizes: [Int], originalTokens: [[Int32]], batch: Int) {
        let flags = EditingMask.keepFlags(mask: mask, side: side, patchSizes: patchSizes)
        let keep = flags.map { f in (0..<batch).flatMap { _ in f } }
        let tokens = zip(originalTokens, patchSizes).map { t, pn in
            t.count == pn * pn ? (0..<batch).flatMap { _ in t } : t
        }
        self.init(keep: keep, originalTokens: tokens)
    }
}
