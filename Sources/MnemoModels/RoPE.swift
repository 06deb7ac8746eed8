import Foundation

/// Rotary frequencies for every scaling type.
///
/// Port of Hugging Face transformers `modeling_rope_utils.py` (v5.23): `_compute_default_rope_parameters`,
/// `_compute_linear_scaling_rope_parameters`, `_compute_dynamic_ntk_parameters`,
/// `_compute_yarn_parameters`, `_compute_llama3_parameters`. Arithmetic is done in `Float` where
/// transformers uses float32 tensors and in `Double` where it uses Python floats.
enum RoPEFrequencies {
    /// Returns `inv_freq` (`dimension / 2` values) and the attention factor that scales cos/sin.
    /// - Parameter sequenceLength: the current sequence length (only dynamic NTK depends on it).
    static func compute(_ c: RoPEConfig, sequenceLength: Int) -> (inverseFrequencies: [Float], attentionFactor: Float) {
        let dim = c.dimension
        let half = dim / 2
        func plain(base: Double) -> [Float] {
            (0..<half).map { i in 1 / Float(pow(base, Double(2 * i) / Double(dim))) }
        }
        var inv: [Float]
        var attention: Float = 1
        switch c.scaling {
        case .none:
            inv = plain(base: c.theta)
        case let .linear(factor):
            inv = plain(base: c.theta).map { $0 / Float(factor) }
        case let .dynamic(factor, maxPositions):
            let seq = Double(max(sequenceLength, maxPositions))
            let base = c.theta * pow(factor * seq / Double(maxPositions) - (factor - 1), Double(dim) / Double(dim - 2))
            inv = plain(base: base)
        case let .yarn(p):
            (inv, attention) = yarn(p, theta: c.theta, dim: dim)
        case let .llama3(factor, low, high, original):
            inv = llama3(plain(base: c.theta), factor: factor, low: low, high: high, original: original)
        }
        if let f = c.frequencyFactors {
            // llama.cpp ggml_rope_ext: theta = p * base^(-2i/d) / freq_factors[i].
            for i in 0..<min(half, f.count) { inv[i] /= f[i] }
        }
        return (inv, attention)
    }

    /// transformers `_compute_yarn_parameters`.
    static func yarn(_ p: YaRNParameters, theta: Double, dim: Int) -> ([Float], Float) {
        func getMscale(_ scale: Double, _ m: Double = 1) -> Double { scale <= 1 ? 1 : 0.1 * m * log(scale) + 1 }
        var attention = p.attentionFactor
        if attention == nil {
            if let m = p.mscale, let mAll = p.mscaleAllDim, m != 0, mAll != 0 {
                attention = getMscale(p.factor, m) / getMscale(p.factor, mAll)
            } else {
                attention = getMscale(p.factor)
            }
        }
        func correctionDim(_ rotations: Double) -> Double {
            Double(dim) * log(Double(p.originalContextLength) / (rotations * 2 * Double.pi)) / (2 * log(theta))
        }
        var low = correctionDim(p.betaFast)
        var high = correctionDim(p.betaSlow)
        if p.truncate { low = floor(low); high = ceil(high) }
        low = max(low, 0)
        high = min(high, Double(dim - 1))
        if low == high { high += 0.001 }
        let half = dim / 2
        var inv = [Float](repeating: 0, count: half)
        for i in 0..<half {
            let posFreq = Float(pow(theta, Double(2 * i) / Double(dim)))
            let extrapolation = 1 / posFreq
            let interpolation = 1 / (Float(p.factor) * posFreq)
            let ramp = min(max((Float(i) - Float(low)) / Float(high - low), 0), 1)
            let extrapolationFactor = 1 - ramp
            inv[i] = interpolation * (1 - extrapolationFactor) + extrapolation * extrapolationFactor
        }
        return (inv, Float(attention ?? 1))
    }

    /// transformers `_compute_llama3_parameters`.
    static func llama3(_ base: [Float], factor: Double, low: Double, high: Double, original: Int) -> [Float] {
        let lowWavelen = Double(original) / low
        let highWavelen = Double(original) / high
        return base.map { f in
            let wavelen = 2 * Double.pi / Double(f)
            let scaled = wavelen > lowWavelen ? f / Float(factor) : f
            if wavelen < highWavelen || wavelen > lowWavelen { return scaled }
            let smooth = Float((Double(original) / wavelen - low) / (high - low))
            return (1 - smooth) * scaled / Float(factor) + smooth * scaled
        }
    }
}

/// Lazily grown cos/sin tables for absolute positions, owned by one `KVCache`.
///
/// Holds rows `firstPosition ..< positions`; row `p` is `cos(p * inv_freq[i]) * attentionFactor`
/// (and sin) for `i < dimension/2`. Static scalings keep one table grown geometrically from 0;
/// dynamic NTK recomputes the frequencies whenever the sequence length changes beyond
/// `max_position_embeddings`, and then only the rows of the current call are computed.
final class RoPETable {
    let config: RoPEConfig
    private(set) var inverseFrequencies: [Float] = []
    private(set) var attentionFactor: Float = 1
    private(set) var cosines: [Float] = []
    private(set) var sines: [Float] = []
    private(set) var firstPosition = 0
    private(set) var positions = 0
    private var frequencyKey = -1

