/// Edit masks of the official editing notebook (docs/model.md §11 steps 2–3). A mask lives on the last scale's grid
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

    /// Per-scale keep flags `(pn²)` from a last-scale mask (values > 0.5 keep): the tokenizer's
    /// `EditMask.resized` at every scale (bilinear as PyTorch computes it, threshold > 0.5, everything kept
    /// where pn² ≤ 3).
    public static func keepFlags(mask: [Float], side: Int, patchSizes: [Int]) -> [[Bool]] {
        precondition(mask.count == side * side, "mask must be side × side")
        let keep = mask.map { $0 > 0.5 }
        return patchSizes.map { EditMask.resized(keep, side: side, to: $0) }
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
