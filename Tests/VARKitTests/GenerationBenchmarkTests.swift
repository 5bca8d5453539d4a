import Foundation
import Testing
@testable import VARKit

/// Rough timing of the official d16 shapes with random weights (run with VARGEN_BENCH=1; not a unit test).
@Suite struct GenerationBenchmarkTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["VARGEN_BENCH"] != nil))
    func officialShapeTiming() throws {
        let depth = Int(ProcessInfo.processInfo.environment["VARGEN_BENCH_DEPTH"] ?? "16") ?? 16
        let batch = Int(ProcessInfo.processInfo.environment["VARGEN_BENCH_BATCH"] ?? "1") ?? 1
        let c = VARConfig.official(depth: depth)
        var t0 = Date()
        let rnd = VARModel(config: c, randomSeed: 1)
        let tok = NearestTokenizer(config: c)
        let gen = try VARGenerator(model: rnd, tokenizer: tok)
        print("load \(Date().timeIntervalSince(t0)) s, BLAS \(BLAS.coreName) threads \(BLAS.threadCount)")
        for _ in 0..<2 {
            t0 = Date()
            var last = t0
            var per: [String] = []
            _ = try gen.generate(labels: Array(repeating: 1, count: batch), seeds: (0..<batch).map { UInt64($0) },
                                 sampling: SamplingConfig()) { _ in
                let now = Date(); per.append(String(format: "%.3f", now.timeIntervalSince(last))); last = now; return true
            }
            print("generate B=\(batch): \(Date().timeIntervalSince(t0)) s; per scale \(per)")
        }
    }
}
