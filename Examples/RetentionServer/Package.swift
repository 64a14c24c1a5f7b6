// swift-tools-version: 6.0
import PackageDescription

// `retention-server`: an HTTP API over an OrderStore (SQLite by default, PostgreSQL when DATABASE_URL is set).
// A nested package so that the library itself keeps zero package dependencies.
let package = Package(
    name: "RetentionServer",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "retention-server", targets: ["retention-server"]),
        .library(name: "RetentionPostgres", targets: ["RetentionPostgres"]),
        .library(name: "RetentionServerCore", targets: ["RetentionServerCore"]),
    ],
    dependencies: [
        .package(name: "RetentionMetrics", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
    ],
    targets: [
        // OrderStore over PostgreSQL through PostgresNIO's PostgresClient.
        .target(
            name: "RetentionPostgres",
            dependencies: [
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "RetentionStorage", package: "RetentionMetrics"),
                .product(name: "RetentionMetrics", package: "RetentionMetrics"),
            ]
        ),
        // The Hummingbird application: routes, request decoding, the cached ledger.
        .target(
            name: "RetentionServerCore",
            dependencies: [
                "RetentionPostgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "RetentionMetrics", package: "RetentionMetrics"),
                .product(name: "RetentionStorage", package: "RetentionMetrics"),
                .product(name: "RetentionSQLite", package: "RetentionMetrics"),
            ]
        ),
        .executableTarget(
            name: "retention-server",
            dependencies: [
                "RetentionServerCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "RetentionServerTests",
            dependencies: [
                "RetentionServerCore",
                "RetentionPostgres",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "RetentionTesting", package: "RetentionMetrics"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
