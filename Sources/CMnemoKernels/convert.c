// Half-precision conversions and row dequantization: portable scalar code plus dispatch.
#include "internal.h"
#include <math.h>

float mnemo_f16_to_f32_scalar(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;
    uint32_t bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {
            // Subnormal: normalise the mantissa into an f32 normal.
            int32_t e = 127 - 15 + 1;
            while ((mantissa & 0x400u) == 0) {
                mantissa <<= 1;
                e -= 1;
            }
            bits = sign | ((uint32_t)e << 23) | ((mantissa & 0x3ffu) << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7f800000u | (mantissa << 13);   // inf or NaN (payload kept)
    } else {
        bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t mnemo_f32_to_f16_scalar(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) {   // inf or NaN (NaN stays quiet, top payload bits kept)
        return sign | 0x7c00u | (ax > 0x7f800000u ? (uint16_t)(0x200u | ((ax >> 13) & 0x3ffu)) : 0);
    }
    if (ax >= 0x477ff000u) return sign | 0x7c00u;   // >= 65520 rounds to infinity
    if (ax < 0x38800000u) {                          // below 2^-14: f16 subnormal or zero
        float magnitude;
        memcpy(&magnitude, &ax, sizeof magnitude);
        // |f| * 2^24 < 2^10 is exact; rintf rounds to nearest even. 1024 encodes 2^-14 correctly.
        return sign | (uint16_t)rintf(magnitude * 16777216.0f);
    }
    ax += 0xfffu + ((ax >> 13) & 1u);                // round to nearest even at bit 13
    return sign | (uint16_t)((ax - (112u << 23)) >> 13);
}

void mnemo_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
#if MNEMO_X86
    if (mnemo_use_avx2()) { mnemo_f16_to_f32_avx2(src, dst, n); return; }
#endif
    for (size_t i = 0; i < n; i++) dst[i] = mnemo_f16_to_f32_scalar(src[i]);
}

void mnemo_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
#if MNEMO_X86
    if (mnemo_use_avx2()) { mnemo_f32_to_f16_avx2(src, dst, n); return; }
#endif
    for (size_t i = 0; i < n; i++) dst[i] = mnemo_f32_to_f16_scalar(src[i]);
}

void mnemo_bf16_to_f32(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = mnemo_bf16_scalar(src[i]);   // auto-vectorised
}

void mnemo_f32_to_bf16(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t x;
        memcpy(&x, &src[i], sizeof x);
        if ((x & 0x7fffffffu) > 0x7f800000u) {
            dst[i] = (uint16_t)((x >> 16) | 0x40u);   // quiet NaN
        } else {
            x += 0x7fffu + ((x >> 16) & 1u);          // round to nearest even
            dst[i] = (uint16_t)(x >> 16);
        }
    }
}

static void dequantize_rows_scalar(mnemo_dtype dtype, const void *base, size_t row_bytes,
                                   size_t cols, float *out, size_t row_begin, size_t row_end) {
    const char *b = (const char *)base;
    for (size_t r = row_begin; r < row_end; r++, out += cols) {
        const char *row = b + r * row_bytes;
        switch (dtype) {
        case MNEMO_DTYPE_F32:
            memcpy(out, row, cols * sizeof(float));
            break;
        case MNEMO_DTYPE_F16:
            for (size_t i = 0; i < cols; i++) out[i] = mnemo_f16_to_f32_scalar(mnemo_load_u16(row + 2 * i));
            break;
        case MNEMO_DTYPE_BF16:
            for (size_t i = 0; i < cols; i++) out[i] = mnemo_bf16_scalar(mnemo_load_u16(row + 2 * i));
            break;
        case MNEMO_DTYPE_Q8_0:
            for (size_t k = 0; k < cols / 32; k++) {
                const char *block = row + 34 * k;
                float d = mnemo_f16_to_f32_scalar(mnemo_load_u16(block));
                const int8_t *q = (const int8_t *)(block + 2);
                for (size_t j = 0; j < 32; j++) out[32 * k + j] = d * (float)q[j];
            }
            break;
        }
    }
}

void mnemo_dequantize_rows(mnemo_dtype dtype, const void *base, size_t row_bytes, size_t cols,
                           float *out, size_t row_begin, size_t row_end) {
#if MNEMO_X86
    if (mnemo_use_avx2()) {
        mnemo_dequantize_rows_avx2(dtype, base, row_bytes, cols, out, row_begin, row_end);
        return;
    }
#endif
    dequantize_rows_scalar(dtype, base, row_bytes, cols, out, row_begin, row_end);
}
