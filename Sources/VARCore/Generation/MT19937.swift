import Foundation

/// The 32-bit Mersenne Twister as used by PyTorch's CPU generator (docs/model.md §6.5): `init_genrand` seeding,
/// standard tempering. `torch.Generator().manual_seed(s)` equals `MT19937(seed: s)` (the seed is truncated
/// to 32 bits, as PyTorch does).
public struct MT19937: Sendable {
    private static let n = 624, m = 397
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    public init(seed: UInt64) {
        state[0] = UInt32(truncatingIfNeeded: seed)
        for i in 1..<MT19937.n {
            let prev = state[i - 1]
            state[i] = 1_812_433_253 &* (prev ^ (prev >> 30)) &+ UInt32(i)
        }
        index = MT19937.n
    }

    private mutating func twist() {
        state.withUnsafeMutableBufferPointer { s in
            let n = MT19937.n, m = MT19937.m
            for i in 0..<n {
                let y = (s[i] & 0x8000_0000) | (s[(i + 1) % n] & 0x7fff_ffff)
                var v = s[(i + m) % n] ^ (y >> 1)
                if y & 1 != 0 { v ^= 0x9908_b0df }
                s[i] = v
            }
        }
        index = 0
    }

    /// The next tempered 32-bit output.
    @inline(__always)
    public mutating func next() -> UInt32 {
        if index >= MT19937.n { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// A double in [0, 1) from two consecutive outputs a, b: `((a·2³² + b) mod 2⁵³)·2⁻⁵³` (PyTorch's `random64`).
    @inline(__always)
    public mutating func nextDouble() -> Double {
        let a = UInt64(next()), b = UInt64(next())
        let bits = ((a << 32) | b) & ((1 << 53) - 1)
        return Double(bits) * 0x1p-53
    }

    /// A float32 Exp(1) variate: `−log1p(−u)` in double, rounded to float (PyTorch CPU `exponential_`).
    @inline(__always)
    public mutating func nextExponential() -> Float {
        Float(-log1p(-nextDouble()))
    }

    /// Fills `out` with Exp(1) variates in order (one per element, as `exponential_` on a contiguous tensor).
    public mutating func fillExponential(_ out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { out[i] = nextExponential() }
    }

    /// Advances the generator past `count` exponential variates (two 32-bit outputs each) without
    /// computing them: the state after equals drawing them (used by CoDe's replay, docs/model.md §7.3 step 6).
    public mutating func skipExponentials(_ count: Int) {
        var remaining = 2 * count
        while remaining > 0 {
            if index >= MT19937.n { twist() }
            let take = min(remaining, MT19937.n - index)
            index += take
            remaining -= take
        }
    }
}
