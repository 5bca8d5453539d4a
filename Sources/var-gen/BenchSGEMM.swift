import Foundation
import VARKit

extension BenchCommand {
    /// The float32 arithmetic ceiling: sgemm of the shape of a large linear layer, medians of `repeats`; one
    /// row per `--threads` value.
    func runSGEMM(_ context: CLIContext) {
        let m = 2048, k = 1024, n = 4096
        var a = [Float](repeating: 0, count: m * k), b = [Float](repeating: 0, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        for i in a.indices { a[i] = Float(i % 7) * 0.25 - 0.75 }
        for i in b.indices { b[i] = Float(i % 5) * 0.25 - 0.5 }
        var rows: [(threads: Int, rates: [Double])] = []
        for t in sweep.threads {
            let parallelism = t.map { Parallelism(threads: $0) } ?? runtime.parallelism
            var rates: [Double] = []
            for r in 0..<(warmup + repeats) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n, parallelism: parallelism)
                let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
                if r >= warmup { rates.append(2 * Double(m * n * k) / dt / 1e9) }
            }
            rows.append((parallelism.workers, rates))
        }
        var env = BenchEnvironment.current(context, loadSeconds: 0, random: false, parallelism: runtime.parallelism)
        if rows.count > 1 { env.blasThreads = nil }
        switch format {
        case .json, .jsonl:
            let runs: [[String: Any]] = rows.map { row in
                ["threads": row.threads, "gflops_median": median(row.rates), "gflops_min": row.rates.min() ?? 0,
                 "gflops_max": row.rates.max() ?? 0]
            }
            // json: one record with every row; jsonl: one row per line, each with the environment.
            let records = format == .json ? [["environment": env.json, "sgemm_shape": [m, k, n], "runs": runs] as [String: Any]]
                : runs.map { $0.merging(["environment": env.json, "sgemm_shape": [m, k, n]]) { a, _ in a } }
            for record in records {
                if let data = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) {
                    context.console.out(String(decoding: data, as: UTF8.self) + "\n")
                }
            }
        case .csv:
            context.console.out(CSV.table(header: ["m", "k", "n", "threads", "gflops_median", "gflops_min", "gflops_max"],
                                          rows: rows.map { row in
                                              [m, k, n, row.threads, median(row.rates), row.rates.min() ?? 0, row.rates.max() ?? 0].map { "\($0)" }
                                          }))
        case .md:
            var s = env.markdown + "\n| sgemm (m×k · k×n) | threads | GFLOP/s median | min–max |\n| --- | --- | --- | --- |\n"
            for row in rows {
                s += String(format: "| %d×%d · %d×%d | %d | %.1f | %.1f–%.1f |\n", m, k, k, n, row.threads, median(row.rates),
                            row.rates.min() ?? 0, row.rates.max() ?? 0)
            }
            context.console.out(s)
        }
    }
}
