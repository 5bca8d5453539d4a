/// A 1-D linear resampling operator as an `(nOut, nIn)` weight matrix; 2-D resizes apply one
/// matrix along the height and one along the width (all resizes of docs/model.md §3 are separable).
/// Weights are computed in Double and stored as Float.
public struct ResizeMatrix: Equatable, Sendable {
    public let outCount: Int
    public let inCount: Int
    /// Row-major `(outCount, inCount)`.
    public let weights: [Float]

    public init(outCount: Int, inCount: Int, weights: [Float]) {
        precondition(weights.count == outCount * inCount)
        self.outCount = outCount; self.inCount = inCount; self.weights = weights
    }

    public subscript(o: Int, i: Int) -> Float { weights[o * inCount + i] }

    /// Bicubic interpolation, `align_corners = False`, no antialias, `A = −0.75` (docs/model.md §3.3):
    /// source coordinate `u = r·(o + 0.5) − 0.5` **not clamped**, four taps `⌊u⌋−1 … ⌊u⌋+2`
    /// each clamped to the border (weights of taps that clamp together add up).
    public static func bicubic(from nIn: Int, to nOut: Int) -> ResizeMatrix {
        let a = -0.75
        func k1(_ x: Double) -> Double { ((a + 2) * x - (a + 3)) * x * x + 1 }
        func k2(_ x: Double) -> Double { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        let r = Double(nIn) / Double(nOut)
        var w = [Double](repeating: 0, count: nOut * nIn)
        for o in 0..<nOut {
            let u = r * (Double(o) + 0.5) - 0.5
            let i0 = Int(u.rounded(.down))
            let t = u - Double(i0)
            let taps = [k2(t + 1), k1(t), k1(1 - t), k2(2 - t)]
            for (j, wt) in taps.enumerated() {
                let i = min(max(i0 - 1 + j, 0), nIn - 1)
                w[o * nIn + i] += wt
            }
        }
        return ResizeMatrix(outCount: nOut, inCount: nIn, weights: w.map(Float.init))
    }

    /// PyTorch "area" = adaptive average pooling (docs/model.md §3.4): output `o` averages the window
    /// `[⌊o·nIn/nOut⌋, ⌈(o+1)·nIn/nOut⌉)`; windows overlap when `nIn` is not a multiple of `nOut`.
    public static func area(from nIn: Int, to nOut: Int) -> ResizeMatrix {
        var w = [Float](repeating: 0, count: nOut * nIn)
        for o in 0..<nOut {
            let start = (o * nIn) / nOut
            let end = ((o + 1) * nIn + nOut - 1) / nOut
            let v = 1 / Double(end - start)
            for i in start..<end { w[o * nIn + i] = Float(v) }
        }
        return ResizeMatrix(outCount: nOut, inCount: nIn, weights: w)
    }

    /// Bilinear interpolation, `align_corners = False` (docs/model.md §11): source `r·(o + 0.5) − 0.5`
    /// clamped at 0, taps `⌊u⌋` and `⌊u⌋ + 1`, the second clamped to the last input.
    public static func bilinear(from nIn: Int, to nOut: Int) -> ResizeMatrix {
        // Float arithmetic as PyTorch's float32 kernel: the mask threshold `> 0.5` of §11 can sit
        // exactly on a tap midpoint, where the rounding of the source coordinate decides.
        let r = Float(nIn) / Float(nOut)
        var w = [Float](repeating: 0, count: nOut * nIn)
        for o in 0..<nOut {
            let u = max((-0.5 as Float).addingProduct(r, Float(o) + 0.5), 0)   // one FMA, as PyTorch's build
            let i0 = min(Int(u), nIn - 1)
            let i1 = min(i0 + 1, nIn - 1)
            let l1 = u - Float(i0)
            w[o * nIn + i0] += 1 - l1
            w[o * nIn + i1] += l1
        }
        return ResizeMatrix(outCount: nOut, inCount: nIn, weights: w)
    }

    /// The identity on `n` samples.
    public static func identity(_ n: Int) -> ResizeMatrix {
        var w = [Float](repeating: 0, count: n * n)
        for i in 0..<n { w[i * n + i] = 1 }
        return ResizeMatrix(outCount: n, inCount: n, weights: w)
    }
}

extension Tensor {
    /// Resizes the last two dimensions `(…, H, W)` → `(…, Ho, Wo)`:
    /// `out[p] = rows (Ho, H) · in[p] (H, W) · colsᵀ (W, Wo)` for every plane `p`.
    /// Width is resampled first, then height, as in PyTorch's kernels (the order only changes rounding).
    public func resized(rows: ResizeMatrix, cols: ResizeMatrix) -> Tensor {
        precondition(rank >= 2, "resized: input \(shape) needs two spatial dimensions")
        let h = shape[rank - 2], w = shape[rank - 1]
        precondition(rows.inCount == h && cols.inCount == w,
                     "resized: matrices (\(rows.inCount), \(cols.inCount)) do not fit \(shape)")
        let ho = rows.outCount, wo = cols.outCount
        let planes = count / max(h * w, 1)
        var out = [Float](repeating: 0, count: planes * ho * wo)
        var tmp = [Float](repeating: 0, count: h * wo)  // (H, Wo) width-resampled plane
        data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                tmp.withUnsafeMutableBufferPointer { t in
                    for p in 0..<planes {
                        let s = p * h * w
                        for y in 0..<h {
                            for o in 0..<wo {
                                var acc: Float = 0
                                for i in 0..<w {
                                    let wt = cols.weights[o * w + i]
                                    if wt != 0 { acc += wt * src[s + y * w + i] }
                                }
                                t[y * wo + o] = acc
                            }
                        }
                        let d = p * ho * wo
                        for o in 0..<ho {
                            for x in 0..<wo { dst[d + o * wo + x] = 0 }
                            for i in 0..<h {
                                let wt = rows.weights[o * h + i]
                                if wt == 0 { continue }
                                for x in 0..<wo { dst[d + o * wo + x] += wt * t[i * wo + x] }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: Array(shape.dropLast(2)) + [ho, wo], data: out)
    }
}

/// Edit masks for zero-shot inpainting/outpainting (docs/model.md §11).
public enum EditMask {
    /// Resizes a `side × side` keep-mask (row-major, `true` = keep the original) to `pn × pn` by
    /// bilinear interpolation (align_corners False) and thresholds `> 0.5`. Scales with `pn² ≤ 3`
    /// keep every position.
    public static func resized(_ mask: [Bool], side: Int, to pn: Int) -> [Bool] {
        precondition(mask.count == side * side, "EditMask: \(mask.count) cells for side \(side)")
        if pn * pn <= 3 { return [Bool](repeating: true, count: pn * pn) }
        // PyTorch's float32 bilinear kernel term by term: the threshold can sit exactly at 0.5,
        // where merged weights or another summation order would round to the other side.
        let scale = Float(side) / Float(pn)
        func taps(_ o: Int) -> (Int, Int, Float, Float) {
            // PyTorch's compiled kernel contracts `scale·(o + ½) − ½` into one FMA (single rounding);
            // at 16 → 13 that turns 7.5 into 7.5000005 and decides a cell of the threshold.
            let u = max((-0.5 as Float).addingProduct(scale, Float(o) + 0.5), 0)
            let i0 = min(Int(u.rounded(.down)), side - 1)
            let l1 = min(max(u - Float(i0), 0), 1)
            return (i0, i0 < side - 1 ? i0 + 1 : i0, 1 - l1, l1)
        }
        func x(_ r: Int, _ c: Int) -> Float { mask[r * side + c] ? 1 : 0 }
        var out = [Bool](repeating: false, count: pn * pn)
        for oy in 0..<pn {
            let (h0, h1, h0l, h1l) = taps(oy)
            for ox in 0..<pn {
                let (w0, w1, w0l, w1l) = taps(ox)
                let v = h0l * (w0l * x(h0, w0) + w1l * x(h0, w1)) + h1l * (w0l * x(h1, w0) + w1l * x(h1, w1))
                out[oy * pn + ox] = v > 0.5
            }
        }
        return out
    }
}
