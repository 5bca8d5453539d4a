import Foundation

/// Token sampling from guided logits (docs/model.md §6.2–6.5): top-k, top-p, temperature, PyTorch-compatible
/// multinomial, and the `more_smooth` Gumbel mixture. All arithmetic is float32 except the running sum of
/// top-p, which PyTorch's CPU `cumsum` accumulates in double.
public enum Sampler {
    /// Top-k in place on one row (docs/model.md §6.2): every logit strictly smaller than the k-th largest becomes −∞;
    /// ties with the k-th value survive. `scratch` holds at least `count` floats. k ≤ 0 or k ≥ count: no-op.
    public static func applyTopK(_ row: UnsafeMutablePointer<Float>, count: Int, k: Int,
                                 scratch: UnsafeMutablePointer<Float>) {
        guard k > 0, k < count else { return }
        scratch.update(from: row, count: count)
        let tau = kthLargest(scratch, count: count, k: k)
        for v in 0..<count where row[v] < tau { row[v] = -.infinity }
    }

    /// Top-p in place on one row (docs/model.md §6.2): sort ascending, softmax, running sum P_j; entries with
    /// P_j ≤ 1 − p are removed except the largest. Entries tied with the first kept value are all kept
    /// (PyTorch leaves the order among equal logits unspecified). `scratch` holds at least `count` floats.
    public static func applyTopP(_ row: UnsafeMutablePointer<Float>, count: Int, p: Double,
                                 scratch: UnsafeMutablePointer<Float>) {
        guard p > 0 else { return }
        // −∞ entries have probability exactly 0 and add nothing to the running sum: only finite ones matter.
        var n = 0
        for v in 0..<count where row[v] > -.infinity { scratch[n] = row[v]; n += 1 }
        guard n > 1 else { return }
        var sorted = UnsafeMutableBufferPointer(start: scratch, count: n)
        sorted.sort()
        let maxValue = sorted[n - 1]
        var sum: Float = 0
        for j in 0..<n { sum += expf(sorted[j] - maxValue) }
        let inv = 1 / sum
        let threshold = Float(1 - p)
        var cumulative: Double = 0
        var firstKept = n - 1
        for j in 0..<(n - 1) {
            cumulative += Double(expf(sorted[j] - maxValue) * inv)
            if Float(cumulative) > threshold { firstKept = j; break }
        }
        let keepFrom = sorted[firstKept]
        for v in 0..<count where row[v] < keepFrom { row[v] = -.infinity }
    }

    /// `softmax(row / temperature)` into `out` (float32; max-subtracted, multiplied by the reciprocal sum).
    public static func softmax(_ row: UnsafePointer<Float>, count: Int, temperature: Float = 1,
                               into out: UnsafeMutablePointer<Float>) {
        var m: Float = -.infinity
        if temperature == 1 {
            for v in 0..<count { out[v] = row[v]; m = max(m, row[v]) }
        } else {
            for v in 0..<count { let x = row[v] / temperature; out[v] = x; m = max(m, x) }
        }
        var sum: Float = 0
        for v in 0..<count { let e = expf(out[v] - m); out[v] = e; sum += e }
        let inv = 1 / sum
        for v in 0..<count { out[v] *= inv }
    }

    /// One multinomial draw from probabilities `p` as PyTorch CPU does it (docs/model.md §6.5): `argmax_v p_v / E_v`
    /// with `E_v ~ Exp(1)` drawn in order, float32 division, first maximum (a NaN wins, as in `argmax`).
    @inline(__always)
    public static func multinomial(_ p: UnsafePointer<Float>, count: Int, rng: inout MT19937) -> Int {
        var best = -Float.infinity, bestIndex = 0, seenNaN = false
        for v in 0..<count {
            let q = p[v] / rng.nextExponential()
            if seenNaN { continue }
            if q.isNaN { seenNaN = true; bestIndex = v; continue }
            if q > best { best = q; bestIndex = v }
        }
        return bestIndex
    }

