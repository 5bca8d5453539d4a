import CKernels
import Foundation
import Testing
@testable import VARCore
import VARKit

/// 8-bit weights: the quantizer and every int8 kernel path this CPU runs against plain references.
@Suite struct Int8Tests {
    static let allPaths: [Int32] = [VG_Q8_SCALAR, VG_Q8_AVX2, VG_Q8_AVXVNNI, VG_Q8_AVX512VNNI]

    /// The quantizer's definition: per group d = max|x| / 127, q = nearest-even(x · (1 / d)) clamped to ±127.
    static func referenceQuantize(_ x: [Float], rows: Int, k: Int, group g: Int) -> (q: [Int8], s: [Float]) {
        let kp = Int8GEMM.paddedWidth(k), groups = kp / g
        var q = [Int8](repeating: 0, count: rows * kp), s = [Float](repeating: 0, count: rows * groups)
        for r in 0..<rows {
            for gi in 0..<groups {
                let lo = min(gi * g, k), hi = min(gi * g + g, k)
                let amax = x[(r * k + lo)..<(r * k + hi)].reduce(Float(0)) { max($0, abs($1)) }
                let d = amax / 127, id = d != 0 ? 1 / d : 0
                for p in lo..<hi { q[r * kp + p] = Int8(max(-127, min(127, (x[r * k + p] * id).rounded(.toNearestOrEven)))) }
                s[r * groups + gi] = d
            }
        }
        return (q, s)
    }

    static func quantize(_ x: [Float], rows: Int, k: Int, group g: Int, path: Int32) -> (q: [Int8], s: [Float]) {
        let kp = Int8GEMM.paddedWidth(k)
        var q = [Int8](repeating: 99, count: rows * kp), s = [Float](repeating: .nan, count: rows * (kp / g))
        x.withUnsafeBufferPointer { xb in q.withUnsafeMutableBufferPointer { qb in s.withUnsafeMutableBufferPointer { sb in
            vg_q8_quantize_rows(xb.baseAddress!, rows, k, k, kp, g, qb.baseAddress!, sb.baseAddress!, path)
        } } }
        return (q, s)
    }

    static func runnablePaths(_ label: String) -> [Int32] {
        let runs = allPaths.filter { vg_q8_path_supported($0) != 0 }
        let skipped = allPaths.filter { vg_q8_path_supported($0) == 0 }.map(Int8GEMM.pathName)
        print("\(label): ran " + runs.map(Int8GEMM.pathName).joined(separator: ", ")
              + (skipped.isEmpty ? "" : "; skipped (this CPU cannot run them): " + skipped.joined(separator: ", ")))
        return runs
    }

