import Benchmark
import RetentionMetrics

let benchmarks: @Sendable () -> Void = {
    Benchmark("Ledger.summaries 100k orders") { benchmark in
        var ledger = OrderLedger()
        for index in 0..<100_000 {
            try? ledger.append(
                Order(id: "\(index)", customerID: "\(index % 33_000)",
                    timestamp: Timestamp(secondsSince1970: Int64(index) * 300), amount: Int64(index % 9_000)))
        }
        benchmark.startMeasurement()
        blackHole(ledger.summaries())
    }
}
