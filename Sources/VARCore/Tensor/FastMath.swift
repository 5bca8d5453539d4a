/// Vectorised transcendental helpers in Swift (softmax rows, `Tensor.silu`). Scalar `expf` from libm costs ~10 ns.
/// The hot loops — GroupNorm + SiLU in the decoder (~10⁸ per image) and GELU — use the C kernels of
/// activations.c instead, which also run with AVX2 + FMA (this code compiles for baseline x86-64).
public enum FastMath {
    /// `e^x` for eight lanes; relative error ≤ 2e-7 on [−87, 88] (inputs are clamped to that range,
    /// so `fastExp(−∞) = e^−87`, never NaN for finite input).
    /// Range reduction `x = n·ln2 + r`, |r| ≤ ln2/2, then a degree-6 polynomial (Cephes `expf`).
    @inlinable @inline(__always)
    public static func exp(_ v: SIMD8<Float>) -> SIMD8<Float> {
        let lo = SIMD8<Float>(repeating: -87), hi = SIMD8<Float>(repeating: 88)
        let x = v.replacing(with: lo, where: v .< lo).replacing(with: hi, where: v .> hi)
        // Round x·log2(e) to nearest with the 1.5·2^23 trick: the integer lands in the low mantissa bits.
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let t = x * 1.442_695_040_888_963_4 + magic
        let n = t - magic
        var r = x - n * 0.693_359_375
        r = r - n * -2.121_944_400_546_905_8e-4
        let r2 = r * r
        var p = SIMD8<Float>(repeating: 1.987_569_150_0e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        p = p * r2 + r + 1
        let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let scale = unsafeBitCast((ni &+ 127) &<< 23, to: SIMD8<Float>.self)
        return p * scale
    }

    /// `x·σ(x) = x / (1 + e^(−x))` for eight lanes.
    @inlinable @inline(__always)
    public static func silu(_ x: SIMD8<Float>) -> SIMD8<Float> {
        x / (1 + exp(-x))
    }

    /// Scalar SiLU with the same formula (for tails shorter than a vector).
    @inlinable @inline(__always)
    public static func silu(_ x: Float) -> Float {
        silu(SIMD8(repeating: x))[0]
    }

    /// In-place SiLU over `count` floats.
    @inlinable
    public static func siluInPlace(_ p: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        let raw = UnsafeMutableRawPointer(p)
        while i + 8 <= count {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            raw.storeBytes(of: silu(v), toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { p[i] = silu(p[i]); i += 1 }
    }
}
