import RetentionMetrics

/// Small builders shared by the metric tests.
enum MetricsFixture {
    static let day: Int64 = 86_400

    /// UTC midnight of the date, plus `seconds`.
    static func instant(_ year: Int, _ month: Int, _ day: Int, plus seconds: Int64 = 0) -> Timestamp {
        let midnight = PeriodCalendar.utc.startOfDay(CivilDate(year: year, month: month, day: day)!)
        return Timestamp(secondsSince1970: midnight.secondsSince1970 + seconds)
    }

    /// A ledger of `(customer, instant, amount)` rows; order ids are the row numbers.
    static func ledger(_ rows: [(String, Timestamp, Int64)], currency: Currency = .usd) throws -> OrderLedger {
        try OrderLedger(
            rows.enumerated().map { index, row in
                Order(id: "o\(index)", customerID: row.0, timestamp: row.1, amount: row.2, currency: currency)
            })
    }

    /// `actual` within `relative` x |expected| of `expected` (absolute `relative` when expected is 0).
    static func isClose(_ actual: Double?, _ expected: Double, relative: Double = 1e-12) -> Bool {
        guard let actual else { return false }
        return abs(actual - expected) <= relative * max(abs(expected), 1)
    }

    /// Q2 2024 in UTC: [2024-04-01, 2024-07-01).
    static let q2 = instant(2024, 4, 1)..<instant(2024, 7, 1)

    /// A ledger exercising every retention case over ``q2`` with a 90-day activity window
    /// (start window [2024-01-02, 2024-04-01), end window [2024-04-02, 2024-07-01)):
    ///
    /// | customer | purchases (refunds)                    | at start | at end | first in Q2 | role        |
    /// |----------|----------------------------------------|----------|--------|-------------|-------------|
    /// | a        | 02-10, 05-05                           | yes      | yes    | no          | retained    |
    /// | b        | 03-31 23:59:59                         | yes      | no     | no          | lost        |
    /// | c        | 2023-06-01, 06-01                      | no       | yes    | no          | reactivated |
    /// | d        | 05-01                                  | no       | yes    | yes         | new         |
    /// | e        | 04-01 00:00 (exactly the start)        | no       | no     | yes         | acquired, lapsed |
    /// | f        | 01-15, 07-01 00:00 (exactly the end)   | yes      | no     | no          | lost        |
    /// | g        | (03-01), (05-01) refunds only          | no       | no     | no          | nobody      |
    /// | h        | 03-15, (05-10)                         | yes      | no     | no          | lost        |
    /// | i        | 01-02 00:00 (window start), 06-30      | yes      | yes    | no          | retained    |
    /// | j        | 01-01 23:59:59 (just before window)    | no       | no     | no          | nobody      |
    /// | k        | 07-01 00:00 (first, at the end)        | no       | no     | no          | nobody      |
    static func retentionLedger() throws -> OrderLedger {
        try ledger([
            ("a", instant(2024, 2, 10), 1_000), ("a", instant(2024, 5, 5), 1_000),
            ("b", instant(2024, 3, 31, plus: day - 1), 1_000),
            ("c", instant(2023, 6, 1), 1_000), ("c", instant(2024, 6, 1), 1_000),
            ("d", instant(2024, 5, 1), 1_000),
            ("e", instant(2024, 4, 1), 1_000),
            ("f", instant(2024, 1, 15), 1_000), ("f", instant(2024, 7, 1), 1_000),
            ("g", instant(2024, 3, 1), -500), ("g", instant(2024, 5, 1), -500),
            ("h", instant(2024, 3, 15), 1_000), ("h", instant(2024, 5, 10), -1_000),
            ("i", instant(2024, 1, 2), 1_000), ("i", instant(2024, 6, 30), 1_000),
            ("j", instant(2024, 1, 1, plus: day - 1), 1_000),
            ("k", instant(2024, 7, 1), 1_000),
        ])
    }
}
