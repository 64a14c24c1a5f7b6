// swift-tools-version: 6.0
import PackageDescription

// The `retention` command. A nested package so that the library itself keeps zero package dependencies.
let package = Package(
    name: "RetentionCLI",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "retention", targets: ["retention"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(name: "RetentionMetrics", path: "../.."),
    ],
    targets: [
        .target(
            name: "RetentionCLICore",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "RetentionMetrics", package: "RetentionMetrics"),
                .product(name: "RetentionStorage", package: "RetentionMetrics"),
                .product(name: "RetentionModels", package: "RetentionMetrics"),
            ]
        ),
        .executableTarget(name: "retention", dependencies: ["RetentionCLICore"]),
        .testTarget(
            name: "RetentionCLITests",
            dependencies: [
                "RetentionCLICore",
                .product(name: "RetentionStorage", package: "RetentionMetrics"),
                .product(name: "RetentionModels", package: "RetentionMetrics"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