    @Test func quantizerMatchesReferenceBitForBit() {
        // Hand-checked: group max 127 gives scale 1, so q is x rounded to nearest even.
        let hand: [Float] = [127, 0.5, 1.5, 2.5, -63.5, -127, 0, 126.49, -0.49]
        let want: [Int8] = [127, 0, 2, 2, -64, -127, 0, 126, 0]
        for path in Self.runnablePaths("int8 quantizer") {
            let (q, s) = Self.quantize(hand, rows: 1, k: hand.count, group: 32, path: path)
            #expect(Array(q[0..<hand.count]) == want && q[hand.count...].allSatisfy { $0 == 0 } && s == [1],
                    "\(Int8GEMM.pathName(path)): \(q) \(s)")
            for k in [1, 7, 31, 32, 33, 64, 100, 257, 1030] {
                for g in [32, 0] {
                    let rows = 3, kp = Int8GEMM.paddedWidth(k), group = g == 0 ? kp : g
                    var x = randomFloats(rows * k, seed: UInt64(k * 7 + g), amp: 3)
                    if k > 40 { for p in 0..<32 { x[k + p] = 0 } }    // an all-zero group (scale 0) in row 1
                    let got = Self.quantize(x, rows: rows, k: k, group: group, path: path)
                    let ref = Self.referenceQuantize(x, rows: rows, k: k, group: group)
                    #expect(got.q == ref.q, "\(Int8GEMM.pathName(path)) k \(k) g \(group): values")
                    #expect(got.s.map(\.bitPattern) == ref.s.map(\.bitPattern), "\(Int8GEMM.pathName(path)) k \(k) g \(group): scales")
                }
            }
        }
    }

    /// Values whose quantization is exact: integers in ±127 times 2^e per group, each group holding ±127·2^e, so
    /// scales are powers of two and every partial sum is a float integer (in units of the smallest product scale
    /// < 2^24): every path must give exactly Σ x·w + bias.
    static func exactMatrix(rows: Int, k: Int, group g: Int, exponents: [Int], seed: UInt64) -> [Float] {
        var rng = MT19937(seed: seed)
        func draw(_ bound: Int) -> Int { Int(UInt64(rng.next()) % UInt64(bound)) }
        var x = [Float](repeating: 0, count: rows * k)
        for r in 0..<rows {
            for lo in stride(from: 0, to: k, by: g) {
                let e = exponents[draw(exponents.count)], hi = min(lo + g, k)
                for p in lo..<hi { x[r * k + p] = Float(draw(255) - 127) }
                let at = r * k + lo + draw(hi - lo)
                x[at] = draw(2) == 0 ? 127 : -127
                for p in lo..<hi { x[r * k + p] = Float(sign: .plus, exponent: e, significand: x[r * k + p]) }
            }
        }
        return x
    }

    @Test func kernelsGiveExactSumsOnExactlyQuantizedValues() {
        let paths = Self.runnablePaths("int8 kernels (exact sums)")
        // (n, k, exponents of x, exponents of w): products ≤ 127²·k·4 units of 2^-1 for k ≤ 257; k 1030 at scale 1.
        let shapes: [(Int, Int, [Int], [Int])] = [(1, 1, [-1, 0], [0, 1]), (5, 31, [-1, 0], [0, 1]), (3, 32, [0], [0, 1]),
                                                  (37, 33, [-1, 0], [0, 1]), (2, 100, [-1, 0], [0, 1]),
                                                  (9, 257, [-1, 0], [0, 1]), (4, 1030, [0], [0])]
        for (n, k, ex, ew) in shapes {
            let kp = Int8GEMM.paddedWidth(k)
            for g in [32, kp] {
                let w = Self.exactMatrix(rows: n, k: k, group: g, exponents: ew, seed: UInt64(n * k))
                let wq = Self.quantize(w, rows: n, k: k, group: g, path: VG_Q8_SCALAR)
                let bias = (0..<n).map { Float($0 % 7) - 3 }
                for m in [1, 2, 3, 4, 5, 7, 9, 67] {
                    let x = Self.exactMatrix(rows: m, k: k, group: g, exponents: ex, seed: UInt64(m + 1000 * k))
                    let xq = Self.quantize(x, rows: m, k: k, group: g, path: VG_Q8_SCALAR)
                    var want = [Float](repeating: 0, count: m * n)
                    for r in 0..<m { for o in 0..<n {
                        var s = 0.0
                        for p in 0..<k { s += Double(x[r * k + p]) * Double(w[o * k + p]) }
                        want[r * n + o] = Float(s) + bias[o]
                    } }
                    for path in paths {
                        let got = Self.product(xq, m: m, wq, n: n, kp: kp, g: g, bias: bias, path: path)
                        #expect(got == want, "\(Int8GEMM.pathName(path)) m \(m) n \(n) k \(k) g \(g)")
                    }
                }
            }
        }
    }

    static func product(_ xq: (q: [Int8], s: [Float]), m: Int, _ wq: (q: [Int8], s: [Float]), n: Int, kp: Int, g: Int,
                        bias: [Float]?, path: Int32, ldo: Int? = nil) -> [Float] {
        let ld = ldo ?? n
        var out = [Float](repeating: .nan, count: m * ld)
        out.withUnsafeMutableBufferPointer { ob in
            vg_q8_linear(xq.q, xq.s, m, wq.q, wq.s, kp, g, 0, n, bias, ob.baseAddress!, ld, path)
        }
        return out
    }

    /// Random floats through `Int8GEMM.linear` (parallel, quantizing the inputs) against Σ over the quantized
    /// integers in double: per-row scales give identical results on every path; groups of 32 agree to 1e-6 of
    /// Σ|terms|. The product also stays within the quantization error bound of the float32 product.
    @Test func linearMatchesQuantizedReferenceAndFloat32Bound() {
        let paths = Self.runnablePaths("int8 linear (random floats)")
        for (n, k) in [(37, 19), (8, 1024), (64, 65), (130, 24), (301, 257)] {
            let w = randomFloats(n * k, seed: UInt64(n + k), amp: 0.5)
            let bias = randomFloats(n, seed: 5)
            for group in [32, 0] {
                let qm = QuantizedMatrix(w, outFeatures: n, inFeatures: k, group: group, parallelism: .allCores)
                let kp = qm.paddedIn, g = qm.group, groups = kp / g
                for m in [1, 2, 5, 9, 80, 131] {
                    let x = randomFloats(m * k, seed: UInt64(m * 3 + k), amp: 2)
                    let xq = Self.referenceQuantize(x, rows: m, k: k, group: g)
                    var want = [Double](repeating: 0, count: m * n), mag = want, bound = want
                    for r in 0..<m { for o in 0..<n {
                        var s = Double(bias[o]), a = abs(Double(bias[o])), e = 0.0
                        for gi in 0..<groups {
                            var isum = 0
                            for p in gi * g..<(gi + 1) * g { isum += Int(xq.q[r * kp + p]) * Int(qm.values[o * kp + p]) }
                            let t = Double(isum) * Double(xq.s[r * groups + gi]) * Double(qm.scales[o * groups + gi])
                            s += t; a += abs(t)
                            let dx = Double(xq.s[r * groups + gi]) / 2, dw = Double(qm.scales[o * groups + gi]) / 2
                            for p in gi * g..<min((gi + 1) * g, k) {
                                e += abs(Double(x[r * k + p])) * dw + abs(Double(w[o * k + p])) * dx + dx * dw
                            }
                        }
                        want[r * n + o] = s; mag[r * n + o] = a; bound[r * n + o] = e * 1.0001 + 1e-6 * a
                    } }
                    var full = [Double](repeating: 0, count: m * n)
                    for r in 0..<m { for o in 0..<n {
                        var f = Double(bias[o])
                        for p in 0..<k { f += Double(x[r * k + p]) * Double(w[o * k + p]) }
                        full[r * n + o] = f
                    } }
                    var results: [[Float]] = []
                    for path in paths {
                        var got = [Float](repeating: .nan, count: m * n)
                        x.withUnsafeBufferPointer { xb in bias.withUnsafeBufferPointer { bb in got.withUnsafeMutableBufferPointer { ob in
                            Int8GEMM.linear(xb.baseAddress!, rows: m, weight: qm, bias: bb.baseAddress!, into: ob.baseAddress!,
                                            scratch: m > 50 ? ScratchBuffer() : nil, path: path, parallelism: .allCores)
                        } } }
                        let label = "\(Int8GEMM.pathName(path)) m \(m) n \(n) k \(k) g \(g)"
                        let worst = got.indices.map { abs(Double(got[$0]) - want[$0]) / max(mag[$0], 1e-30) }.max() ?? 0
                        #expect(worst <= 1e-6, "\(label): \(worst) of Σ|terms|")
                        let outside = got.indices.filter { abs(Double(got[$0]) - full[$0]) > bound[$0] }
                        #expect(outside.isEmpty, "\(label): \(outside.count) outputs beyond the quantization bound")
                        results.append(got)
                    }
                    if g == kp, let first = results.first {    // per-row scales: every path identical
                        #expect(results.allSatisfy { $0.map(\.bitPattern) == first.map(\.bitPattern) }, "paths differ, k \(k)")
                    }
                }
            }
        }
    }

    /// An int8 model stays close to the float32 one (teacher-forced logits within 5% of their range; measured
    /// on official shapes in docs/quantization.md), keeps its head float32, accounts its bytes as predicted, and
    /// generates end to end.
    @Test func int8ModelAgainstFloat32() throws {
        let c = tinyVARConfig(depth: 2, width: 40, heads: 2, classes: 5, vocab: 64, cvae: 4)
        let full = VARModel(config: c, randomSeed: 11), q8 = VARModel(config: c, randomSeed: 11, precision: .int8)
        #expect(q8.weightPrecision == .int8)
        #expect(q8.head.precision == .float32 && q8.headAda.precision == .float32 && q8.blocks[0].fc1.precision == .int8)
        #expect(q8.weightBytes == VARModel.weightBytes(config: c, precision: .int8))
        #expect(q8.weightBytes < full.weightBytes / 2)
        let L = c.tokenCount
        let inputs = randomFloats((L - 1) * c.zChannels, seed: 4)
        let t = Tensor(shape: [1, L - 1, c.zChannels], data: inputs)
        let a = q8.teacherForcedLogits(labels: [2], inputs: t).data
        let b = full.teacherForcedLogits(labels: [2], inputs: t).data
        let range = (b.max() ?? 0) - (b.min() ?? 0)
        let err = GenerationFixtures.maxAbsDiff(a, b)
        print(String(format: "int8 tiny model: max |Δlogit| %.3e of range %.3f", err, range))
        #expect(err > 0 && err <= 0.05 * range, "max |Δlogit| \(err) of range \(range)")

        let tok = NearestTokenizer(config: c)
        let sampling = SamplingConfig(cfg: 1.5, topK: .uniform(1))
        let g = try VARGenerator(model: q8, tokenizer: tok).generate(labels: [0, 3], seeds: [1, 2], sampling: sampling)
        #expect(g.tokens.count == c.scaleCount)
    }

    @Test func paddedWidthAndBytes() {
        #expect(Int8GEMM.paddedWidth(1) == 32 && Int8GEMM.paddedWidth(32) == 32 && Int8GEMM.paddedWidth(33) == 64)
        #expect(WeightPrecision.int8.matrixBytes(out: 10, in: 33) == 10 * (64 + (Int8GEMM.groupSize == 32 ? 2 : 1) * 4))
        #expect(Int8GEMM.scratchFloats(rows: 3, paddedIn: 64, group: 0) == 3 + 48)
        #expect(Int8GEMM.scratchFloats(rows: 3, paddedIn: 64, group: 32) == 6 + 48)
        #expect(WeightPrecision.float32.matrixBytes(out: 10, in: 33) == 10 * 33 * 4)
        #expect(vg_q8_path_supported(VG_Q8_SCALAR) == 1 && vg_q8_path_supported(vg_q8_best_path()) == 1)
    }
}

