import Foundation

/// SplitMix64 (Steele, Lea, Flood 2014, "Fast splittable pseudorandom number generators"): a tiny
/// seeded generator for reproducible benchmark inputs and tests. Not for cryptography.
///
/// ```swift
/// var rng = SplitMix64(seed: 7)
/// let w = (0..<64).map { _ in rng.uniform() }     // floats in [-1, 1)
/// ```
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `[-scale, scale)` with 24 random bits.
    public mutating func uniform(_ scale: Float = 1) -> Float {
        (Float(next() >> 40) / Float(1 << 23) - 1) * scale
    }

    /// A standard normal sample (Box–Muller).
    public mutating func gaussian() -> Float {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let u2 = Double.random(in: 0..<1, using: &self)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
}
