import Foundation
import MnemoMemory

/// Entries held back from an index that needs training (IVF, PQ) until there are enough keys to train it.
struct PendingEntries {
    var keys: [Float] = []
    var values: [Float] = []
    var positions: [Int64] = []
}

extension MemoryState {
    /// Keys an index described by `description` needs before it is trained without FAISS's
    /// "please provide at least 39 × k training points" warning: 39 per IVF list and per PQ centroid
    /// (256). Flat, HNSW and SQ need none (SQ trains on any sample).
    static func trainingPoints(for description: String) -> Int {
        var clusters = 0
        let upper = description.uppercased()
        if let range = upper.range(of: #"IVF\d+"#, options: .regularExpression) {
            clusters = max(clusters, Int(upper[range].dropFirst(3)) ?? 0)
        }
        if upper.range(of: #"PQ\d+"#, options: .regularExpression) != nil { clusters = max(clusters, 256) }
        return 39 * clusters
    }

    /// Adds entries to `store`. An untrained store (IVF, PQ) holds them back until
    /// `trainingPoints` keys have arrived, trains on all of them and then stores them; until then they
    /// cannot be retrieved.
    func add(to store: ShardedVectorStore, keys: [Float], values: [Float], positions: [Int64]) throws {
        guard !store.isTrained else {
            try store.append(keys: keys, values: values, positions: positions)
            return
        }
        let id = ObjectIdentifier(store)
        var pending = pendingTraining[id] ?? PendingEntries()
        pending.keys += keys
        pending.values += values
        pending.positions += positions
        let needed = max(1, Self.trainingPoints(for: store.configuration.indexDescription))
        if pending.positions.count >= needed {
            try store.train(pending.keys)
            try store.append(keys: pending.keys, values: pending.values, positions: pending.positions)
            pendingTraining[id] = nil
        } else {
            pendingTraining[id] = pending
        }
    }
}
