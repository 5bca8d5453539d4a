/* 8-bit weights: symmetric int8 quantization and int8 x int8 -> int32 linear products (docs/quantization.md).
 *
 * A quantized matrix (rows, kp) holds kp = k rounded up to 32 int8 values per row (zero padded) and one float
 * scale per group of g values (g = 32, or g = kp: one scale per row). A group with largest magnitude a has
 * scale d = a / 127 and values q = round_to_nearest_even(x · (1 / d)) in [-127, 127] (d = 0: all zero), so
 * x ≈ q · d. Weights are quantized once at load; activations row by row before each product, in the same groups.
 *
 * out[r][o] = bias[o] + Σ_groups (sx[r][γ] · sw[o][γ]) · Σ_{p in γ} qx[r][p] · qw[o][p]; the inner sums are exact
 * int32. With g = kp that is one float product per output, (float)isum · (sx · sw), computed in that order by
 * every path (so all paths agree bit for bit); with g = 32 the group terms are accumulated in float lanes, in a
 * path-dependent order.
 *
 * Paths: AVX2 (sign trick: |x| as unsigned bytes times w with x's sign, vpmaddubsw then vpmaddwd; no saturation
 * since |q| ≤ 127 gives pair sums ≤ 32258), AVX-VNNI and AVX512-VNNI (vpdpbusd on the same operands, 256-bit), and
 * plain C. Register tiles of up to 4 input rows x 2 weight rows; input rows are taken in blocks of Q8_ROW_BLOCK
 * so that a block of quantized inputs stays in L2 while every weight row passes over it, and the first row tile
 * of a block prefetches the next tile's weight rows (as linear_tiles.h does). */
#include "ckernels.h"
#include <math.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define Q8_ROW_BLOCK 64

int vg_q8_path_supported(int path) {
    switch (path) {
    case VG_Q8_SCALAR: return 1;
#if defined(__x86_64__)
    case VG_Q8_AVX2: return vg_cpu_has_avx2_fma();
    case VG_Q8_AVXVNNI:
        __builtin_cpu_init();
        return vg_cpu_has_avx2_fma() && __builtin_cpu_supports("avxvnni");
    case VG_Q8_AVX512VNNI:
        __builtin_cpu_init();
        return vg_cpu_has_avx2_fma() && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl");
#endif
    default: return 0;
    }
}

int vg_q8_best_path(void) {
    static int state = -1;      /* benign race: every thread computes the same value */
    if (state < 0) {
        int best = VG_Q8_SCALAR;
        if (vg_q8_path_supported(VG_Q8_AVX2)) best = VG_Q8_AVX2;
        if (vg_q8_path_supported(VG_Q8_AVXVNNI)) best = VG_Q8_AVXVNNI;
        if (vg_q8_path_supported(VG_Q8_AVX512VNNI)) best = VG_Q8_AVX512VNNI;
        state = best;
    }
    return state;
}

/* ---- quantization ---- */

static float group_scale(float amax) { return amax / 127.0f; }

static int8_t quantize_one(float x, float id) {
    float r = nearbyintf(x * id);
    if (r > 127.0f) r = 127.0f;
    if (r < -127.0f) r = -127.0f;
    return (int8_t)r;
}

/* One group of n ≤ g values (the rest of the group, up to g, is zero). */
static void quantize_group_scalar(const float *x, size_t n, size_t g, int8_t *q, float *scale) {
    float amax = 0.0f;
    for (size_t i = 0; i < n; i++) amax = fmaxf(amax, fabsf(x[i]));
    float d = group_scale(amax), id = d != 0.0f ? 1.0f / d : 0.0f;
    for (size_t i = 0; i < n; i++) q[i] = quantize_one(x[i], id);
    memset(q + n, 0, g - n);
    *scale = d;
}

#if defined(__x86_64__)
#define VG_Q8_AVX2_T __attribute__((target("avx2,fma")))

