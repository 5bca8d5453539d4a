/* Eight-float vectors in portable C for the kernels that are compiled twice from one always-inline body: once
 * for AVX2 + FMA (VG_AVX2; chosen at run time by vg_cpu_has_avx2_fma) and once for the baseline ISA. */
#ifndef VARGEN_VEC8_H
#define VARGEN_VEC8_H
#include <stdint.h>
#include <string.h>

typedef float v8 __attribute__((vector_size(32), aligned(4)));
typedef int32_t v8i __attribute__((vector_size(32), aligned(4)));
#define load8(p) ({ v8 x_; memcpy(&x_, (p), sizeof x_); x_; })
#define store8(p, x) do { v8 y_ = (x); memcpy((p), &y_, sizeof y_); } while (0)
#define splat(x) ((v8){(x), (x), (x), (x), (x), (x), (x), (x)})

#if defined(__x86_64__)
#define VG_AVX2 __attribute__((target("avx2,fma")))
#else
#define VG_AVX2
#endif
/* The baseline build passes v8 between inlined helpers only; the ABI note does not apply. */
#pragma clang diagnostic ignored "-Wpsabi"
#define VG_INLINE __attribute__((always_inline)) static inline

/* e^x for eight lanes (Cephes-style polynomial, relative error ~2e-7; x clamped to [-87, 88]). */
VG_INLINE v8 exp8(v8 x) {
    x = __builtin_elementwise_min(__builtin_elementwise_max(x, splat(-87.0f)), splat(88.0f));
    v8 n = __builtin_elementwise_roundeven(x * 1.44269504088896341f);
    v8 r = x - n * 0.693359375f - n * -2.12194440e-4f;
    v8 p = splat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    v8i e = (__builtin_convertvector(n, v8i) + 127) << 23;
    return p * (v8)e;
}

#endif
