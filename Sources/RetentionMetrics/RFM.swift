// RFM: recency, frequency and monetary value per customer (RFMSummary), their 1...b scores (RFMScores), and
// named segments from a rule table over the scores (RFMSegmentation).

/// The recency, frequency and monetary value of every purchasing customer at an as-of date.
///
///     recency   = as-of day - local day of the last purchase        (whole calendar days, >= 0)
///     frequency = number of purchases                               (option: distinct local purchase days)
///     monetary  = sum of purchase amounts (+ refunds under .net)    (option: that sum / frequency, rounded)
///
/// Only orders on or before the as-of day (in the calendar's time zone) count. Customers without a purchase by
/// then are absent. Refund rows (amount < 0) are never purchases; under `.net` they reduce monetary value.
///
/// ```swift
/// let rfm = try RFMSummary(ledger: ledger, asOf: CivilDate(year: 2024, month: 6, day: 30)!, calendar: .utc)
/// rfm.rows[0]   // customerID "alice", recency 3, frequency 4, monetary 12_500 (minor units)
/// ```
public struct RFMSummary: Sendable, Codable, Hashable {
    /// How frequency is counted.
    public enum Frequency: String, Sendable, Codable, CaseIterable {
        /// Number of purchase rows.
        case purchases
        /// Number of distinct local days with a purchase (several orders on one day count once).
        case distinctDays
    }

    /// How monetary value is measured.
    public enum Monetary: String, Sendable, Codable, CaseIterable {
        /// Total amount, minor units.
        case total
        /// Total / frequency, rounded to the nearest minor unit (halves away from zero).
        case mean
    }

    /// One customer's figures.
    public struct Row: Sendable, Codable, Hashable {
        public var customerID: String
        /// Whole calendar days from the local day of the last purchase to the as-of day.
        public var recency: Int
        public var frequency: Int
        /// Minor units: the total, or the mean per ``Frequency`` unit (see ``Monetary``).
        public var monetary: Int64

        public init(customerID: String, recency: Int, frequency: Int, monetary: Int64) {
            self.customerID = customerID
            self.recency = recency
            self.frequency = frequency
            self.monetary = monetary
        }
    }

    /// The as-of day: recency is measured to it, and later orders are ignored.
    public var asOf: CivilDate
    /// The IANA identifier of the calendar's time zone.
    public var timeZone: String
    public var frequencyMeasure: Frequency
    public var monetaryMeasure: Monetary
    public var refunds: RefundPolicy
    /// One row per customer with a purchase on or before ``asOf``, sorted by customer id.
    public var rows: [Row]

    /// Summarises a ledger at the end of the local day `asOf`.
    ///
    ///     recency = asOf - localDay(last purchase);  frequency = purchases;  monetary = total
    ///
    /// ```swift
    /// let berlin = PeriodCalendar(identifier: "Europe/Berlin")!
    /// let rfm = RFMSummary(ledger: ledger, asOf: CivilDate(year: 2024, month: 4, day: 10)!, calendar: berlin)
    /// // an order at 2024-03-31T23:30:00Z is on 2024-04-01 in Berlin: recency 9
    /// ```
    ///
    /// - Parameters:
    ///   - ledger: The orders.
    ///   - asOf: The as-of day, in the calendar's time zone. Orders on later local days are ignored.
    ///   - calendar: The time zone that maps instants to days.
    ///   - frequency: `.purchases` (default) or `.distinctDays`.
    ///   - monetary: `.total` (default) or `.mean`.
    ///   - refunds: `.net` (default: refunds reduce monetary) or `.exclude`.
    /// - Returns: One row per customer with a purchase on or before `asOf`, sorted by customer id.
    /// - Complexity: O(*n* + *c* log *c*) for *n* orders and *c* customers (the log term sorts customer ids);
    ///   one pass over the orders, two with `.distinctDays`.
    public init(
        ledger: OrderLedger, asOf: CivilDate, calendar: PeriodCalendar, frequency: Frequency = .purchases,
        monetary: Monetary = .total, refunds: RefundPolicy = .net
    ) {
        let end = calendar.startOfDay(asOf.adding(days: 1))
        let summaries = ledger.summaries(in: Timestamp(secondsSince1970: .min)..<end)
        var days: [Int]?
        if frequency == .distinctDays {
            let activity = CustomerPeriodActivity(
                ledger: ledger, unit: .day, calendar: calendar, limit: asOf.daysSince1970)
            var counts = [Int](repeating: 0, count: ledger.customerCount)
            var seen = DistinctCustomerPeriods(
                base: activity.firstPurchase.min() ?? 0, capacity: ledger.customerCount)
            let amounts = ledger.amountColumn
            let customers = ledger.customerColumn
            for row in 0..<ledger.count where activity.included[row] && amounts[row] >= 0 {
                if seen.insert(customer: customers[row], period: activity.periods[row]) {
                    counts[Int(customers[row])] += 1
                }
            }
            days = counts
        }
        self.init(
            summaries: summaries, asOf: asOf, calendar: calendar, distinctDays: days, monetary: monetary,
            refunds: refunds)
    }

