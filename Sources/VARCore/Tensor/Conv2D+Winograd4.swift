import CKernels

/// Winograd F(4×4, 3×3): 36 multiplies per 4×4 output tile instead of 144 (4× fewer GEMM FLOPs, against
/// F(2×2, 3×3)'s 2.25×), and 2.25 transformed floats per output pixel instead of F(2,3)'s 4, so the
/// transforms move less memory too. The VQVAE decoder's convolutions (`ConvWorkspace.winogradTile` = 4).
///
/// `U = G g Gᵀ` (6×6 per filter), `V = Bᵀ d B` (6×6 input patches at virtual rows/columns 4t − 1 … 4t + 4),
/// `M_ξ = U_ξ · V_ξ` (36 GEMMs `(Co, Ci)·(Ci, P)`), `Y = Aᵀ M A` with the points 0, ±1, ±2, ∞. Less well
/// conditioned than F(2,3): ~1e-6 relative error in float32 (tested against the im2col path).
extension Conv2D {
    /// `U_ξ[o, i] = (G g[o, i] Gᵀ)_ξ` with
    /// `G = [[¼,0,0], [−⅙,−⅙,−⅙], [−⅙,⅙,−⅙], [1/24,1/12,⅙], [1/24,−1/12,⅙], [0,0,1]]`.
    static func transformWeights4(_ w: UnsafePointer<Float>, co: Int, ci: Int, into u: UnsafeMutablePointer<Float>,
                                  stride plane: Int, parallelism: Parallelism) {
        parallelism.forEach(co * ci, grain: 4096) { range in
            vg_wino4_weights(w, range.lowerBound, range.count, u, plane)
        }
    }

    /// `V_ξ[i, p] = (Bᵀ d B)_ξ` for the 6×6 patch of tile `p`, eight tiles at a time: every virtual input row
    /// is split into four phases (`phase[φ][j]` = virtual column 4j − 1 + φ, zero outside), so patch column k
    /// of eight neighbouring tiles is one contiguous vector (phase k mod 4, offset k / 4).
    static func transformInput4(_ g: Conv2DShape, input: UnsafePointer<Float>, tileRows: Range<Int>, tilesX: Int,
                                into v: UnsafeMutablePointer<Float>, stride: Int, parallelism: Parallelism) {
        let ci = g.inChannels, h = g.height, w = g.width, f = g.factor
        let vh = g.virtualHeight
        let p = tileRows.count * tilesX
        let len = tilesX + 9           // phase length, padded for 8-wide loads at tx + 1 (4·len ≥ virtual width + 2)
        parallelism.forEach(ci, grain: max(1, 4096 / max(p, 1))) { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 24 * len)   // 6 rows × 4 phases
            defer { scratch.deallocate() }
            scratch.initialize(repeating: 0, count: 24 * len)
            for c in range {
                let plane = input + c * h * w
                for ty in tileRows {
                    for r in 0..<6 {
                        let rowPhases = scratch + 4 * r * len
                        let vy = 4 * ty - 1 + r
                        guard vy >= 0 && vy < vh else { rowPhases.update(repeating: 0, count: 4 * len); continue }
                        vg_wino4_phases(plane + (vy / f) * w, w, f == 2 ? 1 : 0, tilesX, len, rowPhases)
                    }
                    let base = c * p + (ty - tileRows.lowerBound) * tilesX
                    vg_wino4_input_row(scratch, len, tilesX, v + base, stride)
                }
            }
        }
    }

    /// `Y = Aᵀ M A` plus bias and residual, eight tiles at a time; tiles over the right/bottom edge write only
    /// their valid pixels.
    static func transformOutput4(_ g: Conv2DShape, m: UnsafeMutablePointer<Float>, stride: Int, tileRows: Range<Int>,
                                 tilesX: Int, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                                 output: UnsafeMutablePointer<Float>, parallelism: Parallelism) {
        let co = g.outChannels, ho = g.outHeight, wo = g.outWidth
        let p = tileRows.count * tilesX
        parallelism.forEach(co, grain: max(1, 4096 / max(p, 1))) { range in
            for c in range {
                let plane = output + c * ho * wo
                let res = residual.map { $0 + c * ho * wo }
                for ty in tileRows {
                    let y0 = 4 * ty
                    vg_wino4_output_row(m + c * p + (ty - tileRows.lowerBound) * tilesX, stride, tilesX, bias?[c] ?? 0,
                                        plane + y0 * wo, wo, min(4, ho - y0), wo, res.map { $0 + y0 * wo })
                }
            }
        }
    }
}
