import XCTest
@testable import MnemoFormats
final class MnemoFormatsPlaceholderTests: XCTestCase { func testModuleLoads() {} }
