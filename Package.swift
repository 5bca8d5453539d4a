// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "var-gen",
    products: [
        .library(name: "VARKit", targets: ["VARKit"]),
        .executable(name: "var-gen", targets: ["var-gen"]),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .target(name: "CKernels"),
        // The engine: numeric kernels pass raw buffers between threads, and Swift 6's strict sendability
        // checking would force wrappers around every pointer without making the code safer, so this one
        // target stays in the Swift 5 language mode.
        .target(name: "VARCore", dependencies: ["COpenBLAS", "CPNG", "CKernels"],
                swiftSettings: [.swiftLanguageMode(.v5)]),
        // The library people import: the generation pipeline over the engine (Swift 6 mode).
        .target(name: "VARKit", dependencies: ["VARCore"]),
        // The CLI (Swift 6 mode).
        .executableTarget(name: "var-gen", dependencies: ["VARKit"]),
        // The tests also drive the CLI in-process (`@testable import var_gen`).
        .testTarget(name: "VARKitTests", dependencies: ["VARKit", "VARCore", "var-gen"],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
    ],
    swiftLanguageModes: [.v6]
)
