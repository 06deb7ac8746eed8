import Foundation

/// Builds a `Tokenizer` from Hugging Face `tokenizer.json` (+ optional `tokenizer_config.json`),
/// following `tokenizers` (`tokenizer/serialization.rs`, `models/bpe/serialization.rs`) and
/// `transformers` (`LlamaTokenizerFast.update_post_processor` for `add_bos_token` / `add_eos_token`).
enum HFTokenizerLoader {
    static func load(tokenizerJSON url: URL, config configURL: URL?) throws -> Tokenizer {
        let file = url.path
        let data = try readData(url)
        let root = try JSONReader.parse(data, file: file)
        var config: JSONObject? = nil
        if let configURL, FileManager.default.fileExists(atPath: configURL.path) {
            config = try JSONReader.parse(try readData(configURL), file: configURL.path)
        }
        return try build(root, file: file, config: config, configFile: configURL?.path ?? "tokenizer_config.json")
    }

    /// Builds from in-memory `tokenizer.json` bytes (`file` names it in errors).
    static func load(data: Data, file: String, configData: Data? = nil) throws -> Tokenizer {
        let root = try JSONReader.parse(data, file: file)
        let config = try configData.map { try JSONReader.parse($0, file: "tokenizer_config.json") }
        return try build(root, file: file, config: config, configFile: "tokenizer_config.json")
    }

    static func readData(_ url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch {
            throw TokenizerError.unreadable(file: url.path, reason: (error as NSError).localizedDescription)
        }
    }

