#ifndef VARGEN_CKERNELS_H
#define VARGEN_CKERNELS_H
/* ISA-specific microkernels that Swift cannot express (x86 intrinsics).
   Everything else in var-gen is Swift. */
#include <stddef.h>
#include <stdint.h>

/* 1 when the CPU executes AVX512-BF16 dot products (VDPBF16PS). */
int vg_cpu_has_avx512bf16(void);

/* 1 when the CPU runs AVX2 and FMA (the float32 kernels below then take their vector paths). */
int vg_cpu_has_avx2_fma(void);

/* 1 when the CPU (and OS) run AVX2, FMA and F16C: the float16-weight kernels below need all three. */
int vg_cpu_has_f16c(void);

/* IEEE binary16 <-> binary32, round to nearest even (overflow -> inf, NaN stays NaN, subnormals kept).
   Use F16C when the CPU has it, else a scalar conversion with identical results. */
void vg_f32_to_f16(const float *src, uint16_t *dst, size_t n);
void vg_f16_to_f32(const uint16_t *src, float *dst, size_t n);

/* out[r*ldo + o] = bias[o] + sum_i x[r*ldx + i] * w[o*k + i] for rows r < m and features o in [o0, o1):
   a linear layer with float16 weights W (n, k) row-major, float32 inputs and float32 accumulation.
   Weights are widened 8 at a time (F16C) inside the 4 x 3 register tiles of vg_linear_f32; bias may be NULL.
   Requires vg_cpu_has_f16c(). */
void vg_linear_f16(const float *x, size_t m, size_t ldx, const uint16_t *w, size_t k, size_t o0, size_t o1,
                   const float *bias, float *out, size_t ldo);

/* out[r*ldo + o] = bias[o] + sum_i x[r*ldx + i] * w[o*k + i] for rows r < m and features o in [o0, o1):
   a linear layer with float32 weights W (n, k) row-major, read in place (no packing), for few rows.
   AVX2 + FMA register tiles when the CPU has them, plain loops otherwise; bias may be NULL. */
void vg_linear_f32(const float *x, size_t m, size_t ldx, const float *w, size_t k, size_t o0, size_t o1,
                   const float *bias, float *out, size_t ldo);

/* Winograd F(4x4, 3x3), one row of `tiles` 4x4 tiles of one channel.
   Input: `phases` holds the tile row's 6 virtual input rows, each split into 4 phases of `len` floats
   (phase f, element j = virtual column 4j - 1 + f; row r phase f at (4r + f)·len; len ≥ tiles + 9, zero
   padded); writes V_ξ[tile] = (Bᵀ d B)_ξ at v[ξ·stride + tile] for ξ < 36.
   Output: reads M_ξ[tile] at m[ξ·stride + tile] and writes Y = Aᵀ M A + bias (+ residual) into `rows` ≤ 4
   output rows (ldo apart) of `width` pixels. */
void vg_wino4_input_row(const float *phases, size_t len, size_t tiles, float *v, size_t stride);
void vg_wino4_output_row(const float *m, size_t stride, size_t tiles, float bias, float *out, size_t ldo,
                         size_t rows, size_t width, const float *residual);

/* U_ξ[f] = (G g_f Gᵀ)_ξ at u[ξ·stride + f] for the 3x3 filters f in [first, first + count) of w (9 floats each). */
void vg_wino4_weights(const float *w, size_t first, size_t count, float *u, size_t stride);

/* The 4 phases (len floats apart) of one virtual input row read from `src` (`width` floats; through a
   nearest 2x upsampling when `upsample`), elements 0...tiles, for vg_wino4_input_row. */
void vg_wino4_phases(const float *src, size_t width, int upsample, size_t tiles, size_t len, float *dst);

/* GELU (tanh approximation) of x[0..n) in place. */
void vg_gelu_tanh(float *x, size_t n);
/* dst[i] = a·src[i] + b, followed by SiLU when `silu` is nonzero; dst may equal src. */
void vg_affine_silu(const float *src, float *dst, size_t n, float a, float b, int silu);

/* Softmax attention (scale 1) of m queries over `keys` keys for one (row, head):
   out[i·ldo + c] = sum_j softmax_j(q_i · k_j) v[j·hd + c], with q_i at q + i·ldq (hd floats), keys stored
   transposed (k_j[d] = kt[d·ldk + j], ldk ≥ keys rounded up to 16; the padding columns may hold anything)
   and values row-major. hd must be a multiple of 16. scratch: with L = keys rounded up to 16, 6·(L + hd) floats,
   plus 2·L·hd when m > 6 (K and V repacked). */
void vg_attention(const float *q, size_t m, size_t ldq, const float *kt, size_t ldk, const float *v, size_t keys,
                  size_t hd, float *out, size_t ldo, float *scratch);

/* SHA-256 (FIPS 180-4) of whole 64-byte blocks: updates the eight state words h with `blocks` blocks at data.
   The portable version runs anywhere; the SHA-NI version needs vg_cpu_has_sha_ni() and gives identical results. */
void vg_sha256_blocks_portable(uint32_t h[8], const uint8_t *data, size_t blocks);
void vg_sha256_blocks_shani(uint32_t h[8], const uint8_t *data, size_t blocks);

/* 1 when the CPU has the SHA extensions (SHA-NI) together with SSSE3 and SSE4.1 (used by the SHA-NI path). */
int vg_cpu_has_sha_ni(void);

/* 8-bit weights (q8.c, docs/quantization.md). Quantized matrices (rows, kp): kp = k rounded up to 32 int8 values
   per row (zero padded), one float scale per group of g values (g = 32 or g = kp), x ≈ q · scale, |q| ≤ 127. */
#define VG_Q8_SCALAR 0
#define VG_Q8_AVX2 1
#define VG_Q8_AVXVNNI 2
#define VG_Q8_AVX512VNNI 3
/* 1 when this CPU runs the given path (VG_Q8_*); the fastest one it runs. */
int vg_q8_path_supported(int path);
int vg_q8_best_path(void);
/* Rows of src (k floats, lds apart) to q (rows, kp) and scales (rows, kp / g): per group d = max|x| / 127,
   q = nearest-even(x · (1 / d)). Any path other than VG_Q8_SCALAR (which must be supported) uses AVX2;
   the results are identical. */
void vg_q8_quantize_rows(const float *src, size_t rows, size_t lds, size_t k, size_t kp, size_t g, int8_t *q,
                         float *scales, int path);
/* out[r*ldo + o] = bias[o] + Σ_groups (xs[r][γ] · ws[o][γ]) · Σ_{p ∈ γ} xq[r][p] · wq[o][p] for r < m and
   o in [o0, o1), both operands quantized with the same kp and g; the inner sums are exact int32. With g = kp
   every path computes (float)isum · (xs · ws) + bias, identical results; with g = 32 the float sum over groups
   is path-ordered. bias may be NULL; `path` must be supported. */
void vg_q8_linear(const int8_t *xq, const float *xs, size_t m, const int8_t *wq, const float *ws, size_t kp, size_t g,
                  size_t o0, size_t o1, const float *bias, float *out, size_t ldo, int path);
/* dst (rows, k) = q · scale (the padding dropped). */
void vg_q8_dequantize_rows(const int8_t *q, const float *scales, size_t rows, size_t k, size_t kp, size_t g,
                           float *dst);

#endif
