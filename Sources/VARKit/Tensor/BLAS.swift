import COpenBLAS

/// Matrix products through OpenBLAS. All matrices are row-major.
public enum BLAS {
    /// `C[m×n] = alpha · op(A) · op(B) + beta · C`, with `op` the optional transpose.
    /// `lda`, `ldb`, `ldc` are the row strides of the matrices *as stored*.
    @inlinable
    public static func gemm(transA: Bool = false, transB: Bool = false,
                            m: Int, n: Int, k: Int,
                            alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0,
                            c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha,
                    a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// The name of the OpenBLAS kernel family in use (e.g. "SkylakeX"; "Prescott" means slow, see performance.md).
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    public static func setThreadCount(_ n: Int) { openblas_set_num_threads(Int32(n)) }
}

extension Tensor {
    /// A linear layer: `x (N, in) · Wᵀ (in, out) + bias` → `(N, out)`; weight is `(out, in)` as in PyTorch.
    /// Leading dimensions of `x` are flattened into N.
    public func linear(_ weight: Tensor, bias: Tensor? = nil) -> Tensor {
        let inF = weight.shape[1], outF = weight.shape[0]
        precondition(shape.last == inF, "linear: input width \(shape.last ?? -1) ≠ weight in-features \(inF)")
        let n = count / inF
        var out = [Float](repeating: 0, count: n * outF)
        if let bias {
            precondition(bias.count == outF)
            out.withUnsafeMutableBufferPointer { o in
                for r in 0..<n { for j in 0..<outF { o[r * outF + j] = bias.data[j] } }
            }
        }
        data.withUnsafeBufferPointer { x in
            weight.data.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { o in
                    BLAS.gemm(transB: true, m: n, n: outF, k: inF,
                              a: x.baseAddress!, lda: inF, b: w.baseAddress!, ldb: inF,
                              beta: bias == nil ? 0 : 1, c: o.baseAddress!, ldc: outF)
                }
            }
        }
        return Tensor(shape: Array(shape.dropLast()) + [outF], data: out)
    }
}
