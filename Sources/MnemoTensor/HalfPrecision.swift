internal import CMnemoKernels

/// Bulk conversions between f32 and the 16-bit float formats (F16C on x86-64 when available).
public enum HalfPrecision {
    /// IEEE binary16 bits -> Float (exact, including subnormals, infinities and NaN).
    /// - Complexity: O(n).
    public static func f16ToF32(_ source: UnsafePointer<UInt16>, into destination: UnsafeMutablePointer<Float>,
                                count n: Int) {
        mnemo_f16_to_f32(source, destination, n)
    }

    /// Float -> IEEE binary16 bits, round to nearest even (overflow -> ±inf, NaN stays NaN).
    /// - Complexity: O(n).
    public static func f32ToF16(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<UInt16>,
                                count n: Int) {
        mnemo_f32_to_f16(source, destination, n)
    }

    /// bfloat16 bits -> Float (exact).
    /// - Complexity: O(n).
    public static func bf16ToF32(_ source: UnsafePointer<UInt16>, into destination: UnsafeMutablePointer<Float>,
                                 count n: Int) {
        mnemo_bf16_to_f32(source, destination, n)
    }

    /// Float -> bfloat16 bits, round to nearest even (NaN stays a quiet NaN).
    /// - Complexity: O(n).
    public static func f32ToBF16(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<UInt16>,
                                 count n: Int) {
        mnemo_f32_to_bf16(source, destination, n)
    }

    /// One binary16 -> Float with the portable software conversion (no F16C).
    public static func f16ToF32(_ bits: UInt16) -> Float { mnemo_f16_to_f32_scalar(bits) }

    /// One Float -> binary16 with the portable software conversion (no F16C).
    public static func f32ToF16(_ value: Float) -> UInt16 { mnemo_f32_to_f16_scalar(value) }
}
