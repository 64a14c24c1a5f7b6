import Foundation
import Testing

@testable import RetentionStorage

struct JSONLinesTests {
    @Test func writesOneObjectPerLineExactly() {
        let text = JSONLinesOrderWriter.string([
            Order(id: "1001", customerID: "a\"b\\c\n\u{1}", timestamp: ts(1_709_294_400), amount: -5)
        ])
        #expect(text == #"{"orderId":"1001","customerId":"a\"b\\c\n\u0001","timestamp":"2024-03-01T12:00:00Z","#
            + #""amount":"-0.05","currency":"USD"}"# + "\n")
    }

    @Test(arguments: [1, 5, 1 << 20])
    func writeThenReadIsTheIdentity(chunkSize: Int) throws {
        let text = JSONLinesOrderWriter.string(CSVWriterTests.tricky)
        var reader = JSONLinesOrderReader(bytes: Array(text.utf8), options: .init(chunkSize: chunkSize))
        var read: [Order] = []
        while let order = try reader.next() { read.append(order) }
        #expect(read == CSVWriterTests.tricky)
    }

    @Test func amountAsStringOrNumberAndOptionalCurrency() throws {
        let text = """
            {"orderId":"1","customerId":"a","timestamp":"2024-03-01","amount":12.5}
            {"orderId":"2","customerId":"a","timestamp":"2024-03-02T00:00:00+01:00","amount":"-3.10","currency":"usd"}

            {"orderId":"3","customerId":"b","timestamp":"2024-03-03 10:00","amount":1e3}\r

            """
        let (ledger, report) = try JSONLinesOrderReader.loadLedger(bytes: Array(text.utf8))
        #expect(ledger.amountColumn == [1250, -310, 100_000])
        #expect(ledger.timestampColumn == [1_709_251_200, 1_709_334_000, 1_709_460_000])
        #expect(report.rowsRead == 3 && report.ordersLoaded == 3)
    }

    @Test(arguments: [
        (#"{"orderId":"2","customerId":"a","timestamp":"2024-03-01"}"#, InputError.Code.missingColumn, "amount"),
        (#"{"orderId":"2","customerId":"a","timestamp":"2024-02-30","amount":"1"}"#, .invalidTimestamp, "timestamp"),
        (#"{"orderId":"2","customerId":"a","timestamp":"2024-03-01","amount":"1.234"}"#, .invalidAmount, "amount"),
        (#"{"orderId":"2","customerId":"a","timestamp":"2024-03-01","amount":"1,234"}"#, .invalidAmount, "amount"),
        (#"{"orderId":"2","customerId":"a","timestamp":"2024-03-01","amount":"1","currency":"$"}"#,
            .invalidCurrency, "currency"),
        (#"{"orderId":"","customerId":"a","timestamp":"2024-03-01","amount":"1"}"#, .emptyField, "orderId"),
        (#"{"orderId":2,"customerId":"a","timestamp":"2024-03-01","amount":"1"}"#, .malformedRow, "orderId"),
        (#"{"orderId":"2","customerId":"a","#, .malformedRow, nil),
    ] as [(String, InputError.Code, String?)])
    func errorsNameTheLineAndField(line: String, code: InputError.Code, column: String?) {
        let text = #"{"orderId":"1","customerId":"a","timestamp":"2024-03-01","amount":"1"}"# + "\n" + line + "\n"
        do {
            _ = try JSONLinesOrderReader.loadLedger(bytes: Array(text.utf8))
            Issue.record("loaded")
        } catch {
            #expect(error.code == code && error.line == 2 && error.column == column, "\(error)")
        }
    }

    @Test func duplicatesAndSkipping() throws {
        let good = #"{"orderId":"1","customerId":"a","timestamp":"2024-03-01","amount":"1"}"#
        let conflict = #"{"orderId":"1","customerId":"a","timestamp":"2024-03-01","amount":"2"}"#
        let other = #"{"orderId":"9","customerId":"z","timestamp":"2024-03-09","amount":9}"#
        let text = [good, "not json", good, conflict, other].joined(separator: "\n")
        var options = OrderInputOptions()
        options.badRows = .skip
        let (ledger, report) = try JSONLinesOrderReader.loadLedger(bytes: Array(text.utf8), options: options)
        #expect(ledger.orders.map(\.id) == ["1", "9"])
        #expect(report.rowsRead == 5 && report.duplicatesIgnored == 1 && report.skippedRows == 2)
        #expect(report.errors.map(\.code) == [.malformedRow, .conflictingDuplicate])
        #expect(report.errors.map(\.line) == [2, 4])
        #expect(report.errors[1].message == "was already loaded from line 1 with different content")
    }

    @Test func overlongLine() {
        let text = #"{"orderId":"1","customerId":"a","timestamp":"2024-03-01","amount":"1"}"#
        do {
            _ = try JSONLinesOrderReader.loadLedger(bytes: Array(text.utf8), options: .init(maxFieldBytes: 20))
            Issue.record("loaded")
        } catch {
            #expect(error.code == .fieldTooLong && error.line == 1)
        }
    }
}
