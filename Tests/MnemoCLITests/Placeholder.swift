import XCTest
final class MnemoCLIPlaceholderTests: XCTestCase { func testModuleLoads() {} }