    static func build(_ root: JSONObject, file: String, config: JSONObject?, configFile: String) throws -> Tokenizer {
        let modelJSON = try JSONReader.object(root["model"], file: file, key: "model")
        let type = try JSONReader.optionalString(modelJSON["type"], file: file, key: "model.type") ?? "BPE"
        guard type == "BPE" else {
            throw TokenizerError.unsupported(file: file, key: "model.type", found: type, supported: "BPE")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let s = try JSONReader.optionalString(modelJSON[key], file: file, key: "model.\(key)"), !s.isEmpty {
                throw TokenizerError.unsupported(file: file, key: "model.\(key)", found: s, supported: "empty or null")
            }
        }
        let vocabJSON = try JSONReader.object(modelJSON["vocab"], file: file, key: "model.vocab")
        let mergesJSON = try JSONReader.array(modelJSON["merges"], file: file, key: "model.merges")
        let normalizer = try Normalizer.parse(root["normalizer"], file: file)
        let preTokenizer = try PreTokenizer.parse(root["pre_tokenizer"], file: file)
        let decoder = try TokenDecoder.parse(root["decoder"], file: file)
        var postProcessor = try PostProcessor.parse(root["post_processor"], file: file)

        // Vocabulary: token bytes → id (bytes, not String: see JSONValue).
        var stringToID: ByteMap = ByteMap()
        stringToID.reserveCapacity(vocabJSON.count)
        var maxID = -1
        var maxIDKey = "model.vocab"
        for (token, value) in zip(vocabJSON.keys, vocabJSON.values) {
            guard case .number(let d) = value, let id = Int(exactly: d), id >= 0, id < Int(Int32.max) else {
                throw TokenizerError.invalidValue(file: file, key: "model.vocab.\(String(decoding: token, as: UTF8.self))",
                                                  found: JSONReader.typeName(value), expected: "a non-negative integer id")
            }
            stringToID[token] = Int32(id)
            if id > maxID { maxID = id; maxIDKey = "model.vocab.\(String(decoding: token, as: UTF8.self))" }
        }

        // Added tokens.
        var added: [AddedToken] = []
        for (i, item) in try JSONReader.array(root["added_tokens"] ?? .array([]), file: file, key: "added_tokens").enumerated() {
            let k = "added_tokens[\(i)]"
            let o = try JSONReader.object(item, file: file, key: k)
            var token = AddedToken(
                id: try JSONReader.int(o["id"], file: file, key: k + ".id"),
                content: try JSONReader.string(o["content"], file: file, key: k + ".content"),
                special: try JSONReader.bool(o["special"], file: file, key: k + ".special", default: false),
                lstrip: try JSONReader.bool(o["lstrip"], file: file, key: k + ".lstrip", default: false),
                rstrip: try JSONReader.bool(o["rstrip"], file: file, key: k + ".rstrip", default: false),
                normalized: try JSONReader.bool(o["normalized"], file: file, key: k + ".normalized", default: true),
                singleWord: try JSONReader.bool(o["single_word"], file: file, key: k + ".single_word", default: false))
            guard token.id >= 0, token.id < Int(Int32.max) else {
                throw TokenizerError.invalidValue(file: file, key: k + ".id", found: "\(token.id)", expected: "a non-negative id")
            }
            // HF `AddedVocabulary::add_tokens`: a token already in the model vocabulary keeps the vocabulary id.
            if let vocabID = stringToID[Array(token.content.utf8)] { token.id = Int(vocabID) }
            added.append(token)
            if token.id > maxID { maxID = token.id; maxIDKey = k + ".id" }
        }
        // `pieces` and `special` are sized maxID + 1: a sparse id (e.g. 2147483646) would allocate
        // gigabytes, so ids must stay near the token count (HF vocabularies are dense 0..<n).
        let idLimit = 2 * (stringToID.count + added.count) + 1024
        guard maxID < idLimit else {
            throw TokenizerError.invalidValue(file: file, key: maxIDKey, found: "id \(maxID)",
                                              expected: "an id below \(idLimit) (2 x \(stringToID.count + added.count) tokens + 1024)")
        }

        let byteLevel = isByteLevel(preTokenizer) || { if case .byteLevel = decoder { return true }; return false }()
        var pieces = [[UInt8]](repeating: [], count: maxID + 1)
        for (token, id) in stringToID { pieces[Int(id)] = token }
        for t in added where pieces[t.id].isEmpty { pieces[t.id] = Array(t.content.utf8) }

        // Model.
        var vocabulary: ByteMap = ByteMap()
        vocabulary.reserveCapacity(stringToID.count)
        var byteIDs = [Int32](repeating: -1, count: 256)
        var scalarIDs: [UInt32: Int32] = [:]
        if byteLevel {
            for (token, id) in stringToID { vocabulary[ByteLevel.decode(utf8: token)] = id }
            for b in 0..<256 {
                guard let id = stringToID[Array(ByteLevel.encode([UInt8(b)]).utf8)] else {
                    throw TokenizerError.invalidValue(file: file, key: "model.vocab", found: "no token for byte \(b)",
                                                      expected: "all 256 byte-level characters")
                }
                byteIDs[b] = id
            }
        } else {
            for (token, id) in stringToID {
                vocabulary[token] = id
                let scalars = String(decoding: token, as: UTF8.self).unicodeScalars
                if scalars.count == 1, let s = scalars.first { scalarIDs[s.value] = id }
                if let b = TokenDecoder.byteToken(token) { byteIDs[Int(b)] = id }
            }
        }
        var merges = PairTable(capacity: mergesJSON.count)
        var crossesMetaspace = false
        for (rank, item) in mergesJSON.enumerated() {
            let (a, b) = try mergePair(item, rank: rank, file: file)
            let (left, right, merged) = try resolveMerge(a, b, stringToID, rank: rank, file: file)
            merges.insertIfAbsent(left: left, right: right, rank: UInt32(rank), merged: merged)
            if !byteLevel && hasMetaspaceAfterCharacter(a + b) { crossesMetaspace = true }
        }
        var unknownID: Int32 = -1
        if let unk = try JSONReader.optionalString(modelJSON["unk_token"], file: file, key: "model.unk_token") {
            unknownID = stringToID[Array(unk.utf8)] ?? -1
        }
        let model = BPEModel(
            alphabet: byteLevel ? .byteLevel : .characters, byteIDs: byteIDs, scalarIDs: scalarIDs,
            vocabulary: vocabulary, merges: merges, unknownID: unknownID,
            fuseUnknown: try JSONReader.bool(modelJSON["fuse_unk"], file: file, key: "model.fuse_unk", default: false),
            byteFallback: try JSONReader.bool(modelJSON["byte_fallback"], file: file, key: "model.byte_fallback", default: false),
            ignoreMerges: try JSONReader.bool(modelJSON["ignore_merges"], file: file, key: "model.ignore_merges", default: false),
            splitsBeforeMetaspace: !byteLevel && !crossesMetaspace && preTokenizer == nil)

        // Added-token matchers; normalized tokens are matched in their normalized form.
        let raw = added.filter { !$0.normalized }.map {
            AddedTokenPattern(bytes: Array($0.content.utf8), id: $0.id, lstrip: $0.lstrip, rstrip: $0.rstrip, singleWord: $0.singleWord)
        }
        let normalizedTokens = added.filter { $0.normalized }.map { t in
            AddedTokenPattern(bytes: normalizer?.apply(Array(t.content.utf8)) ?? Array(t.content.utf8), id: t.id,
                              lstrip: t.lstrip, rstrip: t.rstrip, singleWord: t.singleWord)
        }
        var special = [Bool](repeating: false, count: maxID + 1)
        for t in added where t.special { special[t.id] = true }

        // tokenizer_config.json: BOS/EOS, add_bos_token/add_eos_token, chat template.
        func idOf(_ content: String?) -> Int? {
            guard let content else { return nil }
            if let t = added.first(where: { $0.content == content }) { return t.id }
            return stringToID[Array(content.utf8)].map { Int($0) }
        }
        func tokenContent(_ key: String) throws -> String? {
            guard let config, let v = config[key], !JSONReader.isNull(v) else { return nil }
            if case .string(let s) = v { return s }
            let o = try JSONReader.object(v, file: configFile, key: key)
            return try JSONReader.string(o["content"], file: configFile, key: key + ".content")
        }
        let bos = idOf(try tokenContent("bos_token")) ?? postProcessor.prefix.first
        var eos: [Int] = []
        if let e = idOf(try tokenContent("eos_token")) {
            eos = [e]
        } else if let e = postProcessor.suffix.last {
            eos = [e]
        } else {
            for name in ["</s>", "<|endoftext|>", "<|end_of_text|>", "<|eot_id|>", "<|im_end|>"] {
                if let id = added.first(where: { $0.content == name })?.id { eos.append(id) }
            }
        }
        if let config, config["add_bos_token"] != nil || config["add_eos_token"] != nil {
            let addBOS = try JSONReader.bool(config["add_bos_token"], file: configFile, key: "add_bos_token", default: false)
            let addEOS = try JSONReader.bool(config["add_eos_token"], file: configFile, key: "add_eos_token", default: false)
            postProcessor = PostProcessor(prefix: addBOS ? bos.map { [$0] } ?? [] : [], suffix: addEOS ? eos.prefix(1).map { $0 } : [])
        }
        var chatTemplate: String? = nil
        if let config, let t = config["chat_template"], !JSONReader.isNull(t) {
            if case .string(let s) = t {
                chatTemplate = s
            } else {
                let list = try JSONReader.array(t, file: configFile, key: "chat_template")
                for (i, item) in list.enumerated() {
                    let o = try JSONReader.object(item, file: configFile, key: "chat_template[\(i)]")
                    let isDefault: Bool
                    if case .string("default")? = o["name"] { isDefault = true } else { isDefault = false }
                    if isDefault || chatTemplate == nil {
                        chatTemplate = try JSONReader.string(o["template"], file: configFile, key: "chat_template[\(i)].template")
                    }
                }
            }
        }
        // transformers passes `special_tokens_map` (the configuration's token strings) to chat templates.
        var specialTokens: [String: String] = [:]
        for name in ["bos_token", "eos_token", "unk_token", "pad_token"] {
            if let content = try tokenContent(name) { specialTokens[name] = content }
        }
        return Tokenizer(model: .bpe(model), rawMatcher: AddedTokenMatcher(raw), normalizedMatcher: AddedTokenMatcher(normalizedTokens),
                         normalizer: normalizer, preTokenizer: preTokenizer, decoder: decoder, postProcessor: postProcessor,
                         pieces: pieces, special: special, bosTokenID: bos, eosTokenIDs: eos, chatTemplate: chatTemplate,
                         chatTemplateOrigin: "\(configFile): chat_template", specialTokens: specialTokens)
    }

