// libFuzzer harness: AmountParser over arbitrary bytes, for every minor-unit digit count 0...4.
//
// Invariants: no crash or trap; an amount accepted with d digits is accepted with d + 1 digits as ten times the
// value (unless that overflows); the result is negative only if the text starts with '-'.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAmount(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)
    var previous: Int64?
    for digits in 0...4 {
        let value: Int64?
        do { value = try AmountParser.minorUnits(bytes, minorUnitDigits: digits) } catch {
            _ = error.description
            value = nil
        }
        if let value, value < 0, bytes.first != 0x2D { fatalError("negative without a minus sign") }
        if let previous {
            let (scaled, overflow) = previous.multipliedReportingOverflow(by: 10)
            if !overflow, value != scaled { fatalError("d+1 digits is not ten times d digits: \(previous) \(value as Any)") }
        }
        previous = value
    }
    return 0
}
