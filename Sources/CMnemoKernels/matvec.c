// Matrix-vector products over row ranges: portable scalar code plus dispatch to AVX2.
#include "internal.h"
#include <math.h>

static inline float load_weight(mnemo_dtype dtype, const char *row, size_t i) {
    switch (dtype) {
    case MNEMO_DTYPE_F32: { float f; memcpy(&f, row + 4 * i, sizeof f); return f; }
    case MNEMO_DTYPE_F16: return mnemo_f16_to_f32_scalar(mnemo_load_u16(row + 2 * i));
    case MNEMO_DTYPE_BF16: return mnemo_bf16_scalar(mnemo_load_u16(row + 2 * i));
    case MNEMO_DTYPE_Q8_0: {
        const char *block = row + 34 * (i / 32);
        return mnemo_f16_to_f32_scalar(mnemo_load_u16(block)) * (float)((const int8_t *)(block + 2))[i % 32];
    }
    }
    return 0;
}

static void matvec_rows_scalar(mnemo_dtype dtype, const void *base, size_t row_bytes, size_t cols,
                               const float *x, float *y, size_t row_begin, size_t row_end) {
    const char *b = (const char *)base;
    for (size_t r = row_begin; r < row_end; r++) {
        const char *row = b + r * row_bytes;
        float s = 0;
        if (dtype == MNEMO_DTYPE_Q8_0) {
            for (size_t k = 0; k < cols / 32; k++) {
                const char *block = row + 34 * k;
                const int8_t *q = (const int8_t *)(block + 2);
                float bs = 0;
                for (size_t j = 0; j < 32; j++) bs += (float)q[j] * x[32 * k + j];
                s += mnemo_f16_to_f32_scalar(mnemo_load_u16(block)) * bs;
            }
        } else {
            for (size_t i = 0; i < cols; i++) s += load_weight(dtype, row, i) * x[i];
        }
        y[r] = s;
    }
}

void mnemo_matvec_rows(mnemo_dtype dtype, const void *base, size_t row_bytes, size_t cols,
                       const float *x, float *y, size_t row_begin, size_t row_end) {
#if MNEMO_X86
    if (mnemo_use_avx2()) {
        mnemo_matvec_rows_avx2(dtype, base, row_bytes, cols, x, y, row_begin, row_end);
        return;
    }
#endif
    matvec_rows_scalar(dtype, base, row_bytes, cols, x, y, row_begin, row_end);
}

// MARK: Q8 activations (integer dot products)

size_t mnemo_q8_activation_bytes(size_t cols) { return (cols / 32) * 36; }

void mnemo_quantize_q8_activation(const float *x, size_t cols, void *out) {
    char *o = (char *)out;
    for (size_t k = 0; k < cols / 32; k++, o += 36, x += 32) {
        float amax = 0;
        for (size_t j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        memcpy(o, &d, sizeof d);
        int8_t *q = (int8_t *)(o + 4);
        for (size_t j = 0; j < 32; j++) q[j] = (int8_t)roundf(x[j] * id);   // |x*id| <= 127
    }
}

static void matvec_q8_0_q8_rows_scalar(const void *base, size_t row_bytes, size_t cols,
                                       const void *xq, float *y, size_t row_begin, size_t row_end) {
    const char *b = (const char *)base;
    for (size_t r = row_begin; r < row_end; r++) {
        const char *row = b + r * row_bytes;
        const char *xb = (const char *)xq;
        float s = 0;
        for (size_t k = 0; k < cols / 32; k++, xb += 36) {
            const int8_t *qw = (const int8_t *)(row + 34 * k + 2);
            const int8_t *qx = (const int8_t *)(xb + 4);
            int32_t acc = 0;
            for (size_t j = 0; j < 32; j++) acc += (int32_t)qw[j] * (int32_t)qx[j];
            float dx;
            memcpy(&dx, xb, sizeof dx);
            s += mnemo_f16_to_f32_scalar(mnemo_load_u16(row + 34 * k)) * dx * (float)acc;
        }
        y[r] = s;
    }
}

void mnemo_matvec_q8_0_q8_rows(const void *base, size_t row_bytes, size_t cols,
                               const void *xq, float *y, size_t row_begin, size_t row_end) {
#if MNEMO_X86
    if (mnemo_use_avx2()) {
        mnemo_matvec_q8_0_q8_rows_avx2(base, row_bytes, cols, xq, y, row_begin, row_end);
        return;
    }
#endif
    matvec_q8_0_q8_rows_scalar(base, row_bytes, cols, xq, y, row_begin, row_end);
}
