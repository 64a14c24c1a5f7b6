import Foundation
import Testing

@testable import RetentionStorage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bad-input catalogue (Documentation/Reliability.md): one case per class of bad input, each asserting the
/// documented outcome. A row-level class is checked twice: under `.fail` the first bad row is thrown with its code,
/// line and column; under `.skip` it is skipped, counted and reported, and every valid row around it is loaded.
/// Classes already covered by `CSVOrderReaderTests` and `JSONLinesTests` are referenced by name in the document
/// rather than repeated here.
struct BadInputCatalogueTests {
    /// One class of bad row: the row (placed on line 3, between two valid rows) and the documented error.
    struct RowClass: CustomTestStringConvertible, Sendable {
        var name: String
        var row: String
        var code: InputError.Code
        var column: String?
        var header = standardHeader
        var maxFieldBytes = 1 << 20

        var testDescription: String { name }
    }

    static let rowClasses: [RowClass] = [
        RowClass(name: "empty order id", row: ",a,2024-01-01,1", code: .emptyField, column: "order_id"),
        RowClass(name: "empty timestamp", row: "x,a,,1", code: .emptyField, column: "timestamp"),
        RowClass(name: "whitespace-only amount", row: "x,a,2024-01-01, \t ", code: .emptyField, column: "amount"),
        RowClass(name: "29 February in a common year", row: "x,a,2023-02-29,1", code: .invalidTimestamp,
                 column: "timestamp"),
        RowClass(name: "month 13", row: "x,a,2024-13-01,1", code: .invalidTimestamp, column: "timestamp"),
        RowClass(name: "day 00", row: "x,a,2024-01-00,1", code: .invalidTimestamp, column: "timestamp"),
        RowClass(name: "minute 60", row: "x,a,2024-01-01T10:60:00Z,1", code: .invalidTimestamp, column: "timestamp"),
        RowClass(name: "leap second", row: "x,a,2016-12-31T23:59:60Z,1", code: .invalidTimestamp,
                 column: "timestamp"),
        RowClass(name: "offset beyond 18 hours", row: "x,a,2024-01-01T00:00:00+19:00,1", code: .invalidTimestamp,
                 column: "timestamp"),
        RowClass(name: "two-digit year", row: "x,a,24-01-01,1", code: .invalidTimestamp, column: "timestamp"),
        RowClass(name: "US date order", row: "x,a,01/15/2024,1", code: .invalidTimestamp, column: "timestamp"),
        RowClass(name: "text after the timestamp", row: "x,a,2024-01-01T10:00:00Z noon,1",
                 code: .invalidTimestamp, column: "timestamp"),
        RowClass(name: "Unix epoch seconds", row: "x,a,1704067200,1", code: .invalidTimestamp, column: "timestamp"),
        RowClass(name: "decimal comma", row: "x,a,2024-01-01,\"12,50\"", code: .invalidAmount, column: "amount"),
        RowClass(name: "space as thousands separator", row: "x,a,2024-01-01,1 234.00", code: .invalidAmount,
                 column: "amount"),
        RowClass(name: "apostrophe as thousands separator", row: "x,a,2024-01-01,1'234.00", code: .invalidAmount,
                 column: "amount"),
        RowClass(name: "exponent with sign", row: "x,a,2024-01-01,1.5E+2", code: .invalidAmount, column: "amount"),
        RowClass(name: "Infinity", row: "x,a,2024-01-01,Infinity", code: .invalidAmount, column: "amount"),
        RowClass(name: "two decimal points", row: "x,a,2024-01-01,1.2.3", code: .invalidAmount, column: "amount"),
        RowClass(name: "lone minus", row: "x,a,2024-01-01,-", code: .invalidAmount, column: "amount"),
        RowClass(name: "parenthesised negative", row: "x,a,2024-01-01,(5.00)", code: .invalidAmount,
                 column: "amount"),
        RowClass(name: "Int64 overflow, negative", row: "x,a,2024-01-01,-92233720368547758.09",
                 code: .amountOverflow, column: "amount"),
        RowClass(name: "too many decimals for JPY",
                 row: "x,a,2024-01-01,1.5,JPY", code: .invalidAmount, column: "amount",
                 header: "order_id,customer_id,timestamp,amount,currency\n"),
        RowClass(name: "too few fields", row: "x,a,2024-01-01", code: .malformedRow, column: nil),
        RowClass(name: "too many fields", row: "x,a,2024-01-01,1,2", code: .malformedRow, column: nil),
        RowClass(name: "stray quote in an unquoted field", row: "x,a\"b,2024-01-01,1", code: .malformedRow,
                 column: "customer_id"),
        RowClass(name: "text after a closing quote", row: "x,\"a\" b,2024-01-01,1", code: .malformedRow,
                 column: "customer_id"),
        RowClass(name: "conflicting duplicate id", row: "ok1,a,2024-01-01,9.99", code: .conflictingDuplicate,
                 column: "order_id"),
        RowClass(name: "field over maxFieldBytes", row: "x,\(String(repeating: "y", count: 65)),2024-01-01,1",
                 code: .fieldTooLong, column: "customer_id", maxFieldBytes: 64),
        RowClass(name: "currency symbol as code", row: "x,a,2024-01-01,1,€", code: .invalidCurrency,
                 column: "currency", header: "order_id,customer_id,timestamp,amount,currency\n"),
        RowClass(name: "mixed currency", row: "x,a,2024-01-01,1,EUR", code: .mixedCurrency, column: "currency",
                 header: "order_id,customer_id,timestamp,amount,currency\n"),
    ]

