import Foundation

/// The special tokens a post-processor adds around a single sequence (HF `processors/*.rs`:
/// `TemplateProcessing`, `RobertaProcessing`, `BertProcessing`, `ByteLevel` (adds none), `Sequence`).
struct PostProcessor: Sendable, Equatable {
    var prefix: [Int] = []
    var suffix: [Int] = []

    static func parse(_ json: JSONValue?, file: String, key: String = "post_processor") throws -> PostProcessor {
        guard let json, !JSONReader.isNull(json) else { return PostProcessor() }
        let obj = try JSONReader.object(json, file: file, key: key)
        let type = try JSONReader.string(obj["type"], file: file, key: key + ".type")
        switch type {
        case "ByteLevel":
            return PostProcessor()
        case "RobertaProcessing", "BertProcessing":
            func pairID(_ k: String) throws -> Int {
                let a = try JSONReader.array(obj[k], file: file, key: "\(key).\(k)")
                guard a.count == 2 else {
                    throw TokenizerError.invalidValue(file: file, key: "\(key).\(k)", found: "\(a.count) items", expected: "[token, id]")
                }
                return try JSONReader.int(a[1], file: file, key: "\(key).\(k)[1]")
            }
            return PostProcessor(prefix: [try pairID("cls")], suffix: [try pairID("sep")])
        case "TemplateProcessing":
            let single = try JSONReader.array(obj["single"], file: file, key: key + ".single")
            let specials = try JSONReader.object(obj["special_tokens"], file: file, key: key + ".special_tokens")
            var result = PostProcessor()
            var seenSequence = false
            for (i, item) in single.enumerated() {
                let k = "\(key).single[\(i)]"
                let piece = try JSONReader.object(item, file: file, key: k)
                if piece["Sequence"] != nil { seenSequence = true; continue }
                let special = try JSONReader.object(piece["SpecialToken"], file: file, key: k + ".SpecialToken")
                let name = try JSONReader.string(special["id"], file: file, key: k + ".SpecialToken.id")
                let entry = try JSONReader.object(specials[name], file: file, key: "\(key).special_tokens.\(name)")
                let ids = try JSONReader.array(entry["ids"], file: file, key: "\(key).special_tokens.\(name).ids")
                    .enumerated().map { try JSONReader.int($1, file: file, key: "\(key).special_tokens.\(name).ids[\($0)]") }
                if seenSequence { result.suffix += ids } else { result.prefix += ids }
            }
            return result
        case "Sequence":
            let items = try JSONReader.array(obj["processors"], file: file, key: key + ".processors")
            var result = PostProcessor()
            for (i, item) in items.enumerated() {
                let p = try parse(item, file: file, key: "\(key).processors[\(i)]")
                result.prefix = p.prefix + result.prefix
                result.suffix += p.suffix
            }
            return result
        default:
            throw TokenizerError.unsupported(file: file, key: key + ".type", found: type,
                                             supported: "TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel, Sequence")
        }
    }
}
