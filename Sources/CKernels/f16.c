/* Float16 weights: conversions and the few-row linear kernel (docs/performance.md §9). */
#include "ckernels.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

int vg_cpu_has_f16c(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
    return 0;
#endif
}

static int has_f16c_cached(void) {
    static int state = -1;      /* benign race: every thread computes the same value */
    if (state < 0) state = vg_cpu_has_f16c();
    return state;
}

/* binary32 -> binary16, round to nearest even, in integer arithmetic. */
static uint16_t f32_to_f16_scalar(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, a = x & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));  /* NaN, quiet */
    if (a >= 0x47800000u) return (uint16_t)(sign | 0x7c00u);       /* >= 2^16 (or inf): inf */
    if (a < 0x38800000u) {                                          /* below 2^-14: subnormal half */
        if (a < 0x33000000u) return (uint16_t)sign;                 /* below 2^-25: rounds to zero */
        uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u, shift = 126 - e;
        uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t h = (a >> 13) - (112u << 10), rem = a & 0x1fffu;      /* rebias 127 -> 15 */
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;         /* a carry may reach inf: correct */
    return (uint16_t)(sign | h);
}

static float f16_to_f32_scalar(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, x;
    if (e == 0) {
        if (m == 0) {
            x = sign;
        } else {                                                    /* subnormal: normalise */
            e = 113;
            while (!(m & 0x400u)) { m <<= 1; e--; }
            x = sign | (e << 23) | ((m & 0x3ffu) << 13);
        }
    } else if (e == 31) {
        x = sign | 0x7f800000u | (m << 13);
    } else {
        x = sign | ((e + 112) << 23) | (m << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

#if defined(__x86_64__)
#define VG_F16C __attribute__((target("avx2,fma,f16c")))

VG_F16C static void f32_to_f16_f16c(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128((__m128i *)(dst + i), h);
    }
    for (; i < n; i++) dst[i] = f32_to_f16_scalar(src[i]);
}

VG_F16C static void f16_to_f32_f16c(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = f16_to_f32_scalar(src[i]);
}

#include "linear_tiles.h"
#define LOAD_F16_8(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
#define LOAD_F16_1(p) f16_to_f32_scalar(*(p))
LINEAR_TILES(linear_f16c, uint16_t, VG_F16C, LOAD_F16_8, LOAD_F16_1)

void vg_linear_f16(const float *x, size_t m, size_t ldx, const uint16_t *w, size_t k, size_t o0, size_t o1,
                   const float *bias, float *out, size_t ldo) {
    linear_f16c(x, m, ldx, w, k, o0, o1, bias, out, ldo);
}
#else
void vg_linear_f16(const float *x, size_t m, size_t ldx, const uint16_t *w, size_t k, size_t o0, size_t o1,
                   const float *bias, float *out, size_t ldo) {
    (void)x; (void)m; (void)ldx; (void)w; (void)k; (void)o0; (void)o1; (void)bias; (void)out; (void)ldo;
}
#endif

void vg_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
#if defined(__x86_64__)
    if (has_f16c_cached()) { f32_to_f16_f16c(src, dst, n); return; }
#endif
    for (size_t i = 0; i < n; i++) dst[i] = f32_to_f16_scalar(src[i]);
}

void vg_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
#if defined(__x86_64__)
    if (has_f16c_cached()) { f16_to_f32_f16c(src, dst, n); return; }
#endif
    for (size_t i = 0; i < n; i++) dst[i] = f16_to_f32_scalar(src[i]);
}
