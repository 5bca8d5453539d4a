import COpenBLAS
import Foundation

/// Matrix products through OpenBLAS. All matrices are row-major.
///
/// Threading on a shared 2-core machine (docs/performance.md §4): OpenBLAS splits every large
/// enough sgemm statically between its threads, and after each call its workers spin (`sched_yield`) for
/// `2^OPENBLAS_THREAD_TIMEOUT` cycles (default 2^28, ~0.1 s) waiting for the next job. Next to another busy
/// process, or next to the engine's own `Parallelism` loops, those spinning workers steal the cores and every
/// threaded call waits for a descheduled worker: the tiny model ran 10x slower with 2 threads than with 1.
/// So (1) products below `parallelFlops` run on one thread, and (2) the CLI (never this library: it would be
/// process-wide environment) sets `OPENBLAS_THREAD_TIMEOUT=4` unless the user chose a value and then calls
/// `reloadEnvironment()`; tools/openblas-env.sh does the same for the tests.
///
/// This type holds no state of its own. The thread count of a large product is the caller's `Parallelism`
/// (from `PipelineConfiguration.threads`), passed with every call; OpenBLAS keeps its thread count as
/// process-wide C state, so each product sets it (`openblas_set_num_threads`, only when it differs) right
/// before it runs. Two pipelines with different counts that run products at the same moment from two threads
/// would race on that C state; one call at a time per process gets exactly its own count.
public enum BLAS {
    /// Products with fewer FLOPs (2·m·n·k) than this run single-threaded: the hand-off costs more than it saves.
    public static let parallelFlops = 1 << 24

    /// Re-reads the `OPENBLAS_*` environment variables (OpenBLAS reads them once, when it is loaded) and stops
    /// the idle workers so that the next threaded call starts them with the new settings.
    public static func reloadEnvironment() {
        openblas_read_env()
        _ = blas_thread_shutdown_()
    }

    /// Sets OpenBLAS to `n` threads if it is not already (called from the thread that runs the BLAS calls).
    static func use(threads n: Int) {
        if Int(openblas_get_num_threads()) != n { openblas_set_num_threads(Int32(n)) }
    }

    /// `C[m×n] = alpha · op(A) · op(B) + beta · C`, with `op` the optional transpose.
    /// `lda`, `ldb`, `ldc` are the row strides of the matrices *as stored*. Large products run on
    /// `parallelism.blasThreads(forFlops:)` threads.
    public static func gemm(transA: Bool = false, transB: Bool = false,
                            m: Int, n: Int, k: Int,
                            alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0,
                            c: UnsafeMutablePointer<Float>, ldc: Int, parallelism: Parallelism) {
        if m == 0 || n == 0 { return }
        use(threads: parallelism.blasThreads(forFlops: 2 * m * n * k))
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha,
                    a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// `gemm` without any thread-count change, for calls made from inside a `Parallelism` region (the caller sets
    /// one thread first with `use(threads: 1)` on its own thread).
    static func gemmInRegion(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
                             c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), 1, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// A linear layer on raw buffers: `out (m, n) = x (m, k) · Wᵀ + bias`, W `(n, k)` row-major (PyTorch's
    /// layout): the bias is copied into every row of `out`, then one sgemm adds the product (β = 1).
    static func linear(_ x: UnsafePointer<Float>, rows m: Int, weight w: UnsafePointer<Float>, outFeatures n: Int,
                       inFeatures k: Int, bias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>,
                       parallelism: Parallelism) {
        if let bias { fillRows(out, rows: m, with: bias, count: n) }
        gemm(transB: true, m: m, n: n, k: k, a: x, lda: k, b: w, ldb: k, beta: bias == nil ? 0 : 1, c: out, ldc: n,
             parallelism: parallelism)
    }

    /// Copies `row` (`count` floats) into each of the `rows` rows of `out`.
    static func fillRows(_ out: UnsafeMutablePointer<Float>, rows: Int, with row: UnsafePointer<Float>, count: Int) {
        for r in 0..<rows { (out + r * count).update(from: row, count: count) }
    }

    /// The name of the OpenBLAS kernel family in use (e.g. "SkylakeX"; "Prescott" means slow, see docs/performance.md §1).
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }
}

extension Tensor {
    /// A linear layer: `x (N, in) · Wᵀ (in, out) + bias` → `(N, out)`; weight is `(out, in)` as in PyTorch.
    /// Leading dimensions of `x` are flattened into N.
    public func linear(_ weight: Tensor, bias: Tensor? = nil, parallelism: Parallelism) -> Tensor {
        let inF = weight.shape[1], outF = weight.shape[0]
        precondition(shape.last == inF, "linear: input width \(shape.last ?? -1) ≠ weight in-features \(inF)")
        let n = count / inF
        if let bias { precondition(bias.count == outF) }
        var out = [Float](repeating: 0, count: n * outF)
        data.withUnsafeBufferPointer { x in
            weight.data.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { o in
                    func run(_ b: UnsafePointer<Float>?) {
                        BLAS.linear(x.baseAddress!, rows: n, weight: w.baseAddress!, outFeatures: outF, inFeatures: inF,
                                    bias: b, into: o.baseAddress!, parallelism: parallelism)
                    }
                    if let bias { bias.data.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
                }
            }
        }
        return Tensor(shape: Array(shape.dropLast()) + [outF], data: out)
    }
}
