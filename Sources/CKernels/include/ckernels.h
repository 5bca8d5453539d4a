#ifndef VARGEN_CKERNELS_H
#define VARGEN_CKERNELS_H
/* ISA-specific microkernels that Swift cannot express (x86 intrinsics).
   Everything else in var-gen is Swift. */
#include <stddef.h>
#include <stdint.h>

/* 1 when the CPU executes AVX512-BF16 dot products (VDPBF16PS). */
int vg_cpu_has_avx512bf16(void);

#endif