    init(config: RoPEConfig) { self.config = config }

    /// Makes rows `positionStart ..< positionEnd` available, with frequencies for a sequence of
    /// `positionEnd` tokens (transformers' `dynamic_rope_update` uses `max(position_ids) + 1`).
    /// - Complexity: O(new rows × dimension/2).
    func prepare(positionStart: Int, positionEnd: Int) {
        var key = 0
        if case let .dynamic(_, maxPositions) = config.scaling { key = max(positionEnd, maxPositions) }
        if key != frequencyKey {
            (inverseFrequencies, attentionFactor) = RoPEFrequencies.compute(config, sequenceLength: positionEnd)
            frequencyKey = key
            cosines.removeAll(keepingCapacity: true)
            sines.removeAll(keepingCapacity: true)
            // A static table starts at 0 and is reused forever; a dynamic one only for this length.
            firstPosition = key == 0 ? 0 : positionStart
            positions = firstPosition
        }
        if positionStart < firstPosition {
            // Only reachable after a dynamic table was built for later positions (cache reset).
            cosines.removeAll(keepingCapacity: true)
            sines.removeAll(keepingCapacity: true)
            firstPosition = positionStart
            positions = positionStart
        }
        guard positionEnd > positions else { return }
        let half = config.dimension / 2
        let target = key == 0 ? max(positionEnd, positions * 2, 64) : positionEnd
        cosines.reserveCapacity((target - firstPosition) * half)
        sines.reserveCapacity((target - firstPosition) * half)
        for p in positions..<target {
            for i in 0..<half {
                let angle = Float(p) * inverseFrequencies[i]
                cosines.append(Foundation.cos(angle) * attentionFactor)
                sines.append(Foundation.sin(angle) * attentionFactor)
            }
        }
        positions = target
    }

    /// Rotates `heads` consecutive heads of `headDim` floats at `vector` to `position` in place.
    /// - Complexity: O(heads × dimension).
    func rotate(_ vector: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, position: Int) {
        precondition(position >= firstPosition && position < positions, "RoPETable.prepare must cover the position")
        let half = config.dimension / 2
        let row = position - firstPosition
        cosines.withUnsafeBufferPointer { cosBuf in
            sines.withUnsafeBufferPointer { sinBuf in
                let c = cosBuf.baseAddress! + row * half
                let s = sinBuf.baseAddress! + row * half
                for h in 0..<heads {
                    let v = vector + h * headDim
                    switch config.pairing {
                    case .halves:
                        for i in 0..<half {
                            let x0 = v[i], x1 = v[i + half]
                            v[i] = x0 * c[i] - x1 * s[i]
                            v[i + half] = x1 * c[i] + x0 * s[i]
                        }
                    case .interleaved:
                        for i in 0..<half {
                            let x0 = v[2 * i], x1 = v[2 * i + 1]
                            v[2 * i] = x0 * c[i] - x1 * s[i]
                            v[2 * i + 1] = x1 * c[i] + x0 * s[i]
                        }
                    }
                }
            }
        }
    }
}

extension RoPETable {
    /// Rotates `rows` rows (stride `stride` floats, `heads` heads of `headDim` each) by `delta`
    /// positions: a key rotated to position `p` becomes the same key rotated to `p + delta`
    /// (RoPE rotations compose, `R(a)R(b) = R(a+b)`). `delta` may be negative.
    ///
    /// Uses the frequencies of the last `prepare` call (for dynamic NTK scaling these depend on the
    /// sequence length, so a re-based key equals a fresh one only up to that change). The YaRN
    /// attention factor is not applied again: it scales a rotation once, at encoding.
    /// - Complexity: O(rows × heads × dimension).
    func rotate(rows: UnsafeMutablePointer<Float>, count: Int, stride: Int, heads: Int, headDim: Int, delta: Int) {
        guard delta != 0, count > 0 else { return }
        if inverseFrequencies.isEmpty { prepare(positionStart: 0, positionEnd: 1) }
        let half = config.dimension / 2
        var c = [Float](repeating: 0, count: half), s = [Float](repeating: 0, count: half)
        for i in 0..<half {
            // Double angle: |delta| may be large (a window re-based far into a book).
            let angle = Double(delta) * Double(inverseFrequencies[i])
            c[i] = Float(Foundation.cos(angle))
            s[i] = Float(Foundation.sin(angle))
        }
        let pairing = config.pairing
        for r in 0..<count {
            for h in 0..<heads {
                let v = rows + r * stride + h * headDim
                switch pairing {
                case .halves:
                    for i in 0..<half {
                        let x0 = v[i], x1 = v[i + half]
                        v[i] = x0 * c[i] - x1 * s[i]
                        v[i + half] = x1 * c[i] + x0 * s[i]
                    }
                case .interleaved:
                    for i in 0..<half {
                        let x0 = v[2 * i], x1 = v[2 * i + 1]
                        v[2 * i] = x0 * c[i] - x1 * s[i]
                        v[2 * i + 1] = x1 * c[i] + x0 * s[i]
                    }
                }
            }
        }
    }
}
