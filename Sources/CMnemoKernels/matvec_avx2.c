// AVX2 + FMA + F16C matrix-vector kernels. Four rows at a time share each load of x; the
// weights are read with unaligned loads and converted to f32 in registers.
// Q8_0 x Q8 follows the block dot product of llama.cpp's ggml_vec_dot_q8_0_q8_0
// (ggml/src/ggml-cpu/arch/x86/quants.c): maddubs of an absolute value with a sign-transferred
// operand, then madd to i32. Unlike ggml we take |w| rather than |x| so that weights of -128
// (valid int8, never produced by ggml's quantizer) stay exact.
#include "internal.h"
#if MNEMO_X86

MNEMO_AVX2 static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

MNEMO_AVX2 static inline __m256 load8_f32(const char *row, size_t i) {
    return _mm256_loadu_ps((const float *)row + i);
}
MNEMO_AVX2 static inline __m256 load8_f16(const char *row, size_t i) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)row + i)));
}
MNEMO_AVX2 static inline __m256 load8_bf16(const char *row, size_t i) {
    __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint16_t *)row + i)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}
MNEMO_AVX2 static inline float load1_f32(const char *row, size_t i) {
    float f; memcpy(&f, row + 4 * i, sizeof f); return f;
}
MNEMO_AVX2 static inline float load1_f16(const char *row, size_t i) {
    return _cvtsh_ss(mnemo_load_u16(row + 2 * i));
}
MNEMO_AVX2 static inline float load1_bf16(const char *row, size_t i) {
    return mnemo_bf16_scalar(mnemo_load_u16(row + 2 * i));
}

// y[r] for r in [r0, r1): 16-wide main loop with two accumulators per row (8 independent FMA
// chains for 4 rows), then an 8-wide step, then a scalar tail for any `cols`.
#define DEFINE_MATVEC(NAME, LOAD8, LOAD1)                                                        \
MNEMO_AVX2 static void NAME(const char *b, size_t rb, size_t cols, const float *x, float *y,    \
                            size_t r0, size_t r1) {                                              \
    size_t n16 = cols & ~(size_t)15, n8 = cols & ~(size_t)7;                                     \
    size_t r = r0;                                                                               \
    for (; r + 4 <= r1; r += 4) {                                                                \
        const char *w0 = b + r * rb, *w1 = w0 + rb, *w2 = w1 + rb, *w3 = w2 + rb;                \
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                              \
        __m256 c0 = a0, c1 = a0, c2 = a0, c3 = a0;                                               \
        size_t i = 0;                                                                            \
        for (; i < n16; i += 16) {                                                               \
            __m256 xa = _mm256_loadu_ps(x + i), xb = _mm256_loadu_ps(x + i + 8);                 \
            a0 = _mm256_fmadd_ps(LOAD8(w0, i), xa, a0); c0 = _mm256_fmadd_ps(LOAD8(w0, i + 8), xb, c0); \
            a1 = _mm256_fmadd_ps(LOAD8(w1, i), xa, a1); c1 = _mm256_fmadd_ps(LOAD8(w1, i + 8), xb, c1); \
            a2 = _mm256_fmadd_ps(LOAD8(w2, i), xa, a2); c2 = _mm256_fmadd_ps(LOAD8(w2, i + 8), xb, c2); \
            a3 = _mm256_fmadd_ps(LOAD8(w3, i), xa, a3); c3 = _mm256_fmadd_ps(LOAD8(w3, i + 8), xb, c3); \
        }                                                                                        \
        for (; i < n8; i += 8) {                                                                 \
            __m256 xa = _mm256_loadu_ps(x + i);                                                  \
            a0 = _mm256_fmadd_ps(LOAD8(w0, i), xa, a0);                                          \
            a1 = _mm256_fmadd_ps(LOAD8(w1, i), xa, a1);                                          \
            a2 = _mm256_fmadd_ps(LOAD8(w2, i), xa, a2);                                          \
            a3 = _mm256_fmadd_ps(LOAD8(w3, i), xa, a3);                                          \
        }                                                                                        \
        float s0 = hsum256(_mm256_add_ps(a0, c0)), s1 = hsum256(_mm256_add_ps(a1, c1));          \
        float s2 = hsum256(_mm256_add_ps(a2, c2)), s3 = hsum256(_mm256_add_ps(a3, c3));          \
        for (; i < cols; i++) {                                                                  \
            float xi = x[i];                                                                     \
            s0 += LOAD1(w0, i) * xi; s1 += LOAD1(w1, i) * xi;                                    \
            s2 += LOAD1(w2, i) * xi; s3 += LOAD1(w3, i) * xi;                                    \
        }                                                                                        \
        y[r] = s0; y[r + 1] = s1; y[r + 2] = s2; y[r + 3] = s3;                                  \
    }                                                                                            \
    for (; r < r1; r++) {                                                                        \
        const char *w0 = b + r * rb;                                                             \
        __m256 a0 = _mm256_setzero_ps(), c0 = a0;                                                \
        size_t i = 0;                                                                            \
        for (; i < n16; i += 16) {                                                               \
            a0 = _mm256_fmadd_ps(LOAD8(w0, i), _mm256_loadu_ps(x + i), a0);                      \
            c0 = _mm256_fmadd_ps(LOAD8(w0, i + 8), _mm256_loadu_ps(x + i + 8), c0);              \
        }                                                                                        \
        for (; i < n8; i += 8) a0 = _mm256_fmadd_ps(LOAD8(w0, i), _mm256_loadu_ps(x + i), a0);   \
        float s0 = hsum256(_mm256_add_ps(a0, c0));                                               \
        for (; i < cols; i++) s0 += LOAD1(w0, i) * x[i];                                         \
        y[r] = s0;                                                                               \
    }                                                                                            \
}

