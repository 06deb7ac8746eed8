// Element-wise and reduction kernels on f32 vectors (single-threaded).
// Norm statistics accumulate in double, like ggml's rms_norm (ggml_float sums).
#include "internal.h"
#include <math.h>

float mnemo_dot(const float *a, const float *b, size_t n) {
#if MNEMO_X86
    if (mnemo_use_avx2()) return mnemo_dot_avx2(a, b, n);
#endif
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

void mnemo_axpy(float alpha, const float *x, float *y, size_t n) {
#if MNEMO_X86
    if (mnemo_use_avx2()) { mnemo_axpy_avx2(alpha, x, y, n); return; }
#endif
    for (size_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

void mnemo_add(const float *a, const float *b, float *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void mnemo_scale(float *x, float alpha, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] *= alpha;
}

void mnemo_rms_norm(const float *x, const float *w, float eps, float *out, size_t n) {
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * (double)x[i];
    float inv = (float)(1.0 / sqrt(ss / (double)n + (double)eps));
    for (size_t i = 0; i < n; i++) out[i] = x[i] * inv * w[i];
}

void mnemo_layer_norm(const float *x, const float *w, const float *b, float eps, float *out, size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += x[i];
    double mean = sum / (double)n;
    double var = 0;
    for (size_t i = 0; i < n; i++) { double d = x[i] - mean; var += d * d; }
    float inv = (float)(1.0 / sqrt(var / (double)n + (double)eps));
    float m = (float)mean;
    for (size_t i = 0; i < n; i++) {
        float v = (x[i] - m) * inv * w[i];
        out[i] = b ? v + b[i] : v;
    }
}

void mnemo_exp(const float *x, float *out, size_t n) {
#if MNEMO_X86
    if (mnemo_use_avx2()) { mnemo_exp_shifted_avx2(x, 0.0f, out, n); return; }
#endif
    for (size_t i = 0; i < n; i++) out[i] = expf(x[i]);
}

void mnemo_softmax(float *x, size_t n) {
    float mx = -INFINITY;
#if MNEMO_X86
    int simd = mnemo_use_avx2();
#else
    int simd = 0;
#endif
    if (simd) {
#if MNEMO_X86
        mx = mnemo_max_avx2(x, n);
        mnemo_exp_shifted_avx2(x, mx, x, n);
#endif
    } else {
        for (size_t i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
        for (size_t i = 0; i < n; i++) x[i] = expf(x[i] - mx);
    }
    // Sum in double, four independent chains.
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) { s0 += x[i]; s1 += x[i + 1]; s2 += x[i + 2]; s3 += x[i + 3]; }
    for (; i < n; i++) s0 += x[i];
    double sum = (s0 + s1) + (s2 + s3);
    float inv = (float)(1.0 / sum);
    for (size_t i = 0; i < n; i++) x[i] *= inv;
}

void mnemo_silu_mul(const float *gate, const float *up, float *out, size_t n) {
#if MNEMO_X86
    if (mnemo_use_avx2()) { mnemo_silu_mul_avx2(gate, up, out, n); return; }
#endif
    for (size_t i = 0; i < n; i++) {
        float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

void mnemo_gelu_tanh(const float *x, float *out, size_t n) {
    const float k = 0.7978845608028654f;   // sqrt(2 / pi)
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        out[i] = 0.5f * v * (1.0f + tanhf(k * (v + 0.044715f * v * v * v)));
    }
}

void mnemo_gelu_erf(const float *x, float *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        out[i] = 0.5f * v * (1.0f + erff(v * 0.7071067811865476f));
    }
}

size_t mnemo_argmax(const float *x, size_t n) {
    size_t best = 0;
    float bestValue = -INFINITY;
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i])) continue;
        if (!found || x[i] > bestValue) { best = i; bestValue = x[i]; found = 1; }
    }
    return best;
}
