/* The few-row linear kernel, instantiated for float32 weights (f32.c) and float16 weights (f16.c).
 *
 * out[r*ldo + o] = bias[o] + sum_p x[r*ldx + p] * W[o][p] for r < m, o in [o0, o1), W (n, k) row-major read in
 * place, as dot products in register tiles of up to 4 input rows x 3 weight rows (twelve 8-lane accumulators:
 * every loaded weight vector serves 4 rows, every input vector 3 features). k is not blocked: splitting it so
 * that the input rows stay in L2 was measured slower (VAR-d30 shapes, 72 rows: 74 vs 85 GFLOP/s).
 *
 * A tile's weight rows come from memory while it runs with the first 4 input rows and from cache for the
 * others, so memory would sit idle for most of the call; instead, the first row group of each tile prefetches
 * the next tile's weight rows (one prefetch per weight row per 8 inputs). Best of 7, 2 threads, GFLOP/s without
 * vs with: VAR-d30 shapes m = 2 17.6 vs 20.9, m = 8 53.2 vs 60.7, m = 18 79.9 vs 85.3, m = 72 96.1 vs 100.6;
 * VAR-d16 m = 8 42.8 vs 50.1, m = 18 63.2 vs 69.9.
 *
 * LINEAR_TILES(NAME, WTYPE, TARGET, LOAD8, LOAD1) defines `static void NAME(...)` with the signature above;
 * LOAD8(p) widens 8 weights at p to a __m256, LOAD1(p) one weight to a float. */
#ifndef VARGEN_LINEAR_TILES_H
#define VARGEN_LINEAR_TILES_H
#include <immintrin.h>
#include <stddef.h>

/* One step of 8 inputs: NR weight vectors, MR input vectors, MR x NR fused multiply-adds. */
#define LINEAR_TILE_STEP(LOAD8, MR, NR)                                                                       \
    __m256 wv[NR];                                                                                            \
    for (int i = 0; i < NR; i++) wv[i] = LOAD8(w + i * ldw + p);                                              \
    for (int j = 0; j < MR; j++) {                                                                            \
        __m256 xv = _mm256_loadu_ps(x + j * ldx + p);                                                         \
        for (int i = 0; i < NR; i++) a[j][i] = _mm256_fmadd_ps(xv, wv[i], a[j][i]);                           \
    }

#define LINEAR_TILE(NAME, WTYPE, TARGET, LOAD8, LOAD1, MR, NR)                                               \
    TARGET static void NAME##_tile_##MR##_##NR(const float *x, size_t ldx, const WTYPE *w, size_t ldw, size_t k,  \
                                               float s[4][3], const WTYPE *next) {                            \
        __m256 a[MR][NR];                                                                                     \
        for (int j = 0; j < MR; j++)                                                                          \
            for (int i = 0; i < NR; i++) a[j][i] = _mm256_setzero_ps();                                       \
        size_t p = 0;                                                                                         \
        if (next)                                                                                             \
            for (; p + 8 <= k; p += 8) {                                                                      \
                for (int i = 0; i < 3; i++) _mm_prefetch((const char *)(next + i * ldw + p), _MM_HINT_T0);    \
                LINEAR_TILE_STEP(LOAD8, MR, NR)                                                               \
            }                                                                                                 \
        else                                                                                                  \
            for (; p + 8 <= k; p += 8) { LINEAR_TILE_STEP(LOAD8, MR, NR) }                                    \
        for (int j = 0; j < MR; j++)                                                                          \
            for (int i = 0; i < NR; i++) {                                                                    \
                __m128 h = _mm_add_ps(_mm256_castps256_ps128(a[j][i]), _mm256_extractf128_ps(a[j][i], 1));    \
                h = _mm_add_ps(h, _mm_movehl_ps(h, h));                                                       \
                s[j][i] = _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));                                   \
            }                                                                                                 \
        for (; p < k; p++)                                                                                    \
            for (int j = 0; j < MR; j++)                                                                      \
                for (int i = 0; i < NR; i++) s[j][i] += x[j * ldx + p] * LOAD1(w + i * ldw + p);             \
    }

#define LINEAR_TILES(NAME, WTYPE, TARGET, LOAD8, LOAD1)                                                       \
    LINEAR_TILE(NAME, WTYPE, TARGET, LOAD8, LOAD1, 4, 3) LINEAR_TILE(NAME, WTYPE, TARGET, LOAD8, LOAD1, 3, 3) \
    LINEAR_TILE(NAME, WTYPE, TARGET, LOAD8, LOAD1, 2, 3) LINEAR_TILE(NAME, WTYPE, TARGET, LOAD8, LOAD1, 1, 3) \
    LINEAR_TILE(NAME, WTYPE, TARGET, LOAD8, LOAD1, 4, 2) LINEAR_TILE(NAME, WTYPE, TARGET, LOAD8, LOAD1, 3, 2) \
    LINEAR_TILE(NAME, WTYPE, TARGET, LOAD8, LOAD1, 2, 2) LINEAR_TILE(NAME, WTYPE, TARGET, LOAD8, LOAD1, 1, 2) \
    LINEAR_TILE(NAME, WTYPE, TARGET, LOAD8, LOAD1, 4, 1) LINEAR_TILE(NAME, WTYPE, TARGET, LOAD8, LOAD1, 3, 1) \
    LINEAR_TILE(NAME, WTYPE, TARGET, LOAD8, LOAD1, 2, 1) LINEAR_TILE(NAME, WTYPE, TARGET, LOAD8, LOAD1, 1, 1) \
    static void (*const NAME##_tiles[4][3])(const float *, size_t, const WTYPE *, size_t, size_t, float[4][3],  \
                                            const WTYPE *) = {                                                \
        {NAME##_tile_1_1, NAME##_tile_1_2, NAME##_tile_1_3}, {NAME##_tile_2_1, NAME##_tile_2_2, NAME##_tile_2_3}, \
        {NAME##_tile_3_1, NAME##_tile_3_2, NAME##_tile_3_3}, {NAME##_tile_4_1, NAME##_tile_4_2, NAME##_tile_4_3}, \
    };                                                                                                        \
    static void NAME(const float *x, size_t m, size_t ldx, const WTYPE *w, size_t k, size_t o0, size_t o1,    \
                     const float *bias, float *out, size_t ldo) {                                            \
        for (size_t o = o0; o < o1; o += 3) {                                                                 \
            size_t nr = o1 - o < 3 ? o1 - o : 3;                                                              \
            const WTYPE *next = o + 6 <= o1 ? w + (o + 3) * k : NULL;                                         \
            for (size_t r = 0; r < m; r += 4) {                                                               \
                size_t mr = m - r < 4 ? m - r : 4;                                                            \
                float s[4][3];                                                                                \
                NAME##_tiles[mr - 1][nr - 1](x + r * ldx, ldx, w + o * k, k, k, s, r == 0 ? next : NULL);      \
                for (size_t j = 0; j < mr; j++)                                                               \
                    for (size_t i = 0; i < nr; i++)                                                           \
                        out[(r + j) * ldo + o + i] = s[j][i] + (bias ? bias[o + i] : 0.0f);                   \
            }                                                                                                 \
        }                                                                                                     \
    }

#endif