VG_Q8_AVX2_T static void quantize_group_avx2(const float *x, size_t n, size_t g, int8_t *q, float *scale) {
    const __m256 signbit = _mm256_set1_ps(-0.0f);
    __m256 mv = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) mv = _mm256_max_ps(mv, _mm256_andnot_ps(signbit, _mm256_loadu_ps(x + i)));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(mv), _mm256_extractf128_ps(mv, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    float amax = _mm_cvtss_f32(h);
    for (; i < n; i++) amax = fmaxf(amax, fabsf(x[i]));
    float d = group_scale(amax), id = d != 0.0f ? 1.0f / d : 0.0f;
    const __m256 idv = _mm256_set1_ps(id);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i v[4];
        for (int j = 0; j < 4; j++)
            v[j] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * j), idv),
                                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
        _mm256_storeu_si256((__m256i *)(q + i), _mm256_permutevar8x32_epi32(p, order));
    }
    for (; i < n; i++) q[i] = quantize_one(x[i], id);
    memset(q + n, 0, g - n);
    *scale = d;
}
#endif

void vg_q8_quantize_rows(const float *src, size_t rows, size_t lds, size_t k, size_t kp, size_t g, int8_t *q,
                         float *scales, int path) {
    size_t groups = kp / g;
    for (size_t r = 0; r < rows; r++) {
        const float *x = src + r * lds;
        for (size_t gi = 0; gi < groups; gi++) {
            size_t p = gi * g, n = p >= k ? 0 : (k - p < g ? k - p : g);
#if defined(__x86_64__)
            if (path != VG_Q8_SCALAR) { quantize_group_avx2(x + p, n, g, q + r * kp + p, scales + r * groups + gi); continue; }
#endif
            quantize_group_scalar(x + p, n, g, q + r * kp + p, scales + r * groups + gi);
        }
    }
}

/* ---- products ---- */

static void linear_scalar(const int8_t *xq, const float *xs, size_t m, const int8_t *wq, const float *ws, size_t kp,
                          size_t g, size_t o0, size_t o1, const float *bias, float *out, size_t ldo) {
    size_t groups = kp / g;
    for (size_t r = 0; r < m; r++)
        for (size_t o = o0; o < o1; o++) {
            const int8_t *x = xq + r * kp, *w = wq + o * kp;
            float s = 0.0f;
            for (size_t gi = 0; gi < groups; gi++) {
                int32_t isum = 0;
                for (size_t p = gi * g; p < (gi + 1) * g; p++) isum += (int32_t)x[p] * (int32_t)w[p];
                s += (float)isum * (xs[r * groups + gi] * ws[o * groups + gi]);
            }
            out[r * ldo + o] = s + (bias ? bias[o] : 0.0f);
        }
}

#if defined(__x86_64__)
/* Σ of the 8 int32 lanes (exact) / of the 8 float lanes. */
VG_Q8_AVX2_T static inline int32_t hsum_epi32(__m256i v) {
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
    return _mm_cvtsi128_si32(h);
}

VG_Q8_AVX2_T static inline float hsum_ps(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
}

/* Q8_TILES(NAME, TARGET, DOT) defines the tile `NAME_tile` and the product `NAME`; DOT(acc, ax, sw) adds the
 * 4-byte dot products of unsigned |x| and signed w·sign(x) to the 8 int32 lanes of acc. */
