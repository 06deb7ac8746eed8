import XCTest
@testable import MnemoEngine
final class MnemoEnginePlaceholderTests: XCTestCase { func testModuleLoads() {} }
