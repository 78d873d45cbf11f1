// swift-tools-version:6.0
// Untangle — a Swift workbench for disentangled representations.
// Module graph (dependencies point one way):
//   CBLAS → TensorCore → Autodiff → NN → Optimizers → Models → {Metrics, Explain} → Experiments → untangle
//   ConvKernels (AVX-512 kernels: direct convolutions, the packed GEMM; no dependencies) → TensorCore (BLAS.gemm), NN
//   VectorLoops (the step's elementwise vector loops, optimised in every build; no dependencies) → NN, Optimizers
//   CPNG → ImageIO (TensorCore) → Datasets, Plotting; Metrics also uses Datasets; NN uses swift-crypto (checksums)
//   Experiments → Serve (Hummingbird: `untangle serve`, the browser explorer) → untangle
import PackageDescription

let releaseSpeed: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

// The direct convolution kernels are compiled for AVX-512 (`skylake-avx512`: x86-64-v4 and the extensions every AVX-512 CPU has) on x86-64; NN calls them only
// after checking the CPU (`DirectConvolution.isSupported`). Elsewhere they build for the baseline.
// Optimised in debug builds too: unoptimised SIMD code is ~100× slower, and the tests train with them.
// The training step's elementwise vector loops (the loss, Adam, ReLU's pullback): optimised in
// debug builds too, for the baseline CPU, since they run on every machine.
let loopSpeed: [SwiftSetting] = [.unsafeFlags(["-O"])]

#if arch(x86_64)
let kernelSpeed: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-target-cpu", "skylake-avx512"])]
#else
let kernelSpeed: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"])]
#endif

let package = Package(
    name: "Untangle",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "untangle", targets: ["untangle"]),
        .executable(name: "untangle-bench", targets: ["untangle-bench"]),
        .executable(name: "nb01-train-and-traverse", targets: ["nb01-train-and-traverse"]),
        .executable(name: "nb02-probe-and-name", targets: ["nb02-probe-and-name"]),
        .executable(name: "nb03-interpretable-classifier", targets: ["nb03-interpretable-classifier"]),
        .executable(name: "nb04-saliency-vs-factors", targets: ["nb04-saliency-vs-factors"]),
        .library(name: "UntangleKit", targets: ["TensorCore", "Autodiff", "NN", "Optimizers", "Models", "Datasets", "ImageIO", "Metrics", "Plotting", "Explain", "Experiments"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng16",
                       providers: [.apt(["libpng-dev"])]),
        .target(name: "TensorCore", dependencies: ["CBLAS", "ConvKernels"], swiftSettings: releaseSpeed),
        .target(name: "Autodiff", dependencies: ["TensorCore"], swiftSettings: releaseSpeed),
        .target(name: "ConvKernels", swiftSettings: kernelSpeed),
        .target(name: "VectorLoops", swiftSettings: loopSpeed),
        .target(name: "NN", dependencies: ["TensorCore", "Autodiff", "ConvKernels", "VectorLoops", .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: releaseSpeed),
        .target(name: "Optimizers", dependencies: ["TensorCore", "NN", "VectorLoops"], swiftSettings: releaseSpeed),
        .target(name: "ImageIO", dependencies: ["CPNG", "TensorCore"]),
        .target(name: "Datasets", dependencies: ["CPNG", "TensorCore", "ImageIO"], swiftSettings: releaseSpeed),
        .target(name: "Models", dependencies: ["TensorCore", "Autodiff", "NN", "Optimizers"],
                swiftSettings: releaseSpeed),
        .target(name: "Metrics", dependencies: ["TensorCore", "Datasets"], swiftSettings: releaseSpeed),
        .target(name: "Plotting", dependencies: ["TensorCore", "ImageIO"]),
        .target(name: "Explain", dependencies: ["TensorCore", "Autodiff", "NN", "Optimizers", "Models", "Metrics"],
                swiftSettings: releaseSpeed),
        .target(name: "Experiments",
                dependencies: ["TensorCore", "Autodiff", "NN", "Optimizers", "Models", "Datasets", "ImageIO", "Metrics", "Plotting", "Explain",
                               .product(name: "TOMLKit", package: "TOMLKit")],
                swiftSettings: releaseSpeed),
        .target(name: "Serve", dependencies: ["TensorCore", "ImageIO", "Experiments", .product(name: "Hummingbird", package: "hummingbird", moduleAliases: ["Metrics": "SwiftMetrics"])]),
        .executableTarget(
            name: "untangle",
            dependencies: ["TensorCore", "Autodiff", "NN", "Optimizers", "Models", "Datasets", "ImageIO", "Metrics", "Explain", "Experiments", "Serve",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "untangle-bench",
            dependencies: ["CBLAS", "TensorCore", "Autodiff", "NN", "Optimizers", "Models", "Datasets", "Metrics", "Explain", "Experiments",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: releaseSpeed),
        .target(name: "Notebook", dependencies: ["TensorCore", "Datasets", "Experiments"], path: "Notebooks-as-scripts/Notebook"),
        .executableTarget(name: "nb01-train-and-traverse", dependencies: ["Notebook", "Experiments", "Datasets", "ImageIO", "Metrics", "Plotting", "TensorCore"],
                          path: "Notebooks-as-scripts/nb01-train-and-traverse"),
        .executableTarget(name: "nb02-probe-and-name", dependencies: ["Notebook", "Experiments", "Datasets", "Metrics", "Plotting", "TensorCore"],
                          path: "Notebooks-as-scripts/nb02-probe-and-name"),
        .executableTarget(name: "nb03-interpretable-classifier", dependencies: ["Notebook", "Experiments", "Datasets", "Explain", "Metrics", "TensorCore"],
                          path: "Notebooks-as-scripts/nb03-interpretable-classifier"),
        .executableTarget(name: "nb04-saliency-vs-factors", dependencies: ["Notebook", "Experiments", "Datasets", "TensorCore"],
                          path: "Notebooks-as-scripts/nb04-saliency-vs-factors"),
        .target(name: "TestSupport", dependencies: ["TensorCore", "Autodiff"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"]),
        .testTarget(name: "AutodiffTests", dependencies: ["TensorCore", "Autodiff", "TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["TensorCore", "Autodiff", "NN", "ConvKernels", "VectorLoops", "Optimizers", "TestSupport"]),
        .testTarget(name: "ModelsTests", dependencies: ["TensorCore", "Autodiff", "NN", "Optimizers", "Models", "Datasets", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "DatasetsTests", dependencies: ["TensorCore", "Datasets", "ImageIO", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ExplainTests", dependencies: ["TensorCore", "Metrics", "Explain", "Models", "TestSupport"]),
        .testTarget(name: "PlottingTests", dependencies: ["TensorCore", "Plotting", "ImageIO"]),
        .testTarget(name: "MetricsTests", dependencies: ["TensorCore", "Datasets", "Metrics", "TestSupport"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["TensorCore", "Autodiff", "NN", "Models", "Datasets", "ImageIO", "Metrics", "Experiments", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport"]),
        .testTarget(name: "ServeTests", dependencies: ["TensorCore", "ImageIO", "Experiments", "Serve", "TestSupport"]),
    ]
)
