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

#endif
