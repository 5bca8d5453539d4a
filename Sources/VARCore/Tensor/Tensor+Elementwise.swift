import CKernels
import Foundation

/// Fused elementwise kernels of the transformer (docs/model.md §3.1, §5.2–5.5), on raw row-major buffers and
/// parallel over rows. Rows are grouped per sample: row r belongs to sample `r / rowsPerSample`, whose
/// modulation vectors are read at `mod + sample·modStride`.
public enum Elementwise {
    /// `out = LN(x) ⊙ (1 + scale) + shift` with the parameter-free LayerNorm (eps 1e−6, biased variance).
    /// `x`, `out`: (rows, C). `scale`/`shift` point at the first sample's C-vectors, `modStride` apart.
    public static func layerNormModulate(_ x: UnsafePointer<Float>, rows: Int, width C: Int,
                                         rowsPerSample: Int, scale: UnsafePointer<Float>,
                                         shift: UnsafePointer<Float>, modStride: Int,
                                         into out: UnsafeMutablePointer<Float>, parallelism: Parallelism) {
        parallelism.forEach(rows, grain: max(1, 16384 / max(C, 1))) { range in
            for r in range {
                let xr = x + r * C, o = out + r * C
                let sample = r / rowsPerSample
                let sc = scale + sample * modStride, sh = shift + sample * modStride
                // Two passes with eight float lanes, combined in double (PyTorch also reduces in float).
                var acc = SIMD8<Float>(repeating: 0)
                var i = 0
                while i + 8 <= C { acc += UnsafeRawPointer(xr + i).loadUnaligned(as: SIMD8<Float>.self); i += 8 }
                var mean = Double(acc.sum())
                while i < C { mean += Double(xr[i]); i += 1 }
                mean /= Double(C)
                let mu = Float(mean)
                var vacc = SIMD8<Float>(repeating: 0)
                i = 0
                while i + 8 <= C {
                    let d = UnsafeRawPointer(xr + i).loadUnaligned(as: SIMD8<Float>.self) - mu
                    vacc += d * d; i += 8
                }
                var variance = Double(vacc.sum())
                while i < C { let d = Double(xr[i] - mu); variance += d * d; i += 1 }
                variance /= Double(C)
                let inv = Float(1 / (variance + 1e-6).squareRoot())
                for i in 0..<C {
                    o[i] = ((xr[i] - mu) * inv) * (1 + sc[i]) + sh[i]
                }
            }
        }
    }

    /// `x += gate ⊙ y` per sample (the gated residual of docs/model.md §5.2). `x`, `y`: (rows, C).
    public static func gatedResidual(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, rows: Int,
                                     width C: Int, rowsPerSample: Int, gate: UnsafePointer<Float>, gateStride: Int,
                                     parallelism: Parallelism) {
        parallelism.forEach(rows, grain: max(1, 32768 / max(C, 1))) { range in
            for r in range {
                let xr = x + r * C, yr = y + r * C, g = gate + (r / rowsPerSample) * gateStride
                for i in 0..<C { xr[i] += yr[i] * g[i] }
            }
        }
    }

    /// GELU with the tanh approximation, in place: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`
    /// (`vg_gelu_tanh`: `tanh(z) = 1 − 2/(e^(2z) + 1)` with a vector `exp`; AVX2 + FMA when present).
    public static func geluTanh(_ x: UnsafeMutablePointer<Float>, count: Int, parallelism: Parallelism) {
        parallelism.forEach(count, grain: 32768) { range in
            vg_gelu_tanh(x + range.lowerBound, range.count)
        }
    }

    /// `e^x` for eight lanes, relative error ≤ 2e-7 (`FastMath.exp`).
    @inline(__always)
    public static func exp(_ v: SIMD8<Float>) -> SIMD8<Float> { FastMath.exp(v) }

    /// `silu(x) = x·σ(x)` into `out`.
    public static func silu(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
        for i in 0..<count { let v = x[i]; out[i] = v / (1 + expf(-v)) }
    }

    /// L2-normalises `count` consecutive vectors of length `dim`, each starting `stride` after the previous,
    /// then multiplies by `factor`: `v ← v / max(‖v‖, 1e−12) · factor` (F.normalize, docs/model.md §5.3).
    @inline(__always)
    public static func normalize(_ v: UnsafeMutablePointer<Float>, dim: Int, factor: Float) {
        var s: Float = 0
        for i in 0..<dim { s += v[i] * v[i] }
        let n = max(s.squareRoot(), 1e-12)
        if factor == 1 {
            for i in 0..<dim { v[i] = v[i] / n }
        } else {
            for i in 0..<dim { v[i] = (v[i] / n) * factor }
        }
    }

    /// Softmax of each of `rows` rows of length `count` (stride `ld`), in place; float32.
    public static func softmaxRows(_ s: UnsafeMutablePointer<Float>, rows: Int, count: Int, ld: Int,
                                   parallelism: Parallelism) {
        parallelism.forEach(rows, grain: max(1, 32768 / max(count, 1))) { range in
            softmaxRowsSerial(s, rows: range, count: count, ld: ld)
        }
    }

    static func softmaxRowsSerial(_ s: UnsafeMutablePointer<Float>, rows: Range<Int>, count: Int, ld: Int) {
        for r in rows {
            let row = s + r * ld
            var m = -Float.infinity
            for j in 0..<count { m = max(m, row[j]) }
            var acc = SIMD8<Float>(repeating: 0)
            var j = 0
            let raw = UnsafeMutableRawPointer(row)
            while j + 8 <= count {
                let e = Elementwise.exp(raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) - m)
                raw.storeBytes(of: e, toByteOffset: j * 4, as: SIMD8<Float>.self)
                acc += e; j += 8
            }
            var sum = acc.sum()
            while j < count { let e = expf(row[j] - m); row[j] = e; sum += e; j += 1 }
            let inv = 1 / sum
            for j in 0..<count { row[j] *= inv }
        }
    }
}
