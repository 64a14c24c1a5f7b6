import RetentionMetrics

/// Builds ledgers from short literal rows for the CohortTable, RFM and BTYDSummary tests.
enum RFMTestLedger {
    /// `"2024-03-31T23:30:00Z"` or `"2024-03-31"` (midnight UTC) as an instant.
    static func instant(_ text: String) -> Timestamp {
        let parts = text.split(whereSeparator: { "-T:Z".contains($0) }).map { Int($0)! }
        let date = CivilDate(year: parts[0], month: parts[1], day: parts[2])!
        let seconds = parts.count >= 6 ? parts[3] * 3600 + parts[4] * 60 + parts[5] : 0
        return Timestamp(secondsSince1970: date.daysSince1970 * 86_400 + Int64(seconds))
    }

    static func date(_ text: String) -> CivilDate {
        let parts = text.split(separator: "-").map { Int($0)! }
        return CivilDate(year: parts[0], month: parts[1], day: parts[2])!
    }

    /// A ledger of (customer, instant, amount in cents) rows; order ids are the row numbers.
    static func ledger(_ rows: [(String, String, Int64)]) -> OrderLedger {
        var ledger = OrderLedger()
        for (index, row) in rows.enumerated() {
            try! ledger.append(Order(id: "o\(index)", customerID: row.0, timestamp: instant(row.1), amount: row.2))
        }
        return ledger
    }

    /// A ledger of `customer,instant,cents` lines.
    static func ledger(csv: String) -> OrderLedger {
        ledger(
            csv.split(separator: "\n").map { line in
                let fields = line.split(separator: ",").map(String.init)
                return (fields[0], fields[1], Int64(fields[2])!)
            })
    }
}
