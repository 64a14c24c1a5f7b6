import RetentionMetrics
import Testing

@testable import RetentionCLICore

/// The CSV writer that streams cells straight into the buffer writes what the joined-string form did.
struct TableTests {
    final class Capture: OutputSink, @unchecked Sendable {
        var bytes: [UInt8] = []
        func write(_ bytes: UnsafeRawBufferPointer) { self.bytes.append(contentsOf: bytes) }
    }

    static func written(_ table: Table, _ format: OutputFormat, capacity: Int = 64 * 1024) -> String {
        let sink = Capture()
        let out = BufferedWriter(sink, capacity: capacity)
        table.write(format, to: out)
        out.flush()
        return String(decoding: sink.bytes, as: UTF8.self)
    }

    static let cells: [[Cell]] = [
        [.text("a"), .int(0), .number(0.5), .decimal("12.50"), .missing],
        [.text("b,c"), .int(Int64.min), .number(1e-7), .decimal("-0.01"), .text("say \"hi\"")],
        [.text("line\r\nbreak"), .int(Int64.max), .number(-2), .decimal("0.00"), .text("x\ny")],
    ]

    @Test func integersAreSpelledAsStringDoes() {
        for value: Int64 in [0, 7, -7, 10, -10, 1_000_000, .max, .min, .max - 1, .min + 1] {
            let sink = Capture()
            let out = BufferedWriter(sink, capacity: 4)
            out.integer(value)
            out.flush()
            #expect(String(decoding: sink.bytes, as: UTF8.self) == String(value))
        }
    }

    @Test func moneyIsSpelledAsDecimalStringDoes() {
        let values: [Int64] = [0, 5, -5, 99, -99, 100, 12_345, -12_345, 1_000_000, .max, .min, .max - 1, .min + 1]
        for digits in 0...4 {
            for value in values {
                for capacity in [1, 3, 64 * 1024] {
                    let sink = Capture()
                    let out = BufferedWriter(sink, capacity: capacity)
                    out.byte(0x3C)
                    out.decimal(value, digits: digits)
                    out.byte(0x3E)
                    out.flush()
                    let expected = "<" + Money.decimalString(value, digits: digits) + ">"
                    #expect(String(decoding: sink.bytes, as: UTF8.self) == expected, "\(value), \(digits) digits")
                }
            }
        }
        let table = Table(columns: ["m"], rows: [[.money(-5, digits: 2)], [.money(123_456, digits: 3)]])
        #expect(Self.written(table, .csv) == "m\n-0.05\n123.456\n")
        #expect(Self.written(table, .json).contains(#"{"m": "-0.05"}"#))
    }

    @Test func csvQuotesOnlyWhatNeedsQuotes() {
        let table = Table(columns: ["id", "n", "x", "money", "note"], rows: Self.cells)
        #expect(Self.written(table, .csv) == """
            id,n,x,money,note
            a,0,0.5,12.50,
            "b,c",-9223372036854775808,1e-07,-0.01,"say ""hi\"\"\"
            "line\r\nbreak",9223372036854775807,-2.0,0.00,"x
            y"

            """)
    }

    @Test func generatedRowsWriteTheSameAsStoredRows() {
        let stored = Table(columns: ["id", "n", "x", "money", "note"], rows: Self.cells)
        let generated = Table(columns: ["id", "n", "x", "money", "note"], count: Self.cells.count) { Self.cells[$0] }
        for format in [OutputFormat.csv, .json, .text] {
            for capacity in [1, 7, 64 * 1024] {
                #expect(Self.written(generated, format, capacity: capacity) == Self.written(stored, format))
            }
        }
        #expect(Self.written(Table(columns: ["a"], count: 0) { _ in [] }, .json) == "[]\n")
    }
}
