#ifndef VARGEN_CKERNELS_H
#define VARGEN_CKERNELS_H
/* ISA-specific microkernels that Swift cannot express (x86 intrinsics).
   Everything else in var-gen is Swift. */
#include <stddef.h>
#include <stdint.h>

/* 1 when the CPU executes AVX512-BF16 dot products (VDPBF16PS). */
int vg_cpu_has_avx512bf16(void);

/* 1 when the CPU (and OS) run AVX2, FMA and F16C: the float16-weight kernels below need all three. */
int vg_cpu_has_f16c(void);

/* IEEE binary16 <-> binary32, round to nearest even (overflow -> inf, NaN stays NaN, subnormals kept).
   Use F16C when the CPU has it, else a scalar conversion with identical results. */
void vg_f32_to_f16(const float *src, uint16_t *dst, size_t n);
void vg_f16_to_f32(const uint16_t *src, float *dst, size_t n);

/* out[r*ldo + o] = bias[o] + sum_i x[r*ldx + i] * w[o*k + i] for rows r < m and features o in [o0, o1):
   a linear layer with float16 weights W (n, k) row-major, float32 inputs and float32 accumulation.
   Every weight row is read once and converted 8 at a time; bias may be NULL.
   Requires vg_cpu_has_f16c(). */
void vg_linear_f16(const float *x, size_t m, size_t ldx, const uint16_t *w, size_t k, size_t o0, size_t o1,
                   const float *bias, float *out, size_t ldo);

#endif
