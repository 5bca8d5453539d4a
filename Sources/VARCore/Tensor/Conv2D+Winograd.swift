/// Winograd F(2×2, 3×3) for 3×3 stride-1 convolutions with one pixel of zero padding — every
/// 3×3 convolution of the VQVAE decoder, and all but the downsampling ones of the encoder.
/// It needs 16 multiplies per 2×2 output tile instead of 36 (2.25× fewer GEMM FLOPs), and its
/// transformed input (16 floats per tile and channel) is smaller than the im2col matrix (36).
///
/// With `U = G g Gᵀ` (weights), `V = Bᵀ d B` (4×4 input patches), `M_ξ = U_ξ · V_ξ` (16 GEMMs
/// `(Co, Ci)·(Ci, P)` over `P` tiles), `Y = Aᵀ M A`. F(2,3) is well conditioned: errors stay at
/// float32 rounding level (tested against the naive loop to 1e-5 normalised error).
extension Conv2D {
    /// Whether `forward` takes the Winograd path for this geometry.
    static func winogradApplies(_ g: Conv2DShape) -> Bool {
        g.kernel == 3 && g.stride == 1 && g.padding == .symmetric(1) && g.inChannels >= 8
    }

    /// Winograd F(t×t, 3×3) with output tiles of `tile` = 2 or 4 pixels (`Conv2D+Winograd4.swift` for 4), in
    /// bands of tile rows sized by `workspace.maxBlockFloats`: transform the weights once, then per band the
    /// input patches, the (t+2)² products, and the output tiles.
    static func winograd(_ g: Conv2DShape, tile t: Int,
                         input: UnsafePointer<Float>,
                         weight: UnsafePointer<Float>,
                         bias: UnsafePointer<Float>?,
                         residual: UnsafePointer<Float>?,
                         output: UnsafeMutablePointer<Float>,
                         workspace: ConvWorkspace) {
        let ci = g.inChannels, co = g.outChannels, points = (t + 2) * (t + 2), par = workspace.parallelism
        let ho = g.outHeight, wo = g.outWidth
        let tilesX = (wo + t - 1) / t, tilesY = (ho + t - 1) / t
        let rowsPerBand = max(1, min(tilesY, workspace.maxBlockFloats / max(1, points * max(ci, co) * tilesX)))
        let maxP = rowsPerBand * tilesX
        let uStride = paddedStride(co * ci), vStride = paddedStride(ci * maxP), mStride = paddedStride(co * maxP)
        let buf = workspace.buffer(points * (uStride + vStride + mStride))
        let u = buf                              // points × (Co, Ci), ξ-th at u + ξ·uStride
        let v = buf + points * uStride           // points × (Ci, P)
        let m = v + points * vStride             // points × (Co, P)
        if t == 4 {
            transformWeights4(weight, co: co, ci: ci, into: u, stride: uStride, parallelism: par)
        } else {
            transformWeights(weight, co: co, ci: ci, into: u, stride: uStride, parallelism: par)
        }
        let inPlane = ci * g.height * g.width, outPlane = co * ho * wo
        for b in 0..<g.batch {
            var ty0 = 0
            while ty0 < tilesY {
                let ty1 = min(tilesY, ty0 + rowsPerBand)
                let p = (ty1 - ty0) * tilesX
                let res = residual.map { $0 + b * outPlane }
                if t == 4 {
                    transformInput4(g, input: input + b * inPlane, tileRows: ty0..<ty1, tilesX: tilesX, into: v,
                                    stride: vStride, parallelism: par)
                } else {
                    transformInput(g, input: input + b * inPlane, tileRows: ty0..<ty1, tilesX: tilesX, into: v,
                                   stride: vStride, parallelism: par)
                }
                products(points, co: co, ci: ci, p: p, u: u, uStride: uStride, v: v, vStride: vStride, m: m,
                         mStride: mStride, parallelism: par)
                if t == 4 {
                    transformOutput4(g, m: m, stride: mStride, tileRows: ty0..<ty1, tilesX: tilesX, bias: bias,
                                     residual: res, output: output + b * outPlane, parallelism: par)
                } else {
                    transformOutput(g, m: m, stride: mStride, tileRows: ty0..<ty1, tilesX: tilesX, bias: bias,
                                    residual: res, output: output + b * outPlane, parallelism: par)
                }
                ty0 = ty1
            }
        }
    }

