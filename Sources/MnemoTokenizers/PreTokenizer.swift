import Foundation

/// Pre-tokenizers of Hugging Face `tokenizers` (`pre_tokenizers/*.rs`) that the supported models use.
///
/// A pre-tokenizer maps a buffer of UTF-8 bytes cut into pieces (byte ranges) to a new buffer and
/// pieces; those that only split keep the buffer.
indirect enum PreTokenizer: Sendable {
    /// `ByteLevel`: optional prefix space, then (if `regex`) the GPT-2 split. Bytes become byte-level
    /// symbols in the model.
    case byteLevel(addPrefixSpace: Bool, regex: RegexSplitter?)
    /// `Split` with one of the known patterns, behavior `Isolated`.
    case split(RegexSplitter)
    /// `Metaspace`: ' ' → replacement, prepend per scheme, optional split before each replacement.
    case metaspace(replacement: [UInt8], prepend: PrependScheme, split: Bool)
    case sequence([PreTokenizer])

    enum PrependScheme: String, Sendable { case first, always, never }

    static func parse(_ json: JSONValue?, file: String, key: String = "pre_tokenizer") throws -> PreTokenizer? {
        guard let json, !JSONReader.isNull(json) else { return nil }
        let obj = try JSONReader.object(json, file: file, key: key)
        let type = try JSONReader.string(obj["type"], file: file, key: key + ".type")
        switch type {
        case "ByteLevel":
            let prefix = try JSONReader.bool(obj["add_prefix_space"], file: file, key: key + ".add_prefix_space", default: true)
            let useRegex = try JSONReader.bool(obj["use_regex"], file: file, key: key + ".use_regex", default: true)
            return .byteLevel(addPrefixSpace: prefix, regex: useRegex ? .gpt2 : nil)
        case "Split":
            let pattern = try JSONReader.object(obj["pattern"], file: file, key: key + ".pattern")
            let regex = try JSONReader.string(pattern["Regex"] ?? pattern["String"], file: file, key: key + ".pattern.Regex")
            guard let splitter = RegexSplitter(pattern: regex) else {
                throw TokenizerError.unsupported(file: file, key: key + ".pattern.Regex", found: regex,
                                                 supported: "the GPT-2, Llama 3 and Qwen2 patterns")
            }
            let behavior = try JSONReader.string(obj["behavior"], file: file, key: key + ".behavior")
            let invert = try JSONReader.bool(obj["invert"], file: file, key: key + ".invert", default: false)
            guard behavior == "Isolated", !invert else {
                throw TokenizerError.unsupported(file: file, key: key + ".behavior", found: "\(behavior) invert=\(invert)",
                                                 supported: "Isolated without invert")
            }
            return .split(splitter)
        case "Metaspace":
            let replacement = try JSONReader.string(obj["replacement"], file: file, key: key + ".replacement")
            var scheme = PrependScheme.always
            if let s = try JSONReader.optionalString(obj["prepend_scheme"], file: file, key: key + ".prepend_scheme") {
                guard let v = PrependScheme(rawValue: s) else {
                    throw TokenizerError.unsupported(file: file, key: key + ".prepend_scheme", found: s, supported: "first, always, never")
                }
                scheme = v
            } else if obj["add_prefix_space"] != nil {
                scheme = try JSONReader.bool(obj["add_prefix_space"], file: file, key: key + ".add_prefix_space", default: true) ? .always : .never
            }
            let split = try JSONReader.bool(obj["split"], file: file, key: key + ".split", default: true)
            return .metaspace(replacement: Array(replacement.utf8), prepend: scheme, split: split)
        case "Sequence":
            let items = try JSONReader.array(obj["pretokenizers"], file: file, key: key + ".pretokenizers")
            return .sequence(try items.enumerated().compactMap { try parse($1, file: file, key: "\(key).pretokenizers[\($0)]") })
        default:
            throw TokenizerError.unsupported(file: file, key: key + ".type", found: type, supported: "ByteLevel, Split, Metaspace, Sequence")
        }
    }

    /// Applies the pre-tokenizer to `pieces` of `buffer`.
    /// - Parameter isFirstSegment: the text starts at offset 0 of the input (for `prepend_scheme: first`).
    /// - Complexity: O(n).
    func apply(_ buffer: inout [UInt8], _ pieces: inout [Range<Int>], isFirstSegment: Bool, scratch: inout SplitScratch) {
        switch self {
        case let .byteLevel(addPrefixSpace, regex):
            if addPrefixSpace {
                rebuild(&buffer, &pieces) { piece, out in
                    if piece.first != UInt8(ascii: " ") { out.append(UInt8(ascii: " ")) }
                    out.append(contentsOf: piece)
                }
            }
            if let regex { Self.regexSplit(regex, buffer, &pieces, &scratch) }
        case .split(let regex):
            Self.regexSplit(regex, buffer, &pieces, &scratch)
        case let .metaspace(replacement, prepend, split):
            rebuild(&buffer, &pieces) { piece, out in
                let replaced = replaceAll(Array(piece), [UInt8(ascii: " ")], replacement)
                let shouldPrepend = prepend == .always || (prepend == .first && isFirstSegment)
                if shouldPrepend && !replaced.starts(with: replacement) { out.append(contentsOf: replacement) }
                out.append(contentsOf: replaced)
            }
            if split {
                var result: [Range<Int>] = []
                for r in pieces {
                    var start = r.lowerBound
                    var i = r.lowerBound
                    while i < r.upperBound {
                        if i > start && buffer[i...].starts(with: replacement) && i + replacement.count <= r.upperBound {
                            result.append(start..<i)
                            start = i
                        }
                        i += buffer[i...].starts(with: replacement) ? replacement.count : 1
                    }
                    if start < r.upperBound { result.append(start..<r.upperBound) }
                }
                pieces = result
            }
        case .sequence(let items):
            for p in items { p.apply(&buffer, &pieces, isFirstSegment: isFirstSegment, scratch: &scratch) }
        }
    }

    private func rebuild(_ buffer: inout [UInt8], _ pieces: inout [Range<Int>], _ body: (ArraySlice<UInt8>, inout [UInt8]) -> Void) {
        var out: [UInt8] = []
        out.reserveCapacity(buffer.count + pieces.count)
        var newPieces: [Range<Int>] = []
        newPieces.reserveCapacity(pieces.count)
        for r in pieces {
            let start = out.count
            body(buffer[r], &out)
            newPieces.append(start..<out.count)
        }
        buffer = out
        pieces = newPieces
    }

    private static func regexSplit(_ regex: RegexSplitter, _ buffer: [UInt8], _ pieces: inout [Range<Int>], _ scratch: inout SplitScratch) {
        var result: [Range<Int>] = []
        result.reserveCapacity(buffer.count / 3)
        buffer.withUnsafeBufferPointer { b in
            for r in pieces { regex.split(b, r, scratch: &scratch, into: &result) }
        }
        pieces = result
    }
}
