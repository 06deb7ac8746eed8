// Mnemo C kernels: hot loops for matrix-vector products, dequantization, conversions and
// element-wise operations, with runtime CPU dispatch (AVX2+FMA+F16C on x86-64) and a portable
// scalar fallback. Swift (MnemoTensor) orchestrates threading; every function here is
// single-threaded and re-entrant.
//
// Storage formats follow GGML (llama.cpp, ggml/src/ggml-common.h): Q8_0 is blocks of 32
// values, each an IEEE f16 scale `d` followed by 32 int8 quants, value = d * q (34 bytes).
#ifndef MNEMO_KERNELS_H
#define MNEMO_KERNELS_H
#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Weight storage types; the raw values match Swift's `DType` order.
typedef enum {
    MNEMO_DTYPE_F32 = 0,
    MNEMO_DTYPE_F16 = 1,
    MNEMO_DTYPE_BF16 = 2,
    MNEMO_DTYPE_Q8_0 = 3,
} mnemo_dtype;

/// Bits of `mnemo_kernels_cpu_features()`.
enum {
    MNEMO_CPU_AVX2_FMA_F16C = 1,
};

/// The instruction-set paths in use: a mask of `MNEMO_CPU_*` bits (0 = portable scalar code).
int mnemo_kernels_cpu_features(void);
/// Forces the portable scalar path (`disable != 0`) or re-enables the detected one; for tests.
void mnemo_kernels_force_scalar(int disable);

// MARK: matrix-vector

/// y[r] = sum_i W[r, i] * x[i] for r in [row_begin, row_end). `base` points at row 0,
/// `row_bytes` is the stride between rows, `cols` the row length (a multiple of 32 for Q8_0).
/// For Q8_0 the weights are dequantized on the fly in f32 (no activation quantization).
void mnemo_matvec_rows(mnemo_dtype dtype, const void *base, size_t row_bytes, size_t cols,
                       const float *x, float *y, size_t row_begin, size_t row_end);

/// Bytes of `x` quantized to Q8_0-style blocks for `mnemo_matvec_q8_0_q8_rows`: per 32 values a
/// float scale followed by 32 int8 (36 bytes per block).
size_t mnemo_q8_activation_bytes(size_t cols);
/// Quantizes x[0..<cols] (cols a multiple of 32) into `out` (mnemo_q8_activation_bytes(cols)
/// bytes): per block d = max|x| / 127, q = round(x / d). Same scheme as ggml's quantize_row_q8_0
/// except the scale is kept in f32.
void mnemo_quantize_q8_activation(const float *x, size_t cols, void *out);
/// Q8_0 weights times Q8-quantized activations with integer dot products per block
/// (like llama.cpp's ggml_vec_dot_q8_0_q8_0): y[r] = sum_b dW_b * dx_b * sum_j qW_bj * qx_bj.
void mnemo_matvec_q8_0_q8_rows(const void *base, size_t row_bytes, size_t cols,
                               const void *xq, float *y, size_t row_begin, size_t row_end);

// MARK: dequantization and conversion

/// Dequantizes rows [row_begin, row_end) into `out` (dense, `cols` floats per row, first row at out).
void mnemo_dequantize_rows(mnemo_dtype dtype, const void *base, size_t row_bytes, size_t cols,
                           float *out, size_t row_begin, size_t row_end);
/// IEEE binary16 -> binary32, exact (including subnormals, infinities and NaN payloads).
void mnemo_f16_to_f32(const uint16_t *src, float *dst, size_t n);
/// binary32 -> binary16, round to nearest even; overflow gives infinity, NaN stays NaN.
void mnemo_f32_to_f16(const float *src, uint16_t *dst, size_t n);
/// bfloat16 -> binary32 (exact: a 16-bit shift).
void mnemo_bf16_to_f32(const uint16_t *src, float *dst, size_t n);
/// binary32 -> bfloat16, round to nearest even; NaN stays a quiet NaN.
void mnemo_f32_to_bf16(const float *src, uint16_t *dst, size_t n);
/// One f16 -> f32 (portable, exact).
float mnemo_f16_to_f32_scalar(uint16_t h);
/// One f32 -> f16 (portable, round to nearest even).
uint16_t mnemo_f32_to_f16_scalar(float f);

// MARK: vector operations (all single-threaded)

/// sum_i a[i] * b[i].
float mnemo_dot(const float *a, const float *b, size_t n);
/// y[i] += alpha * x[i].
void mnemo_axpy(float alpha, const float *x, float *y, size_t n);
/// out[i] = a[i] + b[i] (out may alias a or b).
void mnemo_add(const float *a, const float *b, float *out, size_t n);
/// x[i] *= alpha.
void mnemo_scale(float *x, float alpha, size_t n);
/// out[i] = x[i] / sqrt(mean(x^2) + eps) * w[i] (out may alias x).
void mnemo_rms_norm(const float *x, const float *w, float eps, float *out, size_t n);
/// out[i] = (x[i] - mean) / sqrt(var + eps) * w[i] + b[i], biased variance (out may alias x).
/// `b` may be NULL (no bias).
void mnemo_layer_norm(const float *x, const float *w, const float *b, float eps, float *out, size_t n);
/// out[i] = exp(x[i]) (out may alias x). AVX2 path: Cephes-style polynomial, relative error
/// < 4 * 2^-24 for x in [-87, 88]; results below ~1.2e-38 flush to 0, x > 88.02 saturates at
/// ~1.6e38. Scalar path: libm expf.
void mnemo_exp(const float *x, float *out, size_t n);
/// In-place x[i] = exp(x[i] - max) / sum_j exp(x[j] - max). n >= 1.
void mnemo_softmax(float *x, size_t n);
/// out[i] = gate[i] * sigmoid(gate[i]) * up[i] (out may alias gate or up).
void mnemo_silu_mul(const float *gate, const float *up, float *out, size_t n);
/// out[i] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (out may alias x).
void mnemo_gelu_tanh(const float *x, float *out, size_t n);
/// out[i] = 0.5 x (1 + erf(x / sqrt(2))) (out may alias x).
void mnemo_gelu_erf(const float *x, float *out, size_t n);
/// Index of the first maximum of x[0..<n] (NaN entries are skipped); 0 when n == 0.
size_t mnemo_argmax(const float *x, size_t n);

#ifdef __cplusplus
}
#endif
#endif
