// libFuzzer harness: TimestampParser over arbitrary bytes, in UTC and in a zone with DST (New York).
//
// Invariants: no crash; an accepted `...Z` / offset timestamp gives the same instant in every zone; an accepted
// plain date is the start of a local day.

let newYork = PeriodCalendar(identifier: "America/New_York") ?? .utc
let kolkata = PeriodCalendar(identifier: "Asia/Kolkata") ?? .utc

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTimestamp(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)
    let utc: Int64?
    do { utc = try TimestampParser.parse(bytes, in: .utc) } catch { _ = error.description; utc = nil }
    let local: Int64?
    do { local = try TimestampParser.parse(bytes, in: newYork) } catch { _ = error.description; local = nil }
    let indian: Int64?
    do { indian = try TimestampParser.parse(bytes, in: kolkata) } catch { _ = error.description; indian = nil }
    if (utc == nil) != (local == nil) || (utc == nil) != (indian == nil) {
        fatalError("accepted in one zone and rejected in another")
    }
    if let utc, let local, size > 19, data![size - 1] == 0x5A || data![size - 1] == 0x7A, utc != local {
        fatalError("an instant with Z depends on the zone")
    }
    if let utc, size == 10, utc % 86_400 != 0 { fatalError("a plain date in UTC is not at midnight") }
    return 0
}
