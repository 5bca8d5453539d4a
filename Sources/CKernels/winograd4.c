/* Winograd F(4x4, 3x3) input and output transforms for eight tiles at a time (Conv2D+Winograd4.swift).
   Plain C on 8-float arrays: the compiler keeps them in vector registers (AVX2 when enabled by target). */
#include "ckernels.h"
#include "vec8.h"

/* y = Bᵀ x for a 6-vector of tile lanes. */
#define BT(x0, x1, x2, x3, x4, x5, y)                                                                  \
    do {                                                                                             \
        v8 a_ = (x4) - 4 * (x2), b_ = (x3) - 4 * (x1), c_ = (x4) - (x2), d_ = 2 * ((x3) - (x1));     \
        y[0] = 4 * (x0) - 5 * (x2) + (x4); y[1] = a_ + b_; y[2] = a_ - b_;                           \
        y[3] = c_ + d_; y[4] = c_ - d_; y[5] = 4 * (x1) - 5 * (x3) + (x5);                           \
    } while (0)

/* y = Aᵀ x. */
#define AT(x0, x1, x2, x3, x4, x5, y)                                                                  \
    do {                                                                                             \
        v8 s12_ = (x1) + (x2), d12_ = (x1) - (x2), s34_ = (x3) + (x4), d34_ = (x3) - (x4);           \
        y[0] = (x0) + s12_ + s34_; y[1] = d12_ + 2 * d34_; y[2] = s12_ + 4 * s34_;                   \
        y[3] = d12_ + 8 * d34_ + (x5);                                                               \
    } while (0)

VG_INLINE void input8(const float *ph, size_t len, size_t tx, float *v, size_t stride, size_t lanes) {
    v8 t[6][6];     /* t[i][k] = (Bᵀ d)[i][k] */
    for (int k = 0; k < 6; k++) {
        const float *base = ph + (size_t)(k % 4) * len + tx + (size_t)(k / 4);
        v8 d0 = load8(base), d1 = load8(base + 4 * len), d2 = load8(base + 8 * len);
        v8 d3 = load8(base + 12 * len), d4 = load8(base + 16 * len), d5 = load8(base + 20 * len);
        v8 y[6];
        BT(d0, d1, d2, d3, d4, d5, y);
        for (int i = 0; i < 6; i++) t[i][k] = y[i];
    }
    for (int i = 0; i < 6; i++) {
        v8 y[6];
        BT(t[i][0], t[i][1], t[i][2], t[i][3], t[i][4], t[i][5], y);
        for (int j = 0; j < 6; j++) {
            float *q = v + (size_t)(i * 6 + j) * stride;
            if (lanes == 8) store8(q, y[j]);
            else for (size_t l = 0; l < lanes; l++) q[l] = y[j][l];
        }
    }
}

VG_INLINE void input_row(const float *phases, size_t len, size_t tiles, float *v, size_t stride) {
    for (size_t tx = 0; tx < tiles; tx += 8) input8(phases, len, tx, v + tx, stride, tiles - tx < 8 ? tiles - tx : 8);
}

VG_INLINE void output8(const float *m, size_t stride, size_t lanes, float bias, float y[4][32]) {
    v8 s[4][6];     /* s[i][k] = (Aᵀ M)[i][k] */
    for (int k = 0; k < 6; k++) {
        v8 x[6];
        for (int r = 0; r < 6; r++) {
            const float *q = m + (size_t)(r * 6 + k) * stride;
            if (lanes == 8) x[r] = load8(q);
            else { v8 z = {0}; for (size_t l = 0; l < lanes; l++) z[l] = q[l]; x[r] = z; }
        }
        v8 a[4];
        AT(x[0], x[1], x[2], x[3], x[4], x[5], a);
        for (int i = 0; i < 4; i++) s[i][k] = a[i];
    }
    for (int i = 0; i < 4; i++) {
        v8 a[4];
        AT(s[i][0], s[i][1], s[i][2], s[i][3], s[i][4], s[i][5], a);
        /* Interleave: pixel 4l + j of the row segment is a[j][l]. */
        for (int l = 0; l < 8; l++)
            for (int j = 0; j < 4; j++) y[i][4 * l + j] = a[j][l] + bias;
    }
}

