/// The pre-tokenizer regular expressions of GPT-2, Llama 3 and Qwen2, as hand-written scanners.
///
/// Each scanner reproduces the leftmost-first alternation semantics of the reference pattern
/// (Oniguruma, as used by Hugging Face `tokenizers`; llama.cpp `unicode.cpp` for GGUF) over Unicode
/// scalars, without a regex engine:
/// - GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// - Llama 3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
/// - Qwen2: as Llama 3 with `\p{N}` instead of `\p{N}{1,3}`.
enum RegexSplitter: Sendable, Equatable {
    case gpt2
    case llama3
    case qwen2

    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The scanner for a pattern string found in a tokenizer file, or nil if it is not one we know.
    init?(pattern: String) {
        switch pattern {
        case Self.gpt2Pattern: self = .gpt2
        case Self.llama3Pattern: self = .llama3
        case Self.qwen2Pattern: self = .qwen2
        default: return nil
        }
    }

    /// Splits `bytes[range]` (valid UTF-8) into pieces, appending their byte ranges to `out`.
    /// - Complexity: O(n) in the number of bytes.
    func split(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, scratch: inout SplitScratch, into out: inout [Range<Int>]) {
        // Decode once: class and start offset of each scalar.
        scratch.cls.removeAll(keepingCapacity: true)
        scratch.off.removeAll(keepingCapacity: true)
        var i = range.lowerBound
        while i < range.upperBound {
            let (v, len) = decodeScalar(bytes, i)
            scratch.cls.append(v < 0x80 ? Self.asciiClass[Int(v)] : CharClass.of(v))
            scratch.off.append(i)
            i += len
        }
        scratch.off.append(range.upperBound)
        let n = scratch.cls.count
        scratch.cls.withUnsafeBufferPointer { cls in
            scratch.off.withUnsafeBufferPointer { off in
                switch self {
                case .gpt2: Self.scanGPT2(bytes, cls, off, n, &out)
                case .llama3: Self.scanLlama3(bytes, cls, off, n, maxDigits: 3, &out)
                case .qwen2: Self.scanLlama3(bytes, cls, off, n, maxDigits: 1, &out)
                }
            }
        }
    }

    static let asciiClass: [UInt8] = (0..<128).map { CharClass.compute(Unicode.Scalar(UInt8($0))) }

    private static let space = UInt8(ascii: " ")
    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")

    /// Length in scalars of a contraction (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`) at scalar k, or 0.
    @inline(__always)
    private static func contraction(_ bytes: UnsafeBufferPointer<UInt8>, _ off: UnsafeBufferPointer<Int>, _ k: Int, _ n: Int, caseInsensitive: Bool) -> Int {
        guard bytes[off[k]] == UInt8(ascii: "'"), k + 1 < n else { return 0 }
        func lower(_ b: UInt8) -> UInt8 {
            caseInsensitive && b >= 65 && b <= 90 ? b | 0x20 : b
        }
        let c1 = lower(bytes[off[k + 1]])
        switch c1 {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"):
            return 2
        case UInt8(ascii: "r"), UInt8(ascii: "v"), UInt8(ascii: "l"):
            guard k + 2 < n else { return 0 }
            let c2 = lower(bytes[off[k + 2]])
            if c1 == UInt8(ascii: "r") || c1 == UInt8(ascii: "v") { return c2 == UInt8(ascii: "e") ? 3 : 0 }
            return c2 == UInt8(ascii: "l") ? 3 : 0
        default:
            return 0
        }
    }

    /// Emits the whitespace alternatives `\s+(?!\S)|\s+` for a whitespace run starting at k; returns the end.
    @inline(__always)
    private static func whitespaceEnd(_ cls: UnsafeBufferPointer<UInt8>, _ k: Int, _ n: Int) -> Int {
        var e = k + 1
        while e < n && cls[e] == CharClass.space { e += 1 }
        if e == n || e - k < 2 { return e }
        return e - 1
    }

    private static func scanGPT2(_ bytes: UnsafeBufferPointer<UInt8>, _ cls: UnsafeBufferPointer<UInt8>, _ off: UnsafeBufferPointer<Int>, _ n: Int, _ out: inout [Range<Int>]) {
        var k = 0
        while k < n {
            let c = cls[k]
            if c == CharClass.other {
                let len = contraction(bytes, off, k, n, caseInsensitive: false)
                if len > 0 { out.append(off[k]..<off[k + len]); k += len; continue }
            }
            var j = k
            if c == CharClass.space && bytes[off[k]] == space && k + 1 < n && cls[k + 1] != CharClass.space { j = k + 1 }
            let cc = cls[j]
            if cc != CharClass.space {
                var e = j + 1
                while e < n && cls[e] == cc { e += 1 }
                out.append(off[k]..<off[e]); k = e; continue
            }
            let e = whitespaceEnd(cls, k, n)
            out.append(off[k]..<off[e]); k = e
        }
    }

    private static func scanLlama3(_ bytes: UnsafeBufferPointer<UInt8>, _ cls: UnsafeBufferPointer<UInt8>, _ off: UnsafeBufferPointer<Int>, _ n: Int, maxDigits: Int, _ out: inout [Range<Int>]) {
        var k = 0
        while k < n {
            let c = cls[k]
            let b = bytes[off[k]]
            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            if c == CharClass.other {
                let len = contraction(bytes, off, k, n, caseInsensitive: true)
                if len > 0 { out.append(off[k]..<off[k + len]); k += len; continue }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if c == CharClass.letter || (c != CharClass.number && b != cr && b != lf && k + 1 < n && cls[k + 1] == CharClass.letter) {
                var e = k + 1
                while e < n && cls[e] == CharClass.letter { e += 1 }
                out.append(off[k]..<off[e]); k = e; continue
            }
            // \p{N}{1,maxDigits}
            if c == CharClass.number {
                var e = k + 1
                while e < n && e - k < maxDigits && cls[e] == CharClass.number { e += 1 }
                out.append(off[k]..<off[e]); k = e; continue
            }
            //  ?[^\s\p{L}\p{N}]+[\r\n]*
            var j = k
            if b == space && k + 1 < n && cls[k + 1] == CharClass.other { j = k + 1 }
            if cls[j] == CharClass.other {
                var e = j + 1
                while e < n && cls[e] == CharClass.other { e += 1 }
                while e < n && (bytes[off[e]] == cr || bytes[off[e]] == lf) { e += 1 }
                out.append(off[k]..<off[e]); k = e; continue
            }
            // \s*[\r\n]+ : up to the last CR/LF of the whitespace run.
            var e = k + 1
            while e < n && cls[e] == CharClass.space { e += 1 }
            var p = e - 1
            while p >= k && bytes[off[p]] != cr && bytes[off[p]] != lf { p -= 1 }
            if p >= k { out.append(off[k]..<off[p + 1]); k = p + 1; continue }
            // \s+(?!\S)|\s+
            let w = whitespaceEnd(cls, k, n)
            out.append(off[k]..<off[w]); k = w
        }
    }
}

/// Reusable buffers for `RegexSplitter.split`.
struct SplitScratch {
    var cls: [UInt8] = []
    var off: [Int] = []
}