DEFINE_MATVEC(matvec_f32, load8_f32, load1_f32)
DEFINE_MATVEC(matvec_f16, load8_f16, load1_f16)
DEFINE_MATVEC(matvec_bf16, load8_bf16, load1_bf16)

/// 8 int8 quants at q -> 8 floats.
MNEMO_AVX2 static inline __m256 q8_to_f32(const char *q) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)q)));
}

/// One Q8_0 block (scale at blk, quants at blk + 2) against 32 floats of x in registers:
/// acc += d * sum_j q_j x_j.
MNEMO_AVX2 static inline __m256 q8_block_fma(const char *blk, __m256 x0, __m256 x1, __m256 x2,
                                            __m256 x3, __m256 acc) {
    __m256 t0 = _mm256_mul_ps(q8_to_f32(blk + 2), x0);
    __m256 t1 = _mm256_mul_ps(q8_to_f32(blk + 10), x1);
    t0 = _mm256_fmadd_ps(q8_to_f32(blk + 18), x2, t0);
    t1 = _mm256_fmadd_ps(q8_to_f32(blk + 26), x3, t1);
    return _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(mnemo_load_u16(blk))), _mm256_add_ps(t0, t1), acc);
}

// Software prefetch distance for Q8_0 rows (about 11 blocks ahead): the hardware prefetcher alone
// left the Q8_0 kernels at ~6 GB/s from DRAM against ~16 GB/s for F32 (measured with
// `mnemo bench` on a 135M Q8_0 GGUF, 2 threads: tg128 35-41 -> 46 tok/s).
#define Q8_PREFETCH_BYTES 384

MNEMO_AVX2 static void matvec_q8_0(const char *b, size_t rb, size_t cols, const float *x, float *y,
                                   size_t r0, size_t r1) {
    size_t blocks = cols / 32;
    size_t r = r0;
    for (; r + 4 <= r1; r += 4) {
        const char *w0 = b + r * rb, *w1 = w0 + rb, *w2 = w1 + rb, *w3 = w2 + rb;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t k = 0; k < blocks; k++) {
            const float *xk = x + 32 * k;
            if ((k & 1) == 0) {
                _mm_prefetch(w0 + 34 * k + Q8_PREFETCH_BYTES, _MM_HINT_T0);
                _mm_prefetch(w1 + 34 * k + Q8_PREFETCH_BYTES, _MM_HINT_T0);
                _mm_prefetch(w2 + 34 * k + Q8_PREFETCH_BYTES, _MM_HINT_T0);
                _mm_prefetch(w3 + 34 * k + Q8_PREFETCH_BYTES, _MM_HINT_T0);
            }
            __m256 x0 = _mm256_loadu_ps(xk), x1 = _mm256_loadu_ps(xk + 8);
            __m256 x2 = _mm256_loadu_ps(xk + 16), x3 = _mm256_loadu_ps(xk + 24);
            a0 = q8_block_fma(w0 + 34 * k, x0, x1, x2, x3, a0);
            a1 = q8_block_fma(w1 + 34 * k, x0, x1, x2, x3, a1);
            a2 = q8_block_fma(w2 + 34 * k, x0, x1, x2, x3, a2);
            a3 = q8_block_fma(w3 + 34 * k, x0, x1, x2, x3, a3);
        }
        y[r] = hsum256(a0); y[r + 1] = hsum256(a1); y[r + 2] = hsum256(a2); y[r + 3] = hsum256(a3);
    }
    for (; r < r1; r++) {
        const char *w0 = b + r * rb;
        __m256 a0 = _mm256_setzero_ps();
        for (size_t k = 0; k < blocks; k++) {
            const float *xk = x + 32 * k;
            a0 = q8_block_fma(w0 + 34 * k, _mm256_loadu_ps(xk), _mm256_loadu_ps(xk + 8),
                              _mm256_loadu_ps(xk + 16), _mm256_loadu_ps(xk + 24), a0);
        }
        y[r] = hsum256(a0);
    }
}