@Suite struct Int8GEMMTimingTests {
    /// ms per call on VAR-d16 and VAR-d30 shapes: float32 (SmallGEMM ≤ 80 rows, else sgemm), int8 products with
    /// groups of 32 and per-row scales, and dequantize + sgemm; rotating weight copies so that every call streams
    /// its weights from memory (VARGEN_BENCH=1; chooses `Int8GEMM`'s paths; docs/quantization.md).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["VARGEN_BENCH"] != nil))
    func int8GEMMTiming() {
        let copies = 4
        let env = ProcessInfo.processInfo.environment
        let rowsList = (env["VARGEN_Q8_ROWS"] ?? "2,8,18,50,72,128,200,512,2048").split(separator: ",").compactMap { Int($0) }
        print("int8 path: \(Int8GEMM.pathName(vg_q8_best_path())), \(Parallelism.allCores.workers) workers, OpenBLAS \(BLAS.coreName)")
        for (name, n, k) in [("d16 fc1", 4096, 1024), ("d16 fc2", 1024, 4096), ("d30 fc1", 7680, 1920)] {
            let ws = (0..<copies).map { randomFloats(n * k, seed: UInt64($0)) }
            let q32 = ws.map { QuantizedMatrix($0, outFeatures: n, inFeatures: k, group: 32, parallelism: .allCores) }
            let qrow = ws.map { QuantizedMatrix($0, outFeatures: n, inFeatures: k, group: 0, parallelism: .allCores) }
            let maxM = rowsList.max() ?? 1
            let x = randomFloats(maxM * k, seed: 1)
            var out = [Float](repeating: 0, count: maxM * n)
            let scratch = ScratchBuffer(), wide = ScratchBuffer()
            for m in rowsList {
                let reps = max(3, min(16, 1024 / m))
                var line = "\(name) m=\(m)"
                for path in ["f32", "q8 g32", "q8 row", "q8 dequant+sgemm"] {
                    var times: [Double] = []
                    for r in 0..<reps {
                        let t0 = Date()
                        x.withUnsafeBufferPointer { xp in ws[r % copies].withUnsafeBufferPointer { wp in
                            out.withUnsafeMutableBufferPointer { op in
                                let (xa, wa, oa) = (xp.baseAddress!, wp.baseAddress!, op.baseAddress!)
                                switch path {
                                case "f32":
                                    if m <= SmallGEMM.maxRows {
                                        SmallGEMM.linear(xa, rows: m, weight: wa, outFeatures: n, inFeatures: k, bias: nil, into: oa, parallelism: .allCores)
                                    } else {
                                        BLAS.gemm(transB: true, m: m, n: n, k: k, a: xa, lda: k, b: wa, ldb: k, c: oa, ldc: n, parallelism: .allCores)
                                    }
                                case "q8 g32":
                                    Int8GEMM.linear(xa, rows: m, weight: q32[r % copies], bias: nil, into: oa, scratch: scratch, parallelism: .allCores)
                                case "q8 row":
                                    Int8GEMM.linear(xa, rows: m, weight: qrow[r % copies], bias: nil, into: oa, scratch: scratch, parallelism: .allCores)
                                default:
                                    Int8GEMM.dequantizedLinear(xa, rows: m, weight: q32[r % copies], bias: nil, into: oa,
                                                               scratch: wide, parallelism: .allCores)
                                }
                            }
                        } }
                        times.append(Date().timeIntervalSince(t0))
                    }
                    times.sort()
                    line += String(format: "  %@ %.2f", path, times[times.count / 2] * 1000)
                }
                print(line + " ms (median)")
            }
        }
    }
}

