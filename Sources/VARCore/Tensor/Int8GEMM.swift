import CKernels

/// A weight matrix `W (out, in)` quantized to symmetric int8 (`LinearWeight.Storage.int8`, docs/quantization.md):
/// each row padded with zeros to `paddedIn` (a multiple of 32) values, one float scale per `group` values
/// (32, or `paddedIn`: one per row), `W[o][i] ≈ values[o·paddedIn + i] · scales[o·groups + i / group]`.
struct QuantizedMatrix {
    let outFeatures: Int
    let inFeatures: Int
    let paddedIn: Int
    let group: Int
    let values: [Int8]   // (out, paddedIn)
    let scales: [Float]  // (out, paddedIn / group)

    /// Quantizes `w (out, in)` row-major in groups of `group` inputs (0: one group per row).
    init(_ w: [Float], outFeatures n: Int, inFeatures k: Int, group: Int = Int8GEMM.groupSize,
         parallelism: Parallelism) {
        precondition(w.count == n * k, "QuantizedMatrix: \(w.count) weights for (\(n), \(k))")
        outFeatures = n
        inFeatures = k
        paddedIn = Int8GEMM.paddedWidth(k)
        self.group = group == 0 ? paddedIn : group
        precondition(self.group % 32 == 0 && paddedIn % self.group == 0, "QuantizedMatrix: group \(group)")
        let (kp, g) = (paddedIn, self.group)
        var q = [Int8](repeating: 0, count: n * kp), s = [Float](repeating: 0, count: n * (kp / g))
        w.withUnsafeBufferPointer { wb in q.withUnsafeMutableBufferPointer { qb in s.withUnsafeMutableBufferPointer { sb in
            guard let wp = wb.baseAddress, let qp = qb.baseAddress, let sp = sb.baseAddress else { return }
            parallelism.forEach(n, grain: max(1, 65536 / max(k, 1))) { r in
                vg_q8_quantize_rows(wp + r.lowerBound * k, r.count, k, k, kp, g, qp + r.lowerBound * kp,
                                    sp + r.lowerBound * (kp / g), vg_q8_best_path())
            }
        } } }
        values = q
        scales = s
    }

    var groups: Int { paddedIn / group }

    /// Bytes held: one per (padded) weight, four per scale.
    var bytes: Int { values.count + scales.count * MemoryLayout<Float>.stride }

    /// The dequantized weights `(out, in)`.
    var dequantized: [Float] {
        var out = [Float](repeating: 0, count: outFeatures * inFeatures)
        values.withUnsafeBufferPointer { q in scales.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { o in
            if let qp = q.baseAddress, let sp = s.baseAddress, let op = o.baseAddress {
                vg_q8_dequantize_rows(qp, sp, outFeatures, inFeatures, paddedIn, group, op)
            }
        } } }
        return out
    }
}

/// Linear layers with int8 weights: each product quantizes its input rows (same groups as the weights) and runs
/// the int8 × int8 → int32 kernel `vg_q8_linear` (AVX512-VNNI, AVX-VNNI, AVX2 or plain C, the fastest the CPU
/// runs), in parallel over output features. Measurements and the choice of groups: docs/quantization.md.
enum Int8GEMM {
    /// Inputs per weight scale (0: one scale per row, the default). docs/quantization.md compares 32 with per-row
    /// scales: groups of 32 convert every 32-input partial sum to float and were 1.3–2x slower than float32
    /// itself at many rows, per-row scales 1.3–2.7x faster than float32 (`int8GEMMTiming`).
    static let groupSize = 0

    /// `k` rounded up to a multiple of 32 (the kernels' step).
    static func paddedWidth(_ k: Int) -> Int { (k + 31) / 32 * 32 }

    /// Floats of scratch a product of `m` rows of width `k` in groups `g` needs (quantized rows and their scales).
    /// (`g` 0: per row.)
    static func scratchFloats(rows m: Int, paddedIn kp: Int, group g: Int) -> Int {
        m * (g == 0 ? 1 : kp / g) + (m * kp + 3) / 4
    }

    /// `out (m, n) = x (m, k) · Wᵀ + bias` with W quantized; `scratch` (if given) holds the quantized inputs.
    static func linear(_ x: UnsafePointer<Float>, rows m: Int, weight w: QuantizedMatrix, bias: UnsafePointer<Float>?,
                       into out: UnsafeMutablePointer<Float>, scratch: ScratchBuffer? = nil,
                       path: Int32 = vg_q8_best_path(), parallelism: Parallelism) {
        let kp = w.paddedIn, g = w.group, k = w.inFeatures, n = w.outFeatures
        let floats = scratchFloats(rows: m, paddedIn: kp, group: g)
        let owned: UnsafeMutablePointer<Float>? = scratch == nil ? .allocate(capacity: floats) : nil
        defer { owned?.deallocate() }
        guard let base = scratch?.reserve(floats) ?? owned else { return }
        let xs = base, xq = UnsafeMutableRawPointer(base + m * (kp / g)).assumingMemoryBound(to: Int8.self)
        parallelism.forEach(m, grain: max(1, 32768 / max(k, 1))) { r in
            vg_q8_quantize_rows(x + r.lowerBound * k, r.count, k, k, kp, g, xq + r.lowerBound * kp,
                                xs + r.lowerBound * (kp / g), path)
        }
        w.values.withUnsafeBufferPointer { qb in w.scales.withUnsafeBufferPointer { sb in
            guard let wq = qb.baseAddress, let ws = sb.baseAddress else { return }
            parallelism.forEach(n, grain: grain(rows: m, paddedIn: kp)) { r in
                vg_q8_linear(xq, xs, m, wq, ws, kp, g, r.lowerBound, r.upperBound, bias, out, n, path)
            }
        } }
    }

    /// The alternative for many rows: the whole matrix dequantized into `scratch` (in parallel), then one threaded
    /// float32 sgemm (as `HalfGEMM.whole`). Exact float32 inputs; compared with `linear` in docs/quantization.md.
    static func dequantizedLinear(_ x: UnsafePointer<Float>, rows m: Int, weight w: QuantizedMatrix,
                                  bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>, scratch: ScratchBuffer,
                                  parallelism: Parallelism) {
        let n = w.outFeatures, k = w.inFeatures, kp = w.paddedIn, g = w.group
        let wide = scratch.reserve(n * k)    // (n, k)
        w.values.withUnsafeBufferPointer { qb in w.scales.withUnsafeBufferPointer { sb in
            guard let wq = qb.baseAddress, let ws = sb.baseAddress else { return }
            parallelism.forEach(n, grain: max(1, 65536 / max(k, 1))) { r in
                vg_q8_dequantize_rows(wq + r.lowerBound * kp, ws + r.lowerBound * (kp / g), r.count, k, kp, g,
                                      wide + r.lowerBound * k)
            }
        } }
        BLAS.linear(x, rows: m, weight: wide, outFeatures: n, inFeatures: k, bias: bias, into: out,
                    parallelism: parallelism)
    }

    /// Output features worth a thread hop: ~64 KB of weights at few rows, fewer features as rows grow.
    static func grain(rows m: Int, paddedIn kp: Int) -> Int { max(2, 65536 / max(kp * max(1, m / 4), 1) / 2 * 2) }

    /// The name of a kernel path (`VG_Q8_*`), for `--verbose` and test output.
    static func pathName(_ path: Int32) -> String {
        switch path {
        case VG_Q8_AVX2: return "AVX2"
        case VG_Q8_AVXVNNI: return "AVX-VNNI"
        case VG_Q8_AVX512VNNI: return "AVX512-VNNI"
        default: return "scalar"
        }
    }
}