    /// Summarises precomputed per-customer summaries (for example a database's `GROUP BY customer_id` over the
    /// orders up to the end of the as-of day), with frequency = purchases.
    ///
    ///     recency = asOf - localDay(summary.lastPurchase);  frequency = summary.purchases
    ///
    /// ```swift
    /// let end = calendar.startOfDay(asOf.adding(days: 1))
    /// let rfm = RFMSummary(summaries: ledger.summaries(in: Timestamp(secondsSince1970: .min)..<end),
    ///                      asOf: asOf, calendar: calendar)
    /// ```
    ///
    /// - Parameters:
    ///   - summaries: Per-customer summaries of the orders up to the end of `asOf`. A summary whose last purchase
    ///     falls after `asOf` gets a negative recency: restrict the summaries first.
    ///   - asOf: The as-of day in the calendar's time zone.
    ///   - calendar: The time zone that maps instants to days.
    ///   - monetary: `.total` (default) or `.mean`.
    ///   - refunds: `.net` (default) or `.exclude`.
    /// - Returns: One row per customer with a purchase, sorted by customer id.
    /// - Complexity: O(*c* log *c*) in the number of customers.
    public init(
        summaries: CustomerSummaries, asOf: CivilDate, calendar: PeriodCalendar, monetary: Monetary = .total,
        refunds: RefundPolicy = .net
    ) {
        self.init(
            summaries: summaries, asOf: asOf, calendar: calendar, distinctDays: nil, monetary: monetary,
            refunds: refunds)
    }

    /// A summary from its parts (for decoding, tests and adapters that compute the figures elsewhere).
    public init(
        rows: [Row], asOf: CivilDate, timeZone: String = "UTC", frequency: Frequency = .purchases,
        monetary: Monetary = .total, refunds: RefundPolicy = .net
    ) {
        self.rows = rows
        self.asOf = asOf
        self.timeZone = timeZone
        self.frequencyMeasure = frequency
        self.monetaryMeasure = monetary
        self.refunds = refunds
    }

    private init(
        summaries: CustomerSummaries, asOf: CivilDate, calendar: PeriodCalendar, distinctDays: [Int]?,
        monetary: Monetary, refunds: RefundPolicy
    ) {
        let asOfDay = asOf.daysSince1970
        var rows: [Row] = []
        rows.reserveCapacity(summaries.count)
        for (index, summary) in summaries.summaries.enumerated() {
            guard let last = summary.lastPurchase else { continue }
            let frequency = distinctDays?[index] ?? summary.purchases
            let total = summary.revenue(refunds)
            rows.append(
                Row(
                    customerID: summaries.customerIDs[index],
                    recency: Int(asOfDay - calendar.localDayNumber(of: last)),
                    frequency: frequency,
                    monetary: monetary == .total ? total : roundedQuotient(total, Int64(frequency))))
        }
        rows.sort { $0.customerID < $1.customerID }
        self.asOf = asOf
        self.timeZone = calendar.identifier
        self.frequencyMeasure = distinctDays == nil ? .purchases : .distinctDays
        self.monetaryMeasure = monetary
        self.refunds = refunds
        self.rows = rows
    }
}

/// `a / b` rounded to the nearest integer, halves away from zero (`b > 0`).
private func roundedQuotient(_ a: Int64, _ b: Int64) -> Int64 {
    let quotient = a / b
    let remainder = a % b
    guard remainder.magnitude * 2 >= b.magnitude else { return quotient }
    return a < 0 ? quotient - 1 : quotient + 1
}

