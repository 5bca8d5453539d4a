/* Float32 linear layers for up to ~100 rows (docs/performance.md §8).
 *
 * sgemm packs the whole weight matrix on every call; at batch 1's small scales (2–72 rows with CFG) that
 * packing costs as much as the arithmetic. The kernel of linear_tiles.h reads PyTorch's (n, k) weights where
 * they are; the whole matrix is read once from memory per call. */
#include "ckernels.h"
#if defined(__x86_64__)
#include "linear_tiles.h"
#define LOAD_F32_8(p) _mm256_loadu_ps(p)
#define LOAD_F32_1(p) (*(p))
LINEAR_TILES(linear_avx2, float, __attribute__((target("avx2,fma"))), LOAD_F32_8, LOAD_F32_1)
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
