import Foundation
import XCTest
@testable import MnemoFormats

/// Every prefix of every binary fixture must be rejected with the format's typed error and must
/// not crash. Each cut is parsed from an in-memory copy (`MappedFile(copying:url:)`, every offset),
/// and a sparse sample of cuts is also written to a temp file and loaded through `init(url:)`.
final class TruncationTests: XCTestCase {
    /// - Parameters:
    ///   - validFrom: cuts at or past this length are valid files (trailing padding) and must load.
    private func assertEveryCutThrows<E: Error>(_ relative: String, _ errorType: E.Type, offsets: [Int]? = nil,
                                                validFrom: Int? = nil, fileSampleStride: Int = 97,
                                                parse: (MappedFile) throws -> Void, load: (URL) throws -> Void) throws {
        let bytes = try Fixture.bytes(relative)
        let url = Fixture.url(relative)
        try load(url)   // the whole file loads
        let validFrom = validFrom ?? bytes.count
        let cuts = offsets ?? Array(0..<bytes.count)
        let temp = try TempDirectory()
        var failures = 0
        func report(_ message: String) {
            failures += 1
            if failures <= 3 { XCTFail(message) }
        }
        for (index, cut) in cuts.enumerated() where cut < bytes.count {
            let prefix = bytes[..<cut]
            let viaFile = index % fileSampleStride == 0 || cut == validFrom - 1
            for how in viaFile ? ["memory", "file"] : ["memory"] {
                do {
                    if how == "memory" {
                        try parse(MappedFile(copying: prefix, url: url))
                    } else {
                        try load(temp.write(prefix, name: "cut.bin"))
                    }
                    if cut < validFrom { report("\(relative) cut at \(cut) of \(bytes.count) (\(how)) loaded without error") }
                } catch is E {
                    if cut >= validFrom { report("\(relative) cut at \(cut) (\(how)) is a valid file but threw") }
                } catch {
                    report("\(relative) cut at \(cut) (\(how)): expected \(E.self), got \(type(of: error)): \(error)")
                }
            }
        }
        XCTAssertEqual(failures, 0, "\(relative): \(failures) of \(cuts.count) cuts misbehaved")
    }

    /// Every offset below `dense`, then every `stride`-th offset, then the last 64.
    private func sample(_ relative: String, dense: Int, stride step: Int) throws -> [Int] {
        let count = try Fixture.bytes(relative).count
        return Array(Set(Array(0..<min(dense, count)) + Array(stride(from: dense, to: count, by: step)) + Array(max(0, count - 64)..<count))).sorted()
    }

    /// End of the last tensor's data: a shorter file is invalid, a longer one only drops padding.
    private func dataEnd(_ gguf: GGUFFile) -> Int {
        gguf.tensorInfos.values.map { $0.offset + $0.byteCount }.max() ?? gguf.file.count
    }

    func testSmallGGUFEveryOffset() throws {
        for name in ["synthetic_v3.gguf", "synthetic_v2.gguf"] {
            let end = dataEnd(try GGUFFile(url: Fixture.url("formats/\(name)")))
            try assertEveryCutThrows("formats/\(name)", GGUFError.self, validFrom: end,
                                     parse: { _ = try GGUFFile(file: $0) }, load: { _ = try GGUFFile(url: $0) })
        }
    }

    func testTinyRandomGGUFSampled() throws {
        // 1.7 MB: the first 2 KB densely (header, first tokens), then a stride through the token
        // arrays and tensor data, then the last 64 bytes.
        let relative = "formats/llama-2-tiny-random.gguf"
        let end = dataEnd(try GGUFFile(url: Fixture.url(relative)))
        try assertEveryCutThrows(relative, GGUFError.self, offsets: sample(relative, dense: 2048, stride: 24_989),
                                 validFrom: end, fileSampleStride: 23,
                                 parse: { _ = try GGUFFile(file: $0) }, load: { _ = try GGUFFile(url: $0) })
    }

    func testSafetensorsEveryOffset() throws {
        for name in ["mixed.safetensors", "sharded/model-00001-of-00002.safetensors", "sharded/model-00002-of-00002.safetensors"] {
            try assertEveryCutThrows("formats/\(name)", SafetensorsError.self,
                                     parse: { _ = try SafetensorsFile(file: $0) }, load: { _ = try SafetensorsFile(url: $0) })
        }
    }

    func testTinyLlama2cEveryOffset() throws {
        for name in ["llama2c_tiny_legacy.bin", "llama2c_tiny_v1.bin"] {
            try assertEveryCutThrows("formats/\(name)", Llama2cError.self, fileSampleStride: 997,
                                     parse: { _ = try Llama2cCheckpoint(file: $0) }, load: { _ = try Llama2cCheckpoint(url: $0) })
        }
    }

    func testStories260KSampled() throws {
        for name in ["stories260K.bin", "stories260K_v1.bin"] {
            let relative = "models/stories260K/\(name)"
            try assertEveryCutThrows(relative, Llama2cError.self, offsets: sample(relative, dense: 512, stride: 4099),
                                     fileSampleStride: 29,
                                     parse: { _ = try Llama2cCheckpoint(file: $0) }, load: { _ = try Llama2cCheckpoint(url: $0) })
        }
    }
}
