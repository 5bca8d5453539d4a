import CKernels

/// Linear layers with float16 weights (`LinearWeight.Storage.float16`; needs `WeightPrecision.float16Supported`).
///
/// - Few rows (the small scales, where a step streams every weight once and is memory-bound; up to 128 rows for
///   long input rows): the C kernel `vg_linear_f16` (`SmallGEMM`'s 4 × 3 register tiles, weights widened 8 per
///   F16C instruction), in parallel over output features. Half the bytes of the float32 stream.
/// - More rows: each worker widens a panel of weight rows into a float32 buffer that stays in its cache and
///   runs a single-threaded sgemm on it; workers take disjoint panels.
/// - Many rows (compute-bound), given a scratch buffer: the whole matrix is widened into it once and one threaded
///   sgemm runs on it (panels would make sgemm pack the input again per panel: 15–30% slower there).
/// Both accumulate in float32; the results equal a float32 linear over the float16-rounded weights up to
/// summation order (tested to 1e-5 relative).
enum HalfGEMM {
    /// Rows up to which the fused kernel beats the panels (`halfGEMMTiming`, n 4096, k 1024, AMD EPYC, 2 threads,
    /// ms fused vs best panels, with the kernel's weight prefetch: m = 1 0.62 vs 1.96, m = 32 2.29 vs 3.33,
    /// m = 72 5.16 vs 6.20, m = 96 6.96 vs 6.75, m = 128 14.99 vs 10.16; float32 at m = 72 7.05). The same bound
    /// as `SmallGEMM`'s.
    static let maxRows = 80

    /// With long rows (k ≥ `longK`) the fused kernel also wins up to `longRows` rows, where a panel holds few
    /// weight rows and sgemm packs the whole input again per panel (`halfGEMMTiming`, m = 128, ms fused / best
    /// panels / whole / float32: VAR-d30 fc2 1920 × 7680 29.4 / 60.0 / 53.3 / 33.9, fc1 7680 × 1920 46.3 / 49.1 /
    /// 52.7 / 47.2, qkv 5760 × 1920 24.8 / 24.8 / 28.6 / 25.3; VAR-d16 fc2 1024 × 4096 8.6 / 10.3 / 10.8 / 9.5;
    /// but VAR-d16 fc1 4096 × 1024 15.0 / 10.2 / 16.2 / 13.9).
    static let longRows = 128, longK = 1536

    /// Floats of one worker's converted panel (1 MB). Every sgemm call packs its whole input again, so larger
    /// panels pay off as rows grow: 256K floats beat 16K and 64K at every row count measured.
    static let panelFloats = 1 << 18

    /// Rows from which, given a scratch buffer, the whole matrix is widened once (`halfGEMMTiming`, ms, 2 threads,
    /// panels of 256K floats vs whole vs float32: VAR-d16 fc1 m = 128 10.16 / 16.23 / 13.92, m = 256 26.84 /
    /// 21.77 / 26.54; VAR-d30 fc1 (7680 × 1920) m = 128 33.2 / 40.9 / 35.1, m = 200 50.5 / 56.5 / 52.8, m = 338
    /// 89.1 / 91.0 / 83.1, m = 512 134.1 / 118.6 / 111.6).
    static let wholeRows = 256

    /// `out (m, n) = x (m, k) · Wᵀ + bias`, W `(n, k)` float16 row-major.
    static func linear(_ x: UnsafePointer<Float>, rows m: Int, weight w: UnsafePointer<UInt16>, outFeatures n: Int,
                       inFeatures k: Int, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>,
                       scratch: ScratchBuffer? = nil, parallelism: Parallelism) {
        if m <= maxRows || (m <= longRows && k >= longK) {
            fused(x, rows: m, weight: w, outFeatures: n, inFeatures: k, bias: bias, into: out, parallelism: parallelism)
        } else if m >= wholeRows, let scratch {
            whole(x, rows: m, weight: w, outFeatures: n, inFeatures: k, bias: bias, into: out, scratch: scratch,
                  parallelism: parallelism)
        } else {
            panels(x, rows: m, weight: w, outFeatures: n, inFeatures: k, bias: bias, into: out, parallelism: parallelism)
        }
    }

    /// The few-row path: one pass over the weights, parallel over output features.
    static func fused(_ x: UnsafePointer<Float>, rows m: Int, weight w: UnsafePointer<UInt16>, outFeatures n: Int,
                      inFeatures k: Int, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>,
                      parallelism: Parallelism) {
        parallelism.forEach(n, grain: SmallGEMM.grain(inFeatures: k)) { range in
            vg_linear_f16(x, m, k, w, k, range.lowerBound, range.upperBound, bias, out, n)
        }
    }

    /// The many-row path: the whole matrix widened into `scratch` (in parallel), then one (threaded) sgemm.
    static func whole(_ x: UnsafePointer<Float>, rows m: Int, weight w: UnsafePointer<UInt16>, outFeatures n: Int,
                      inFeatures k: Int, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>,
                      scratch: ScratchBuffer, parallelism: Parallelism) {
        let wide = scratch.reserve(n * k)    // (n, k)
        parallelism.forEach(n * k, grain: 1 << 18) { r in vg_f16_to_f32(w + r.lowerBound, wide + r.lowerBound, r.count) }
        BLAS.linear(x, rows: m, weight: wide, outFeatures: n, inFeatures: k, bias: bias, into: out,
                    parallelism: parallelism)
    }

    /// The middle path: per worker, panels of `panelFloats / k` weight rows widened to float32, then sgemm.
    static func panels(_ x: UnsafePointer<Float>, rows m: Int, weight w: UnsafePointer<UInt16>, outFeatures n: Int,
                       inFeatures k: Int, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>,
                       panelFloats: Int = HalfGEMM.panelFloats, parallelism: Parallelism) {
        let P = min(n, max(8, panelFloats / max(k, 1) / 8 * 8))       // weight rows per panel
        let count = (n + P - 1) / P
        if let bias { BLAS.fillRows(out, rows: m, with: bias, count: n) }
        BLAS.use(threads: 1)
        parallelism.forEachChunk(count, grain: 1, maxChunks: parallelism.workers) { _, range in
            // Allocated per call: ≤ 1 MB per worker, served from the heap after the first call.
            let panel = UnsafeMutablePointer<Float>.allocate(capacity: P * k)   // (P, k)
            defer { panel.deallocate() }
            for p in range {
                let o0 = p * P, rowsHere = min(P, n - o0)
                vg_f16_to_f32(w + o0 * k, panel, rowsHere * k)
                BLAS.gemmInRegion(transB: true, m: m, n: rowsHere, k: k, a: x, lda: k, b: panel, ldb: k,
                                  beta: bias == nil ? 0 : 1, c: out + o0, ldc: n)
            }
        }
    }
}