MNEMO_AVX2 void mnemo_matvec_rows_avx2(mnemo_dtype dtype, const void *base, size_t row_bytes, size_t cols,
                            const float *x, float *y, size_t row_begin, size_t row_end) {
    const char *b = (const char *)base;
    switch (dtype) {
    case MNEMO_DTYPE_F32: matvec_f32(b, row_bytes, cols, x, y, row_begin, row_end); break;
    case MNEMO_DTYPE_F16: matvec_f16(b, row_bytes, cols, x, y, row_begin, row_end); break;
    case MNEMO_DTYPE_BF16: matvec_bf16(b, row_bytes, cols, x, y, row_begin, row_end); break;
    case MNEMO_DTYPE_Q8_0: matvec_q8_0(b, row_bytes, cols, x, y, row_begin, row_end); break;
    }
}

// MARK: Q8_0 weights x Q8 activations

/// sum over one block of qw * qx as 8 i32 lanes, converted to f32. maddubs needs one unsigned
/// operand: |qw| (read as u8, so a weight of -128 gives 128, exact) times qx * sign(qw)
/// (|qx| <= 127, so no overflow); pairs sum to at most 2 * 128 * 127 < 2^15.
MNEMO_AVX2 static inline __m256 q8q8_block(const char *wblk, __m256i qx, __m256i ones) {
    __m256i qw = _mm256_loadu_si256((const __m256i *)(wblk + 2));
    __m256i aw = _mm256_sign_epi8(qw, qw);                // |qw| as u8
    __m256i sx = _mm256_sign_epi8(qx, qw);                // qx * sign(qw)
    __m256i p16 = _mm256_maddubs_epi16(aw, sx);
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, ones));
}

