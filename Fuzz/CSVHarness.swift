// libFuzzer harness: CSVOrderReader over arbitrary bytes.
//
// The first input byte picks the reader options (chunk size 1...16 or the default, bad-row policy, a small field
// limit, the delimiter); the rest is the CSV. Both the ledger loader and the streaming reader run over it. The
// invariants checked on every input: no crash, no trap, and under `.skip` the report's row accounting holds
// (rowsRead = ordersLoaded + duplicatesIgnored + lineItemRowsCollapsed + skippedRows).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let control = data[0]
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    var options = OrderInputOptions()
    let chunk = Int(control & 0x0F)
    options.chunkSize = chunk == 0 ? 1 << 20 : chunk
    options.badRows = control & 0x10 == 0 ? .skip : .fail
    options.maxFieldBytes = control & 0x20 == 0 ? 1 << 20 : 16
    options.delimiter = control & 0x40 == 0 ? "," : ";"
    options.mapping = control & 0x80 == 0 ? .standard : .shopify
    do {
        let (ledger, report) = try CSVOrderReader.loadLedger(bytes: bytes, options: options)
        let accounted = report.ordersLoaded + report.duplicatesIgnored + report.lineItemRowsCollapsed
            + report.skippedRows
        if report.rowsRead != accounted || ledger.count != report.ordersLoaded {
            fatalError("report does not add up: \(report), ledger \(ledger.count)")
        }
    } catch {
        _ = error.description
    }
    do {
        var reader = try CSVOrderReader(bytes: bytes, options: options)
        while let order = try reader.next() {
            if order.id.isEmpty || order.customerID.isEmpty { fatalError("empty id accepted") }
        }
    } catch {
        _ = error.description
    }
    return 0
}
