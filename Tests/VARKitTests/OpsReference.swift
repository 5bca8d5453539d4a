import Foundation
@testable import VARCore
import VARKit

/// Plain reference implementations of the fast kernels (docs/design.md, convention 5), in Double, written straight
/// from the formulas of docs/model.md §2 and §3.1. Slow on purpose; only for small test shapes.
enum OpsReference {
    /// `out[b, o, r, c] = bias[o] + Σ_i Σ_ky Σ_kx W[o, i, ky, kx] · in_padded[b, i, r·s + ky, c·s + kx]`,
    /// where `in_padded` is the input (optionally nearest-2×-upsampled first) with zero padding.
    static func conv2d(_ x: Tensor, _ w: Tensor, _ bias: Tensor?, stride s: Int, padding p: ConvPadding,
                       upsample2x: Bool = false) -> Tensor {
        let input = upsample2x ? upsampleNearest2x(x) : x
        let b = input.shape[0], ci = input.shape[1], h = input.shape[2], wd = input.shape[3]
        let co = w.shape[0], k = w.shape[2]
        let ho = (h + p.top + p.bottom - k) / s + 1, wo = (wd + p.left + p.right - k) / s + 1
        var out = [Float](repeating: 0, count: b * co * ho * wo)
        for bi in 0..<b { for o in 0..<co { for r in 0..<ho { for c in 0..<wo {
            var acc = Double(bias?.data[o] ?? 0)
            for i in 0..<ci { for ky in 0..<k { for kx in 0..<k {
                let y = r * s + ky - p.top, xx = c * s + kx - p.left
                if y < 0 || y >= h || xx < 0 || xx >= wd { continue }
                acc += Double(w.data[((o * ci + i) * k + ky) * k + kx]) * Double(input.data[((bi * ci + i) * h + y) * wd + xx])
            } } }
            out[((bi * co + o) * ho + r) * wo + c] = Float(acc)
        } } } }
        return Tensor(shape: [b, co, ho, wo], data: out)
    }

    static func upsampleNearest2x(_ x: Tensor) -> Tensor {
        let b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        var out = [Float](repeating: 0, count: b * c * 4 * h * w)
        for p in 0..<(b * c) { for y in 0..<(2 * h) { for xx in 0..<(2 * w) {
            out[(p * 2 * h + y) * 2 * w + xx] = x.data[(p * h + y / 2) * w + xx / 2]
        } } }
        return Tensor(shape: [b, c, 2 * h, 2 * w], data: out)
    }

    /// GroupNorm of docs/model.md §3.1 in Double, optionally followed by `x·σ(x)`.
    static func groupNorm(_ x: Tensor, groups: Int, weight: Tensor, bias: Tensor, eps: Double, silu: Bool) -> Tensor {
        let b = x.shape[0], c = x.shape[1], hw = x.shape.dropFirst(2).reduce(1, *)
        let cpg = c / groups
        var out = x.data
        for bi in 0..<b { for g in 0..<groups {
            let lo = (bi * c + g * cpg) * hw, n = cpg * hw
            var mean = 0.0
            for i in 0..<n { mean += Double(x.data[lo + i]) }
            mean /= Double(n)
            var v = 0.0
            for i in 0..<n { let d = Double(x.data[lo + i]) - mean; v += d * d }
            v /= Double(n)
            for i in 0..<n {
                let ch = g * cpg + i / hw
                var y = (Double(x.data[lo + i]) - mean) / (v + eps).squareRoot() * Double(weight.data[ch]) + Double(bias.data[ch])
                if silu { y = y / (1 + Foundation.exp(-y)) }
                out[lo + i] = Float(y)
            }
        } }
        return Tensor(shape: x.shape, data: out)
    }

    /// Spec §4.2 steps 3–5 in Double on a `(B, 3c, h, w)` q‖k‖v map.
    static func spatialAttention(_ qkv: Tensor) -> Tensor {
        let b = qkv.shape[0], c = qkv.shape[1] / 3, n = qkv.shape[2] * qkv.shape[3]
        var out = [Float](repeating: 0, count: b * c * n)
        for bi in 0..<b {
            func at(_ block: Int, _ ch: Int, _ j: Int) -> Double { Double(qkv.data[((bi * 3 + block) * c + ch) * n + j]) }
            for i in 0..<n {
                var logits = [Double](repeating: 0, count: n)
                for j in 0..<n {
                    var s = 0.0
                    for ch in 0..<c { s += at(0, ch, i) * at(1, ch, j) }
                    logits[j] = s / Double(c).squareRoot()
                }
                let m = logits.max() ?? 0
                let e = logits.map { Foundation.exp($0 - m) }
                let z = e.reduce(0, +)
                for ch in 0..<c {
                    var s = 0.0
                    for j in 0..<n { s += e[j] / z * at(2, ch, j) }
                    out[(bi * c + ch) * n + i] = Float(s)
                }
            }
        }
        return Tensor(shape: [b, c, qkv.shape[2], qkv.shape[3]], data: out)
    }

    /// Deterministic pseudo-random tensor in [−scale, scale).
    static func random(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        let n = shape.reduce(1, *)
        var d = [Float](repeating: 0, count: n)
        for i in 0..<n {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            d[i] = (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
        return Tensor(shape: shape, data: d)
    }

    /// `‖a − b‖₂ / max(‖b‖₂, tiny)`: the normalised error used for conv/attention tolerances.
    static func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
        precondition(a.shape == b.shape, "relativeError: \(a.shape) vs \(b.shape)")
        var num = 0.0, den = 0.0
        for i in 0..<a.count {
            let d = Double(a.data[i]) - Double(b.data[i])
            num += d * d
            den += Double(b.data[i]) * Double(b.data[i])
        }
        return (num / max(den, 1e-300)).squareRoot()
    }

    static func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
        precondition(a.shape == b.shape, "maxAbsDiff: \(a.shape) vs \(b.shape)")
        var m: Float = 0
        for i in 0..<a.count { m = max(m, abs(a.data[i] - b.data[i])) }
        return m
    }
}