MNEMO_AVX2 void mnemo_matvec_q8_0_q8_rows_avx2(const void *base, size_t row_bytes, size_t cols,
                                    const void *xq, float *y, size_t row_begin, size_t row_end) {
    const char *b = (const char *)base;
    const char *xb0 = (const char *)xq;
    size_t blocks = cols / 32;
    __m256i ones = _mm256_set1_epi16(1);
    size_t r = row_begin;
    for (; r + 4 <= row_end; r += 4) {
        const char *w0 = b + r * row_bytes, *w1 = w0 + row_bytes, *w2 = w1 + row_bytes, *w3 = w2 + row_bytes;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        const char *xb = xb0;
        for (size_t k = 0; k < blocks; k++, xb += 36) {
            float dx;
            memcpy(&dx, xb, sizeof dx);
            __m256i qx = _mm256_loadu_si256((const __m256i *)(xb + 4));
            size_t o = 34 * k;
            if ((k & 1) == 0) {
                _mm_prefetch(w0 + o + Q8_PREFETCH_BYTES, _MM_HINT_T0);
                _mm_prefetch(w1 + o + Q8_PREFETCH_BYTES, _MM_HINT_T0);
                _mm_prefetch(w2 + o + Q8_PREFETCH_BYTES, _MM_HINT_T0);
                _mm_prefetch(w3 + o + Q8_PREFETCH_BYTES, _MM_HINT_T0);
            }
            a0 = _mm256_fmadd_ps(_mm256_set1_ps(dx * _cvtsh_ss(mnemo_load_u16(w0 + o))), q8q8_block(w0 + o, qx, ones), a0);
            a1 = _mm256_fmadd_ps(_mm256_set1_ps(dx * _cvtsh_ss(mnemo_load_u16(w1 + o))), q8q8_block(w1 + o, qx, ones), a1);
            a2 = _mm256_fmadd_ps(_mm256_set1_ps(dx * _cvtsh_ss(mnemo_load_u16(w2 + o))), q8q8_block(w2 + o, qx, ones), a2);
            a3 = _mm256_fmadd_ps(_mm256_set1_ps(dx * _cvtsh_ss(mnemo_load_u16(w3 + o))), q8q8_block(w3 + o, qx, ones), a3);
        }
        y[r] = hsum256(a0); y[r + 1] = hsum256(a1); y[r + 2] = hsum256(a2); y[r + 3] = hsum256(a3);
    }
    for (; r < row_end; r++) {
        const char *w0 = b + r * row_bytes;
        __m256 a0 = _mm256_setzero_ps();
        const char *xb = xb0;
        for (size_t k = 0; k < blocks; k++, xb += 36) {
            float dx;
            memcpy(&dx, xb, sizeof dx);
            __m256i qx = _mm256_loadu_si256((const __m256i *)(xb + 4));
            size_t o = 34 * k;
            a0 = _mm256_fmadd_ps(_mm256_set1_ps(dx * _cvtsh_ss(mnemo_load_u16(w0 + o))), q8q8_block(w0 + o, qx, ones), a0);
        }
        y[r] = hsum256(a0);
    }
}

// MARK: dequantization, conversion, vector ops

MNEMO_AVX2 void mnemo_dequantize_rows_avx2(mnemo_dtype dtype, const void *base, size_t row_bytes, size_t cols,
                                float *out, size_t row_begin, size_t row_end) {
    const char *b = (const char *)base;
    size_t n8 = cols & ~(size_t)7;
    for (size_t r = row_begin; r < row_end; r++, out += cols) {
        const char *row = b + r * row_bytes;
        size_t i = 0;
        switch (dtype) {
        case MNEMO_DTYPE_F32:
            memcpy(out, row, cols * sizeof(float));
            break;
        case MNEMO_DTYPE_F16:
            for (; i < n8; i += 8) _mm256_storeu_ps(out + i, load8_f16(row, i));
            for (; i < cols; i++) out[i] = load1_f16(row, i);
            break;
        case MNEMO_DTYPE_BF16:
            for (; i < n8; i += 8) _mm256_storeu_ps(out + i, load8_bf16(row, i));
            for (; i < cols; i++) out[i] = load1_bf16(row, i);
            break;
        case MNEMO_DTYPE_Q8_0:
            for (size_t k = 0; k < cols / 32; k++) {
                const char *blk = row + 34 * k;
                __m256 d = _mm256_set1_ps(_cvtsh_ss(mnemo_load_u16(blk)));
                float *o = out + 32 * k;
                _mm256_storeu_ps(o, _mm256_mul_ps(d, q8_to_f32(blk + 2)));
                _mm256_storeu_ps(o + 8, _mm256_mul_ps(d, q8_to_f32(blk + 10)));
                _mm256_storeu_ps(o + 16, _mm256_mul_ps(d, q8_to_f32(blk + 18)));
                _mm256_storeu_ps(o + 24, _mm256_mul_ps(d, q8_to_f32(blk + 26)));
            }
            break;
        }
    }
}

MNEMO_AVX2 void mnemo_f16_to_f32_avx2(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load8_f16((const char *)src, i));
    for (; i < n; i++) dst[i] = _cvtsh_ss(src[i]);
}

MNEMO_AVX2 void mnemo_f32_to_f16_avx2(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(dst + i), h);
    }
    for (; i < n; i++) dst[i] = _cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

MNEMO_AVX2 float mnemo_dot_avx2(const float *a, const float *b, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float s = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

MNEMO_AVX2 void mnemo_axpy_avx2(float alpha, const float *x, float *y, size_t n) {
    __m256 va = _mm256_set1_ps(alpha);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    }
    for (; i < n; i++) y[i] += alpha * x[i];
}
#endif