/// How ``RFMScores`` turns values into scores 1...b.
public enum RFMBinning: String, Sendable, Codable, CaseIterable {
    /// Quantile cut points; equal values always share a score, so with heavy ties some scores stay empty.
    case share
    /// Equal-sized bins like SQL `NTILE(b)`: values sorted ascending, ties broken by customer id ascending.
    /// Equal values may get different scores, deterministically.
    case split
}

/// R, F and M scores 1...b for every customer of an ``RFMSummary``; b is best for all three.
///
/// Policy `.share` (default), with `q_k` the type-7 quantile (numpy's default "linear", R's type 7, SQL
/// `percentile_cont`) of the customers' values at probability `k / b`:
///
///     q_k     = x[j] + g (x[j+1] - x[j]),   h = (n - 1) k / b,  j = floor(h),  g = h - j,  x sorted ascending
///     F, M    = 1 + #{k in 1..b-1 : v > q_k}
///     R       = b - #{k in 1..b-1 : recency > q_k}        (fewer days since the last purchase is better)
///
/// Policy `.split`: `NTILE(b)` over the values sorted ascending (ties by customer id ascending): the first
/// `n mod b` bins hold `ceil(n / b)` customers, the others `floor(n / b)`. For R the order is recency descending
/// (ties by customer id ascending), so the most recent customers get b.
///
/// ```swift
/// let scores = RFMScores(rfm)            // 5 bins, ties share
/// scores.rows[0].code                    // "545"
/// scores.frequencyCuts                   // [2.8, 4.6, 6.4, 8.2] for frequencies 1...10
/// ```
public struct RFMScores: Sendable, Codable, Hashable {
    /// One customer's values and scores.
    public struct Row: Sendable, Codable, Hashable {
        public var customerID: String
        public var recency: Int
        public var frequency: Int
        public var monetary: Int64
        public var recencyScore: Int
        public var frequencyScore: Int
        public var monetaryScore: Int

        /// The three scores as text, R then F then M: `"555"`.
        public var code: String { "\(recencyScore)\(frequencyScore)\(monetaryScore)" }
    }

    public var bins: Int
    public var binning: RFMBinning
    /// The type-7 quantiles of recency at 1/b ... (b-1)/b (reported for both policies; `.split` does not use them).
    public var recencyCuts: [Double]
    public var frequencyCuts: [Double]
    public var monetaryCuts: [Double]
    /// One row per customer, in the summary's order (customer id).
    public var rows: [Row]

    /// Scores a summary.
    ///
    ///     F, M = 1 + #{k : v > q_k};   R = b - #{k : r > q_k};   q_k = type-7 quantile at k / b
    ///
    /// ```swift
    /// let scores = RFMScores(rfm, bins: 5, binning: .share)
    /// scores.rows.map(\.frequencyScore)   // frequencies 1...10 -> [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    /// ```
    ///
    /// - Parameters:
    ///   - summary: The per-customer values.
    ///   - bins: Number of scores b (default 5).
    ///   - binning: `.share` (default) or `.split`.
    /// - Returns: Scores for every customer; cut points empty when the summary is empty.
    /// - Precondition: `bins >= 1`.
    /// - Complexity: O(*c*) expected for `.share` (cut points by selection), O(*c* log *c*) for `.split` (a sort per
    ///   measure), in the number of customers.
    public init(_ summary: RFMSummary, bins: Int = 5, binning: RFMBinning = .share) {
        precondition(bins >= 1, "RFMScores needs at least one bin")
        let rows = summary.rows
        let ids = binning == .split ? rows.map(\.customerID) : []
        let recency = RFMScores.score(
            rows.map { Int64($0.recency) }, ids: ids, bins: bins, binning: binning, smallerIsBetter: true)
        let frequency = RFMScores.score(
            rows.map { Int64($0.frequency) }, ids: ids, bins: bins, binning: binning, smallerIsBetter: false)
        let monetary = RFMScores.score(
            rows.map(\.monetary), ids: ids, bins: bins, binning: binning, smallerIsBetter: false)
        self.bins = bins
        self.binning = binning
        self.recencyCuts = recency.cuts
        self.frequencyCuts = frequency.cuts
        self.monetaryCuts = monetary.cuts
        self.rows = rows.indices.map { index in
            let row = rows[index]
            return Row(
                customerID: row.customerID, recency: row.recency, frequency: row.frequency, monetary: row.monetary,
                recencyScore: recency.scores[index], frequencyScore: frequency.scores[index],
                monetaryScore: monetary.scores[index])
        }
    }

