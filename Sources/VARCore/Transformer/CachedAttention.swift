import CKernels

/// Cosine attention with a KV cache and the block-causal rule (docs/model.md §5.3, §5.6, §5.7).
enum CachedAttention {
    /// A run of query positions that all see the keys `[0, keyEnd)`: the queries of one scale
    /// (the block-causal mask expressed as key ranges instead of −∞ entries; identical softmax).
    struct QueryGroup {
        /// Query rows `[start, end)` relative to the chunk's first position.
        var start: Int, end: Int
        /// Exclusive end of visible key positions.
        var keyEnd: Int
    }

    /// Attention for a chunk of `n` new positions `[p0, p0 + n)` of every one of the cache's rows.
    ///
    /// - `qkv`: (rows, n, 3C), modified: q and k are L2-normalised per head, q multiplied by `scaleMul[h]`.
    /// - Normalised k and v are appended to `cache` at `[p0, p0 + n)` for `block`.
    /// - `out`: (rows, n, C), heads concatenated head-major.
    /// - `scores`: scratch of `slots` slices of `maxGroup · maxKeyEnd` floats each; with several slots the
    ///   (row, head) pairs run in parallel, one slice per chunk (each product single-threaded).
    static func forward(qkv: UnsafeMutablePointer<Float>, n: Int, p0: Int, groups: [QueryGroup],
                        scaleMul: [Float], cache: KVCache, block: Int,
                        scores: UnsafeMutablePointer<Float>, slots: Int = 1,
                        out: UnsafeMutablePointer<Float>, parallelism: Parallelism) {
        prepare(qkv: qkv, n: n, p0: p0, scaleMul: scaleMul, cache: cache, block: block, parallelism: parallelism)
        attend(qkv: qkv, n: n, groups: groups, cache: cache, block: block, scores: scores, slots: slots, out: out,
               parallelism: parallelism)
    }

    /// Step 1 of `forward`: normalise q (× per-head temperature) and k in `qkv`; copy k, v into the cache.
    static func prepare(qkv: UnsafeMutablePointer<Float>, n: Int, p0: Int, scaleMul: [Float], cache: KVCache,
                        block: Int, parallelism: Parallelism) {
        let H = cache.heads, hd = cache.headDim, C = H * hd, C3 = 3 * C, ldk = cache.keyStride
        parallelism.forEach(cache.rows * n, grain: max(1, 8192 / max(C3, 1))) { range in
            for rn in range {
                let r = rn / n, i = rn % n
                let base = qkv + rn * C3
                for h in 0..<H {
                    let q = base + h * hd, k = base + C + h * hd, v = base + 2 * C + h * hd
                    Elementwise.normalize(q, dim: hd, factor: scaleMul[h])
                    Elementwise.normalize(k, dim: hd, factor: 1)
                    let kt = cache.keys(block: block, row: r, head: h) + (p0 + i)
                    for d in 0..<hd { kt[d * ldk] = k[d] }
                    (cache.values(block: block, row: r, head: h) + (p0 + i) * hd).update(from: v, count: hd)
                }
            }
        }
    }

    /// Step 2 of `forward`, after `prepare`.
    static func attend(qkv: UnsafeMutablePointer<Float>, n: Int, groups: [QueryGroup], cache: KVCache, block: Int,
                       scores: UnsafeMutablePointer<Float>, slots: Int, out: UnsafeMutablePointer<Float>,
                       parallelism: Parallelism) {
        let rows = cache.rows, H = cache.heads, hd = cache.headDim, C = H * hd, C3 = 3 * C
        // 2. Per (row, head, group): S = Q·Kᵀ, softmax, O = S·V (softmax scale 1). The pairs are independent:
        // split them over the workers, each with its own scratch slice.
        let maxKeys = groups.map(\.keyEnd).max() ?? 0
        let slice = scoreSlice(maxGroup: groups.map { $0.end - $0.start }.max() ?? 0, keys: maxKeys, headDim: hd)
        let flopsPerPair = groups.reduce(0) { $0 + 4 * ($1.end - $1.start) * $1.keyEnd * hd }
        let fused = hd % 16 == 0, ldk = cache.keyStride
        BLAS.use(threads: 1)
        parallelism.forEachChunk(rows * H, grain: max(1, (1 << 21) / max(flopsPerPair, 1)), maxChunks: slots) { chunk, range in
            let s = scores + chunk * slice
            for rh in range {
                let r = rh / H, h = rh % H
                let kPtr = cache.keys(block: block, row: r, head: h)
                let vPtr = cache.values(block: block, row: r, head: h)
                for g in groups where g.end > g.start {
                    let q = qkv + (r * n + g.start) * C3 + h * hd, o = out + (r * n + g.start) * C + h * hd
                    if fused {
                        vg_attention(q, g.end - g.start, C3, kPtr, ldk, vPtr, g.keyEnd, hd, o, C, s)
                        continue
                    }
                    // Head sizes the kernel does not tile: BLAS, in blocks of `queryBlock` queries.
                    var q0 = 0
                    while q0 < g.end - g.start {
                        let m = min(queryBlock, g.end - g.start - q0)
                        BLAS.gemmInRegion(m: m, n: g.keyEnd, k: hd, a: q + q0 * C3, lda: C3, b: kPtr, ldb: ldk,
                                          c: s, ldc: g.keyEnd)
                        Elementwise.softmaxRowsSerial(s, rows: 0..<m, count: g.keyEnd, ld: g.keyEnd)
                        BLAS.gemmInRegion(m: m, n: hd, k: g.keyEnd, a: s, lda: g.keyEnd, b: vPtr, ldb: hd,
                                          c: o + q0 * C, ldc: C)
                        q0 += m
                    }
                }
            }
        }
    }

    /// Queries per block of the BLAS fallback (64 × 680 keys = 174 KB: in L2 for softmax and S·V).
    static let queryBlock = 64

    /// Floats of one worker's scratch slice for query groups of at most `maxGroup` rows over `keys` keys:
    /// `vg_attention`'s 6 rows of scores and 6 padded queries (and its K, V panels for groups over 6 rows), or
    /// the fallback's block of scores.
    static func scoreSlice(maxGroup: Int, keys: Int, headDim: Int) -> Int {
        let padded = (keys + 15) / 16 * 16
        guard headDim % 16 == 0 else { return min(maxGroup, queryBlock) * keys }
        return 6 * (padded + headDim) + (maxGroup > 6 ? 2 * padded * headDim : 0)
    }
}