    @Test(arguments: rowClasses)
    func badRowIsThrownOrSkipped(_ rowClass: RowClass) throws {
        // With a currency column the valid rows leave it empty (the default currency, USD).
        let end = rowClass.header.contains("currency") ? ",\n" : "\n"
        let text = rowClass.header + "ok1,a,2024-01-01,1" + end + rowClass.row + "\nok2,b,2024-01-02,2" + end
        var options = OrderInputOptions(maxFieldBytes: rowClass.maxFieldBytes)
        let error = loadError(text, options)
        #expect(error?.code == rowClass.code, "\(String(describing: error))")
        #expect(error?.line == 3 && error?.column == rowClass.column, "\(String(describing: error))")
        #expect(error?.description.hasPrefix("line 3") == true)

        options.badRows = .skip
        let (ledger, report) = try load(text, options)
        #expect(ledger.orders.map(\.id) == ["ok1", "ok2"] && ledger.orders.map(\.amount) == [100, 200])
        #expect(report.rowsRead == 3 && report.ordersLoaded == 2 && report.skippedRows == 1)
        #expect(report.errors.map(\.code) == [rowClass.code] && report.errors.map(\.line) == [3])
    }

    @Test func invalidUTF8InAnIDIsSkippedUnderSkip() throws {
        var bytes = Array((standardHeader + "ok1,a,2024-01-01,1\n").utf8)
        bytes += Array("x,".utf8) + [0xFF, 0xFE] + Array(",2024-01-01,1\nok2,b,2024-01-02,2\n".utf8)
        let error = loadError(bytes)
        #expect(error?.code == .invalidUTF8 && error?.line == 3 && error?.column == "customer_id")
        let (ledger, report) = try CSVOrderReader.loadLedger(bytes: bytes, options: .init(badRows: .skip))
        #expect(ledger.orders.map(\.id) == ["ok1", "ok2"] && report.skippedRows == 1)
    }

    @Test func unbalancedQuoteUnderSkipKeepsTheRowsBeforeIt() throws {
        let text = standardHeader + "ok1,a,2024-01-01,1\nx,\"a,2024-01-01,1\nok2,b,2024-01-02,2\n"
        let error = loadError(text)
        #expect(error?.code == .unbalancedQuote && error?.line == 3 && error?.column == "customer_id")
        // The open quote swallows the rest of the file, so only the rows before it can be loaded.
        let (ledger, report) = try load(text, .init(badRows: .skip))
        #expect(ledger.orders.map(\.id) == ["ok1"] && report.skippedRows == 1 && report.rowsRead == 2)
    }

    @Test func headerOnlyWithByteOrderMarkAndCRLFIsAnEmptyLedger() throws {
        let (ledger, report) = try CSVOrderReader.loadLedger(
            bytes: [0xEF, 0xBB, 0xBF] + Array("order_id,customer_id,timestamp,amount\r\n".utf8))
        #expect(ledger.isEmpty && report == LoadReport())
    }

    @Test func blankLinesOnlyIsAnEmptyFile() {
        let error = loadError("\n\r\n\n")
        #expect(error?.code == .emptyFile && error?.line == nil)
    }

    @Test func tabDelimitedFileNamesTheDelimiter() {
        let error = loadError("order_id\tcustomer_id\ttimestamp\tamount\n1\ta\t2024-01-01\t1\n")
        #expect(error?.code == .missingColumn && error?.line == 1 && error?.column == "order_id")
        #expect(error?.message.contains("is the delimiter a tab rather than ','?") == true)
    }

    @Test func headerNamesMatchIgnoringCaseAndSpaces() throws {
        let (ledger, _) = try load(" Order_ID ,CUSTOMER_ID,Timestamp, amount\n1,a,2024-01-01,1\n")
        #expect(ledger.orders == [Order(id: "1", customerID: "a", timestamp: ts(1_704_067_200), amount: 100)])
    }

    @Test func whitespaceAroundFieldsIsTrimmedExceptInIDs() throws {
        let (ledger, _) = try load(standardHeader + " 7 , a ,\t2024-01-01T00:00:00Z , 1.50 \n")
        // Ids are verbatim (an id is an opaque key); timestamp and amount are trimmed of spaces and tabs.
        #expect(ledger.orders == [Order(id: " 7 ", customerID: " a ", timestamp: ts(1_704_067_200), amount: 150)])
    }

    @Test func loneCarriageReturnLineEndsAndBlankLinesBetweenRows() throws {
        let (ledger, report) = try load("order_id,customer_id,timestamp,amount\r1,a,2024-01-01,1\r\r\n\n2,b,2024-01-02,2\r")
        #expect(ledger.orders.map(\.id) == ["1", "2"] && report.rowsRead == 2)
    }

