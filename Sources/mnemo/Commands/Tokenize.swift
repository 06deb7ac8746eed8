import ArgumentParser
import Foundation
import MnemoTokenizers

/// `mnemo tokenize`: text → ids, or ids → text with `--decode`.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Encode text to token ids, or decode ids to text.",
        discussion: """
            The tokenizer comes from --tokenizer (a Hugging Face folder, tokenizer.json, .gguf or llama2.c \
            tokenizer.bin) or is found for --model (HF folder: tokenizer.json; .gguf: embedded; llama2.c \
            checkpoint: tokenizer.bin or the single tok*.bin next to it).
            Ids are printed space-separated, or as {"tokens": [...]} with --json. With --decode the input \
            holds ids (separated by spaces, commas or newlines, or a JSON {"tokens": [...]}).
            """)

    @Option(help: "Model whose tokenizer to use: Hugging Face folder, .gguf file or llama2.c checkpoint .bin.")
    var model: String?

    @Option(help: "Tokenizer file or folder: tokenizer.json, its folder, .gguf or llama2.c tokenizer.bin.")
    var tokenizer: String?

    @Option(help: "Input text (or ids with --decode).")
    var text: String?

    @Option(help: "Read the input from this UTF-8 file (kept exactly: BOM and CRLF included).")
    var file: String?

    @Flag(help: "Print {\"tokens\": [...]} instead of space-separated ids.")
    var json = false

    @Flag(help: "Decode ids to text instead of encoding text.")
    var decode = false

    @Flag(name: .customLong("no-special"), help: "Encoding: add no BOS/EOS. Decoding: drop special tokens.")
    var noSpecial = false

    func validate() throws {
        guard (model == nil) != (tokenizer == nil) else {
            throw ValidationError("pass exactly one of --model PATH or --tokenizer PATH")
        }
        guard (text == nil) != (file == nil) else {
            throw ValidationError("pass exactly one of --text TEXT or --file FILE")
        }
    }

    func run() throws {
        let tok: Tokenizer
        if let model {
            tok = try Tokenizer.load(forModelAt: URL(fileURLWithPath: model))
        } else {
            tok = try Tokenizer.load(from: URL(fileURLWithPath: tokenizer ?? ""))
        }
        let input = try text ?? readUTF8Text(url: URL(fileURLWithPath: file ?? ""))
        var output: String
        if decode {
            output = tok.decode(try Self.parseIDs(input, vocabularySize: tok.vocabularySize), skipSpecialTokens: noSpecial)
            if json {
                let data = try JSONSerialization.data(withJSONObject: ["text": output], options: [.withoutEscapingSlashes])
                output = String(decoding: data, as: UTF8.self)
            }
        } else {
            let ids = tok.encode(input, addSpecialTokens: !noSpecial)
            let list = ids.map(String.init)
            output = json ? "{\"tokens\": [\(list.joined(separator: ", "))]}" : list.joined(separator: " ")
        }
        FileHandle.standardOutput.write(Data((output + "\n").utf8))
    }

    /// Ids from `12 34,56` or `{"tokens": [12, 34]}`; every id must be in `0..<vocabularySize`.
    static func parseIDs(_ input: String, vocabularySize: Int) throws -> [Int] {
        var body = input.trimmingCharacters(in: .whitespacesAndNewlines)
        if body.hasPrefix("{") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
                  let tokens = object["tokens"] as? [Any] else {
                throw ValidationError("--decode input: expected {\"tokens\": [ids...]}, found \(body.prefix(40))")
            }
            body = tokens.map { "\($0)" }.joined(separator: " ")
        } else if body.hasPrefix("[") && body.hasSuffix("]") {
            body = String(body.dropFirst().dropLast())
        }
        let parts = body.split(whereSeparator: { $0 == " " || $0 == "," || $0.isNewline || $0 == "\t" })
        return try parts.map { part in
            guard let id = Int(part), id >= 0, id < vocabularySize else {
                throw ValidationError("--decode input: '\(part)' is not a token id in 0..<\(vocabularySize)")
            }
            return id
        }
    }
}
