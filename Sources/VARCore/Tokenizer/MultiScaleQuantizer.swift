/// The multi-scale residual quantizer (docs/model.md §4.5–4.10): codebook, φ convolutions and the resize
/// operators between each scale `pn × pn` and the latent grid `last × last`.
///
/// Token layout everywhere: per scale `si`, `B·pn²` indices, batch-major then row-major within
/// the scale (docs/model.md §1.1: token `j` sits at row `j / pn`, column `j % pn`).
public struct MultiScaleQuantizer: ScaleTokenizer, Sendable {
    public let patchSizes: [Int]
    /// φ used by scale `si` (docs/model.md §4.6).
    public let phiIndex: [Int]
    /// The codebook E, `(V, Cvae)`, `quantize.embedding.weight`.
    public let codebook: Tensor
    /// `‖e_v‖²` for every code, `(V)`.
    let codeNorms: [Float]
    /// `quantize.quant_resi.qresi_ls.k`, 3×3 `Cvae → Cvae`.
    public let phis: [Conv2dLayer]
    /// φ(h) = (1 − quantResi)·h + quantResi·conv(h).
    public let quantResi: Float
    /// `bicubic(pn → last)` per scale (identity at the last scale).
    let upsamplers: [ResizeMatrix]
    /// `area(last → pn)` per scale (identity at the last scale).
    let downsamplers: [ResizeMatrix]

    /// Builds the quantizer from the `quantize` scope.
    public init(_ w: some LayerWeights, config: VQVAEConfig) {
        patchSizes = config.patchSizes
        phiIndex = config.phiIndex
        quantResi = config.quantResi
        let cvae = config.zChannels
        let e = w.scope("embedding")("weight", [config.vocabSize, cvae])
        codebook = e
        phis = (0..<config.phiCount).map {
            Conv2dLayer(w.scope("quant_resi").scope("qresi_ls").scope($0), in: cvae, out: cvae, kernel: 3,
                        padding: .symmetric(1))
        }
        let last = config.latentSize
        upsamplers = config.patchSizes.map { $0 == last ? .identity(last) : .bicubic(from: $0, to: last) }
        downsamplers = config.patchSizes.map { $0 == last ? .identity(last) : .area(from: last, to: $0) }
        // A placeholder codebook (problem recorded; the model is refused) has no rows to measure.
        codeNorms = e.count == config.vocabSize * cvae ? (0..<config.vocabSize).map { v in
            var s: Float = 0
            for c in 0..<cvae { let x = e.data[v * cvae + c]; s += x * x }
            return s
        } : []
    }

    public var vocabSize: Int { codebook.shape[0] }
    public var latentChannels: Int { codebook.shape[1] }
    var latentSize: Int { patchSizes.last ?? 0 }

    // MARK: φ and the codebook

    /// `φ_{idx(si)}(h)` on a `(B, Cvae, last, last)` map (docs/model.md §4.5).
    public func phi(_ h: Tensor, scale si: Int, workspace: ConvWorkspace) -> Tensor {
        let conv = phis[phiIndex[si]](h, workspace: workspace)
        var out = conv
        let q = quantResi, keep = 1 - quantResi
        for i in 0..<out.count { out.data[i] = keep * h.data[i] + q * conv.data[i] }
        return out
    }

    /// `E[idx]` arranged as `(B, Cvae, pn, pn)` (docs/model.md §4.7 step 3, pitfall 21).
    public func embed(_ tokens: [Int32], scale si: Int) -> Tensor {
        let pn = patchSizes[si], n = pn * pn, c = latentChannels
        precondition(tokens.count % n == 0, "embed: \(tokens.count) tokens for scale \(si) (pn \(pn))")
        let b = tokens.count / n
        var out = [Float](repeating: 0, count: b * c * n)
        for bi in 0..<b {
            for j in 0..<n {
                let v = Int(tokens[bi * n + j])
                precondition(v >= 0 && v < vocabSize, "embed: token \(v) outside the vocabulary \(vocabSize)")
                for ch in 0..<c { out[(bi * c + ch) * n + j] = codebook.data[v * c + ch] }
            }
        }
        return Tensor(shape: [b, c, pn, pn], data: out)
    }

    /// Nearest code of every latent vector of `z` `(B, Cvae, pn, pn)`, returned batch-major,
    /// row-major (docs/model.md §4.7 step 2): `argmin_v ‖z‖² + ‖e_v‖² − 2·z·e_v`, first index on ties.
    /// `z·Eᵀ` is one GEMM; the sum is formed as the official `addmm` does.
    public func nearestCodes(_ z: Tensor, parallelism: Parallelism) -> [Int32] {
        let b = z.shape[0], c = z.shape[1], n = z.shape[2] * z.shape[3], v = vocabSize
        precondition(c == latentChannels, "nearestCodes: \(c) channels, codebook has \(latentChannels)")
        // (B·n, Cvae) rows
        var rows = [Float](repeating: 0, count: b * n * c)
        for bi in 0..<b { for ch in 0..<c { for j in 0..<n { rows[(bi * n + j) * c + ch] = z.data[(bi * c + ch) * n + j] } } }
        var dots = [Float](repeating: 0, count: b * n * v)   // (B·n, V)
        rows.withUnsafeBufferPointer { r in
            codebook.data.withUnsafeBufferPointer { e in
                dots.withUnsafeMutableBufferPointer { d in
                    guard let rp = r.baseAddress, let ep = e.baseAddress, let dp = d.baseAddress else { return }
                    BLAS.gemm(transB: true, m: b * n, n: v, k: c, a: rp, lda: c, b: ep, ldb: c, c: dp, ldc: v,
                              parallelism: parallelism)
                }
            }
        }
        var out = [Int32](repeating: 0, count: b * n)
        for r in 0..<(b * n) {
            var zz: Float = 0
            for ch in 0..<c { zz += rows[r * c + ch] * rows[r * c + ch] }
            var best = 0, bestD = Float.infinity
            for k in 0..<v {
                let d = (zz + codeNorms[k]) + (-2 * dots[r * v + k])
                if d < bestD { bestD = d; best = k }
            }
            out[r] = Int32(best)
        }
        return out
    }