    /// `M_ξ = U_ξ · V_ξ` for ξ < `count`: the products are independent and each is small (`(Co, Ci)·(Ci, P)`,
    /// ~10–40 MFLOP), so the workers take whole products, each single-threaded, instead of splitting each one.
    static func products(_ count: Int, co: Int, ci: Int, p: Int, u: UnsafeMutablePointer<Float>, uStride: Int,
                         v: UnsafeMutablePointer<Float>, vStride: Int, m: UnsafeMutablePointer<Float>, mStride: Int,
                         parallelism: Parallelism) {
        BLAS.use(threads: 1)
        parallelism.forEach(count, grain: 1) { range in
            for xi in range {
                BLAS.gemmInRegion(m: co, n: p, k: ci, a: UnsafePointer(u + xi * uStride), lda: ci,
                                  b: UnsafePointer(v + xi * vStride), ldb: p, c: m + xi * mStride, ldc: p)
            }
        }
    }

    /// Distance between the 16 transformed matrices: a multiple of 4 KiB plus one cache line, so the
    /// 16 streams of a transform do not all map to the same cache sets (4K aliasing).
    static func paddedStride(_ n: Int) -> Int { (n + 1023) / 1024 * 1024 + 16 }

    /// `U_ξ[o, i] = (G g[o, i] Gᵀ)_ξ` with `G = [[1,0,0], [½,½,½], [½,−½,½], [0,0,1]]`.
    static func transformWeights(_ w: UnsafePointer<Float>, co: Int, ci: Int, into u: UnsafeMutablePointer<Float>,
                                 stride plane: Int, parallelism: Parallelism) {
        parallelism.forEach(co * ci, grain: 4096) { range in
            for oi in range {
                let g = w + oi * 9
                // t = G g (4×3), one column at a time; then U = t Gᵀ (4×4).
                let top = SIMD3(g[0], g[1], g[2]), mid = SIMD3(g[3], g[4], g[5]), bot = SIMD3(g[6], g[7], g[8])
                let t = (top, 0.5 * (top + mid + bot), 0.5 * (top - mid + bot), bot)
                @inline(__always) func store(_ r: Int, _ x: SIMD3<Float>) {
                    u[(r * 4 + 0) * plane + oi] = x[0]
                    u[(r * 4 + 1) * plane + oi] = 0.5 * (x[0] + x[1] + x[2])
                    u[(r * 4 + 2) * plane + oi] = 0.5 * (x[0] - x[1] + x[2])
                    u[(r * 4 + 3) * plane + oi] = x[2]
                }
                store(0, t.0); store(1, t.1); store(2, t.2); store(3, t.3)
            }
        }
    }

