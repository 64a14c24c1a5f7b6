import RetentionMetrics
import RetentionStorage
import Testing

struct JSONValueTests {
    struct Figures: Encodable {
        var rate: Double?
        var count: Int
        var name: String
        var cells: [Int]
        var empty: [String: Int]
    }

    @Test func nilIsNullKeysAreSortedAndIndentIsTwoSpaces() throws {
        let value = Figures(rate: nil, count: 3, name: "a \"b\"\n\u{1}", cells: [1, 2], empty: [:])
        let text = try JSONValue.encode(value).rendered()
        #expect(text == """
            {
              "cells": [
                1,
                2
              ],
              "count": 3,
              "empty": {},
              "name": "a \\"b\\"\\n\\u0001",
              "rate": null
            }
            """)
    }

    @Test func numbersRoundTripAndNonFiniteIsNull() throws {
        #expect(JSONValue.double(0.1).rendered() == "0.1")
        #expect(JSONValue.double(1).rendered() == "1.0")
        #expect(JSONValue.double(.nan) == .null)
        #expect(JSONValue.double(nil) == .null)
        #expect(JSONValue.int(Int64.min).rendered() == "-9223372036854775808")
        #expect(try JSONValue.encode(0.78) == .number("0.78"))
    }

    @Test func aReportHasEveryFigureEvenWhenUndefined() throws {
        let ledger = try OrderLedger([
            Order(id: "1", customerID: "a", timestamp: Timestamp(secondsSince1970: 1_704_067_200), amount: 1000)
        ])
        guard case .object(let members) = try JSONValue.encode(RetentionReport(ledger)) else {
            Issue.record("a report encodes as an object")
            return
        }
        guard case .object(let retention) = members["retention"] else {
            Issue.record("retention is an object")
            return
        }
        #expect(retention["rate"] == .null)  // no customer active at the window's start
        #expect(members["revenue"] == .string("10.00"))
    }
}
