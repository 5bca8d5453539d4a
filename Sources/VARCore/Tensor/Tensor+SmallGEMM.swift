import CKernels

/// A linear layer for the rows of batch 1's small scales (2–72 rows with CFG) and other few-row products.
///
/// BLAS `sgemm` packs the whole weight matrix on every call, which at a few dozen rows costs as much as the
/// arithmetic (the first scales stream every weight once, docs/performance.md §2). The C kernel `vg_linear_f32`
/// reads PyTorch's row-major weights in place with 4 × 3 register tiles of dot products; the workers take
/// disjoint ranges of output features, so every weight is read from memory once per call.
enum SmallGEMM {
    /// Rows up to which `linear` beats BLAS (`smallGEMMTiming`: AMD EPYC, 2 threads, VAR-d16's four block
    /// shapes, GFLOP/s of this kernel vs sgemm: m = 2 17.6 vs 6.3, m = 8 49.3 vs 21.2, m = 18 67.6 vs 41.9,
    /// m = 72 87.2 vs 82.3, m = 96 92.0 vs 111.3).
    static let maxRows = 80

    /// Output features per worker chunk: whole 3-feature tiles, at least 64K weights.
    static func grain(inFeatures k: Int) -> Int { max(3, (65536 / max(k, 1) + 2) / 3 * 3) }

    /// `out (m, n) = x (m, k) · Wᵀ + bias`, W `(n, k)` row-major; m ≤ `maxRows` recommended.
    static func linear(_ x: UnsafePointer<Float>, rows m: Int, weight w: UnsafePointer<Float>, outFeatures n: Int,
                       inFeatures k: Int, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>,
                       parallelism: Parallelism) {
        parallelism.forEach(n, grain: grain(inFeatures: k)) { range in
            vg_linear_f32(x, m, k, w, k, range.lowerBound, range.upperBound, bias, out, n)
        }
    }
}