    /// The k-th largest of `buf[0..<count]` (1-based k), reordering `buf` (quickselect, O(count)).
    static func kthLargest(_ buf: UnsafeMutablePointer<Float>, count: Int, k: Int) -> Float {
        // The k-th largest is the element of ascending rank `count − k`.
        let target = count - k
        var lo = 0, hi = count - 1
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            // Median of three as pivot.
            let a = buf[lo], b = buf[mid], c = buf[hi]
            let pivot = max(min(a, b), min(max(a, b), c))
            var i = lo, j = hi
            while i <= j {
                while buf[i] < pivot { i += 1 }
                while buf[j] > pivot { j -= 1 }
                if i <= j { let t = buf[i]; buf[i] = buf[j]; buf[j] = t; i += 1; j -= 1 }
            }
            if target <= j { hi = j } else if target >= i { lo = i } else { return buf[target] }
        }
        return buf[target]
    }
}

/// Per-scale sampling of a batch: rows `[image][position]` of guided logits, one generator per image.
struct ScaleSampler {
    let vocab: Int
    let topK: Int
    let topP: Double
    let temperature: Double
    /// `ratio = si/(S−1)` when `more_smooth` is on, else nil.
    let smoothRatio: Double?

    /// Filters `logits` (B·n rows of V) in place, draws one index per row into `indices`, and with
    /// `more_smooth` writes the Gumbel-softmax weights into `weights` (same shape as logits).
    /// Each image's generator advances by `n·V` variates (twice that with `more_smooth`), exactly as a
    /// PyTorch `multinomial` (+ Gumbel `exponential_`) on that image's `[n, V]` probabilities.
    func sample(logits: UnsafeMutablePointer<Float>, images: Int, rowsPerImage n: Int,
                rngs: inout [MT19937], indices: UnsafeMutablePointer<Int32>,
                weights: UnsafeMutablePointer<Float>?, parallelism: Parallelism) {
        let V = vocab
        let starts = rngs
        let temp = Float(temperature)
        parallelism.forEach(images * n, grain: 4) { range in
            let probs = UnsafeMutablePointer<Float>.allocate(capacity: V)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: V)
            defer { probs.deallocate(); scratch.deallocate() }
            var image = -1
            var rng = MT19937(seed: 0)
            var gumbelRNG = MT19937(seed: 0)
            for r in range {
                let b = r / n, j = r % n
                if b != image {
                    // Position this worker's copies of image b's generator at row j.
                    image = b
                    rng = starts[b]
                    rng.skipExponentials(j * V)
                    if smoothRatio != nil { gumbelRNG = starts[b]; gumbelRNG.skipExponentials((n + j) * V) }
                }
                let row = logits + r * V
                Sampler.applyTopK(row, count: V, k: topK, scratch: scratch)
                Sampler.applyTopP(row, count: V, p: topP, scratch: scratch)
                Sampler.softmax(row, count: V, temperature: temp, into: probs)
                indices[r] = Int32(Sampler.multinomial(probs, count: V, rng: &rng))
                if let ratio = smoothRatio, let weights {
                    gumbelMixture(row: row, ratio: ratio, rng: &gumbelRNG, into: weights + r * V)
                }
            }
        }
        let perImage = (smoothRatio == nil ? 1 : 2) * n * V
        for b in 0..<images { rngs[b].skipExponentials(perImage) }
    }

    /// `softmax((ℓ·(1+ratio) + g)/τ)` with `g = −log(E)`, `τ = max(0.27·(1 − 0.95·ratio), 0.005)` (docs/model.md §6.4).
    func gumbelMixture(row: UnsafePointer<Float>, ratio: Double, rng: inout MT19937,
                       into out: UnsafeMutablePointer<Float>) {
        let tau = Float(max(0.27 * (1 - ratio * 0.95), 0.005))
        let mul = Float(1 + ratio)
        for v in 0..<vocab {
            let g = -logf(rng.nextExponential())
            out[v] = (row[v] * mul + g) / tau
        }
        Sampler.softmax(out, count: vocab, into: out)
    }
}
