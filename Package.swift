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
        .target(name: "VARKit", dependencies: ["COpenBLAS", "CPNG", "CKernels"]),
        .executableTarget(name: "var-gen", dependencies: ["VARKit"]),
        // The tests also drive the CLI in-process (`@testable import var_gen`).
        .testTarget(name: "VARKitTests", dependencies: ["VARKit", "var-gen"]),
    ],
    // Numeric kernels pass raw buffers between threads; Swift 6's strict sendability checking
    // would force wrappers around every pointer without making the code safer.
    swiftLanguageModes: [.v5]
)
