import XCTest
@testable import MnemoModels
final class MnemoModelsPlaceholderTests: XCTestCase { func testModuleLoads() {} }
