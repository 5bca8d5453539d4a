/* Fused cosine attention of one (row, head) for a block of queries (Transformer/CachedAttention.swift):
 * S = Q·Kᵀ, softmax, O = S·V without BLAS calls (which pack K and V again for every block of queries).
 * Keys are cached transposed — kt[d·ldk + j] — so a 6-query by 16-key tile of S reads two key vectors and
 * six broadcast query elements per step of d; O is built in 6 x 16 tiles the same way from S and V. */
#include "ckernels.h"
#include "vec8.h"
#include <math.h>

#define MR 6

/* One tile of MR query rows (qt: MR rows, ldq apart). s: MR rows of ls floats (ls ≥ keys rounded up to 16).
   Key j, dimension d is at kt[j·kjs + d·kds] for j a multiple of 16 (the next 15 keys follow it); value j,
   column c at v[c·vcs + j·vjs] for c a multiple of 16 (the next 15 columns follow it). */
VG_INLINE void tile(const float *qt, size_t ldq, const float *kt, size_t kjs, size_t kds, const float *v, size_t vcs,
                    size_t vjs, size_t keys, size_t hd, float *s, size_t ls, float *out, size_t ldo, size_t rows) {
    /* S = Q·Kᵀ in 6 x 16 tiles (columns past `keys` read padding and are ignored). */
    for (size_t j = 0; j < keys; j += 16) {
        v8 a[MR][2];
        for (int i = 0; i < MR; i++) a[i][0] = a[i][1] = splat(0.0f);
        _Pragma("clang loop unroll_count(4)")
        for (size_t d = 0; d < hd; d++) {
            const float *kd = kt + j * kjs + d * kds;
            v8 k0 = load8(kd), k1 = load8(kd + 8);
            for (int i = 0; i < MR; i++) {
                v8 b = splat(qt[i * ldq + d]);
                a[i][0] += b * k0; a[i][1] += b * k1;
            }
        }
        for (int i = 0; i < MR; i++) { store8(s + i * ls + j, a[i][0]); store8(s + i * ls + j + 8, a[i][1]); }
    }
    /* Softmax numerators in place (columns past `keys` zeroed) and each row's 1 / sum. */
    float inv[MR];
    size_t padded = (keys + 15) / 16 * 16;
    for (int i = 0; i < MR; i++) {
        float *row = s + i * ls;
        v8 m8 = splat(-INFINITY);
        size_t j = 0;
        for (; j + 8 <= keys; j += 8) m8 = __builtin_elementwise_max(m8, load8(row + j));
        float mx = -INFINITY;
        for (int l = 0; l < 8; l++) mx = m8[l] > mx ? m8[l] : mx;
        for (; j < keys; j++) mx = row[j] > mx ? row[j] : mx;
        v8 acc = splat(0.0f);
        j = 0;
        for (; j + 8 <= keys; j += 8) { v8 e = exp8(load8(row + j) - mx); store8(row + j, e); acc += e; }
        float sum = 0;
        for (int l = 0; l < 8; l++) sum += acc[l];
        for (; j < keys; j++) { float e = expf(row[j] - mx); row[j] = e; sum += e; }
        for (; j < padded; j++) row[j] = 0;
        inv[i] = 1.0f / sum;
    }
    /* O = S·V in 6 x 16 tiles, scaled by 1 / sum. */
    for (size_t c = 0; c < hd; c += 16) {
        v8 a[MR][2];
        for (int i = 0; i < MR; i++) a[i][0] = a[i][1] = splat(0.0f);
        _Pragma("clang loop unroll_count(4)")
        for (size_t j = 0; j < keys; j++) {
            const float *vj = v + c * vcs + j * vjs;
            v8 w0 = load8(vj), w1 = load8(vj + 8);
            for (int i = 0; i < MR; i++) {
                v8 b = splat(s[i * ls + j]);
                a[i][0] += b * w0; a[i][1] += b * w1;
            }
        }
        for (size_t i = 0; i < rows; i++) {
            store8(out + i * ldo + c, a[i][0] * inv[i]);
            store8(out + i * ldo + c + 8, a[i][1] * inv[i]);
        }
    }
}

VG_INLINE void attention(const float *q, size_t m, size_t ldq, const float *kt, size_t ldk, const float *v,
                         size_t keys, size_t hd, float *out, size_t ldo, float *scratch) {
    size_t ls = (keys + 15) / 16 * 16;
    float *s = scratch, *qpad = scratch + MR * ls;     /* MR x ls scores, then MR x hd padded queries */
    /* With two tiles or more, copy K and V into 16-wide panels first (scratch: 2·ls·hd more floats) so that the
       tiles stream them contiguously; strided reads of the cache ran ~20% slower at 680 keys. */
    size_t kjs = 1, kds = ldk, vcs = 1, vjs = hd;
    if (m > MR) {
        float *kp = qpad + MR * hd, *vp = kp + ls * hd;
        for (size_t j = 0; j < ls; j += 16)
            for (size_t d = 0; d < hd; d++) memcpy(kp + j * hd + d * 16, kt + d * ldk + j, 16 * sizeof(float));
        for (size_t j = 0; j < keys; j++)
            for (size_t c = 0; c < hd; c += 16) memcpy(vp + c * ls + j * 16, v + j * hd + c, 16 * sizeof(float));
        kt = kp; kjs = hd; kds = 16; v = vp; vcs = ls; vjs = 16;
    }
    for (size_t r = 0; r < m; r += MR) {
        size_t rows = m - r < MR ? m - r : MR;
        if (rows == MR) {
            tile(q + r * ldq, ldq, kt, kjs, kds, v, vcs, vjs, keys, hd, s, ls, out + r * ldo, ldo, rows);
        } else {
            memset(qpad, 0, MR * hd * sizeof(float));
            for (size_t i = 0; i < rows; i++) memcpy(qpad + i * hd, q + (r + i) * ldq, hd * sizeof(float));
            tile(qpad, hd, kt, kjs, kds, v, vcs, vjs, keys, hd, s, ls, out + r * ldo, ldo, rows);
        }
    }
}

#define ARGS const float *q, size_t m, size_t ldq, const float *kt, size_t ldk, const float *v, size_t keys, \
             size_t hd, float *out, size_t ldo, float *scratch
VG_AVX2 static void attention_avx2(ARGS) { attention(q, m, ldq, kt, ldk, v, keys, hd, out, ldo, scratch); }
static void attention_plain(ARGS) { attention(q, m, ldq, kt, ldk, v, keys, hd, out, ldo, scratch); }

void vg_attention(ARGS) {
    if (vg_cpu_has_avx2_fma()) attention_avx2(q, m, ldq, kt, ldk, v, keys, hd, out, ldo, scratch);
    else attention_plain(q, m, ldq, kt, ldk, v, keys, hd, out, ldo, scratch);
}
