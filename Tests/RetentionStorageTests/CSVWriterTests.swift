import Foundation
import Testing

@testable import RetentionStorage

struct CSVWriterTests {
    static let tricky: [Order] = [
        Order(id: "plain", customerID: "alice", timestamp: ts(1_709_294_400), amount: 2500),
        Order(id: "a,b", customerID: "say \"hi\"", timestamp: ts(-1), amount: -5),
        Order(id: "line\nbreak", customerID: "cr\r\nlf", timestamp: ts(0), amount: 0),
        Order(id: " padded ", customerID: "\tтаб", timestamp: ts(253_402_300_799), amount: Int64.max),
        Order(id: "訂單-😀", customerID: "Zoë", timestamp: ts(951_782_400), amount: 1),
    ]

    @Test func writesTheDefaultFormatExactly() {
        let text = CSVOrderWriter.string(Array(CSVWriterTests.tricky.prefix(2)) + [
            Order(id: "y", customerID: "c", timestamp: ts(0), amount: 1200, currency: Currency("JPY"))
        ])
        #expect(text == #"""
            order_id,customer_id,timestamp,amount,currency
            plain,alice,2024-03-01T12:00:00Z,25.00,USD
            "a,b","say ""hi""",1969-12-31T23:59:59Z,-0.05,USD
            y,c,1970-01-01T00:00:00Z,1200,JPY

            """#)
    }

    @Test func appendingRowsToOwnBufferWritesTheSameBytes() {
        var bytes: [UInt8] = []
        CSVOrderWriter.appendHeader(to: &bytes)
        for order in CSVWriterTests.tricky { CSVOrderWriter.appendRow(order, to: &bytes) }
        #expect(bytes == Array(CSVOrderWriter.string(CSVWriterTests.tricky).utf8))
        var row: [UInt8] = []
        CSVOrderWriter.appendRow(CSVWriterTests.tricky[1], to: &row)
        #expect(String(decoding: row, as: UTF8.self) == "\"a,b\",\"say \"\"hi\"\"\",1969-12-31T23:59:59Z,-0.05,USD\n")
    }

    @Test(arguments: [1, 3, 1 << 20])
    func writeThenReadIsTheIdentity(chunkSize: Int) throws {
        let text = CSVOrderWriter.string(CSVWriterTests.tricky)
        var reader = try CSVOrderReader(bytes: Array(text.utf8), options: .init(chunkSize: chunkSize))
        var read: [Order] = []
        while let order = try reader.next() { read.append(order) }
        #expect(read == CSVWriterTests.tricky)
    }

    @Test func fileRoundTripThroughALedgerInAnotherCurrency() throws {
        let kwd = Currency("KWD")
        let orders = CSVWriterTests.tricky.map {
            Order(id: $0.id, customerID: $0.customerID, timestamp: $0.timestamp, amount: $0.amount % 1_000_000_000,
                currency: kwd)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("csv-writer-\(UUID()).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try CSVOrderWriter.write(orders, toFile: path)
        let (ledger, report) = try CSVOrderReader.loadLedger(path: path, options: .init(chunkSize: 7))
        #expect(ledger.orders == orders && report.rowsRead == orders.count)
        #expect(ledger.amountColumn[0] == 2500 && CSVOrderWriter.string([ledger.orders[0]]).contains(",2.500,KWD"))
    }
}