    // MARK: ScaleTokenizer (docs/model.md §4.9)

    public func addScale(_ h: Tensor, scale si: Int, to fHat: inout Tensor, parallelism: Parallelism) {
        let up = upsamplers[si]
        let big = patchSizes[si] == latentSize ? h : h.resized(rows: up, cols: up)
        let p = phi(big, scale: si, workspace: ConvWorkspace(parallelism: parallelism))
        precondition(p.shape == fHat.shape, "addScale: φ output \(p.shape) ≠ f̂ \(fHat.shape)")
        for i in 0..<fHat.count { fHat.data[i] += p.data[i] }
    }

    public func nextInput(_ fHat: Tensor, after si: Int) -> Tensor {
        precondition(si + 1 < patchSizes.count, "nextInput: no scale after \(si)")
        let down = downsamplers[si + 1]
        let z = patchSizes[si + 1] == latentSize ? fHat : fHat.resized(rows: down, cols: down)
        return z.flattenedToTokens()
    }

    // MARK: Whole pyramids (docs/model.md §4.7, §4.8, §4.10)

    /// Token pyramid of a continuous latent `f` `(B, Cvae, last, last)` (docs/model.md §4.7).
    public func tokens(fromLatent f: Tensor, parallelism: Parallelism) -> [[Int32]] {
        var residual = f
        var result: [[Int32]] = []
        let ws = ConvWorkspace(parallelism: parallelism)
        for si in patchSizes.indices {
            let down = downsamplers[si]
            let z = patchSizes[si] == latentSize ? residual : residual.resized(rows: down, cols: down)
            let idx = nearestCodes(z, parallelism: parallelism)
            let up = upsamplers[si]
            var h = embed(idx, scale: si)
            if patchSizes[si] != latentSize { h = h.resized(rows: up, cols: up) }
            h = phi(h, scale: si, workspace: ws)
            for i in 0..<residual.count { residual.data[i] -= h.data[i] }
            result.append(idx)
        }
        return result
    }

    /// `f̂ = Σ_s φ(U_s(E[idx_s]))` (docs/model.md §4.8), `(B, Cvae, last, last)`.
    public func fHat(fromTokens tokens: [[Int32]], parallelism: Parallelism) -> Tensor {
        precondition(tokens.count == patchSizes.count, "fHat: \(tokens.count) scales, expected \(patchSizes.count)")
        let b = tokens[0].count / (patchSizes[0] * patchSizes[0])
        var f = Tensor(zeros: [b, latentChannels, latentSize, latentSize])
        for si in patchSizes.indices {
            addScale(embed(tokens[si], scale: si), scale: si, to: &f, parallelism: parallelism)
        }
        return f
    }

    /// Teacher-forcing inputs (docs/model.md §4.10): for scales 0…S−2 the next-scale input after adding the
    /// ground-truth scale, concatenated: `(B, L − pn₀², Cvae)` (679 positions for the official schedule).
    public func teacherForcingInput(tokens: [[Int32]], parallelism: Parallelism) -> Tensor {
        precondition(tokens.count == patchSizes.count, "teacherForcingInput: \(tokens.count) scales")
        let b = tokens[0].count / (patchSizes[0] * patchSizes[0])
        var f = Tensor(zeros: [b, latentChannels, latentSize, latentSize])
        var parts: [Tensor] = []   // each (B, pn², Cvae)
        for si in 0..<(patchSizes.count - 1) {
            addScale(embed(tokens[si], scale: si), scale: si, to: &f, parallelism: parallelism)
            parts.append(nextInput(f, after: si))
        }
        let c = latentChannels
        let total = parts.reduce(0) { $0 + $1.shape[1] }
        var out = [Float](repeating: 0, count: b * total * c)
        var offset = 0
        for p in parts {
            let n = p.shape[1]
            for bi in 0..<b {
                for j in 0..<(n * c) { out[(bi * total + offset) * c + j] = p.data[bi * n * c + j] }
            }
            offset += n
        }
        return Tensor(shape: [b, total, c], data: out)
    }
}

extension Tensor {
    /// `(B, C, h, w)` → `(B, h·w, C)` (row-major positions).
    func flattenedToTokens() -> Tensor {
        let b = shape[0], c = shape[1], n = shape[2] * shape[3]
        var out = [Float](repeating: 0, count: count)
        for bi in 0..<b { for ch in 0..<c { for j in 0..<n { out[(bi * n + j) * c + ch] = data[(bi * c + ch) * n + j] } } }
        return Tensor(shape: [b, n, c], data: out)
    }
}
