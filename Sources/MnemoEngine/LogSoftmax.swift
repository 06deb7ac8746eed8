import Foundation

/// Numerically stable log-softmax in `Double`.
public enum LogSoftmax {
    /// `log p(id)` under `softmax(logits[offset ..< offset + count])`.
    ///
    /// - Parameters:
    ///   - logits: a buffer holding one or more rows of logits.
    ///   - offset: where the row starts.
    ///   - count: the row length (vocabulary size).
    ///   - id: the token whose log-probability is wanted, in `0 ..< count`.
    /// - Returns: `x[id] - max - log(sum(exp(x - max)))`, computed in `Double`.
    /// - Complexity: O(count).
    public static func logProbability(of id: Int, logits: [Float], offset: Int = 0, count: Int) -> Double {
        precondition(id >= 0 && id < count && offset >= 0 && offset + count <= logits.count, "row out of range")
        return logits.withUnsafeBufferPointer { buffer in
            let row = UnsafeBufferPointer(rebasing: buffer[offset ..< offset + count])
            var maximum = -Double.infinity
            for x in row where Double(x) > maximum { maximum = Double(x) }
            guard maximum.isFinite else { return maximum == .infinity ? .nan : -.infinity }
            var sum = 0.0
            for x in row { sum += Foundation.exp(Double(x) - maximum) }
            return Double(row[id]) - maximum - Foundation.log(sum)
        }
    }
}
