import Foundation
import VARKit

extension BenchCommand {
    /// The float32 arithmetic ceiling: sgemm of the shape of a large linear layer, medians of `repeats`.
    func runSGEMM(_ context: CLIContext) {
        let m = 2048, k = 1024, n = 4096
        var a = [Float](repeating: 0, count: m * k), b = [Float](repeating: 0, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        for i in a.indices { a[i] = Float(i % 7) * 0.25 - 0.75 }
        for i in b.indices { b[i] = Float(i % 5) * 0.25 - 0.5 }
        var rates: [Double] = []
        for r in 0..<(warmup + repeats) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n, parallelism: runtime.parallelism)
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            if r >= warmup { rates.append(2 * Double(m * n * k) / dt / 1e9) }
        }
        let env = BenchEnvironment.current(context, loadSeconds: 0, random: false, parallelism: runtime.parallelism)
        switch format {
        case .json, .jsonl:
            let record: [String: Any] = ["environment": env.json, "sgemm_shape": [m, k, n],
                                         "gflops_median": median(rates), "gflops_min": rates.min() ?? 0,
                                         "gflops_max": rates.max() ?? 0]
            if let data = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) {
                context.console.out(String(decoding: data, as: UTF8.self) + "\n")
            }
        case .csv:
            context.console.out(CSV.table(header: ["m", "k", "n", "gflops_median", "gflops_min", "gflops_max"],
                                          rows: [[m, k, n, median(rates), rates.min() ?? 0, rates.max() ?? 0].map { "\($0)" }]))
        case .md:
            context.console.out(env.markdown + "\n| sgemm (m×k · k×n) | GFLOP/s median | min–max |\n| --- | --- | --- |\n"
                                + String(format: "| %d×%d · %d×%d | %.1f | %.1f–%.1f |\n", m, k, k, n, median(rates),
                                         rates.min() ?? 0, rates.max() ?? 0))
        }
    }
}