#define Q8_TILES(NAME, TARGET, DOT)                                                                            \
    TARGET __attribute__((always_inline)) static inline void NAME##_tile(                                      \
        const int MR, const int NR, const int8_t *x, const float *xs, const int8_t *w, const float *ws,       \
        size_t kp, size_t g, float s[4][2], const int8_t *next) {                                              \
        const __m256i ones = _mm256_set1_epi16(1);                                                            \
        (void)ones;                                                                                           \
        const size_t groups = kp / g;                                                                          \
        __m256 facc[4][2]; /* groups of 32: the float sum over groups */                                       \
        for (int j = 0; j < MR; j++)                                                                           \
            for (int i = 0; i < NR; i++) facc[j][i] = _mm256_setzero_ps();                                     \
        for (size_t gi = 0; gi < groups; gi++) {                                                               \
            __m256i acc[4][2];                                                                                 \
            for (int j = 0; j < MR; j++)                                                                       \
                for (int i = 0; i < NR; i++) acc[j][i] = _mm256_setzero_si256();                               \
            for (size_t p = gi * g; p < (gi + 1) * g; p += 32) {                                               \
                if (next) for (int i = 0; i < 2; i++) _mm_prefetch((const char *)(next + i * kp + p), _MM_HINT_T0); \
                __m256i wv[2];                                                                                 \
                for (int i = 0; i < NR; i++) wv[i] = _mm256_loadu_si256((const __m256i *)(w + i * kp + p));    \
                for (int j = 0; j < MR; j++) {                                                                 \
                    __m256i xv = _mm256_loadu_si256((const __m256i *)(x + j * kp + p));                        \
                    __m256i ax = _mm256_abs_epi8(xv);                                                          \
                    for (int i = 0; i < NR; i++) acc[j][i] = DOT(acc[j][i], ax, _mm256_sign_epi8(wv[i], xv));  \
                }                                                                                              \
            }                                                                                                  \
            if (groups == 1) { /* per-row scales: one exact int32 sum, then the scale */                       \
                for (int j = 0; j < MR; j++)                                                                   \
                    for (int i = 0; i < NR; i++) s[j][i] = (float)hsum_epi32(acc[j][i]) * (xs[j] * ws[i]);     \
                return;                                                                                        \
            }                                                                                                  \
            for (int j = 0; j < MR; j++)                                                                       \
                for (int i = 0; i < NR; i++)                                                                   \
                    facc[j][i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[j][i]),                                \
                                                 _mm256_set1_ps(xs[j * groups + gi] * ws[i * groups + gi]), facc[j][i]); \
        }                                                                                                      \
        for (int j = 0; j < MR; j++)                                                                           \
            for (int i = 0; i < NR; i++) s[j][i] = hsum_ps(facc[j][i]);                                        \
    }                                                                                                          \
    TARGET static void NAME(const int8_t *xq, const float *xs, size_t m, const int8_t *wq, const float *ws,     \
                            size_t kp, size_t g, size_t o0, size_t o1, const float *bias, float *out,          \
                            size_t ldo) {                                                                      \
        const size_t groups = kp / g;                                                                         \
        for (size_t r0 = 0; r0 < m; r0 += Q8_ROW_BLOCK) {                                                     \
            size_t r1 = m - r0 < Q8_ROW_BLOCK ? m : r0 + Q8_ROW_BLOCK;                                        \
            for (size_t o = o0; o < o1; o += 2) {                                                             \
                int nr = o1 - o < 2 ? 1 : 2;                                                                  \
                const int8_t *w = wq + o * kp;                                                                \
                const float *sw = ws + o * groups;                                                            \
                const int8_t *nx = o + 4 <= o1 ? w + 2 * kp : NULL; /* the next tile's weight rows */         \
                for (size_t r = r0; r < r1; r += 4) {                                                         \
                    int mr = r1 - r < 4 ? (int)(r1 - r) : 4;                                                  \
                    const int8_t *x = xq + r * kp;                                                            \
                    const float *sx = xs + r * groups;                                                        \
                    float s[4][2];                                                                            \
                    switch (mr * 2 + nr - 3) {                                                                \
                    case 0: NAME##_tile(1, 1, x, sx, w, sw, kp, g, s, r == r0 ? nx : NULL); break;                                 \
                    case 1: NAME##_tile(1, 2, x, sx, w, sw, kp, g, s, r == r0 ? nx : NULL); break;                                 \
                    case 2: NAME##_tile(2, 1, x, sx, w, sw, kp, g, s, r == r0 ? nx : NULL); break;                                 \
                    case 3: NAME##_tile(2, 2, x, sx, w, sw, kp, g, s, r == r0 ? nx : NULL); break;                                 \
                    case 4: NAME##_tile(3, 1, x, sx, w, sw, kp, g, s, r == r0 ? nx : NULL); break;                                 \
                    case 5: NAME##_tile(3, 2, x, sx, w, sw, kp, g, s, r == r0 ? nx : NULL); break;                                 \
                    case 6: NAME##_tile(4, 1, x, sx, w, sw, kp, g, s, r == r0 ? nx : NULL); break;                                 \
                    default: NAME##_tile(4, 2, x, sx, w, sw, kp, g, s, r == r0 ? nx : NULL); break;                                \
                    }                                                                                         \
                    for (int j = 0; j < mr; j++)                                                              \
                        for (int i = 0; i < nr; i++)                                                          \
                            out[(r + j) * ldo + o + i] = s[j][i] + (bias ? bias[o + i] : 0.0f);               \
                }                                                                                             \
            }                                                                                                 \
        }                                                                                                     \
    }

