import Foundation
@testable import VARCore
import VARKit

/// A tiny VAR configuration for fast tests: 4 scales (1, 2, 3, 4), L = 30.
func tinyVARConfig(depth: Int = 2, width: Int = 32, heads: Int = 2, classes: Int = 5, vocab: Int = 64,
                   cvae: Int = 4, patchSizes: [Int] = [1, 2, 3, 4]) -> VARConfig {
    VARConfig(depth: depth, width: width, heads: heads, numClasses: classes, vocabSize: vocab, zChannels: cvae,
              patchSizes: patchSizes, mlpRatio: 4)
}

/// A stand-in for the VQVAE quantizer: nearest upsampling instead of bicubic + φ, adaptive average
/// pooling ("area") for the next input. Enough to exercise the generation loop.
struct NearestTokenizer: ScaleTokenizer {
    let patchSizes: [Int]
    let vocabSize: Int
    let latentChannels: Int
    let codebook: Tensor

    init(patchSizes: [Int], vocabSize: Int, latentChannels: Int, seed: UInt64 = 99) {
        self.patchSizes = patchSizes; self.vocabSize = vocabSize; self.latentChannels = latentChannels
        var rng = MT19937(seed: seed)
        codebook = Tensor(shape: [vocabSize, latentChannels],
                          data: (0..<(vocabSize * latentChannels)).map { _ in Float(rng.nextDouble()) * 2 - 1 })
    }

    init(config c: VARConfig) { self.init(patchSizes: c.patchSizes, vocabSize: c.vocabSize, latentChannels: c.zChannels) }

    func addScale(_ h: Tensor, scale si: Int, to fHat: inout Tensor, parallelism: Parallelism) {
        let pn = patchSizes[si], last = patchSizes.last ?? 1, B = h.shape[0], Cv = latentChannels
        for b in 0..<B { for ch in 0..<Cv { for y in 0..<last { for x in 0..<last {
            fHat.data[((b * Cv + ch) * last + y) * last + x] += h.data[((b * Cv + ch) * pn + y * pn / last) * pn + x * pn / last]
        } } } }
    }

    func nextInput(_ fHat: Tensor, after si: Int) -> Tensor {
        let pn = patchSizes[si + 1], last = patchSizes.last ?? 1, B = fHat.shape[0], Cv = latentChannels
        var out = Tensor(zeros: [B, pn * pn, Cv])
        for b in 0..<B { for oy in 0..<pn { for ox in 0..<pn { for ch in 0..<Cv {
            let y0 = oy * last / pn, y1 = ((oy + 1) * last + pn - 1) / pn
            let x0 = ox * last / pn, x1 = ((ox + 1) * last + pn - 1) / pn
            var s: Float = 0
            for y in y0..<y1 { for x in x0..<x1 { s += fHat.data[((b * Cv + ch) * last + y) * last + x] } }
            out.data[(b * pn * pn + oy * pn + ox) * Cv + ch] = s / Float((y1 - y0) * (x1 - x0))
        } } } }
        return out
    }
}

