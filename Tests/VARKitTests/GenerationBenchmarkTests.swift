import CKernels
import Foundation
import Testing
@testable import VARCore
import VARKit

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
        print("load \(Date().timeIntervalSince(t0)) s, BLAS \(BLAS.coreName) workers \(Parallelism.allCores.workers)")
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

@Suite struct TransformerSmallGEMMTests {
    /// The few-row linear kernel against BLAS: relative error ≤ 1e-5 of the row norm, for every remainder.
    @Test func smallGEMMMatchesBLAS() {
        for (m, n, k) in [(1, 37, 19), (2, 64, 32), (3, 20, 100), (5, 33, 64), (7, 8, 1024), (16, 40, 96), (18, 31, 72),
                          (50, 29, 200), (72, 48, 1024), (96, 7, 13)] {
            let x = randomFloats(m * k, seed: UInt64(m)), w = randomFloats(n * k, seed: UInt64(n)), b = randomFloats(n, seed: 5)
            var fast = [Float](repeating: 0, count: m * n)
            let ref = Tensor(shape: [m, k], data: x).linear(Tensor(shape: [n, k], data: w), bias: Tensor(shape: [n], data: b), parallelism: .allCores)
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in
                fast.withUnsafeMutableBufferPointer { op in
                    SmallGEMM.linear(xp.baseAddress!, rows: m, weight: wp.baseAddress!, outFeatures: n, inFeatures: k,
                                     bias: bp.baseAddress!, into: op.baseAddress!, parallelism: .allCores)
                }
            } } }
            let err = zip(fast, ref.data).map { abs($0 - $1) }.max() ?? 0
            #expect(err <= 1e-5 * Float(k).squareRoot(), "m \(m) n \(n) k \(k): \(err)")
        }
    }

    /// GFLOP/s of both paths over VAR-d16's four block shapes (qkv, proj, fc1, fc2), rotating weight copies so
    /// every call streams its weights from memory (VARGEN_BENCH=1; chooses `SmallGEMM.maxRows`).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["VARGEN_BENCH"] != nil))
    func smallGEMMTiming() {
        let shapes = [(3072, 1024), (1024, 1024), (4096, 1024), (1024, 4096)], copies = 3
        let ws = shapes.map { (n, k) in (0..<copies).map { randomFloats(n * k, seed: UInt64(n + $0)) } }
        let maxM = 200
        let x = randomFloats(maxM * 4096, seed: 1)
        var out = [Float](repeating: 0, count: maxM * 4096)
        for m in [1, 2, 8, 18, 32, 50, 72, 96, 128, 200] {
            let reps = max(3, min(24, 480 / m))
            var t = [Double](repeating: 0, count: 2), flops = 0.0
            for path in 0..<2 {
                let t0 = Date()
                for r in 0..<reps {
                    for (si, (n, k)) in shapes.enumerated() {
                        if path == 0 { flops += 2 * Double(m * n * k) }
                        ws[si][r % copies].withUnsafeBufferPointer { wp in x.withUnsafeBufferPointer { xp in
                            out.withUnsafeMutableBufferPointer { op in
                                if path == 0 {
                                    BLAS.gemm(transB: true, m: m, n: n, k: k, a: xp.baseAddress!, lda: k, b: wp.baseAddress!,
                                              ldb: k, c: op.baseAddress!, ldc: n, parallelism: .allCores)
                                } else {
                                    SmallGEMM.linear(xp.baseAddress!, rows: m, weight: wp.baseAddress!, outFeatures: n,
                                                     inFeatures: k, bias: nil, into: op.baseAddress!, parallelism: .allCores)
                                }
                            }
                        } }
                    }
                }
                t[path] = Date().timeIntervalSince(t0)
            }
            print(String(format: "m=%d  sgemm %.1f GFLOP/s  SmallGEMM %.1f GFLOP/s", m, flops / t[0] / 1e9, flops / t[1] / 1e9))
        }
    }
}