#define DOT_AVX2(acc, ax, sw) _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sw), ones))
#define DOT_AVXVNNI(acc, ax, sw) _mm256_dpbusd_avx_epi32(acc, ax, sw)
#define DOT_AVX512VNNI(acc, ax, sw) _mm256_dpbusd_epi32(acc, ax, sw)

Q8_TILES(linear_avx2, VG_Q8_AVX2_T, DOT_AVX2)
Q8_TILES(linear_avxvnni, __attribute__((target("avx2,fma,avxvnni"))), DOT_AVXVNNI)
Q8_TILES(linear_avx512vnni, __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni"))), DOT_AVX512VNNI)
#endif

void vg_q8_linear(const int8_t *xq, const float *xs, size_t m, const int8_t *wq, const float *ws, size_t kp, size_t g,
                  size_t o0, size_t o1, const float *bias, float *out, size_t ldo, int path) {
    switch (path) {
#if defined(__x86_64__)
    case VG_Q8_AVX2: linear_avx2(xq, xs, m, wq, ws, kp, g, o0, o1, bias, out, ldo); return;
    case VG_Q8_AVXVNNI: linear_avxvnni(xq, xs, m, wq, ws, kp, g, o0, o1, bias, out, ldo); return;
    case VG_Q8_AVX512VNNI: linear_avx512vnni(xq, xs, m, wq, ws, kp, g, o0, o1, bias, out, ldo); return;
#endif
    default: linear_scalar(xq, xs, m, wq, ws, kp, g, o0, o1, bias, out, ldo); return;
    }
}

#if defined(__x86_64__)
VG_Q8_AVX2_T static void dequantize_row_avx2(const int8_t *q, const float *scales, size_t k, size_t g, float *dst) {
    size_t p = 0;
    for (; p + 8 <= k; p += 8) {   /* g is a multiple of 32: 8 values share a scale */
        __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(q + p))));
        _mm256_storeu_ps(dst + p, _mm256_mul_ps(v, _mm256_set1_ps(scales[p / g])));
    }
    for (; p < k; p++) dst[p] = (float)q[p] * scales[p / g];
}
#endif

void vg_q8_dequantize_rows(const int8_t *q, const float *scales, size_t rows, size_t k, size_t kp, size_t g,
                           float *dst) {
    size_t groups = kp / g;
    for (size_t r = 0; r < rows; r++) {
#if defined(__x86_64__)
        if (vg_cpu_has_avx2_fma()) { dequantize_row_avx2(q + r * kp, scales + r * groups, k, g, dst + r * k); continue; }
#endif
        for (size_t p = 0; p < k; p++) dst[r * k + p] = (float)q[r * kp + p] * scales[r * groups + p / g];
    }
}
