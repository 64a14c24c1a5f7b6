// libFuzzer harness: JSONLinesOrderReader over arbitrary bytes.
//
// The first byte picks the options (chunk size, policy, a small line limit); the rest is the JSON Lines text.
// Invariants: no crash; under `.skip` the report adds up.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let control = data[0]
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    var options = OrderInputOptions()
    let chunk = Int(control & 0x0F)
    options.chunkSize = chunk == 0 ? 1 << 20 : chunk
    options.badRows = control & 0x10 == 0 ? .skip : .fail
    options.maxFieldBytes = control & 0x20 == 0 ? 1 << 20 : 64
    do {
        let (ledger, report) = try JSONLinesOrderReader.loadLedger(bytes: bytes, options: options)
        let accounted = report.ordersLoaded + report.duplicatesIgnored + report.lineItemRowsCollapsed
            + report.skippedRows
        if report.rowsRead != accounted || ledger.count != report.ordersLoaded {
            fatalError("report does not add up: \(report), ledger \(ledger.count)")
        }
    } catch {
        _ = error.description
    }
    return 0
}
