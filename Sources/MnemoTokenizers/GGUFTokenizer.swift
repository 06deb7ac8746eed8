import Foundation
import MnemoFormats

extension Tokenizer {
    /// Builds the tokenizer stored in a GGUF file's `tokenizer.ggml.*` metadata, so a `.gguf` alone is
    /// a complete tokenizer (llama.cpp `src/llama-vocab.cpp`, `llama_vocab::impl::load`).
    ///
    /// - `tokenizer.ggml.model = "llama"`: SentencePiece BPE by score (`llm_tokenizer_spm`), with
    ///   `add_space_prefix`, `<0xXX>` byte tokens and control/user-defined tokens split out first.
    /// - `tokenizer.ggml.model = "gpt2"`: byte-level BPE from `tokenizer.ggml.merges`, pre-tokenized by
    ///   the pattern named in `tokenizer.ggml.pre` (`gpt-2`, `llama-bpe`/`llama3`, `qwen2`).
    /// - Throws: `TokenizerError` naming the missing or invalid key.
    public convenience init(gguf: GGUFFile) throws {
        let file = gguf.url.path
        let meta = gguf.metadata
        func key(_ k: String) -> String { "tokenizer.ggml." + k }
        guard let modelValue = meta[key("model")] else { throw TokenizerError.missingKey(file: file, key: key("model")) }
        guard let modelName = modelValue.stringValue else {
            throw TokenizerError.invalidValue(file: file, key: key("model"), found: "\(modelValue)", expected: "a string")
        }
        guard let tokensValue = meta[key("tokens")] else { throw TokenizerError.missingKey(file: file, key: key("tokens")) }
        guard let tokens = tokensValue.stringArray else {
            throw TokenizerError.invalidValue(file: file, key: key("tokens"), found: "a non-string-array value", expected: "an array of strings")
        }
        let n = tokens.count
        func optionalArray<T>(_ k: String, _ get: (GGUFValue) -> [T]?, what: String) throws -> [T]? {
            guard let v = meta[key(k)] else { return nil }
            guard let a = get(v), a.count == n else {
                throw TokenizerError.invalidValue(file: file, key: key(k), found: "\(get(v)?.count.description ?? "a wrong-type") entries",
                                                  expected: "\(n) \(what) (one per token)")
            }
            return a
        }
        let types = try optionalArray("token_type", { $0.intArray }, what: "integers") ?? [Int](repeating: 1, count: n)
        func optionalID(_ k: String) throws -> Int? {
            guard let v = meta[key(k)] else { return nil }
            guard let id = v.intValue, id >= 0, id < n else {
                throw TokenizerError.invalidValue(file: file, key: key(k), found: "\(v)", expected: "a token id in 0..<\(n)")
            }
            return id
        }
        func flag(_ k: String, _ def: Bool) throws -> Bool {
            guard let v = meta[key(k)] else { return def }
            guard let b = v.boolValue ?? v.intValue.map({ $0 != 0 }) else {
                throw TokenizerError.invalidValue(file: file, key: key(k), found: "\(v)", expected: "a boolean")
            }
            return b
        }
        let pieces = tokens.map { Array($0.utf8) }
        // Control (3), user-defined (4) and unknown (2) tokens are split out of the text first.
        let specials = (0..<n).filter { types[$0] == 3 || types[$0] == 4 || types[$0] == 2 }
            .map { AddedTokenPattern(bytes: pieces[$0], id: $0) }
        var special = [Bool](repeating: false, count: n)
        for i in 0..<n where types[i] == 3 { special[i] = true }
        var chatTemplate: String? = nil
        if let t = meta["tokenizer.chat_template"] {
            guard let s = t.stringValue else {
                throw TokenizerError.invalidValue(file: file, key: "tokenizer.chat_template", found: "\(t)", expected: "a string")
            }
            chatTemplate = s
        }
        let templateOrigin = "\(file): tokenizer.chat_template"
        /// Special token strings for chat templates, from the ids llama.cpp uses.
        func specialTokens(bos: Int?, eos: Int?) throws -> [String: String] {
            var out: [String: String] = [:]
            for (name, id) in [("bos_token", bos), ("eos_token", eos), ("unk_token", try optionalID("unknown_token_id")),
                               ("pad_token", try optionalID("padding_token_id"))] {
                if let id { out[name] = tokens[id] }
            }
            return out
        }

        switch modelName {
        case "llama":
            let scores = try optionalArray("scores", { $0.floatArray }, what: "floats") ?? [Float](repeating: 0, count: n)
            var vocabulary: ByteMap = ByteMap()
            vocabulary.reserveCapacity(n)
            var byteIDs = [Int32](repeating: -1, count: 256)
            var crosses = false
            for (i, p) in pieces.enumerated() {
                if vocabulary[p] == nil { vocabulary[p] = Int32(i) }
                if types[i] == 6, let b = TokenDecoder.byteToken(p) { byteIDs[Int(b)] = Int32(i) }
                if hasMetaspaceAfterCharacter(p) { crosses = true }
            }
            let unk = try optionalID("unknown_token_id") ?? (n > 0 ? 0 : -1)
            let bos = try optionalID("bos_token_id") ?? (n > 1 ? 1 : nil)
            let eos = try optionalID("eos_token_id") ?? (n > 2 ? 2 : nil)
            let addSpacePrefix = try flag("add_space_prefix", true)
            let model = ScoreSPMModel(vocabulary: vocabulary, scores: scores, byteIDs: byteIDs, unknownID: Int32(unk),
                                      splitsBeforeMetaspace: !crosses)
            var steps: [Normalizer] = []
            if addSpacePrefix { steps.append(.prepend(Array("\u{2581}".utf8))) }
            steps.append(.replace(pattern: [UInt8(ascii: " ")], content: Array("\u{2581}".utf8)))
            var decoders: [TokenDecoder] = [.replace(pattern: Array("\u{2581}".utf8), content: [UInt8(ascii: " ")]), .byteFallback, .fuse]
            if addSpacePrefix { decoders.append(.strip(content: [UInt8(ascii: " ")], start: 1, stop: 0)) }
            let post = PostProcessor(prefix: try flag("add_bos_token", true) ? bos.map { [$0] } ?? [] : [],
                                     suffix: try flag("add_eos_token", false) ? eos.map { [$0] } ?? [] : [])
            self.init(model: .scoreSPM(model), rawMatcher: AddedTokenMatcher(specials), normalizedMatcher: AddedTokenMatcher([]),
                      normalizer: .sequence(steps), preTokenizer: nil, decoder: .sequence(decoders), postProcessor: post,
                      pieces: pieces, special: special, bosTokenID: bos, eosTokenIDs: Self.eosList(eos, try optionalID("eot_token_id")),
                      chatTemplate: chatTemplate, chatTemplateOrigin: templateOrigin, specialTokens: try specialTokens(bos: bos, eos: eos))
        case "gpt2":
            guard let mergesValue = meta[key("merges")] else { throw TokenizerError.missingKey(file: file, key: key("merges")) }
            guard let merges = mergesValue.stringArray else {
                throw TokenizerError.invalidValue(file: file, key: key("merges"), found: "a non-string-array value", expected: "an array of strings")
            }
            // Files older than the `pre` key (llama.cpp 2024-04) are read with the GPT-2 pattern. llama.cpp's
            // "default" BPE pre-tokenizer uses different patterns and is not supported.
            let preName = meta[key("pre")]?.stringValue ?? "gpt-2"
            let splitter: RegexSplitter
            switch preName {
            case "gpt-2": splitter = .gpt2
            case "llama-bpe", "llama3", "llama-v3": splitter = .llama3
            case "qwen2": splitter = .qwen2
            default:
                throw TokenizerError.unsupported(file: file, key: key("pre"), found: preName, supported: "gpt-2, llama-bpe, qwen2")
            }
            var stringToID: ByteMap = ByteMap()
            var vocabulary: ByteMap = ByteMap()
            for (i, t) in pieces.enumerated() where stringToID[t] == nil {
                stringToID[t] = Int32(i)
                vocabulary[ByteLevel.decode(utf8: t)] = Int32(i)
            }
            var byteIDs = [Int32](repeating: -1, count: 256)
            for b in 0..<256 {
                guard let id = stringToID[Array(ByteLevel.encode([UInt8(b)]).utf8)] else {
                    throw TokenizerError.invalidValue(file: file, key: key("tokens"), found: "no token for byte \(b)",
                                                      expected: "all 256 byte-level characters")
                }
                byteIDs[b] = id
            }
            var table = PairTable(capacity: merges.count)
            for (rank, m) in merges.enumerated() {
                let (a, b) = try HFTokenizerLoader.mergePair(m, rank: rank, file: file)
                let (l, r, merged) = try HFTokenizerLoader.resolveMerge(a, b, stringToID, rank: rank, file: file)
                table.insertIfAbsent(left: l, right: r, rank: UInt32(rank), merged: merged)
            }
            let model = BPEModel(alphabet: .byteLevel, byteIDs: byteIDs, scalarIDs: [:], vocabulary: vocabulary, merges: table,
                                 unknownID: -1, fuseUnknown: false, byteFallback: false, ignoreMerges: splitter == .llama3,
                                 splitsBeforeMetaspace: false)
            let bos = try optionalID("bos_token_id")
            let eos = try optionalID("eos_token_id")
            let post = PostProcessor(prefix: try flag("add_bos_token", false) ? bos.map { [$0] } ?? [] : [],
                                     suffix: try flag("add_eos_token", false) ? eos.map { [$0] } ?? [] : [])
            self.init(model: .bpe(model), rawMatcher: AddedTokenMatcher(specials), normalizedMatcher: AddedTokenMatcher([]),
                      normalizer: nil, preTokenizer: .split(splitter), decoder: .byteLevel, postProcessor: post,
                      pieces: pieces, special: special, bosTokenID: bos, eosTokenIDs: Self.eosList(eos, try optionalID("eot_token_id")),
                      chatTemplate: chatTemplate, chatTemplateOrigin: templateOrigin, specialTokens: try specialTokens(bos: bos, eos: eos))
        default:
            throw TokenizerError.unsupported(file: file, key: key("model"), found: modelName, supported: "llama, gpt2")
        }
    }

    private static func eosList(_ eos: Int?, _ eot: Int?) -> [Int] {
        var list: [Int] = []
        if let eos { list.append(eos) }
        if let eot, eot != eos { list.append(eot) }
        return list
    }
}
