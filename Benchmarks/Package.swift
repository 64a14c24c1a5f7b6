// swift-tools-version: 6.1
import PackageDescription

// Benchmarks live in their own package (as in swift-collections) so the library keeps zero dependencies.
// Run: swift package --package-path Benchmarks benchmark
let package = Package(
    name: "RetentionBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
        .package(name: "RetentionMetrics", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "RetentionBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RetentionMetrics", package: "RetentionMetrics"),
                .product(name: "RetentionStorage", package: "RetentionMetrics"),
                .product(name: "RetentionModels", package: "RetentionMetrics"),
            ],
            path: "Benchmarks/RetentionBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)
