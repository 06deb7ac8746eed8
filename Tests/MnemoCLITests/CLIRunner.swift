import Foundation
import XCTest

/// Runs the built `mnemo` executable and captures its output.
enum CLIRunner {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().appendingPathComponent("../..").standardized

    static func fixture(_ path: String) -> URL {
        repositoryRoot.appendingPathComponent("Fixtures").appendingPathComponent(path)
    }

    /// The `mnemo` binary next to the test bundle (SwiftPM puts both in the build-products folder).
    static func executable() throws -> URL {
        var folders: [URL] = []
        #if os(macOS)
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            folders.append(bundle.bundleURL.deletingLastPathComponent())
        }
        #endif
        folders.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        folders.append(Bundle.main.bundleURL)
        folders.append(repositoryRoot.appendingPathComponent(".build/debug"))
        for folder in folders {
            let candidate = folder.appendingPathComponent("mnemo")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        // A failure, not a skip: a CLI suite that silently runs nothing would prove nothing.
        throw MissingExecutable(searched: folders.map(\.path))
    }

    struct MissingExecutable: Error, CustomStringConvertible {
        var searched: [String]
        var description: String { "mnemo executable not found next to the test bundle (looked in \(searched))" }
    }

    /// Runs `mnemo arguments...` from the repository root.
    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        process.currentDirectoryURL = repositoryRoot
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain stderr concurrently so a full pipe can never block the child.
        let errorData = ErrorDrain(err.fileHandleForReading)
        let outputData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outputData, as: UTF8.self),
                      stderr: String(decoding: errorData.wait(), as: UTF8.self))
    }

    /// Reads a pipe to its end on another thread.
    private final class ErrorDrain: @unchecked Sendable {
        // @unchecked Sendable: `data` is written once by the reading thread before `done` is
        // signalled and read only after waiting on `done`.
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)
        init(_ handle: FileHandle) {
            Thread.detachNewThread { [self] in
                data = handle.readDataToEndOfFile()
                done.signal()
            }
        }
        func wait() -> Data {
            done.wait()
            return data
        }
    }
}
