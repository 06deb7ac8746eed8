import Foundation
import XCTest
@testable import MnemoFormats

final class GGUFSmokeTests: XCTestCase {
    func testTinyRandomOpens() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Fixtures/formats/llama-2-tiny-random.gguf").standardized
        let gguf = try GGUFFile(url: url)
        XCTAssertEqual(gguf.version, 3)
        XCTAssertEqual(gguf.metadata["general.architecture"]?.stringValue, "llama")
        XCTAssertEqual(gguf.metadata["tokenizer.ggml.tokens"]?.stringArray?.count, 32000)
        XCTAssertEqual(gguf.tensorInfos.count, 12)
    }
}
