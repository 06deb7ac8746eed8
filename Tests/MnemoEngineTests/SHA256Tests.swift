import XCTest
import MnemoModels
@testable import MnemoEngine

/// SHA-256 against independent values (FIPS 180-4 examples; fixture hashes that `sha256sum` recorded
/// in Fixtures/SOURCES.md), and the model checksum's sampling.
final class SHA256Tests: XCTestCase {
    private func hex(_ text: String) -> String {
        var hash = SHA256()
        hash.update(Array(text.utf8))
        return hash.hexDigest()
    }

    func testFIPSExamples() {
        XCTAssertEqual(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
                       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    }

    /// Feeding a message in two pieces, split anywhere, equals feeding it at once.
    func testIncrementalUpdatesEqualOneShot() {
        let message = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        var whole = SHA256()
        whole.update(message)
        let expected = whole.hexDigest()
        for split in 0...message.count {
            var hash = SHA256()
            hash.update(message[..<split])
            hash.update(message[split...])
            XCTAssertEqual(hash.hexDigest(), expected, "split at \(split)")
        }
    }

    /// The fixtures' SHA-256 as recorded (by `sha256sum`) in Fixtures/SOURCES.md.
    func testFixtureFilesMatchSourcesTable() throws {
        let root = PersistenceSupport.models.deletingLastPathComponent()
        let table = try String(contentsOf: root.appendingPathComponent("SOURCES.md"), encoding: .utf8)
        var checked = 0
        for path in ["models/llama-gqa/model.safetensors", "models/stories260K/stories260K.bin", "models/stories260K/tok512.bin"] {
            let row = try XCTUnwrap(table.components(separatedBy: "\n").first { $0.contains("`Fixtures/\(path)`") }, path)
            let recorded = try XCTUnwrap(row.components(separatedBy: "`").last { $0.count == 64 }, path)
            XCTAssertEqual(SHA256.tagged(try Data(contentsOf: root.appendingPathComponent(path))), "sha256:\(recorded)", path)
            checked += 1
        }
        XCTAssertEqual(checked, 3)
    }

    /// Above the whole-file limit only the head, the tail and the sampled blocks count: a change
    /// there changes the checksum, a change in a gap does not (the documented limitation); size
    /// always counts. Tested with small sampling sizes on a 64 KiB file.
    func testSampledFileChecksum() throws {
        let folder = try PersistenceSupport.temporaryDirectory(self)
        let url = folder.appendingPathComponent("weights.bin")
        let original = Data((0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) })
        let sampling = ModelIdentity.Sampling(wholeFileLimit: 16_384, headBytes: 1024, tailBytes: 512, blocks: 8, blockBytes: 256)
        func checksum(_ data: Data, _ sampling: ModelIdentity.Sampling) throws -> String {
            try data.write(to: url)
            var hash = SHA256()
            try ModelIdentity.hashFile(url, into: &hash, sampling: sampling)
            return hash.hexDigest()
        }
        let base = try checksum(original, sampling)
        func flipped(_ offset: Int) -> Data { var d = original; d[offset] ^= 1; return d }
        // Block i starts at (65536 - 256) * i / 7: block 3 covers 27_977 ..< 28_233.
        for offset in [0, 1023, 27_977 + 100, 65_535 - 511, 65_535] {
            XCTAssertNotEqual(try checksum(flipped(offset), sampling), base, "offset \(offset) is sampled")
        }
        for offset in [1024, 20_000, 40_000] {
            XCTAssertEqual(try checksum(flipped(offset), sampling), base, "offset \(offset) lies in a gap")
        }
        XCTAssertNotEqual(try checksum(original + Data([0]), sampling), base, "size")
        // Below the limit every byte counts.
        var whole = sampling
        whole.wholeFileLimit = 1 << 20
        let wholeBase = try checksum(original, whole)
        for offset in [1024, 20_000, 40_000] { XCTAssertNotEqual(try checksum(flipped(offset), whole), wholeBase) }
    }

    /// The identity does not depend on where the model lives or how often it is computed.
    func testModelIdentityIsStable() throws {
        let a = try ModelIdentity.compute(model: try PersistenceSupport.load("qwen2"))
        let b = try ModelIdentity.compute(model: try PersistenceSupport.load("qwen2"))
        XCTAssertEqual(a, b)
        XCTAssertNil(a.difference(from: b))
        XCTAssertTrue(a.checksum.hasPrefix("sha256:") && a.checksum.count == 71, a.checksum)
        let stories = try ModelIdentity.compute(model: try PersistenceSupport.load("stories260K/stories260K.bin"))
        XCTAssertNotEqual(stories.checksum, a.checksum)
        XCTAssertEqual(stories.name, "stories260K.bin")
        XCTAssertEqual(stories.method, ModelIdentity.method)
    }
}
