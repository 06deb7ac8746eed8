import XCTest
@testable import MnemoTensor
final class MnemoTensorPlaceholderTests: XCTestCase { func testModuleLoads() {} }