@Suite struct HalfGEMMTimingTests {
    /// ms per call of each path on the fc1 shape (n 4096, k 1024), rotating 8 weight copies so that every call
    /// streams its weights from memory (VARGEN_BENCH=1; chooses `HalfGEMM.maxRows` and `panelFloats`).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["VARGEN_BENCH"] != nil))
    func halfGEMMTiming() {
        let n = 4096, k = 1024, copies = 8
        let ws = (0..<copies).map { randomFloats(n * k, seed: UInt64($0)) }
        let hs = ws.map { HalfConversion.half($0) }
        let maxM = 2048
        let x = randomFloats(maxM * k, seed: 1)
        var out = [Float](repeating: 0, count: maxM * n)
        var whole = [Float](repeating: 0, count: n * k)
        let paths = ["f32", "f16 fused", "f16 panels 64K", "f16 panels 256K", "f16 panels 1M", "f16 whole"]
        for m in [1, 2, 8, 16, 24, 32, 50, 72, 96, 128, 256, 512, 2048] {
            let reps = max(3, min(24, 2048 / m))
            var line = "m=\(m)"
            for (pi, path) in paths.enumerated() {
                if path == "f16 fused" && m > 128 { continue }
                let t0 = Date()
                for r in 0..<reps {
                    x.withUnsafeBufferPointer { xp in ws[r % copies].withUnsafeBufferPointer { wp in
                        hs[r % copies].withUnsafeBufferPointer { hp in out.withUnsafeMutableBufferPointer { op in
                            let (xa, wa, ha, oa) = (xp.baseAddress!, wp.baseAddress!, hp.baseAddress!, op.baseAddress!)
                            switch pi {
                            case 0:
                                if m <= SmallGEMM.maxRows {
                                    SmallGEMM.linear(xa, rows: m, weight: wa, outFeatures: n, inFeatures: k, bias: nil, into: oa, parallelism: .allCores)
                                } else {
                                    BLAS.gemm(transB: true, m: m, n: n, k: k, a: xa, lda: k, b: wa, ldb: k, c: oa, ldc: n, parallelism: .allCores)
                                }
                            case 1: HalfGEMM.fused(xa, rows: m, weight: ha, outFeatures: n, inFeatures: k, bias: nil, into: oa, parallelism: .allCores)
                            case 2, 3, 4:
                                HalfGEMM.panels(xa, rows: m, weight: ha, outFeatures: n, inFeatures: k, bias: nil, into: oa,
                                                panelFloats: [1 << 16, 1 << 18, 1 << 20][pi - 2], parallelism: .allCores)
                            default:
                                whole.withUnsafeMutableBufferPointer { wb in
                                    let dst = wb.baseAddress!
                                    Parallelism.allCores.forEach(n * k, grain: 1 << 18) { r in vg_f16_to_f32(ha + r.lowerBound, dst + r.lowerBound, r.count) }
                                    BLAS.gemm(transB: true, m: m, n: n, k: k, a: xa, lda: k, b: dst, ldb: k, c: oa, ldc: n, parallelism: .allCores)
                                }
                            }
                        } }
                    } }
                }
                line += String(format: "  %@ %.2f", path, Date().timeIntervalSince(t0) / Double(reps) * 1000)
            }
            print(line + " ms")
        }
    }
}

/// Cost of the load-time NaN/Inf scan on VAR-d16's weight count (run with VARGEN_BENCH=1; not a unit test).
@Suite struct FiniteScanBenchmark {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["VARGEN_BENCH"] != nil))
    func d16WeightScan() throws {
        let n = try #require(ConfigLimits.transformerWeights(VARConfig.official(depth: 16)))
        let values = [Float](repeating: 0.25, count: n)
        for _ in 0..<3 {
            let t0 = Date()
            let found = Finite.firstNonFinite(values)
            let s = Date().timeIntervalSince(t0)
            print("finite scan of \(n) floats (VAR-d16): \(String(format: "%.3f", s)) s, "
                  + "\(String(format: "%.1f", Double(n * 4) / s / 1e9)) GB/s, found \(String(describing: found))")
        }
    }
}
