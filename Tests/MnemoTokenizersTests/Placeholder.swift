import XCTest
@testable import MnemoTokenizers
final class MnemoTokenizersPlaceholderTests: XCTestCase { func testModuleLoads() {} }
