import MnemoModels

extension KVCache: ModelState {}

extension LanguageModel: LogitsModel {
    /// `config.vocabularySize`.
    public var vocabularySize: Int { config.vocabularySize }
    /// `config.contextLength`.
    public var contextLength: Int { config.contextLength }
    /// `config.eosTokenIDs`.
    public var endOfSequenceTokenIDs: [Int] { config.eosTokenIDs }

    /// A fresh KV cache.
    public func makeState() -> any ModelState { makeCache() }

    /// `forward(_:cache:allLogits:)` on a state made by `makeState()`.
    /// - Throws: `GenerationError.foreignState` when `state` is not a `KVCache`, or the model's error.
    public func forward(_ tokens: [Int], state: any ModelState, allLogits: Bool) throws -> [Float] {
        guard let cache = state as? KVCache else {
            throw GenerationError.foreignState(expected: "KVCache", found: "\(type(of: state))")
        }
        return try forward(tokens, cache: cache, allLogits: allLogits)
    }
}
