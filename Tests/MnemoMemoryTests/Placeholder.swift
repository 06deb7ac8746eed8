import XCTest
@testable import MnemoMemory
final class MnemoMemoryPlaceholderTests: XCTestCase { func testModuleLoads() {} }
