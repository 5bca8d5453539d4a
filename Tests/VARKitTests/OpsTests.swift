import Foundation
import CKernels
import Testing
@testable import VARCore
import VARKit

/// Fast kernels against the plain references of OpsReference (normalised L2 error ≤ 1e-5 for
/// conv/attention/GroupNorm; FastMath against libm to 2e-7 relative).
@Suite struct OpsTests {
    @Test(arguments: [
        // (Ci, Co, H, W, k, stride, padding, upsample)
        (3, 8, 9, 7, 3, 1, ConvPadding.symmetric(1), false),
        (8, 5, 7, 9, 3, 1, ConvPadding.symmetric(1), false),  // Winograd, odd sizes (partial tiles)
        (9, 7, 5, 4, 3, 1, ConvPadding.symmetric(1), true),   // Winograd with fused upsampling
        (32, 16, 16, 16, 3, 1, ConvPadding.symmetric(1), false),
        (16, 24, 13, 21, 3, 1, ConvPadding.symmetric(1), false), // Winograd, partial 4×4 and 8-tile groups
        (8, 5, 67, 65, 3, 1, ConvPadding.symmetric(1), false),  // ≥ 64 × 64 output: F(4,3) when asked, partial tiles
        (9, 7, 33, 35, 3, 1, ConvPadding.symmetric(1), true),   // the same through the fused upsampling
        (12, 8, 7, 11, 3, 1, ConvPadding.symmetric(1), true),
        (5, 4, 8, 8, 3, 2, ConvPadding.bottomRight, false),   // encoder downsampling
        (5, 4, 7, 9, 3, 2, ConvPadding.bottomRight, false),   // odd sizes
        (6, 6, 5, 4, 3, 1, ConvPadding.symmetric(1), true),   // decoder upsampling fused
        (7, 9, 6, 5, 1, 1, ConvPadding.symmetric(0), false),  // 1×1 as a plain GEMM
        (4, 3, 6, 6, 3, 1, ConvPadding.symmetric(0), false),  // valid
    ])
    func convMatchesNaive(_ c: (Int, Int, Int, Int, Int, Int, ConvPadding, Bool)) {
        let (ci, co, h, w, k, s, p, up) = c
        let x = OpsReference.random([2, ci, h, w], seed: 1)
        let wt = OpsReference.random([co, ci, k, k], seed: 2)
        let b = OpsReference.random([co], seed: 3)
        let expected = OpsReference.conv2d(x, wt, b, stride: s, padding: p, upsample2x: up)
        for (winograd, tile) in [(true, 2), (true, 4), (false, 2)] {
            // A tiny block budget forces several bands (im2col rows / Winograd tile rows) per image.
            let ws = ConvWorkspace(maxBlockFloats: max(ci, co) * k * k * 4 * w, allowWinograd: winograd,
                                   winogradTile: tile, parallelism: .allCores)
            let got = x.conv2d(weight: wt, bias: b, stride: s, padding: p, upsample2x: up, workspace: ws)
            #expect(got.shape == expected.shape)
            #expect(OpsReference.relativeError(got, expected) < 1e-5, "winograd \(winograd) tile \(tile)")
            // Residual fused into the output; no bias.
            let res = OpsReference.random(expected.shape, seed: 4)
            let got2 = x.conv2d(weight: wt, stride: s, padding: p, upsample2x: up, residual: res, workspace: ws)
            let plain = OpsReference.conv2d(x, wt, nil, stride: s, padding: p, upsample2x: up)
            var sum = plain
            for i in 0..<sum.count { sum.data[i] += res.data[i] }
            #expect(OpsReference.relativeError(got2, sum) < 1e-5, "winograd \(winograd) tile \(tile)")
        }
    }

