import Foundation
import RetentionStorage

/// The path of a fixture file.
func fixturePath(_ name: String, _ ext: String) -> String {
    Bundle.module.path(forResource: name, ofType: ext, inDirectory: "Fixtures")!
}

let standardHeader = "order_id,customer_id,timestamp,amount\n"

/// The error loading `text` throws, or `nil` if it loads.
func loadError(_ text: String, _ options: OrderInputOptions = OrderInputOptions()) -> InputError? {
    loadError(Array(text.utf8), options)
}

func loadError(_ bytes: [UInt8], _ options: OrderInputOptions = OrderInputOptions()) -> InputError? {
    do {
        _ = try CSVOrderReader.loadLedger(bytes: bytes, options: options)
        return nil
    } catch { return error }
}

func load(_ text: String, _ options: OrderInputOptions = OrderInputOptions()) throws -> (OrderLedger, LoadReport) {
    let result = try CSVOrderReader.loadLedger(bytes: Array(text.utf8), options: options)
    return (result.ledger, result.report)
}

func ts(_ seconds: Int64) -> Timestamp { Timestamp(secondsSince1970: seconds) }