    /// Scores one measure: the shared pattern of R, F and M. The cut points come from the 2(b - 1) order
    /// statistics they need, found by selection (``shareCuts(_:bins:)``) rather than a full sort; `.split` sorts.
    private static func score(
        _ integers: [Int64], ids: [String], bins: Int, binning: RFMBinning, smallerIsBetter: Bool
    ) -> (scores: [Int], cuts: [Double]) {
        let cuts = shareCuts(integers, bins: bins)
        let values = integers.map { Double($0) }
        var scores = [Int](repeating: 0, count: values.count)
        switch binning {
        case .share:
            for (index, value) in values.enumerated() {
                let above = cuts.count { value > $0 }
                scores[index] = smallerIsBetter ? bins - above : 1 + above
            }
        case .split:
            let order = values.indices.sorted { a, b in
                if values[a] != values[b] { return smallerIsBetter ? values[a] > values[b] : values[a] < values[b] }
                return ids[a] < ids[b]
            }
            // NTILE: the first (n mod b) tiles hold one extra row.
            let (small, extra) = values.count.quotientAndRemainder(dividingBy: bins)
            for (position, index) in order.enumerated() {
                let big = (small + 1) * extra
                scores[index] = position < big ? position / (small + 1) + 1 : extra + (position - big) / small + 1
            }
        }
        return (scores, cuts)
    }
}

/// The type-7 quantile of ascending `sorted` values at probability `p` in [0, 1], with numpy's arithmetic
/// (`np.quantile(x, p)`, method "linear"), so results match numpy to the last bit:
///
///     h = (n - 1) p,  j = floor(h),  g = h - j
///     q = x[j] + (x[j+1] - x[j]) g            when g < 0.5
///     q = x[j+1] - (x[j+1] - x[j]) (1 - g)    when g >= 0.5
func typeSevenQuantile(_ sorted: [Double], _ p: Double) -> Double {
    precondition(!sorted.isEmpty, "quantile of no values")
    let h = Double(sorted.count - 1) * p
    let j = min(Int(h.rounded(.down)), sorted.count - 1)
    let g = h - Double(j)
    guard j + 1 < sorted.count else { return sorted[j] }
    let a = sorted[j]
    let b = sorted[j + 1]
    let difference = b - a
    return g >= 0.5 ? b - difference * (1 - g) : a + difference * g
}

/// One segment rule: a name and closed ranges of R, F and M scores.
public struct RFMSegmentRule: Sendable, Codable, Hashable {
    public var name: String
    public var recency: ClosedRange<Int>
    public var frequency: ClosedRange<Int>
    public var monetary: ClosedRange<Int>

    public init(_ name: String, recency: ClosedRange<Int>, frequency: ClosedRange<Int>, monetary: ClosedRange<Int>) {
        self.name = name
        self.recency = recency
        self.frequency = frequency
        self.monetary = monetary
    }

    /// Whether all three scores lie in the rule's ranges.
    public func matches(recency r: Int, frequency f: Int, monetary m: Int) -> Bool {
        recency.contains(r) && frequency.contains(f) && monetary.contains(m)
    }
}

/// Named customer segments from R, F and M scores: an ordered rule table, the first matching rule wins, and
/// customers no rule matches go to ``otherName``.
///
///     segment(r, f, m) = name of the first rule with r in R-range, f in F-range, m in M-range, else "Other"
///
/// ```swift
/// let segmentation = RFMSegmentation.standard
/// segmentation.segment(recency: 5, frequency: 5, monetary: 5)   // "Champions"
/// segmentation.segment(recency: 1, frequency: 1, monetary: 2)   // "Lost"
/// segmentation.sizes(of: scores)                                // [("Champions", 12), ..., ("Other", 3)]
/// ```
public struct RFMSegmentation: Sendable, Codable, Hashable {
    /// Rules in priority order.
    public var rules: [RFMSegmentRule]
    /// The segment of customers no rule matches.
    public var otherName: String