VG_INLINE void output_row(const float *m, size_t stride, size_t tiles, float bias, float *out, size_t ldo,
                          size_t rows, size_t width, const float *residual) {
    float y[4][32];
    for (size_t tx = 0; tx < tiles; tx += 8) {
        size_t lanes = tiles - tx < 8 ? tiles - tx : 8;
        output8(m + tx, stride, lanes, bias, y);
        size_t x0 = 4 * tx, n = width - x0 < 4 * lanes ? width - x0 : 4 * lanes;
        for (size_t i = 0; i < rows; i++) {
            float *o = out + i * ldo + x0;
            if (residual) {
                const float *r = residual + i * ldo + x0;
                for (size_t x = 0; x < n; x++) o[x] = y[i][x] + r[x];
            } else {
                memcpy(o, y[i], n * sizeof(float));
            }
        }
    }
}

VG_AVX2 static void input_row_avx2(const float *phases, size_t len, size_t tiles, float *v, size_t stride) {
    input_row(phases, len, tiles, v, stride);
}
static void input_row_plain(const float *phases, size_t len, size_t tiles, float *v, size_t stride) {
    input_row(phases, len, tiles, v, stride);
}
void vg_wino4_input_row(const float *phases, size_t len, size_t tiles, float *v, size_t stride) {
    if (vg_cpu_has_avx2_fma()) input_row_avx2(phases, len, tiles, v, stride);
    else input_row_plain(phases, len, tiles, v, stride);
}

#define OUT_ARGS const float *m, size_t stride, size_t tiles, float bias, float *out, size_t ldo, size_t rows, \
                 size_t width, const float *residual
VG_AVX2 static void output_row_avx2(OUT_ARGS) { output_row(m, stride, tiles, bias, out, ldo, rows, width, residual); }
static void output_row_plain(OUT_ARGS) { output_row(m, stride, tiles, bias, out, ldo, rows, width, residual); }
void vg_wino4_output_row(OUT_ARGS) {
    if (vg_cpu_has_avx2_fma()) output_row_avx2(m, stride, tiles, bias, out, ldo, rows, width, residual);
    else output_row_plain(m, stride, tiles, bias, out, ldo, rows, width, residual);
}

/* g6 = G·(a, b, c) with G = [[1/4,0,0], [-1/6,-1/6,-1/6], [-1/6,1/6,-1/6], [1/24,1/12,1/6], [1/24,-1/12,1/6], [0,0,1]]. */
static inline void gcol(float a, float b, float c, float g6[6]) {
    g6[0] = a / 4; g6[1] = -(a + b + c) / 6; g6[2] = -(a - b + c) / 6;
    g6[3] = a / 24 + b / 12 + c / 6; g6[4] = a / 24 - b / 12 + c / 6; g6[5] = c;
}

void vg_wino4_weights(const float *w, size_t first, size_t count, float *u, size_t stride) {
    for (size_t f = first; f < first + count; f++) {
        const float *k = w + f * 9;
        float c0[6], c1[6], c2[6], row[6];
        gcol(k[0], k[3], k[6], c0); gcol(k[1], k[4], k[7], c1); gcol(k[2], k[5], k[8], c2);
        for (int r = 0; r < 6; r++) {
            gcol(c0[r], c1[r], c2[r], row);
            for (int j = 0; j < 6; j++) u[(size_t)(r * 6 + j) * stride + f] = row[j];
        }
    }
}

void vg_wino4_phases(const float *src, size_t width, int upsample, size_t tiles, size_t len, float *dst) {
    /* Virtual column x reads src[x / f] for 0 <= x < f·width; phase p element j is virtual column 4j - 1 + p. */
    size_t f = upsample ? 2 : 1, vw = f * width;
    for (size_t p = 0; p < 4; p++) {
        float *d = dst + p * len;
        for (size_t j = 0; j <= tiles; j++) {
            size_t x = 4 * j + p;           /* virtual column + 1 */
            d[j] = (x >= 1 && x - 1 < vw) ? src[(x - 1) / f] : 0.0f;
        }
    }
}
