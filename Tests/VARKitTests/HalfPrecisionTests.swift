import CKernels
import Foundation
import Testing
@testable import VARCore
import VARKit

/// float16 weights: conversions, the two `HalfGEMM` paths, and a whole model against float32.
@Suite struct HalfPrecisionTests {
    /// Swift's own `Float16` (compiler-rt's conversion) is the scalar reference.
    static func reference(_ x: Float) -> UInt16 { Float16(x).bitPattern }

    /// Through the C entry point: n = 1 takes the scalar path; 8-aligned runs take F16C when present.
    static func converted(_ xs: [Float]) -> (scalar: [UInt16], vector: [UInt16]) {
        (xs.map { HalfConversion.half([$0])[0] }, HalfConversion.half(xs))
    }

    @Test func everyHalfWidensExactlyAndNarrowsBack() {
        let all = (0...UInt16.max).map { $0 }
        let widened = HalfConversion.float(all)
        for (h, f) in zip(all, widened) {
            let ref = Float(Float16(bitPattern: h))
            if ref.isNaN { #expect(f.isNaN); continue }
            #expect(f.bitPattern == ref.bitPattern, "half \(String(h, radix: 16))")
        }
        let single = all.map { HalfConversion.float([$0])[0] }          // scalar path
        #expect(zip(single, widened).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) })
        let back = HalfConversion.half(widened)
        for (h, b) in zip(all, back) where !Float(Float16(bitPattern: h)).isNaN { #expect(h == b) }
    }

    /// Ties (exact midpoints between neighbouring halves, normal and subnormal), values near overflow and
    /// underflow, infinities and random bit patterns all round as the reference (nearest even).
    @Test func narrowingRoundsToNearestEven() {
        var xs: [Float] = [0, -0, .infinity, -.infinity, 65504, 65519.99, 65520, -65520, 1e10, 6.0e-8, 5.96e-8,
                           2.98e-8, 2.9802322e-8, 2.9802326e-8, 1e-30, -1e-30, .leastNonzeroMagnitude, 6.1035156e-5, 6.1e-5]
        for h in stride(from: UInt16(0), to: 0x7bff, by: 7) {          // midpoints h … h+1 (positive, finite)
            let a = Double(Float16(bitPattern: h)), b = Double(Float16(bitPattern: h + 1))
            xs.append(Float((a + b) / 2)); xs.append(-Float((a + b) / 2))
            xs.append(Float((a + b) / 2).nextUp); xs.append(Float((a + b) / 2).nextDown)
        }
        var rng = MT19937(seed: 3)
        for _ in 0..<20_000 {
            let bits = UInt32(truncatingIfNeeded: rng.next()) & 0x7fff_ffff
            let f = Float(bitPattern: bits)
            if !f.isNaN, f < 1e6 { xs.append(f) }
        }
        let (scalar, vector) = Self.converted(xs)
        for (i, x) in xs.enumerated() {
            #expect(scalar[i] == Self.reference(x), "scalar \(x)")
            #expect(vector[i] == Self.reference(x), "vector \(x)")
        }
        #expect(Self.converted([.nan]).scalar[0] & 0x7c00 == 0x7c00 && Self.converted([.nan]).scalar[0] & 0x3ff != 0)
    }

    /// `a (m, n)` against `b` elementwise, relative to the size of each dot product: |a − b| ≤ tol · Σ|x·w| + |bias|.
    static func check(_ got: [Float], _ want: [Float], scale: [Float], tol: Float, _ label: String) {
        var worst: Float = 0
        for i in got.indices { worst = max(worst, abs(got[i] - want[i]) / max(scale[i], 1e-30)) }
        #expect(worst <= tol, "\(label): \(worst)")
    }

    /// Both float16 paths equal a float32 linear over the float16-rounded weights to 1e-5 relative, for odd
    /// and 8-aligned in/out features and every row count around the kernels' blocking (4 rows, 2 features).
    @Test func halfLinearMatchesFloat32OnRoundedWeights() throws {
        try #require(WeightPrecision.float16Supported, "needs F16C")
        for (n, k) in [(37, 19), (8, 1024), (33, 100), (64, 65), (130, 24), (5, 8), (301, 257), (12, HalfGEMM.longK + 3)] {
            let w = LinearWeight(Tensor(shape: [n, k], data: randomFloats(n * k, seed: UInt64(n * k))), precision: .float16, parallelism: .allCores)
            let rounded = w.tensor
            guard case let .float16(bits) = w.storage else { Issue.record("not float16"); return }
            let bias = randomFloats(n, seed: 9)
            for m in [1, 2, 3, 4, 5, 7, 9, 16, 17, 33, HalfGEMM.longRows - 1, HalfGEMM.wholeRows + 1] {
                let x = randomFloats(m * k, seed: UInt64(m + 100))
                let want = Tensor(shape: [m, k], data: x).linear(rounded, bias: Tensor(shape: [n], data: bias), parallelism: .allCores).data
                var scale = [Float](repeating: 0, count: m * n)
                for r in 0..<m { for o in 0..<n {
                    var s = abs(bias[o])
                    for i in 0..<k { s += abs(x[r * k + i] * rounded.data[o * k + i]) }
                    scale[r * n + o] = s
                } }
                for path in ["fused", "panels", "small panels", "whole", "linear"] {
                    var got = [Float](repeating: .nan, count: m * n)
                    x.withUnsafeBufferPointer { xp in bits.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
                        got.withUnsafeMutableBufferPointer { op in
                            let (xa, wa, ba, oa) = (xp.baseAddress!, wp.baseAddress!, bp.baseAddress!, op.baseAddress!)
                            switch path {
                            case "fused": HalfGEMM.fused(xa, rows: m, weight: wa, outFeatures: n, inFeatures: k, bias: ba, into: oa, parallelism: .allCores)
                            case "panels": HalfGEMM.panels(xa, rows: m, weight: wa, outFeatures: n, inFeatures: k, bias: ba, into: oa, parallelism: .allCores)
                            case "small panels":    // many panels with a ragged last one
                                HalfGEMM.panels(xa, rows: m, weight: wa, outFeatures: n, inFeatures: k, bias: ba, into: oa,
                                                panelFloats: 8 * k + 1, parallelism: .allCores)
                            case "whole":
                                HalfGEMM.whole(xa, rows: m, weight: wa, outFeatures: n, inFeatures: k, bias: ba, into: oa,
                                               scratch: ScratchBuffer(), parallelism: .allCores)
                            default: VARSession.linear(xa, rows: m, w, Tensor(shape: [n], data: bias), into: oa,
                                                       scratch: ScratchBuffer(), parallelism: .allCores)
                            }
                        }
                    } } }
                    Self.check(got, want, scale: scale, tol: 1e-5, "\(path) m \(m) n \(n) k \(k)")
                }
            }
        }
    }

