// FAISSDescription: a light syntactic check of FAISS index factory descriptions.
//
// Follows the token forms of facebookresearch/faiss `faiss/index_factory.cpp` that Mnemo uses, for the
// inner-product metric (so no LSH, which is L2-only). This is only a first filter so a plan fails early
// with a clear message; FAISS's index_factory remains the real check when the index is created
// (VectorIndexError.badDescription). The accepted and rejected examples in MemoryPlanTests were checked
// against the installed libfaiss's index_factory(64, _, METRIC_INNER_PRODUCT); this check is stricter
// only on degenerate forms (zero sizes such as "PQ0", which crashes FAISS, and "Flat,IDMap").

/// Syntax check of a FAISS index factory description such as `"IVF1024,PQ16"` or `"HNSW32"`.
enum FAISSDescription {
    /// Token forms accepted, for error messages.
    static let knownForms = "IDMap, IDMap2, PCA<n>, PCAR<n>, PCAW<n>, PCAWR<n>, OPQ<n>[_<d>], L2norm, "
        + "IVF<n>[_HNSW[<m>]], HNSW[<n>][_Flat|_SQ8|_PQ<m>], Flat, PQ<n>[x<bits>][np], SQ4, SQ6, SQ8, SQfp16, RFlat"

    private enum Role: Int, Comparable {
        case idMap, transform, coarse, encoding, refine
        static func < (a: Role, b: Role) -> Bool { a.rawValue < b.rawValue }
    }

    /// Returns nil when `description` looks like a FAISS factory description, else why not.
    static func problem(in description: String) -> String? {
        let tokens = description.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard !description.isEmpty else { return "empty description (e.g. \"Flat\", \"HNSW32\", \"IVF1024,Flat\")" }
        var previous: Role?
        var roles: [Role] = []
        for token in tokens {
            guard let role = role(of: token) else {
                return token.isEmpty ? "empty token between commas" : "unknown token '\(token)' (known: \(knownForms))"
            }
            if let previous, role < previous || (role == previous && role != .transform) {
                return "token '\(token)' is out of place (order: IDMap, transforms, IVF/HNSW, encoding, RFlat)"
            }
            previous = role
            roles.append(role)
        }
        if tokens.contains(where: { $0.hasPrefix("IVF") }), !roles.contains(.encoding) {
            return "IVF needs an encoding after it (e.g. \"IVF1024,Flat\" or \"IVF1024,PQ16\")"
        }
        if !roles.contains(.coarse), !roles.contains(.encoding) {
            return "no index: add Flat, HNSW<n>, IVF<n>,<encoding>, PQ<n> or SQ8"
        }
        return nil
    }

    /// Whether an index of this description stores its vectors exactly and can give them back
    /// (`FaissIndex.reconstruct`): `Flat` and `HNSW<n>` (Flat storage), optionally behind `IDMap2`.
    /// A retrieval datastore over such an index keeps no second copy of its hidden states.
    static func keepsExactVectors(_ description: String) -> Bool {
        var tokens = description.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        if tokens.first == "IDMap2" { tokens.removeFirst() }
        guard tokens.count == 1, let token = tokens.first else { return false }
        if token == "Flat" { return true }
        guard token.hasPrefix("HNSW") else { return false }
        let parts = token.dropFirst(4).split(separator: "_", maxSplits: 1, omittingEmptySubsequences: false)
        guard let links = parts.first, isOptionalNumber(links) else { return false }
        return parts.count == 1 || parts[1] == "Flat"
    }

    private static func role(of token: String) -> Role? {
        switch token {
        case "IDMap", "IDMap2": return .idMap
        case "L2norm": return .transform
        case "Flat", "SQ4", "SQ6", "SQ8", "SQfp16": return .encoding
        case "RFlat": return .refine
        default: break
        }
        for prefix in ["PCAWR", "PCAW", "PCAR", "PCA"] where token.hasPrefix(prefix) {
            return isNumber(token.dropFirst(prefix.count)) ? .transform : nil
        }
        if token.hasPrefix("OPQ") {
            let parts = token.dropFirst(3).split(separator: "_", omittingEmptySubsequences: false)
            return parts.count <= 2 && parts.allSatisfy(isNumber) ? .transform : nil
        }
        if token.hasPrefix("IVF") {
            let parts = token.dropFirst(3).split(separator: "_", maxSplits: 1, omittingEmptySubsequences: false)
            guard let lists = parts.first, isNumber(lists) else { return nil }
            if parts.count == 2 { return parts[1].hasPrefix("HNSW") && isOptionalNumber(parts[1].dropFirst(4)) ? .coarse : nil }
            return .coarse
        }
        if token.hasPrefix("HNSW") {
            let parts = token.dropFirst(4).split(separator: "_", maxSplits: 1, omittingEmptySubsequences: false)
            guard let links = parts.first, isOptionalNumber(links) else { return nil }
            if parts.count == 2 {
                let storage = String(parts[1])
                return storage == "Flat" || storage.hasPrefix("SQ") && role(of: storage) == .encoding
                    || storage.hasPrefix("PQ") && isProductQuantizer(storage) ? .coarse : nil
            }
            return .coarse
        }
        if token.hasPrefix("PQ") { return isProductQuantizer(token) ? .encoding : nil }
        return nil
    }

    /// `PQ<m>`, `PQ<m>x<bits>`, optionally ending in `np`.
    private static func isProductQuantizer(_ token: String) -> Bool {
        var body = Substring(token.dropFirst(2))
        if body.hasSuffix("np") { body = body.dropLast(2) }
        let parts = body.split(separator: "x", omittingEmptySubsequences: false)
        return (1 ... 2).contains(parts.count) && parts.allSatisfy(isNumber)
    }

    /// Empty (FAISS's default, e.g. 32 HNSW links) or a positive number.
    private static func isOptionalNumber(_ text: Substring) -> Bool {
        text.isEmpty || isNumber(text)
    }

    private static func isNumber(_ text: Substring) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && $0.isNumber } && (Int(text) ?? 0) > 0
    }
}
