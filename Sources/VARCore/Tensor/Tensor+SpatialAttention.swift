import Foundation

extension Tensor {
    /// Single-head attention over the spatial positions of a `(B, 3c, h, w)` q‖k‖v map (the VQVAE
    /// AttnBlock, docs/model.md §4.2): `q`, `k`, `v` are channel blocks `[0,c)`, `[c,2c)`, `[2c,3c)`;
    /// `w = softmax_j(qᵀk · c^(−1/2))`, `o[ch, i] = Σ_j w[i, j]·v[ch, j]`. Returns `(B, c, h, w)`.
    /// Two GEMMs per image; softmax in float32 with the row maximum subtracted.
    public func spatialAttention(parallelism: Parallelism) -> Tensor {
        precondition(rank == 4 && shape[1] % 3 == 0, "spatialAttention: input \(shape) must be (B, 3c, h, w)")
        let b = shape[0], c = shape[1] / 3, n = shape[2] * shape[3]
        let scale = 1 / Float(c).squareRoot()
        var weights = [Float](repeating: 0, count: n * n)      // (n, n)
        var out = [Float](repeating: 0, count: b * c * n)        // (B, c, n)
        data.withUnsafeBufferPointer { qkv in
            weights.withUnsafeMutableBufferPointer { wBuf in
                out.withUnsafeMutableBufferPointer { oBuf in
                    guard let base = qkv.baseAddress, let w = wBuf.baseAddress, let o = oBuf.baseAddress else { return }
                    for bi in 0..<b {
                        let q = base + bi * 3 * c * n, k = q + c * n, v = k + c * n
                        // w (n, n) = qᵀ (n, c) · k (c, n) · scale
                        BLAS.gemm(transA: true, m: n, n: n, k: c, alpha: scale,
                                  a: q, lda: n, b: k, ldb: n, c: w, ldc: n, parallelism: parallelism)
                        parallelism.forEach(n, grain: 16) { rows in
                            for i in rows { softmaxRow(w + i * n, n) }
                        }
                        // o (c, n) = v (c, n) · wᵀ (n, n)
                        BLAS.gemm(transB: true, m: c, n: n, k: n,
                                  a: v, lda: n, b: w, ldb: n, c: o + bi * c * n, ldc: n, parallelism: parallelism)
                    }
                }
            }
        }
        return Tensor(shape: [b, c, shape[2], shape[3]], data: out)
    }

    /// Nearest-neighbour 2× upsampling of the last two dimensions (docs/model.md §3.2: source index `⌊i/2⌋`).
    public func upsampledNearest2x() -> Tensor {
        precondition(rank >= 2)
        let h = shape[rank - 2], w = shape[rank - 1], planes = count / max(h * w, 1)
        var out = [Float](repeating: 0, count: count * 4)
        data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for p in 0..<planes {
                    for y in 0..<(2 * h) {
                        let s = p * h * w + (y / 2) * w, d = (p * 2 * h + y) * 2 * w
                        for x in 0..<(2 * w) { dst[d + x] = src[s + x / 2] }
                    }
                }
            }
        }
        return Tensor(shape: Array(shape.dropLast(2)) + [2 * h, 2 * w], data: out)
    }
}

/// In-place numerically stable softmax of `n` floats.
@inline(__always)
func softmaxRow(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
    var m = -Float.infinity
    for j in 0..<n { m = max(m, p[j]) }
    var s: Float = 0
    for j in 0..<n { let e = Foundation.exp(p[j] - m); p[j] = e; s += e }
    let inv = 1 / s
    for j in 0..<n { p[j] *= inv }
}
