// swift-tools-version: 6.0
// Mnemo: long-document reading with memory-augmented transformers on the CPU.
import PackageDescription

let package = Package(
    name: "Mnemo",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Mnemo", targets: ["Mnemo"]),
        .executable(name: "mnemo", targets: ["mnemo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C layer: OpenBLAS's cblas.h, hand-written kernels with runtime CPU dispatch, FAISS shim.
        .systemLibrary(name: "CMnemoBLAS", path: "Sources/CMnemoBLAS"),
        .target(name: "CMnemoKernels", path: "Sources/CMnemoKernels"),
        .target(
            name: "CMnemoFAISS",
            path: "Sources/CMnemoFAISS",
            linkerSettings: [
                .linkedLibrary("faiss"),
                .linkedLibrary("openblas"),
                .linkedLibrary("lapack"),
                .linkedLibrary("gomp"),
                .linkedLibrary("stdc++"),
            ]
        ),

        // Swift layers, bottom to top.
        .target(name: "MnemoTensor", dependencies: ["CMnemoBLAS", "CMnemoKernels"]),
        .target(name: "MnemoFormats", dependencies: ["MnemoTensor"]),
        .target(name: "MnemoTokenizers", dependencies: ["MnemoFormats"]),
        .target(name: "MnemoModels", dependencies: ["MnemoTensor", "MnemoFormats", "MnemoTokenizers", "CMnemoBLAS"]),
        .target(name: "MnemoMemory", dependencies: ["MnemoTensor", "CMnemoFAISS"]),
        .target(name: "MnemoEngine", dependencies: ["MnemoModels", "MnemoTokenizers", "MnemoMemory"]),
        .target(name: "Mnemo", dependencies: ["MnemoTensor", "MnemoFormats", "MnemoTokenizers", "MnemoModels", "MnemoMemory", "MnemoEngine"]),
        .executableTarget(
            name: "mnemo",
            dependencies: ["Mnemo", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        .testTarget(name: "MnemoTensorTests", dependencies: ["MnemoTensor"]),
        .testTarget(name: "MnemoFormatsTests", dependencies: ["MnemoFormats"]),
        .testTarget(name: "MnemoTokenizersTests", dependencies: ["MnemoTokenizers"]),
        .testTarget(name: "MnemoModelsTests", dependencies: ["MnemoModels"]),
        .testTarget(name: "MnemoMemoryTests", dependencies: ["MnemoMemory"]),
        .testTarget(name: "MnemoEngineTests", dependencies: ["MnemoEngine"]),
        .testTarget(name: "MnemoCLITests", dependencies: ["Mnemo", "mnemo"]),
    ],
    cxxLanguageStandard: .cxx17
)