    /// A float16 model computes exactly the float32 transformer over its rounded weights (same tolerance as
    /// `teacherForcedMatchesNaiveReference`), and its logits stay within 2e-3 of the float32 model's logit
    /// range (measured: ~2e-4); generation runs end to end.
    @Test func float16ModelAgainstFloat32() throws {
        try #require(WeightPrecision.float16Supported, "needs F16C")
        let c = tinyVARConfig(depth: 2, width: 40, heads: 2, classes: 5, vocab: 64, cvae: 4)
        let full = VARModel(config: c, randomSeed: 11), half = VARModel(config: c, randomSeed: 11, precision: .float16)
        #expect(half.weightPrecision == .float16 && full.weightPrecision == .float32)
        let L = c.tokenCount
        let inputs = randomFloats((L - 1) * c.zChannels, seed: 4)
        let t = Tensor(shape: [1, L - 1, c.zChannels], data: inputs)
        let h = half.teacherForcedLogits(labels: [2], inputs: t).data
        let f = full.teacherForcedLogits(labels: [2], inputs: t).data
        let naive = naiveTeacherForcedLogits(half, label: 2, inputs: inputs)
        #expect(GenerationFixtures.maxAbsDiff(h, naive) <= 1e-4)
        let range = (f.max() ?? 0) - (f.min() ?? 0)
        let err = GenerationFixtures.maxAbsDiff(h, f)
        #expect(err > 0 && err <= 2e-3 * range, "max |Δlogit| \(err) of range \(range)")

        let tok = NearestTokenizer(config: c)
        let sampling = SamplingConfig(cfg: 1.5, topK: .uniform(1))
        let a = try VARGenerator(model: half, tokenizer: tok).generate(labels: [0, 3], seeds: [1, 2], sampling: sampling)
        let b = try VARGenerator(model: full, tokenizer: tok).generate(labels: [0, 3], seeds: [1, 2], sampling: sampling)
        #expect(a.tokens.count == c.scaleCount && a.tokens.map(\.count) == b.tokens.map(\.count))
        #expect(a.tokens[0] == b.tokens[0], "greedy first scale")
    }

    @Test func precisionFallsBackOnlyWithoutF16C() {
        #expect(WeightPrecision.float16Supported == (vg_cpu_has_f16c() != 0))
        #expect(WeightPrecision.float32.effective == .float32)
        #expect(WeightPrecision.float16.effective == (WeightPrecision.float16Supported ? .float16 : .float32))
    }
}

/// float16 against float32 on a real checkpoint (VARGEN_F16_MODEL=/tmp/off/var_d16.pth; not a unit test):
/// teacher-forced logits for two classes over random inputs, error per scale relative to the logits' spread,
/// and how often the most likely token agrees. docs/performance.md §9.
@Suite struct HalfPrecisionAccuracyReport {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["VARGEN_F16_MODEL"] != nil))
    func officialCheckpointLogits() throws {
        let path = ProcessInfo.processInfo.environment["VARGEN_F16_MODEL"] ?? ""
        let full = try VARModel.load(path: path), half = try VARModel.load(path: path, precision: .float16)
        let c = full.config, L = c.tokenCount, labels = [3, 980]
        print("weights: float32 \(full.weightBytes) B, float16 \(half.weightBytes) B (\(half.weightPrecision))")
        let inputs = Tensor(shape: [labels.count, L - 1, c.zChannels],
                            data: randomFloats(labels.count * (L - 1) * c.zChannels, seed: 7))
        let f = full.teacherForcedLogits(labels: labels, inputs: inputs).data
        let h = half.teacherForcedLogits(labels: labels, inputs: inputs).data
        logitErrorReport("float16", c, f, h, batch: labels.count)
    }
}