    @Test func nulByteInAnIDIsKeptVerbatim() throws {
        // NUL is valid UTF-8; the reader does not interpret it. Stores compare ids as bytes.
        let (ledger, _) = try load(standardHeader + "a\u{0}b,c,2024-01-01,1\n")
        #expect(ledger.orders.map(\.id) == ["a\u{0}b"] && ledger.orders.first?.id.utf8.count == 3)
    }

    @Test func ledgerTotalOverflowIsAnAmountOverflow() throws {
        let text = standardHeader + "1,a,2024-01-01,92233720368547758.07\n2,a,2024-01-02,0.01\n3,b,2024-01-02,1\n"
        let error = loadError(text)
        #expect(error?.code == .amountOverflow && error?.line == 3, "\(String(describing: error))")
        // The limit is on the ledger's total, not per customer, so every later positive row is refused too.
        let (ledger, report) = try load(text, .init(badRows: .skip))
        #expect(ledger.orders.map(\.id) == ["1"] && report.skippedRows == 2 && report.errors.map(\.line) == [3, 4])
    }

    @Test func smallestInt64AmountIsRejectedByTheLedger() {
        // -92233720368547758.08 USD is Int64.min cents: parseable, but it has no Int64 magnitude.
        let error = loadError(standardHeader + "1,a,2024-01-01,-92233720368547758.08\n")
        // Parsed, then refused when added to the ledger (whose totals could not hold it): no single column.
        #expect(error?.code == .amountOverflow && error?.line == 2 && error?.column == nil,
                "\(String(describing: error))")
    }

    /// The size of the huge field in MB: 100 with `RETENTION_BIG_FIELD_MB=100` (about 2.5 minutes in a debug build
    /// on a busy 2-core machine), 4 by default so that CI stays fast. The memory bound is the same either way.
    static let bigFieldMB = ProcessInfo.processInfo.environment["RETENTION_BIG_FIELD_MB"].flatMap(Int.init) ?? 4

    @Test func hugeFieldStopsAtTheFieldLimitWithBoundedMemory() throws {
        // One huge customer id. The reader must stop copying at maxFieldBytes (1 MiB), not buffer the field.
        let size = Self.bigFieldMB * 1_000_000
        var bytes = Array((standardHeader + "ok1,a,2024-01-01,1\nx,").utf8)
        let prefix = bytes.count
        bytes.reserveCapacity(prefix + size + 64)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "y"), count: size))
        bytes += Array(",2024-01-01,1\nok2,b,2024-01-02,2\n".utf8)
        let before = peakResidentBytes()
        let (ledger, report) = try CSVOrderReader.loadLedger(bytes: bytes, options: .init(badRows: .skip))
        let growth = peakResidentBytes() - before
        #expect(report.errors.map(\.code) == [.fieldTooLong] && report.errors.map(\.line) == [3])
        #expect(report.errors.first?.column == "customer_id" , "\(report.errors)")
        #expect(ledger.orders.map(\.id) == ["ok1", "ok2"])
        // The input itself is already resident; loading may add a few MiB (one field, one chunk), not the field.
        #expect(growth < 48 << 20, "peak RSS grew by \(growth >> 20) MiB")
    }

    @Test func unknownTimeZoneNameIsNil() {
        #expect(PeriodCalendar(identifier: "Mars/Olympus_Mons") == nil)
        #expect(PeriodCalendar(identifier: "") == nil)
        #expect(PeriodCalendar(identifier: "America/New_York") != nil)
    }

    @Test func ordersAfterTheAsOfDayStayOutOfCohortsSegmentsAndRevenueSeries() throws {
        let text = standardHeader + "1,a,2024-01-10,10\n2,b,2024-01-20,20\n3,a,2024-02-05,5\n4,c,2024-12-01,99\n"
        let (ledger, _) = try load(text)
        let report = try RetentionReport(
            ledger, options: .init(cohortUnit: .month, asOf: CivilDate(year: 2024, month: 2, day: 29)!))
        // The report window is still the data's span unless given, so window figures count the future order...
        #expect(report.orders == 4 && report.customers == 3 && report.revenueMinorUnits == 13_400)
        // ...but cohorts, RFM segments and the revenue series stop at the end of the as-of day.
        #expect(Set(report.cohorts.map(\.cohort)) == ["2024-01"])
        // The revenue series ends at the as-of period (2024-02): the December order is in no period of it.
        let series = report.revenueByPeriod
        #expect(series.map(\.period) == ["2024-01", "2024-02"], "\(series)")
        #expect(series.map(\.newCustomerRevenue) == ["30.00", "0.00"])
        #expect(series.map(\.returningCustomerRevenue) == ["0.00", "5.00"])
        #expect(report.segments.reduce(0) { $0 + $1.customers } == 2)
    }
}

/// The process's peak resident set size in bytes (Linux reports KiB, macOS bytes).
private func peakResidentBytes() -> Int {
    var usage = rusage()
    #if canImport(Darwin)
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)
    #else
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Int(usage.ru_maxrss) * 1024
    #endif
}