/// int8 against float32 on an official-shape VAR-d16 with random weights (VARGEN_Q8_REPORT=1; not a unit test;
/// docs/quantization.md): teacher-forced logit error per scale and argmax agreement for per-row scales and
/// groups of 32, then VARGEN_Q8_GENERATIONS (default 20) full generations (cfg 4, top-k 900, top-p 0.95) with
/// per-row int8 against float32: token agreement per scale and PSNR of the decoded images (random VQVAE).
@Suite struct Int8AccuracyReport {
    static func randomModel(_ c: VARConfig, precision: WeightPrecision, group: Int) -> VARModel {
        VARModel(config: c, precision: precision, int8Group: group, inPlace: false, parallelism: .allCores,
                 weights: RandomWeights(seed: 1, profile: .transformer))
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["VARGEN_Q8_REPORT"] != nil))
    func officialShapeD16() throws {
        let env = ProcessInfo.processInfo.environment
        let c = VARConfig.official(depth: 16), L = c.tokenCount, labels = [3, 980]
        let full = Self.randomModel(c, precision: .float32, group: 0)
        let inputs = Tensor(shape: [labels.count, L - 1, c.zChannels],
                            data: randomFloats(labels.count * (L - 1) * c.zChannels, seed: 7))
        let f = full.teacherForcedLogits(labels: labels, inputs: inputs).data
        print("int8 path \(Int8GEMM.pathName(vg_q8_best_path())); weights float32 \(full.weightBytes) B")
        for group in [32, 0] {
            let q8 = Self.randomModel(c, precision: .int8, group: group)
            print("group \(group == 0 ? "per-row" : String(group)): weights \(q8.weightBytes) B")
            logitErrorReport(group == 0 ? "per-row" : "g32", c, f, q8.teacherForcedLogits(labels: labels, inputs: inputs).data,
                             batch: labels.count)
        }
        let q8 = Self.randomModel(c, precision: .int8, group: 0)
        let count = Int(env["VARGEN_Q8_GENERATIONS"] ?? "") ?? 20, B = 4
        let vq = VQVAE(config: .official256, weights: RandomWeights(seed: 1))
        let tok = vq.quantizer
        let sampling = SamplingConfig(cfg: 4, topK: .uniform(900), topP: 0.95)
        var same = [Int](repeating: 0, count: c.scaleCount), total = same, psnrs: [Double] = []
        for start in stride(from: 0, to: count, by: B) {
            let n = min(B, count - start)
            let lab = (start..<start + n).map { ($0 * 97 + 13) % c.numClasses }, seeds = (start..<start + n).map { UInt64($0 + 1) }
            let a = try VARGenerator(model: full, tokenizer: tok).generate(labels: lab, seeds: seeds, sampling: sampling)
            let b = try VARGenerator(model: q8, tokenizer: tok).generate(labels: lab, seeds: seeds, sampling: sampling)
            for si in 0..<c.scaleCount {
                same[si] += zip(a.tokens[si], b.tokens[si]).filter { $0 == $1 }.count; total[si] += a.tokens[si].count
            }
            let ia = vq.decode(a.fHat).data, ib = vq.decode(b.fHat).data, per = ia.count / n
            for i in 0..<n {
                var se = 0.0
                for j in i * per..<(i + 1) * per {
                    let d = Double(ia[j]) - Double(ib[j])
                    se += d * d
                }
                let mse = max(se / Double(per), 1e-20)
                psnrs.append(10 * log10(1 / mse))
            }
        }
        for si in 0..<c.scaleCount { print("scale \(si + 1): tokens equal \(same[si])/\(total[si])") }
        let allSame = same.reduce(0, +), all = total.reduce(0, +)
        let sorted = psnrs.sorted()
        print(String(format: "%d generations: tokens equal %d/%d (%.1f%%); PSNR (images in [0,1]) median %.2f dB, min %.2f, max %.2f, mean %.2f",
                     count, allSame, all, 100 * Double(allSame) / Double(all), sorted[sorted.count / 2], sorted.first ?? 0,
                     sorted.last ?? 0, psnrs.reduce(0, +) / Double(psnrs.count)))
    }
}

