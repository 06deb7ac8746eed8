import Foundation

extension Tokenizer {
    /// Reads a llama2.c `tokenizer.bin`: int32 `max_token_length`, then per token a float32 score, an
    /// int32 byte length and the bytes (llama2.c `run.c` `build_tokenizer`), all little-endian.
    ///
    /// The file does not store the token count (run.c takes it from the checkpoint); tokens are read to
    /// the end of the file and, when `vocabularySize` is given, the count must match it.
    /// - Throws: `TokenizerError.truncated` when a field runs past the end of the file,
    ///   `.invalidValue` for a negative length, a length above `max_token_length`, or a count mismatch.
    public convenience init(llama2cURL url: URL, vocabularySize expected: Int? = nil) throws {
        try self.init(llama2cData: try HFTokenizerLoader.readData(url), file: url.path, vocabularySize: expected)
    }

    /// Parses llama2.c `tokenizer.bin` bytes; `file` names them in errors. See `init(llama2cURL:vocabularySize:)`.
    convenience init(llama2cData data: Data, file: String, vocabularySize expected: Int? = nil) throws {
        let bytes = [UInt8](data)
        var offset = 0
        func int32(_ field: String) throws -> Int32 {
            guard bytes.count - offset >= 4 else {
                throw TokenizerError.truncated(file: file, offset: offset, needed: 4, available: bytes.count - offset, field: field)
            }
            let v = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
            offset += 4
            return Int32(bitPattern: v)
        }
        let maxLength = Int(try int32("max_token_length"))
        guard maxLength > 0 else {
            throw TokenizerError.invalidValue(file: file, key: "max_token_length", found: "\(maxLength)", expected: "a positive length")
        }
        var vocab: [[UInt8]] = []
        var scores: [Float] = []
        while offset < bytes.count {
            let i = vocab.count
            let score = Float(bitPattern: UInt32(bitPattern: try int32("score of token \(i)")))
            let length = Int(try int32("length of token \(i)"))
            guard length >= 0, length <= maxLength else {
                throw TokenizerError.invalidValue(file: file, key: "length of token \(i) at byte offset \(offset - 4)", found: "\(length)",
                                                  expected: "0...\(maxLength) (max_token_length)")
            }
            guard bytes.count - offset >= length else {
                throw TokenizerError.truncated(file: file, offset: offset, needed: length, available: bytes.count - offset, field: "bytes of token \(i)")
            }
            vocab.append(Array(bytes[offset..<(offset + length)]))
            scores.append(score)
            offset += length
        }
        if let expected, expected != vocab.count {
            throw TokenizerError.invalidValue(file: file, key: "token count", found: "\(vocab.count)", expected: "\(expected) (the model's vocab_size)")
        }
        guard vocab.count >= 259 else {
            throw TokenizerError.invalidValue(file: file, key: "token count", found: "\(vocab.count)",
                                              expected: "at least 259 (<unk>, <s>, </s> and 256 byte tokens)")
        }
        var lookup: ByteMap = ByteMap()
        for (i, v) in vocab.enumerated().reversed() { lookup[v] = Int32(i) }
        let spaceAfterCharacter = vocab.contains { piece in
            piece.indices.dropFirst().contains { piece[$0] == 0x20 && piece[$0 - 1] != 0x20 }
        }
        let model = Llama2cModel(vocab: vocab, scores: scores, lookup: lookup, maxTokenLength: maxLength,
                                 splitsBeforeSpace: !spaceAfterCharacter)
        var special = [Bool](repeating: false, count: vocab.count)
        special[Llama2cModel.bos] = true
        special[Llama2cModel.eos] = true
        self.init(model: .llama2c(model), rawMatcher: AddedTokenMatcher([]), normalizedMatcher: AddedTokenMatcher([]),
                  normalizer: nil, preTokenizer: nil, decoder: nil, postProcessor: PostProcessor(prefix: [Llama2cModel.bos], suffix: []),
                  pieces: vocab, special: special, bosTokenID: Llama2cModel.bos, eosTokenIDs: [Llama2cModel.eos], chatTemplate: nil)
    }
}
