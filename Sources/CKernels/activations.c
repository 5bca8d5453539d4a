/* Elementwise activations over long float32 arrays (Tensor+Elementwise.swift, Tensor+Norm.swift).
 *
 * Swift's SIMD8<Float> compiles for the baseline x86-64 ISA (two SSE halves, no FMA); these loops are compiled
 * once more for AVX2 + FMA and chosen at run time, like the other kernels. */
#include "ckernels.h"
#include "vec8.h"

/* GELU, tanh approximation: 0.5·x·(1 + tanh(z)), z = √(2/π)·(x + 0.044715·x³), tanh(z) = 1 − 2/(e^(2z) + 1). */
VG_INLINE v8 gelu8(v8 x) {
    v8 z = 0.7978845608028654f * (x + 0.044715f * x * x * x);
    v8 t = 1.0f - 2.0f / (exp8(2.0f * z) + 1.0f);
    return 0.5f * x * (1.0f + t);
}

VG_INLINE void gelu(float *x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) store8(x + i, gelu8(load8(x + i)));
    if (i < n) {
        v8 v = splat(0.0f);
        for (size_t l = 0; i + l < n; l++) v[l] = x[i + l];
        v = gelu8(v);
        for (size_t l = 0; i + l < n; l++) x[i + l] = v[l];
    }
}

/* dst = a·src + b, then SiLU (x / (1 + e^(−x))) when `silu`. */
VG_INLINE v8 affine8(v8 x, float a, float b, int silu) {
    v8 y = x * a + b;
    return silu ? y / (1.0f + exp8(-y)) : y;
}

VG_INLINE void affine(const float *src, float *dst, size_t n, float a, float b, int silu) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) store8(dst + i, affine8(load8(src + i), a, b, silu));
    if (i < n) {
        v8 v = splat(0.0f);
        for (size_t l = 0; i + l < n; l++) v[l] = src[i + l];
        v = affine8(v, a, b, silu);
        for (size_t l = 0; i + l < n; l++) dst[i + l] = v[l];
    }
}

VG_AVX2 static void gelu_avx2(float *x, size_t n) { gelu(x, n); }
static void gelu_plain(float *x, size_t n) { gelu(x, n); }
void vg_gelu_tanh(float *x, size_t n) {
    if (vg_cpu_has_avx2_fma()) gelu_avx2(x, n);
    else gelu_plain(x, n);
}

VG_AVX2 static void affine_avx2(const float *src, float *dst, size_t n, float a, float b, int silu) {
    affine(src, dst, n, a, b, silu);
}
static void affine_plain(const float *src, float *dst, size_t n, float a, float b, int silu) {
    affine(src, dst, n, a, b, silu);
}
void vg_affine_silu(const float *src, float *dst, size_t n, float a, float b, int silu) {
    if (vg_cpu_has_avx2_fma()) affine_avx2(src, dst, n, a, b, silu);
    else affine_plain(src, dst, n, a, b, silu);
}