/// The plain reference of the transformer (docs/model.md §5), one sample, all positions, explicit −∞ mask,
/// double accumulation: logits `(L, V)` for `inputs (L − 1, Cvae)`.
func naiveTeacherForcedLogits(_ m: VARModel, label: Int, inputs: [Float]) -> [Float] {
    let c = m.config, C = c.width, L = c.tokenCount, H = c.heads, hd = c.headDim, Cv = c.zChannels
    let scaleOf = c.scaleOfPosition
    func lin(_ x: [Float], _ rows: Int, _ w: Tensor, _ b: Tensor?) -> [Float] {
        let o = w.shape[0], i = w.shape[1]
        var y = [Float](repeating: 0, count: rows * o)
        for r in 0..<rows { for j in 0..<o {
            var s = Double(b?.data[j] ?? 0)
            for k in 0..<i { s += Double(x[r * i + k]) * Double(w.data[j * i + k]) }
            y[r * o + j] = Float(s)
        } }
        return y
    }
    func lnMod(_ x: [Float], _ scale: ArraySlice<Float>, _ shift: ArraySlice<Float>) -> [Float] {
        var y = x
        for r in 0..<(x.count / C) {
            let row = x[(r * C)..<((r + 1) * C)].map(Double.init)
            let mu = row.reduce(0, +) / Double(C)
            let v = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(C)
            for i in 0..<C {
                y[r * C + i] = Float((row[i] - mu) / (v + 1e-6).squareRoot()) * (1 + scale[scale.startIndex + i]) + shift[shift.startIndex + i]
            }
        }
        return y
    }
    let cls = Array(m.classEmb.data[(label * C)..<((label + 1) * C)])
    let cond = cls.map { $0 / (1 + expf(-$0)) }
    // Embeddings.
    var x = [Float](repeating: 0, count: L * C)
    let we = lin(inputs, L - 1, m.wordEmbed, m.wordEmbedBias)
    for p in 0..<L { for i in 0..<C {
        x[p * C + i] = (p == 0 ? cls[i] + m.posStart.data[i] : we[(p - 1) * C + i]) + m.lvlPos.data[p * C + i]
    } }
    for blk in m.blocks {
        let a = lin(cond, 1, blk.ada.tensor, blk.adaBias)
        let y = lnMod(x, a[(2 * C)..<(3 * C)], a[(4 * C)..<(5 * C)])
        var qkv = lin(y, L, blk.qkv.tensor, blk.qkvBias)
        var att = [Float](repeating: 0, count: L * C)
        for h in 0..<H {
            for p in 0..<L {
                for (off, f) in [(0, blk.scaleMul[h]), (C, Float(1))] {
                    let base = p * 3 * C + off + h * hd
                    let n = max(Float(qkv[base..<(base + hd)].map { Double($0 * $0) }.reduce(0, +).squareRoot()), 1e-12)
                    for i in 0..<hd { qkv[base + i] = qkv[base + i] / n * f }
                }
            }
            for p in 0..<L {
                var s = [Double](repeating: -.infinity, count: L)
                for k in 0..<L where scaleOf[p] >= scaleOf[k] {
                    var d = 0.0
                    for i in 0..<hd { d += Double(qkv[p * 3 * C + h * hd + i]) * Double(qkv[k * 3 * C + C + h * hd + i]) }
                    s[k] = d
                }
                let mx = s.max() ?? 0
                let e = s.map { exp($0 - mx) }
                let z = e.reduce(0, +)
                for i in 0..<hd {
                    var o = 0.0
                    for k in 0..<L { o += e[k] / z * Double(qkv[k * 3 * C + 2 * C + h * hd + i]) }
                    att[p * C + h * hd + i] = Float(o)
                }
            }
        }
        let pr = lin(att, L, blk.proj.tensor, blk.projBias)
        for p in 0..<L { for i in 0..<C { x[p * C + i] += a[i] * pr[p * C + i] } }
        let y2 = lnMod(x, a[(3 * C)..<(4 * C)], a[(5 * C)..<(6 * C)])
        var hdn = lin(y2, L, blk.fc1.tensor, blk.fc1Bias)
        for i in 0..<hdn.count {
            let v = Double(hdn[i])
            hdn[i] = Float(0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v))))
        }
        let f = lin(hdn, L, blk.fc2.tensor, blk.fc2Bias)
        for p in 0..<L { for i in 0..<C { x[p * C + i] += a[C + i] * f[p * C + i] } }
    }
    let ha = lin(cond, 1, m.headAda.tensor, m.headAdaBias)
    let y = lnMod(x, ha[0..<C], ha[C..<(2 * C)])
    _ = Cv
    return lin(y, L, m.head.tensor, m.headBias)
}

/// Deterministic pseudo-random floats in [−amp, amp).
func randomFloats(_ count: Int, seed: UInt64, amp: Float = 1) -> [Float] {
    var rng = MT19937(seed: seed)
    return (0..<count).map { _ in amp * (2 * Float(rng.nextDouble()) - 1) }
}
