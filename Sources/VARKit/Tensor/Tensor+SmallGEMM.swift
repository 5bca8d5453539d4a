/// A linear layer for a handful of rows (the first scales at small batch: 2–18 rows with CFG).
///
/// BLAS `sgemm` packs the whole weight matrix for every call, which at a few rows costs several times
/// the one pass over the weights that the arithmetic needs (the step is memory-bound, performance.md §2).
/// This kernel streams each weight row once and computes its dot products with all input rows, in
/// parallel over output features.
enum SmallGEMM {
    /// Rows up to which `linear` beats BLAS (`smallGEMMTiming`, n 4096, k 1024, AMD EPYC 2 threads, loaded machine:
    /// m = 1 6.0 vs 16.6 ms, m = 8 12.6 vs 20.8 ms, m = 16 24.6 vs 17.6 ms).
    static let maxRows = 10

    /// `out (m, n) = x (m, k) · Wᵀ + bias`, W `(n, k)` row-major; m ≤ `maxRows` recommended.
    static func linear(_ x: UnsafePointer<Float>, rows m: Int, weight w: UnsafePointer<Float>, outFeatures n: Int,
                       inFeatures k: Int, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>) {
        Parallel.forEach(n, grain: max(8, 65536 / max(k, 1))) { range in
            for o in range {
                let wr = w + o * k
                var r = 0
                while r + 4 <= m {
                    let s = dot4(wr, x + r * k, x + (r + 1) * k, x + (r + 2) * k, x + (r + 3) * k, k)
                    let b = bias?[o] ?? 0
                    out[r * n + o] = s.0 + b; out[(r + 1) * n + o] = s.1 + b
                    out[(r + 2) * n + o] = s.2 + b; out[(r + 3) * n + o] = s.3 + b
                    r += 4
                }
                while r + 2 <= m {
                    let s = dot2(wr, x + r * k, x + (r + 1) * k, k)
                    let b = bias?[o] ?? 0
                    out[r * n + o] = s.0 + b; out[(r + 1) * n + o] = s.1 + b
                    r += 2
                }
                if r < m { out[r * n + o] = dot2(wr, x + r * k, x + r * k, k).0 + (bias?[o] ?? 0) }
            }
        }
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func dot4(_ w: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                     _ c: UnsafePointer<Float>, _ d: UnsafePointer<Float>, _ k: Int) -> (Float, Float, Float, Float) {
        var sa = SIMD8<Float>(), sb = SIMD8<Float>(), sc = SIMD8<Float>(), sd = SIMD8<Float>()
        var i = 0
        while i + 8 <= k {
            let wv = load(w, i)
            sa += wv * load(a, i); sb += wv * load(b, i); sc += wv * load(c, i); sd += wv * load(d, i)
            i += 8
        }
        var ra = sa.sum(), rb = sb.sum(), rc = sc.sum(), rd = sd.sum()
        while i < k { ra += w[i] * a[i]; rb += w[i] * b[i]; rc += w[i] * c[i]; rd += w[i] * d[i]; i += 1 }
        return (ra, rb, rc, rd)
    }

    @inline(__always)
    static func dot2(_ w: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                     _ k: Int) -> (Float, Float) {
        var sa = SIMD8<Float>(), sb = SIMD8<Float>(), ta = SIMD8<Float>(), tb = SIMD8<Float>()
        var i = 0
        while i + 16 <= k {
            let w0 = load(w, i), w1 = load(w, i + 8)
            sa += w0 * load(a, i); sb += w0 * load(b, i)
            ta += w1 * load(a, i + 8); tb += w1 * load(b, i + 8)
            i += 16
        }
        while i + 8 <= k { let wv = load(w, i); sa += wv * load(a, i); sb += wv * load(b, i); i += 8 }
        var ra = (sa + ta).sum(), rb = (sb + tb).sum()
        while i < k { ra += w[i] * a[i]; rb += w[i] * b[i]; i += 1 }
        return (ra, rb)
    }
}