    /// `V_ξ[i, p] = (Bᵀ d B)_ξ` for the 4×4 patch `d` of tile `p` (virtual input rows
    /// `2ty − 1 … 2ty + 2`, zero outside), `Bᵀ = [[1,0,−1,0], [0,1,1,0], [0,−1,1,0], [0,1,0,−1]]`.
    /// Eight tiles at a time: each padded input row is split into its even and odd virtual
    /// columns, so the four patch columns of eight neighbouring tiles are four contiguous vectors.
    static func transformInput(_ g: Conv2DShape, input: UnsafePointer<Float>, tileRows: Range<Int>, tilesX: Int,
                               into v: UnsafeMutablePointer<Float>, stride: Int, parallelism: Parallelism) {
        let ci = g.inChannels, h = g.height, w = g.width, f = g.factor
        let vh = g.virtualHeight, vw = g.virtualWidth
        let p = tileRows.count * tilesX
        let half = tilesX + 9          // even/odd row length, padded for 8-wide loads at tx + 1
        parallelism.forEach(ci, grain: max(1, 4096 / max(p, 1))) { range in
            // Per patch row r: even[j] = virtual column 2j − 1, odd[j] = virtual column 2j.
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 8 * half)
            defer { scratch.deallocate() }
            scratch.initialize(repeating: 0, count: 8 * half)
            for c in range {
                let plane = input + c * h * w
                for ty in tileRows {
                    for r in 0..<4 {
                        let even = scratch + 2 * r * half, odd = even + half
                        let vy = 2 * ty - 1 + r
                        guard vy >= 0 && vy < vh else {
                            even.update(repeating: 0, count: 2 * half)
                            continue
                        }
                        let src = plane + (vy / f) * w
                        if f == 2 {
                            // Upsampled: virtual columns 2j − 1 and 2j read source j − 1 and j.
                            even[0] = 0
                            (even + 1).update(from: src, count: w)
                            odd.update(from: src, count: w)
                            (even + 1 + w).update(repeating: 0, count: tilesX - w)
                            (odd + w).update(repeating: 0, count: tilesX + 1 - w)
                        } else {
                            even[0] = 0
                            var j = 1
                            while 2 * j - 1 < vw { even[j] = src[2 * j - 1]; j += 1 }
                            while j <= tilesX { even[j] = 0; j += 1 }
                            j = 0
                            while 2 * j < vw { odd[j] = src[2 * j]; j += 1 }
                            while j <= tilesX { odd[j] = 0; j += 1 }
                        }
                    }
                    let base = c * p + (ty - tileRows.lowerBound) * tilesX
                    var tx = 0
                    while tx < tilesX {
                        let lanes = min(8, tilesX - tx)
                        @inline(__always) func load(_ q: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
                            UnsafeRawPointer(q).loadUnaligned(as: SIMD8<Float>.self)
                        }
                        // d_rk: patch row r, column k, for 8 tiles.
                        let e0 = scratch + tx, o0 = e0 + half
                        let e1 = e0 + 2 * half, o1 = e1 + half
                        let e2 = e0 + 4 * half, o2 = e2 + half
                        let e3 = e0 + 6 * half, o3 = e3 + half
                        let d00 = load(e0), d01 = load(o0), d02 = load(e0 + 1), d03 = load(o0 + 1)
                        let d10 = load(e1), d11 = load(o1), d12 = load(e1 + 1), d13 = load(o1 + 1)
                        let d20 = load(e2), d21 = load(o2), d22 = load(e2 + 1), d23 = load(o2 + 1)
                        let d30 = load(e3), d31 = load(o3), d32 = load(e3 + 1), d33 = load(o3 + 1)
                        // Bᵀ d (rows), then · B (columns).
                        let t00 = d00 - d20, t01 = d01 - d21, t02 = d02 - d22, t03 = d03 - d23
                        let t10 = d10 + d20, t11 = d11 + d21, t12 = d12 + d22, t13 = d13 + d23
                        let t20 = d20 - d10, t21 = d21 - d11, t22 = d22 - d12, t23 = d23 - d13
                        let t30 = d10 - d30, t31 = d11 - d31, t32 = d12 - d32, t33 = d13 - d33
                        let o = v + base + tx
                        @inline(__always) func put(_ xi: Int, _ x: SIMD8<Float>) {
                            let q = o + xi * stride
                            if lanes == 8 {
                                UnsafeMutableRawPointer(q).storeBytes(of: x, as: SIMD8<Float>.self)
                            } else {
                                for l in 0..<lanes { q[l] = x[l] }
                            }
                        }
                        put(0, t00 - t02); put(1, t01 + t02); put(2, t02 - t01); put(3, t01 - t03)
                        put(4, t10 - t12); put(5, t11 + t12); put(6, t12 - t11); put(7, t11 - t13)
                        put(8, t20 - t22); put(9, t21 + t22); put(10, t22 - t21); put(11, t21 - t23)
                        put(12, t30 - t32); put(13, t31 + t32); put(14, t32 - t31); put(15, t31 - t33)
                        tx += 8
                    }
                }
            }
        }
    }

    /// `Y = Aᵀ M A` with `Aᵀ = [[1,1,1,0], [0,1,−1,−1]]`, plus bias and residual; tiles hanging over
    /// the right/bottom edge write only their valid pixels.
    /// Eight tiles at a time (M is contiguous over tiles).
    static func transformOutput(_ g: Conv2DShape, m: UnsafePointer<Float>, stride: Int, tileRows: Range<Int>,
                                tilesX: Int, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                                output: UnsafeMutablePointer<Float>, parallelism: Parallelism) {
        let co = g.outChannels, ho = g.outHeight, wo = g.outWidth
        let p = tileRows.count * tilesX
        parallelism.forEach(co, grain: max(1, 4096 / max(p, 1))) { range in
            for c in range {
                let bc = SIMD8<Float>(repeating: bias?[c] ?? 0)
                let plane = output + c * ho * wo
                let res = residual.map { $0 + c * ho * wo }
                for ty in tileRows {
                    let base = c * p + (ty - tileRows.lowerBound) * tilesX
                    let y0 = 2 * ty
                    var tx = 0
                    while tx < tilesX {
                        let lanes = min(8, tilesX - tx)
                        let mp = m + base + tx
                        @inline(__always) func take(_ xi: Int) -> SIMD8<Float> {
                            let q = mp + xi * stride
                            if lanes == 8 { return UnsafeRawPointer(q).loadUnaligned(as: SIMD8<Float>.self) }
                            var x = SIMD8<Float>.zero
                            for l in 0..<lanes { x[l] = q[l] }
                            return x
                        }
                        // Aᵀ M (rows 0+1+2 and 1−2−3), then · A (columns likewise).
                        let m0 = take(0), m1 = take(1), m2 = take(2), m3 = take(3)
                        let m4 = take(4), m5 = take(5), m6 = take(6), m7 = take(7)
                        let m8 = take(8), m9 = take(9), m10 = take(10), m11 = take(11)
                        let m12 = take(12), m13 = take(13), m14 = take(14), m15 = take(15)
                        let s00 = m0 + m4 + m8, s01 = m1 + m5 + m9, s02 = m2 + m6 + m10, s03 = m3 + m7 + m11
                        let s10 = m4 - m8 - m12, s11 = m5 - m9 - m13, s12 = m6 - m10 - m14, s13 = m7 - m11 - m15
                        let y00 = s00 + s01 + s02 + bc, y01 = s01 - s02 - s03 + bc
                        let y10 = s10 + s11 + s12 + bc, y11 = s11 - s12 - s13 + bc
                        let row0 = plane + y0 * wo + 2 * tx
                        let r0 = res.map { $0 + y0 * wo + 2 * tx }
                        let hasRow1 = y0 + 1 < ho
                        for l in 0..<lanes {
                            let x = 2 * (tx + l)
                            row0[2 * l] = y00[l] + (r0?[2 * l] ?? 0)
                            if x + 1 < wo { row0[2 * l + 1] = y01[l] + (r0?[2 * l + 1] ?? 0) }
                            if hasRow1 {
                                row0[wo + 2 * l] = y10[l] + (r0?[wo + 2 * l] ?? 0)
                                if x + 1 < wo { row0[wo + 2 * l + 1] = y11[l] + (r0?[wo + 2 * l + 1] ?? 0) }
                            }
                        }
                        tx += 8
                    }
                }
            }
        }
    }
}
