import Foundation
import Testing

@testable import RetentionStorage

// Instants cross-checked with Python 3 datetime / zoneinfo.
struct CSVOrderReaderTests {
    @Test func readsTheDefaultFormatExactly() throws {
        let text = standardHeader + "1001,alice,2024-01-15T10:23:45-05:00,25.00\n"
            + "\"10,02\",\"bob \"\"the\"\" builder\",2024-03-01,-0.05\n"
            + "1003,alice,2024-03-01 12:00,7\n"
            + "1001,alice,2024-01-15T15:23:45Z,25\n"  // the same order written differently
        let (ledger, report) = try load(text)
        #expect(ledger.orders == [
            Order(id: "1001", customerID: "alice", timestamp: ts(1_705_332_225), amount: 2500),
            Order(id: "10,02", customerID: "bob \"the\" builder", timestamp: ts(1_709_251_200), amount: -5),
            Order(id: "1003", customerID: "alice", timestamp: ts(1_709_294_400), amount: 700),
        ])
        #expect(report.rowsRead == 4 && report.ordersLoaded == 3 && report.duplicatesIgnored == 1)
    }

    @Test func emptyFileIsAnError() {
        let error = loadError("")
        #expect(error?.code == .emptyFile && error?.line == nil && error?.column == nil)
        #expect(loadError([0xEF, 0xBB, 0xBF, 0x0A, 0x0A])?.code == .emptyFile)
    }

    @Test func headerOnlyIsAnEmptyLedgerNotAnError() throws {
        let (ledger, report) = try CSVOrderReader.loadLedger(path: fixturePath("header-only", "csv"))
        #expect(ledger.isEmpty && report == LoadReport())
    }

    @Test func missingColumn() {
        let error = loadError("order_id,customer_id,timestamp\n1,a,2024-01-01\n")
        #expect(error?.code == .missingColumn && error?.line == 1 && error?.column == "amount")
        #expect(error?.description == "line 1, column amount: no column named 'amount' in the header "
            + "(found: order_id, customer_id, timestamp)")
    }

    @Test func duplicateColumn() {
        let error = loadError("order_id,customer_id,timestamp,amount,Amount\n1,a,2024-01-01,1,2\n")
        #expect(error?.code == .duplicateColumn && error?.line == 1 && error?.column == "amount")
    }

    @Test func semicolonFileReadAsCommaIsAMissingColumnWithAHint() throws {
        let path = fixturePath("semicolon", "csv")
        do {
            _ = try CSVOrderReader.loadLedger(path: path)
            Issue.record("loaded")
        } catch {
            #expect(error.code == .missingColumn && error.line == 1 && error.column == "order_id")
            #expect(error.message.contains("is the delimiter ';' rather than ','?"))
        }
        let (ledger, _) = try CSVOrderReader.loadLedger(path: path, options: .init(delimiter: ";"))
        #expect(ledger.orders == [Order(id: "1", customerID: "a", timestamp: ts(1_704_067_200), amount: 100)])
    }

    @Test func unbalancedQuoteNamesTheLineWhereTheFieldOpens() {
        let text = standardHeader + "1,a,2024-01-01,1.00\n2,\"b,2024-01-02,2.00\n3,c,2024-01-03,3.00\n"
        let error = loadError(text)
        #expect(error?.code == .unbalancedQuote && error?.line == 3 && error?.column == "customer_id")
    }

    @Test func quoteInsideAnUnquotedField() {
        let error = loadError(standardHeader + "1,a\"b,2024-01-01,1.00\n")
        #expect(error?.code == .malformedRow && error?.line == 2 && error?.column == "customer_id")
    }

    @Test func charactersAfterAClosingQuote() {
        let error = loadError(standardHeader + "1,\"a\"b,2024-01-01,1.00\n")
        #expect(error?.code == .malformedRow && error?.line == 2 && error?.column == "customer_id")
    }

    @Test func wrongFieldCount() {
        let text = standardHeader + "1,a,2024-01-01,1.00\n2,b,2024-01-01\n3,c,2024-01-01,1,extra\n"
        let error = loadError(text)
        #expect(error?.code == .malformedRow && error?.line == 3 && error?.column == nil)
        #expect(error?.description == "line 3: has 3 fields but the header has 4")
        var options = OrderInputOptions()
        options.badRows = .skip
        let report = try? load(text, options).1
        #expect(report?.errors.map(\.line) == [3, 4] && report?.errors.map(\.code) == [.malformedRow, .malformedRow])
    }

    @Test func binaryGarbageIsInvalidUTF8() {
        // A PNG signature and a few bytes of a header chunk.
        let bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48]
        let error = loadError(bytes)
        #expect(error?.code == .invalidUTF8 && error?.line == 1 && error?.column == nil)
    }

    @Test func invalidUTF8InAField() {
        var bytes = Array((standardHeader + "1,a,2024-01-01,1.00\n2,").utf8)
        bytes += [0x62, 0xC3, 0x28] + Array(",2024-01-01,1.00\n".utf8)
        let error = loadError(bytes)
        #expect(error?.code == .invalidUTF8 && error?.line == 3 && error?.column == "customer_id")
    }

    @Test func oversizedField() throws {
        let long = String(repeating: "x", count: 17)
        let text = standardHeader + "1,\(long),2024-01-01,1.00\n2,b,2024-01-01,2.00\n"
        var options = OrderInputOptions(maxFieldBytes: 16)
        let error = loadError(text, options)
        #expect(error?.code == .fieldTooLong && error?.line == 2 && error?.column == "customer_id")
        options.badRows = .skip
        let (ledger, report) = try load(text, options)
        #expect(ledger.orders.map(\.id) == ["2"] && report.skippedRows == 1 && report.rowsRead == 2)
        // Exactly at the limit is fine.
        #expect(loadError(standardHeader + "1,\(String(repeating: "x", count: 16)),2024-01-01,1\n", options) == nil)
    }

    @Test func impossibleDate() {
        let error = loadError(standardHeader + "1,a,2024-01-01,1\n2,a,2024-02-30T00:00:00Z,1\n")
        #expect(error?.code == .invalidTimestamp && error?.line == 3 && error?.column == "timestamp")
        #expect(error?.description == "line 3, column timestamp: '2024-02-30T00:00:00Z' is not a valid date "
            + "(day 30 does not exist in February 2024)")
    }

    @Test func hour24() {
        let error = loadError(standardHeader + "1,a,2024-01-15T24:00:00Z,1\n")
        #expect(error?.code == .invalidTimestamp && error?.line == 2 && error?.column == "timestamp")
        #expect(error?.message == "is not a valid time (hour 24 is not 00...23)")
    }

    @Test(arguments: ["US$", "dollars", "U1D", "€"])
    func invalidCurrencyCode(code: String) {
        let error = loadError("order_id,customer_id,timestamp,amount,currency\n1,a,2024-01-01,1.00,\(code)\n")
        #expect(error?.code == .invalidCurrency && error?.line == 2 && error?.column == "currency")
    }

    @Test(arguments: [
        ("\"1,234.00\"", InputError.Code.invalidAmount, "thousands separator"),
        ("1e3", .invalidAmount, "scientific notation"),
        ("12.345", .invalidAmount, "3 decimal digits but the currency has 2"),
        ("92233720368547758.08", .amountOverflow, "does not fit in Int64"),
        ("NaN", .invalidAmount, "NaN and Infinity"),
        ("-Infinity", .invalidAmount, "NaN and Infinity"),
        ("$5", .invalidAmount, "unexpected character"),
    ] as [(String, InputError.Code, String)])
    func badAmounts(field: String, code: InputError.Code, phrase: String) {
        let error = loadError(standardHeader + "1,a,2024-01-01,1\n2,b,2024-01-01,\(field)\n")
        #expect(error?.code == code && error?.line == 3 && error?.column == "amount")
        #expect(error?.message.contains(phrase) == true, "\(String(describing: error))")
    }

    @Test func extraZeroDecimalsAndCurrencyDigits() throws {
        let text = "order_id,customer_id,timestamp,amount,currency\n"
            + "1,a,2024-01-01,12.5000,usd\n2,b,2024-01-01,1200,\n"
        let (ledger, _) = try load(text)
        #expect(ledger.amountColumn == [1250, 120_000] && ledger.currency == .usd)
        let (yen, _) = try load("order_id,customer_id,timestamp,amount,currency\n1,a,2024-01-01,1200,JPY\n")
        #expect(yen.amountColumn == [1200] && yen.currency == Currency("JPY"))
    }

    @Test func negativeAmountIsARefund() throws {
        let (ledger, report) = try load(standardHeader + "1,a,2024-01-01,30.00\nR1,a,2024-01-05, -12.50 \n")
        #expect(ledger.orders[1].amount == -1250 && ledger.orders[1].isRefund && report.ordersLoaded == 2)
    }

    @Test func emptyRequiredField() {
        let error = loadError(standardHeader + "1,,2024-01-01,1\n")
        #expect(error?.code == .emptyField && error?.line == 2 && error?.column == "customer_id")
        let amount = loadError(standardHeader + "1,a,2024-01-01,  \n")
        #expect(amount?.code == .emptyField && amount?.line == 2 && amount?.column == "amount")
    }

    @Test func identicalDuplicatesAreCountedAndIgnored() throws {
        let text = standardHeader + "1,a,2024-01-01,1.00\n2,b,2024-01-02,2.00\n1,a,2024-01-01T00:00:00Z,1\n"
        let (ledger, report) = try load(text)
        #expect(ledger.count == 2 && report.duplicatesIgnored == 1)
        #expect(report.ordersLoaded == 2 && report.rowsRead == 3)
    }

    @Test func conflictingDuplicateNamesBothLines() throws {
        let text = standardHeader
            + "1,a,2024-01-01,1.00\n2,b,2024-01-02,2.00\n1,a,2024-01-01,1.01\n3,c,2024-01-03,3\n"
        let error = loadError(text)
        #expect(error?.code == .conflictingDuplicate && error?.line == 4 && error?.column == "order_id")
        #expect(error?.description
            == "line 4, column order_id: '1' was already loaded from line 2 with different content")
        var options = OrderInputOptions()
        options.badRows = .skip
        let (ledger, report) = try load(text, options)
        #expect(ledger.orders.map(\.amount) == [100, 200, 300])  // the first row wins; row 3 still loads
        #expect(report.skippedRows == 1 && report.ordersLoaded == 3 && report.errors.first?.line == 4)
    }

    @Test func mixedCurrency() {
        let text = "order_id,customer_id,timestamp,amount,currency\n1,a,2024-01-01,1,EUR\n2,a,2024-01-02,1,USD\n"
        let error = loadError(text)
        #expect(error?.code == .mixedCurrency && error?.line == 3 && error?.column == "currency")
    }

    @Test func crlfAndByteOrderMark() throws {
        let expected = [
            Order(id: "1", customerID: "a", timestamp: ts(1_704_067_200), amount: 100),
            Order(id: "2", customerID: "b", timestamp: ts(1_704_153_600), amount: 250),
        ]
        let (ledger, report) = try CSVOrderReader.loadLedger(path: fixturePath("crlf-bom", "csv"))
        #expect(ledger.orders == expected && report.rowsRead == 2)
        for size in 1...5 {
            let small = try CSVOrderReader.loadLedger(
                path: fixturePath("crlf-bom", "csv"), options: .init(chunkSize: size))
            #expect(small.ledger.orders == expected, "chunk size \(size)")
        }
    }

    @Test func quotedNewlineInsideAFieldKeepsPhysicalLineNumbers() throws {
        // The first record spans lines 2-4 (two embedded line breaks), so the second starts on line 5.
        let text = standardHeader + "\"A\nB\",\"x\r\ny\",2024-01-01,1\n2,b,2024-13-01,1\n"
        var options = OrderInputOptions()
        options.badRows = .skip
        let (ledger, report) = try load(text, options)
        #expect(ledger.orders.map(\.id) == ["A\nB"] && ledger.orders.map(\.customerID) == ["x\r\ny"])
        #expect(report.errors.map(\.line) == [5] && report.errors.map(\.code) == [.invalidTimestamp])
    }

    @Test(arguments: 1...9)
    func chunkBoundaryInsideAQuotedField(chunkSize: Int) throws {
        let text = standardHeader + "\"a \"\"quoted\"\", long\nid\",c,2024-01-01,1\n\"\",c,2024-01-01,2\n"
        var options = OrderInputOptions(chunkSize: chunkSize)
        options.badRows = .skip
        let (ledger, report) = try load(text, options)
        #expect(ledger.orders.map(\.id) == ["a \"quoted\", long\nid"])
        #expect(report.errors.map(\.line) == [4] && report.errors.map(\.code) == [.emptyField])
    }

    @Test func skipPolicyLoadsEveryValidRowAndKeepsTenErrors() throws {
        var text = standardHeader
        for k in 0..<12 { text += "bad\(k),a,2024-02-30,1\n" + "ok\(k),a,2024-01-01,\(k)\n" }
        var options = OrderInputOptions()
        options.badRows = .skip
        let (ledger, report) = try load(text, options)
        #expect(ledger.count == 12 && report.rowsRead == 24 && report.skippedRows == 12 && report.errors.count == 10)
        #expect(report.errors.map(\.line) == Array(stride(from: 2, through: 20, by: 2)))
        #expect(report.rowsRead == report.ordersLoaded + report.duplicatesIgnored + report.lineItemRowsCollapsed
            + report.skippedRows)
    }

    @Test func shopifyPresetCollapsesLineItemsAndDuplicates() throws {
        let (ledger, report) = try CSVOrderReader.loadLedger(
            path: fixturePath("shopify-orders", "csv"), options: .init(mapping: .shopify))
        let cad = Currency("CAD")
        #expect(ledger.orders == [
            Order(id: "#1001", customerID: "ana@example.com", timestamp: ts(1_705_332_225), amount: 5085,
                currency: cad),
            Order(id: "#1002", customerID: "bo@example.com", timestamp: ts(1_706_792_400), amount: 1356,
                currency: cad),
            Order(id: "#1003", customerID: "ana@example.com", timestamp: ts(1_706_970_600), amount: -5085,
                currency: cad),
        ])
        #expect(report.rowsRead == 5 && report.lineItemRowsCollapsed == 1 && report.duplicatesIgnored == 1)
        #expect(report.ordersLoaded == 3)
    }

    @Test func wooCommercePresetInTheShopsZone() throws {
        let berlin = PeriodCalendar(identifier: "Europe/Berlin")!
        let (ledger, _) = try CSVOrderReader.loadLedger(
            path: fixturePath("woocommerce-orders", "csv"), options: .init(mapping: .wooCommerce, calendar: berlin))
        #expect(ledger.orders.map(\.id) == ["2001", "2002", "2003"])
        #expect(ledger.orders.map(\.customerID) == ["carla@example.com", "guest@example.com", "carla@example.com"])
        // 2024-03-31 02:30 does not exist in Berlin: read as 03:30 CEST = 01:30Z.
        #expect(ledger.timestampColumn == [1_709_643_600, 1_709_712_900, 1_711_848_600])
        #expect(ledger.amountColumn == [1990, 500, 710] && ledger.currency == .eur)
    }

    @Test func unreadableFile() {
        do {
            _ = try CSVOrderReader.loadLedger(path: "/nonexistent/orders.csv")
            Issue.record("opened")
        } catch {
            #expect(error.code == .unreadableFile && error.line == nil)
        }
    }

    @Test func asyncBatches() async throws {
        var text = standardHeader
        for k in 1...5 { text += "\(k),c\(k % 2),2024-01-0\(k),\(k)\n" }
        var sizes: [Int] = []
        var ids: [String] = []
        for try await batch in CSVOrderReader.batches(bytes: Array(text.utf8), size: 2) {
            sizes.append(batch.count)
            ids += batch.map(\.id)
        }
        #expect(sizes == [2, 2, 1] && ids == ["1", "2", "3", "4", "5"])
    }

    @Test func genericCSVReaderRecords() throws {
        var reader = try CSVReader(bytes: Array("a;b\n1;\"x;y\"\n\n2;\n".utf8), options: .init(delimiter: ";"))
        #expect(reader.header == ["a", "b"])
        let first = try reader.next()
        #expect(first?.line == 2 && first?.string(at: 1) == "x;y")
        let second = try reader.next()
        #expect(second?.line == 4 && second?.string(at: 0) == "2" && second?.string(at: 1) == "")
        #expect(try reader.next() == nil)
    }
}
