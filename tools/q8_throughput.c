/* Why int8 products are no faster than float32 on an AVX2-only CPU (docs/quantization.md, "Compute-bound
 * products on AVX2").
 *
 * One thread, one product of 504 input rows × 1024 inputs against 4092 weight rows (VAR-d16's fc1 shape at
 * ~500 rows), timed four ways; the best of three runs is printed in multiply-adds ×2 per second:
 *   sign   the kernel of Sources/CKernels/q8.c: 4 × 2 tiles, per 32 bytes vpabsb, vpsignb, vpmaddubsw,
 *          vpmaddwd, vpaddd
 *   nosign the same without vpsignb (an unsigned × signed product, as a 7-bit or offset scheme would allow)
 *   wide   16-bit inputs and weights widened on the fly: vpmovsxbw, vpmaddwd, vpaddd
 *   sgemm  OpenBLAS's float32 sgemm, one thread
 * If sign ≈ nosign ≈ sgemm, the bound is the vector integer multiplier (vpmaddubsw and vpmaddwd both need it),
 * not the sign instruction: int8 then runs at the float32 FMA rate, whatever the quantization scheme.
 * `vpdpbusd` (AVX-VNNI, AVX512-VNNI) does the 32 multiply-adds in one instruction; this CPU lacks it.
 *
 *   gcc -O2 -o q8_throughput tools/q8_throughput.c -lopenblas && OPENBLAS_NUM_THREADS=1 ./q8_throughput
 */
#include <cblas.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { M = 504, N = 4092, K = 1024, MR = 4, NR = 2, BLOCK = 64 };

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

__attribute__((target("avx2"))) static int32_t lane_sum(__m256i v) {
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
    return _mm_cvtsi128_si32(h);
}

/* One MR × NR tile of dot products over K bytes; `mode` 0 sign, 1 nosign. */
__attribute__((target("avx2"))) static void tile8(int mode, const int8_t *x, const int8_t *w, int32_t *out) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[MR][NR];
    for (int j = 0; j < MR; j++)
        for (int i = 0; i < NR; i++) acc[j][i] = _mm256_setzero_si256();
    for (int p = 0; p < K; p += 32) {
        __m256i wv[NR];
        for (int i = 0; i < NR; i++) wv[i] = _mm256_loadu_si256((const __m256i *)(w + i * K + p));
        for (int j = 0; j < MR; j++) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)(x + j * K + p));
            __m256i ux = mode == 0 ? _mm256_abs_epi8(xv) : xv;
            for (int i = 0; i < NR; i++) {
                __m256i sw = mode == 0 ? _mm256_sign_epi8(wv[i], xv) : wv[i];
                acc[j][i] = _mm256_add_epi32(acc[j][i], _mm256_madd_epi16(_mm256_maddubs_epi16(ux, sw), ones));
            }
        }
    }
    for (int j = 0; j < MR; j++)
        for (int i = 0; i < NR; i++) out[j * N + i] = lane_sum(acc[j][i]);
}

/* The same tile with 16-bit products: inputs pre-widened (x16), weights widened per load. */
__attribute__((target("avx2"))) static void tile16(const int16_t *x, const int8_t *w, int32_t *out) {
    __m256i acc[MR][NR];
    for (int j = 0; j < MR; j++)
        for (int i = 0; i < NR; i++) acc[j][i] = _mm256_setzero_si256();
    for (int p = 0; p < K; p += 16) {
        __m256i wv[NR];
        for (int i = 0; i < NR; i++) wv[i] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + i * K + p)));
        for (int j = 0; j < MR; j++) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)(x + j * K + p));
            for (int i = 0; i < NR; i++) acc[j][i] = _mm256_add_epi32(acc[j][i], _mm256_madd_epi16(xv, wv[i]));
        }
    }
    for (int j = 0; j < MR; j++)
        for (int i = 0; i < NR; i++) out[j * N + i] = lane_sum(acc[j][i]);
}

/* Rows in blocks of BLOCK (kept in cache) while every weight-row pair passes, as q8.c does. */
static double run(int mode, const int8_t *x8, const int16_t *x16, const int8_t *w, int32_t *out) {
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t = seconds();
        for (int r0 = 0; r0 < M; r0 += BLOCK)
            for (int o = 0; o + NR <= N; o += NR)
                for (int r = r0; r + MR <= r0 + BLOCK && r + MR <= M; r += MR) {
                    if (mode == 2) tile16(x16 + (size_t)r * K, w + (size_t)o * K, out + (size_t)r * N + o);
                    else tile8(mode, x8 + (size_t)r * K, w + (size_t)o * K, out + (size_t)r * N + o);
                }
        t = seconds() - t;
        if (t < best) best = t;
    }
    return 2.0 * M * N * K / best * 1e-9;
}

int main(void) {
    if (!__builtin_cpu_supports("avx2")) { fprintf(stderr, "needs AVX2\n"); return 1; }
    int8_t *x8 = malloc((size_t)M * K), *w = malloc((size_t)N * K);
    int16_t *x16 = malloc((size_t)M * K * 2);
    int32_t *out = malloc((size_t)M * N * 4), check[2];
    srand(1);
    for (size_t i = 0; i < (size_t)M * K; i++) x16[i] = x8[i] = (int8_t)(rand() % 255 - 127);
    for (size_t i = 0; i < (size_t)N * K; i++) w[i] = (int8_t)(rand() % 255 - 127);
    /* The three integer paths must agree on one dot product (inputs ≤ 127 in magnitude: no saturation). */
    const char *name[3] = {"sign", "nosign", "wide"};
    for (int mode = 0; mode < 3; mode++) {
        double g = run(mode, x8, x16, w, out);
        if (mode != 1) check[mode / 2] = out[5 * N + 7];
        printf("%-7s %6.1f GOP/s\n", name[mode], g);
    }
    int64_t exact = 0;
    for (int p = 0; p < K; p++) exact += (int32_t)x8[5 * K + p] * w[7 * K + p];
    if (check[0] != exact || check[1] != exact) { fprintf(stderr, "integer paths disagree\n"); return 1; }
    float *a = malloc((size_t)M * K * 4), *b = malloc((size_t)N * K * 4), *c = malloc((size_t)M * N * 4);
    for (size_t i = 0; i < (size_t)M * K; i++) a[i] = x8[i];
    for (size_t i = 0; i < (size_t)N * K; i++) b[i] = w[i];
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t = seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, a, K, b, K, 0, c, N);
        t = seconds() - t;
        if (t < best) best = t;
    }
    printf("%-7s %6.1f GFLOP/s\n", "sgemm", 2.0 * M * N * K / best * 1e-9);
    return 0;
}
