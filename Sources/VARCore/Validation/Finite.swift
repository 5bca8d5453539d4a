/// NaN/±Inf detection over float32 buffers, vectorised: 64 floats per step compared by their exponent bits
/// (all ones ⇔ not finite), with one branch per 1,024 floats. Used once per tensor at load and on every
/// scale's logits and every decoded image.
public enum Finite {
    /// Index of the first NaN or ±Inf in `values`, or nil when all are finite.
    public static func firstNonFinite(_ values: UnsafeBufferPointer<Float>) -> Int? {
        guard let base = values.baseAddress else { return nil }
        let n = values.count
        let raw = UnsafeRawPointer(base)
        let exponent = SIMD16<UInt32>(repeating: 0x7F80_0000)
        var i = 0
        while i + 1024 <= n {
            var a = SIMD16<UInt32>(repeating: 0), b = a, c = a, d = a
            var j = i
            while j < i + 1024 {
                a = pointwiseMax(a, raw.loadUnaligned(fromByteOffset: 4 * j, as: SIMD16<UInt32>.self) & exponent)
                b = pointwiseMax(b, raw.loadUnaligned(fromByteOffset: 4 * (j + 16), as: SIMD16<UInt32>.self) & exponent)
                c = pointwiseMax(c, raw.loadUnaligned(fromByteOffset: 4 * (j + 32), as: SIMD16<UInt32>.self) & exponent)
                d = pointwiseMax(d, raw.loadUnaligned(fromByteOffset: 4 * (j + 48), as: SIMD16<UInt32>.self) & exponent)
                j += 64
            }
            if any(pointwiseMax(pointwiseMax(a, b), pointwiseMax(c, d)) .== exponent) { break }
            i += 1024
        }
        while i < n {
            if !base[i].isFinite { return i }
            i += 1
        }
        return nil
    }

    /// Index of the first NaN or ±Inf in `values`, or nil.
    public static func firstNonFinite(_ values: [Float]) -> Int? {
        values.withUnsafeBufferPointer { firstNonFinite($0) }
    }
}