    /// A merge given as `"a b"` or `["a", "b"]`, as bytes.
    static func mergePair(_ item: JSONValue, rank: Int, file: String) throws -> ([UInt8], [UInt8]) {
        if case .string(let s) = item { return try mergePair(s, rank: rank, file: file) }
        if case .array(let a) = item, a.count == 2, case .string(let l) = a[0], case .string(let r) = a[1] {
            return (Array(l.utf8), Array(r.utf8))
        }
        throw TokenizerError.invalidValue(file: file, key: "model.merges[\(rank)]", found: JSONReader.typeName(item), expected: "\"a b\" or [a, b]")
    }

    /// A merge given as `"a b"`, as bytes.
    static func mergePair(_ s: String, rank: Int, file: String) throws -> ([UInt8], [UInt8]) {
        let bytes = Array(s.utf8)
        let parts = bytes.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw TokenizerError.invalidValue(file: file, key: "merges[\(rank)]", found: "'\(s)'", expected: "two tokens separated by one space")
        }
        return (Array(parts[0]), Array(parts[1]))
    }

    /// Ids of a merge's left and right tokens and of their concatenation.
    static func resolveMerge(_ a: [UInt8], _ b: [UInt8], _ ids: ByteMap, rank: Int, file: String) throws -> (Int32, Int32, Int32) {
        func name(_ x: [UInt8]) -> String { String(decoding: x, as: UTF8.self) }
        guard let left = ids[a] else { throw TokenizerError.unknownMergeToken(file: file, index: rank, token: name(a)) }
        guard let right = ids[b] else { throw TokenizerError.unknownMergeToken(file: file, index: rank, token: name(b)) }
        guard let merged = ids[a + b] else { throw TokenizerError.unknownMergeToken(file: file, index: rank, token: name(a + b)) }
        return (left, right, merged)
    }

    private static func isByteLevel(_ p: PreTokenizer?) -> Bool {
        switch p {
        case .byteLevel?: return true
        case .sequence(let items)?: return items.contains { isByteLevel($0) }
        default: return false
        }
    }
}

/// True when `▁` (U+2581) occurs right after a character that is not `▁`.
func hasMetaspaceAfterCharacter(_ bytes: [UInt8]) -> Bool {
    var i = 0
    var previousWasOther = false
    while i < bytes.count {
        if bytes[i] == 0xE2 && i + 2 < bytes.count && bytes[i + 1] == 0x96 && bytes[i + 2] == 0x81 {
            if previousWasOther { return true }
            previousWasOther = false
            i += 3
        } else {
            previousWasOther = true
            i += utf8Length(bytes[i])
        }
    }
    return false
}
