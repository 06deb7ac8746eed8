// Internal declarations shared by the CMnemoKernels translation units (not exported to Swift).
#ifndef MNEMO_KERNELS_INTERNAL_H
#define MNEMO_KERNELS_INTERNAL_H
#include "mnemo_kernels.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define MNEMO_X86 1
#include <immintrin.h>
/// Per-function target: AVX2 + FMA + F16C code compiled without global -m flags (no unsafeFlags).
#define MNEMO_AVX2 __attribute__((target("avx2,fma,f16c")))
#else
#define MNEMO_X86 0
#endif

/// 1 when the AVX2+FMA+F16C paths may run (detected once, cached; overridable for tests).
int mnemo_use_avx2(void);

/// Unaligned little-endian u16 load (GGML scales sit at 34-byte strides).
static inline uint16_t mnemo_load_u16(const void *p) {
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline float mnemo_bf16_scalar(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

#if MNEMO_X86
// AVX2 implementations (defined in *_avx2.c, called only when mnemo_use_avx2()).
void mnemo_matvec_rows_avx2(mnemo_dtype dtype, const void *base, size_t row_bytes, size_t cols,
                            const float *x, float *y, size_t row_begin, size_t row_end);
void mnemo_matvec_q8_0_q8_rows_avx2(const void *base, size_t row_bytes, size_t cols,
                                    const void *xq, float *y, size_t row_begin, size_t row_end);
void mnemo_dequantize_rows_avx2(mnemo_dtype dtype, const void *base, size_t row_bytes, size_t cols,
                                float *out, size_t row_begin, size_t row_end);
void mnemo_f16_to_f32_avx2(const uint16_t *src, float *dst, size_t n);
void mnemo_f32_to_f16_avx2(const float *src, uint16_t *dst, size_t n);
void mnemo_exp_shifted_avx2(const float *x, float shift, float *out, size_t n);
float mnemo_max_avx2(const float *x, size_t n);
void mnemo_silu_mul_avx2(const float *gate, const float *up, float *out, size_t n);
float mnemo_dot_avx2(const float *a, const float *b, size_t n);
void mnemo_axpy_avx2(float alpha, const float *x, float *y, size_t n);
#endif
#endif