    @Test func encoderDownsamplePadsOnlyRightAndBottom() {
        // A 1×1 "kernel at the top-left tap" picks in[2r, 2c]: no shift, as with right/bottom padding.
        let x = Tensor(shape: [1, 1, 4, 4], data: (0..<16).map(Float.init))
        var w = Tensor(zeros: [1, 1, 3, 3]); w.data[0] = 1
        let y = x.conv2d(weight: w, stride: 2, padding: .bottomRight, workspace: ConvWorkspace(parallelism: .allCores))
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.data == [0, 2, 8, 10])
        // The bottom-right tap of the last output reads the zero padding.
        var w2 = Tensor(zeros: [1, 1, 3, 3]); w2.data[8] = 1
        #expect(x.conv2d(weight: w2, stride: 2, padding: .bottomRight, workspace: ConvWorkspace(parallelism: .allCores)).data == [10, 0, 0, 0])
    }

    @Test(arguments: [(false, 2, 64, 5, 7), (true, 1, 96, 4, 4), (true, 2, 32, 16, 16)])
    func groupNormMatchesNaive(_ c: (Bool, Int, Int, Int, Int)) {
        let (silu, b, ch, h, w) = c
        var x = OpsReference.random([b, ch, h, w], seed: 5, scale: 3)
        for i in 0..<x.count { x.data[i] += 1.5 }   // a non-zero mean
        let g = OpsReference.random([ch], seed: 6)
        let bias = OpsReference.random([ch], seed: 7)
        let got = x.groupNorm(weight: g, bias: bias, silu: silu, workspace: ConvWorkspace(parallelism: .allCores))
        let expected = OpsReference.groupNorm(x, groups: 32, weight: g, bias: bias, eps: 1e-6, silu: silu)
        #expect(OpsReference.relativeError(got, expected) < 1e-5)
        #expect(OpsReference.maxAbsDiff(got, expected) < 1e-5)
    }

    @Test func fastExpAndSiluMatchLibm() {
        var worst: Double = 0
        var x: Float = -87
        while x < 88 {
            let v = FastMath.exp(SIMD8(repeating: x))[0]
            worst = max(worst, abs(Double(v) / Foundation.exp(Double(x)) - 1))
            x += 0.0137
        }
        #expect(worst < 2e-7)
        for x: Float in [-100, -20, -1, -1e-3, 0, 1e-3, 0.5, 3, 30, 100] {
            let s = Double(x) / (1 + Foundation.exp(-Double(x)))
            #expect(abs(Double(FastMath.silu(x)) - s) <= 1e-6 * max(1, abs(s)))
        }
    }

    /// The GELU kernel against the double-precision tanh formula, over a length with a partial last vector.
    @Test func geluMatchesFormula() {
        let xs = (0..<2003).map { Float($0) * 0.012 - 12 }
        var got = xs
        got.withUnsafeMutableBufferPointer { Elementwise.geluTanh($0.baseAddress!, count: $0.count, parallelism: .allCores) }
        var worst = 0.0
        for (x, g) in zip(xs, got) {
            let d = Double(x), want = 0.5 * d * (1 + Foundation.tanh(0.7978845608028654 * (d + 0.044715 * d * d * d)))
            worst = max(worst, abs(Double(g) - want) / max(1, abs(want)))
        }
        #expect(worst < 1e-6)
    }

    @Test func attentionMatchesNaive() {
        let qkv = OpsReference.random([2, 3 * 8, 3, 5], seed: 8, scale: 2)
        let got = qkv.spatialAttention(parallelism: .allCores)
        let expected = OpsReference.spatialAttention(qkv)
        #expect(got.shape == [2, 8, 3, 5])
        #expect(OpsReference.relativeError(got, expected) < 1e-5)
    }

    /// The fused kernel against a double-precision softmax(Q·Kᵀ)·V, for query counts on both sides of its
    /// K/V repacking (m > 6) and key counts that are not multiples of 16, with garbage in the key padding.
    @Test(arguments: [(1, 1, 16), (6, 17, 64), (7, 45, 32), (13, 16, 64), (40, 91, 64)])
    func fusedAttentionKernel(m: Int, keys: Int, hd: Int) {
        let ldq = 3 * hd + 5, ldo = hd + 3, ldk = (keys + 15) / 16 * 16 + 16
        var rng = SplitMix64(seed: UInt64(m * 1000 + keys))
        func uniform() -> Float { Float(rng.next() >> 40) / Float(1 << 24) }
        let q = (0..<(m * ldq)).map { _ in uniform() * 2 - 1 }
        var kt = (0..<(hd * ldk)).map { _ in uniform() * 2 - 1 }
        for d in 0..<hd { for j in keys..<ldk { kt[d * ldk + j] = 1e30 } }
        let v = (0..<(keys * hd)).map { _ in uniform() * 2 - 1 }
        var out = [Float](repeating: .nan, count: m * ldo)
        var scratch = [Float](repeating: .nan, count: CachedAttention.scoreSlice(maxGroup: m, keys: keys, headDim: hd))
        vg_attention(q, m, ldq, kt, ldk, v, keys, hd, &out, ldo, &scratch)
        var worst = 0.0
        for i in 0..<m {
            let s = (0..<keys).map { j in (0..<hd).reduce(0.0) { $0 + Double(q[i * ldq + $1]) * Double(kt[$1 * ldk + j]) } }
            let mx = s.max()!, e = s.map { Foundation.exp($0 - mx) }, sum = e.reduce(0, +)
            for c in 0..<hd {
                let want = (0..<keys).reduce(0.0) { $0 + e[$1] / sum * Double(v[$1 * hd + c]) }
                worst = max(worst, abs(Double(out[i * ldo + c]) - want))
            }
        }
        #expect(worst < 1e-5, "m \(m), keys \(keys), hd \(hd): max |error| \(worst)")
    }

    @Test func nearestUpsample() {
        let x = Tensor(shape: [1, 1, 2, 2], data: [1, 2, 3, 4])
        let y = x.upsampledNearest2x()
        #expect(y.shape == [1, 1, 4, 4])
        #expect(y.data == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    }
}