/// Prints, per scale, the error of teacher-forced logits `q` against float32 ones `f` (both `(batch, L, V)`): max and
/// mean |Δ|, the logits' spread, and how often the most likely token agrees (the float16 and int8 reports).
func logitErrorReport(_ name: String, _ c: VARConfig, _ f: [Float], _ q: [Float], batch: Int) {
    let L = c.tokenCount, V = c.vocabSize
    for si in 0..<c.scaleCount {
        var maxErr: Float = 0, sumErr = 0.0, sumSq = 0.0, sum = 0.0, maxAbs: Float = 0, agree = 0, n = 0
        for b in 0..<batch {
            for p in c.scaleBegins[si]..<c.scaleEnds[si] {
                let row = (b * L + p) * V
                var af = 0, aq = 0
                for v in 0..<V {
                    let d = abs(f[row + v] - q[row + v])
                    maxErr = max(maxErr, d); sumErr += Double(d); maxAbs = max(maxAbs, abs(f[row + v]))
                    sum += Double(f[row + v]); sumSq += Double(f[row + v] * f[row + v])
                    if f[row + v] > f[row + af] { af = v }
                    if q[row + v] > q[row + aq] { aq = v }
                }
                agree += af == aq ? 1 : 0; n += 1
            }
        }
        let count = Double(n * V), mean = sum / count, sd = (sumSq / count - mean * mean).squareRoot()
        print(String(format: "%@ scale %d (pn %d): max |Δ| %.3e, mean |Δ| %.3e, logit sd %.3f, max |logit| %.3f, "
                     + "max/sd %.2e, mean/sd %.2e, argmax agree %d/%d", name, si + 1, c.patchSizes[si], maxErr,
                     sumErr / count, sd, maxAbs, Double(maxErr) / sd, sumErr / count / sd, agree, n))
    }
}
