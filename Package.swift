// swift-tools-version: 6.0
import PackageDescription

// The root package declares no package dependencies: everything that needs one lives in a nested package
// under Examples/ or Benchmarks/ that depends on this one by path.
let package = Package(
    name: "RetentionMetrics",
    products: [
        .library(name: "RetentionMetrics", targets: ["RetentionMetrics"]),
        .library(name: "RetentionStorage", targets: ["RetentionStorage"]),
        .library(name: "RetentionModels", targets: ["RetentionModels"]),
        .library(name: "RetentionSQLite", targets: ["RetentionSQLite"]),
        .library(name: "RetentionTesting", targets: ["RetentionTesting"]),
    ],
    targets: [
        // Pure values and metric functions. No I/O.
        .target(name: "RetentionMetrics", dependencies: ["CRetentionPrefetch"]),
        // One inline C function: a cache prefetch hint for the report kernel (Swift has none).
        .target(name: "CRetentionPrefetch"),
        // The OrderStore protocol, CSV / JSON Lines readers and writers, the in-memory store.
        .target(name: "RetentionStorage", dependencies: ["RetentionMetrics"]),
        // Probabilistic "buy till you die" models: BG/NBD, Pareto/NBD, Gamma-Gamma.
        .target(name: "RetentionModels", dependencies: ["RetentionMetrics"]),
        // SQLite through the system library (Debian: libsqlite3-dev).
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]
        ),
        .target(name: "RetentionSQLite", dependencies: ["RetentionStorage", "CSQLite"]),
        // The conformance suite every OrderStore adapter runs, ours or a user's.
        .target(name: "RetentionTesting", dependencies: ["RetentionStorage"]),
        // A child process for the crash-safety test: appends batches to SQLite until killed. Not a product.
        .executableTarget(name: "RetentionCrashWriter", dependencies: ["RetentionSQLite"]),

        .testTarget(
            name: "RetentionMetricsTests",
            dependencies: ["RetentionMetrics"]
        ),
        .testTarget(
            name: "RetentionStorageTests",
            dependencies: ["RetentionStorage", "RetentionTesting"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "RetentionModelsTests",
            dependencies: ["RetentionModels", "RetentionStorage"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "RetentionSQLiteTests",
            dependencies: ["RetentionSQLite", "RetentionTesting"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