    public init(rules: [RFMSegmentRule], otherName: String = "Other") {
        self.rules = rules
        self.otherName = otherName
    }

    /// A widely used 10-segment table for 5 bins (ranges are R/F/M scores), in this priority order.
    public static let standard = RFMSegmentation(rules: [
        RFMSegmentRule("Champions", recency: 5...5, frequency: 5...5, monetary: 5...5),
        RFMSegmentRule("Potential Loyalist", recency: 3...5, frequency: 3...5, monetary: 2...5),
        RFMSegmentRule("Loyal Customers", recency: 2...4, frequency: 2...4, monetary: 2...4),
        RFMSegmentRule("Promising", recency: 3...4, frequency: 1...3, monetary: 3...5),
        RFMSegmentRule("New Customers", recency: 4...5, frequency: 1...3, monetary: 1...5),
        RFMSegmentRule("Can't Lose Them", recency: 1...2, frequency: 3...4, monetary: 4...5),
        RFMSegmentRule("At Risk", recency: 1...2, frequency: 2...5, monetary: 4...5),
        RFMSegmentRule("Need Attention", recency: 1...3, frequency: 3...5, monetary: 3...5),
        RFMSegmentRule("About To Sleep", recency: 2...3, frequency: 1...3, monetary: 1...4),
        RFMSegmentRule("Lost", recency: 1...1, frequency: 1...5, monetary: 1...5),
    ])

    /// The segment of one score triple.
    ///
    ///     first rule r with R in r.recency, F in r.frequency, M in r.monetary; otherwise otherName
    ///
    /// ```swift
    /// RFMSegmentation.standard.segment(recency: 2, frequency: 1, monetary: 5)   // "Other"
    /// ```
    ///
    /// - Returns: The rule's name, or ``otherName``.
    /// - Complexity: O(*k*) in the number of rules.
    public func segment(recency: Int, frequency: Int, monetary: Int) -> String {
        rules.first { $0.matches(recency: recency, frequency: frequency, monetary: monetary) }?.name ?? otherName
    }

    /// The segment of every scored customer, in the scores' row order.
    ///
    ///     segments[i] = segment(rows[i].recencyScore, rows[i].frequencyScore, rows[i].monetaryScore)
    ///
    /// ```swift
    /// zip(scores.rows, RFMSegmentation.standard.segments(of: scores)).first   // (alice's row, "Champions")
    /// ```
    ///
    /// - Parameter scores: The scores.
    /// - Returns: One segment name per row.
    /// - Complexity: O(*c* x *k*) for *c* customers and *k* rules.
    public func segments(of scores: RFMScores) -> [String] {
        scores.rows.map { segment(recency: $0.recencyScore, frequency: $0.frequencyScore, monetary: $0.monetaryScore) }
    }

    /// The number of customers in each segment: every rule in table order (including empty ones), then
    /// ``otherName``. A rule name listed twice is counted under its first position.
    ///
    ///     size(s) = #{customers whose segment is s}
    ///
    /// ```swift
    /// RFMSegmentation.standard.sizes(of: scores).last   // RFMSegmentSize(name: "Other", customers: 3)
    /// ```
    ///
    /// - Parameter scores: The scores.
    /// - Returns: Sizes summing to the number of scored customers.
    /// - Complexity: O(*c* x *k*).
    public func sizes(of scores: RFMScores) -> [RFMSegmentSize] {
        let (names, position) = namesInOrder()
        var counts = [Int](repeating: 0, count: names.count)
        for name in segments(of: scores) { counts[position[name]!] += 1 }
        return zip(names, counts).map { RFMSegmentSize(name: $0, customers: $1) }
    }
}

extension RFMSegmentation {
    /// The segment names in table order, each once (the catch-all last unless a rule has its name), and each
    /// name's position: the order ``sizes(of:)`` reports them in.
    func namesInOrder() -> (names: [String], position: [String: Int]) {
        var names: [String] = []
        var position: [String: Int] = [:]
        for name in rules.map(\.name) + [otherName] where position[name] == nil {
            position[name] = names.count
            names.append(name)
        }
        return (names, position)
    }
}

/// A segment name and its number of customers.
public struct RFMSegmentSize: Sendable, Codable, Hashable {
    public var name: String
    public var customers: Int

    public init(name: String, customers: Int) {
        self.name = name
        self.customers = customers
    }
}
