/* Float32 linear layers for up to ~100 rows (docs/performance.md, "small products").
 *
 * sgemm packs the whole weight matrix on every call; at batch 1's small scales (2–72 rows with CFG) that
 * packing costs as much as the arithmetic. This kernel reads PyTorch's (n, k) weights where they are, as dot
 * products in register tiles of up to 4 input rows x 3 weight rows: twelve 8-lane accumulators, so every
 * loaded weight vector serves 4 rows and every input vector 3 features. Each weight row is read once per
 * 4 input rows (from L2 after the first), and the whole matrix once from memory. */
#include "ckernels.h"
#if defined(__x86_64__)
#include <immintrin.h>
#define VG_AVX2 __attribute__((target("avx2,fma")))

VG_AVX2 static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* s[j][i] = x_j · w_i over k elements, for MR input rows (ldx apart) and NR weight rows (k apart). With MR and
   NR constants the loops unroll and the accumulators stay in registers. */
#define TILE(MR, NR)                                                                                         \
    VG_AVX2 static void tile_##MR##_##NR(const float *x, size_t ldx, const float *w, size_t k, float s[4][3]) { \
        __m256 a[MR][NR];                                                                                    \
        for (int j = 0; j < MR; j++)                                                                         \
            for (int i = 0; i < NR; i++) a[j][i] = _mm256_setzero_ps();                                      \
        size_t p = 0;                                                                                        \
        for (; p + 8 <= k; p += 8) {                                                                         \
            __m256 wv[NR];                                                                                   \
            for (int i = 0; i < NR; i++) wv[i] = _mm256_loadu_ps(w + i * k + p);                             \
            for (int j = 0; j < MR; j++) {                                                                   \
                __m256 xv = _mm256_loadu_ps(x + j * ldx + p);                                                \
                for (int i = 0; i < NR; i++) a[j][i] = _mm256_fmadd_ps(xv, wv[i], a[j][i]);                  \
            }                                                                                                \
        }                                                                                                    \
        for (int j = 0; j < MR; j++)                                                                         \
            for (int i = 0; i < NR; i++) s[j][i] = hsum8(a[j][i]);                                           \
        for (; p < k; p++)                                                                                   \
            for (int j = 0; j < MR; j++)                                                                     \
                for (int i = 0; i < NR; i++) s[j][i] += x[j * ldx + p] * w[i * k + p];                       \
    }
TILE(4, 3) TILE(3, 3) TILE(2, 3) TILE(1, 3)
TILE(4, 2) TILE(3, 2) TILE(2, 2) TILE(1, 2)
TILE(4, 1) TILE(3, 1) TILE(2, 1) TILE(1, 1)

typedef void (*tile_fn)(const float *, size_t, const float *, size_t, float[4][3]);
static const tile_fn tiles[4][3] = {
    {tile_1_1, tile_1_2, tile_1_3}, {tile_2_1, tile_2_2, tile_2_3},
    {tile_3_1, tile_3_2, tile_3_3}, {tile_4_1, tile_4_2, tile_4_3},
};

static void linear_avx2(const float *x, size_t m, size_t ldx, const float *w, size_t k, size_t o0, size_t o1,
                        const float *bias, float *out, size_t ldo) {
    for (size_t o = o0; o < o1; o += 3) {
        size_t nr = o1 - o < 3 ? o1 - o : 3;
        for (size_t r = 0; r < m; r += 4) {
            size_t mr = m - r < 4 ? m - r : 4;
            float s[4][3];
            tiles[mr - 1][nr - 1](x + r * ldx, ldx, w + o * k, k, s);
            for (size_t j = 0; j < mr; j++)
                for (size_t i = 0; i < nr; i++) out[(r + j) * ldo + o + i] = s[j][i] + (bias ? bias[o + i] : 0.0f);
        }
    }
}

#endif

/* Any CPU: the same contract with plain loops. */
static void linear_portable(const float *x, size_t m, size_t ldx, const float *w, size_t k, size_t o0, size_t o1,
                            const float *bias, float *out, size_t ldo) {
    for (size_t r = 0; r < m; r++)
        for (size_t o = o0; o < o1; o++) {
            float s = 0.0f;
            for (size_t p = 0; p < k; p++) s += x[r * ldx + p] * w[o * k + p];
            out[r * ldo + o] = s + (bias ? bias[o] : 0.0f);
        }
}

void vg_linear_f32(const float *x, size_t m, size_t ldx, const float *w, size_t k, size_t o0, size_t o1,
                   const float *bias, float *out, size_t ldo) {
#if defined(__x86_64__)
    if (vg_cpu_has_avx2_fma()) { linear_avx2(x, m, ldx, w, k, o0, o1, bias, out, ldo); return; }
#endif
    linear_portable(x, m, ldx, w, k, o0, o1, bias, out, ldo);
}
