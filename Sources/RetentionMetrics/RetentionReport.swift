/// Every headline figure of an order history in one `Codable` value: what `retention report` prints and the
/// server's `/metrics/report` returns.
///
/// ```swift
/// let report = try RetentionReport(ledger, options: .init(calendar: .utc))
/// report.repeatPurchaseRate          // 0.31
/// report.retention.rate              // (E - N) / S over the window, nil without customers before it
/// report.cohorts.first?.cohort       // "2023-01"
/// ```
///
/// The window `[from, to)` defaults to whole local days covering all the data: from the start of the first
/// order's day to the end of the last order's day. "Active at *t*" means a purchase in `[t - activeWithin, t)`;
/// `activeWithin` defaults to the window's length. The cohort table and the RFM segments look at every order up to
/// the end of the as-of day (default: the day of the last order), not only at the window.
///
/// - Complexity: O(*n* + *c*) for *n* orders and *c* customers: one fused pass over the ledger's columns and one
///   over the customers (see `Documentation/Performance-Kernels.md`).
public struct RetentionReport: Sendable, Codable, Hashable {
    /// What to compute.
    public struct Options: Sendable {
        /// The time zone of every period and day boundary.
        public var calendar: PeriodCalendar
        /// The window `[from, to)`; `nil` for whole days covering all the data.
        public var window: Range<Timestamp>?
        /// Seconds of the activity window for retention; `nil` for the window's length.
        public var activeWithin: Int64?
        /// Customer lifespan in years for the CLV; `nil` to estimate it from the window's churn.
        public var lifespanYears: Double?
        /// Gross margin in 0...1 applied to the CLV.
        public var grossMargin: Double
        /// Annual discount rate of the CLV.
        public var annualDiscountRate: Double
        /// Period of the cohort table and of the revenue series.
        public var cohortUnit: PeriodUnit
        /// The as-of day of the cohort table and RFM; `nil` for the day of the last order.
        public var asOf: CivilDate?
        /// How refunds enter money figures.
        public var refunds: RefundPolicy
        /// RFM bins and tie policy, and the segment table.
        public var bins: Int
        public var binning: RFMBinning
        public var segmentation: RFMSegmentation

        public init(
            calendar: PeriodCalendar = .utc, window: Range<Timestamp>? = nil, activeWithin: Int64? = nil,
            lifespanYears: Double? = nil, grossMargin: Double = 1, annualDiscountRate: Double = 0,
            cohortUnit: PeriodUnit = .month, asOf: CivilDate? = nil, refunds: RefundPolicy = .net, bins: Int = 5,
            binning: RFMBinning = .share, segmentation: RFMSegmentation = .standard
        ) {
            self.calendar = calendar
            self.window = window
            self.activeWithin = activeWithin
            self.lifespanYears = lifespanYears
            self.grossMargin = grossMargin
            self.annualDiscountRate = annualDiscountRate
            self.cohortUnit = cohortUnit
            self.asOf = asOf
            self.refunds = refunds
            self.bins = bins
            self.binning = binning
            self.segmentation = segmentation
        }
    }

    /// Retention over the window (seed 001's formula next to the exact cohort rate).
    public struct Retention: Sendable, Codable, Hashable {
        /// S: customers active at the window's start.
        public var start: Int
        /// N: customers whose first purchase is in the window (and who are active at its end).
        public var new: Int
        /// E: customers active at the window's end.
        public var end: Int
        /// |S ∩ E|.
        public var retained: Int
        /// Active at the end, not at the start, not new.
        public var reactivated: Int
        /// (E - N) / S.
        public var rate: Double?
        /// |S ∩ E| / S.
        public var cohortRate: Double?
        /// 1 - rate.
        public var churnRate: Double?
        /// |S \ E| / S.
        public var lostRate: Double?
        /// The activity window in days.
        public var activeWithinDays: Double
    }

    /// Seed 001's measure: of the customers who bought before the window, the share who bought in it.
    public struct Returning: Sendable, Codable, Hashable {
        public var existing: Int
        public var returned: Int
        public var rate: Double?
    }

    /// CLV = AOV x annual purchase frequency x lifespan (x margin, discounted).
    public struct LifetimeValue: Sendable, Codable, Hashable {
        public var averageOrderValue: Double?
        public var annualPurchaseFrequency: Double?
        public var lifespanYears: Double?
        /// `"given"` or `"estimatedFromChurn"`; `nil` when no lifespan could be had.
        public var lifespanSource: String?
        public var grossMargin: Double
        public var annualDiscountRate: Double
        public var value: Double?
    }

    /// One cell of the cohort table.
    public struct CohortCell: Sendable, Codable, Hashable {
        public var cohort: String
        public var offset: Int
        public var active: Int
        public var size: Int
        public var retention: Double
    }

    /// Revenue of one period split by whether the paying customer was new (in their first period) or returning.
    public struct PeriodRevenue: Sendable, Codable, Hashable {
        public var period: String
        public var newCustomers: Int
        public var returningCustomers: Int
        /// Exact decimal strings.
        public var newCustomerRevenue: String
        public var returningCustomerRevenue: String
    }

    public var timeZone: String
    /// The window, ISO 8601 UTC.
    public var from: String?
    public var to: String?
    public var asOf: String?
    public var currency: String?
    /// Customers with a purchase in the window.
    public var customers: Int
    /// Purchases in the window.
    public var orders: Int
    /// Revenue in the window under the refund policy, exact decimal.
    public var revenue: String
    public var revenueMinorUnits: Int64
    public var averageOrderValue: Double?
    /// Orders per customer in the window.
    public var purchaseFrequency: Double?
    public var repeatPurchaseRate: Double?
    public var returningCustomerRate: Double?
    /// AOV of repeat purchases / AOV of first purchases - 1, over all orders.
    public var spendUplift: Double?
    public var retention: Retention
    public var returning: Returning
    public var customerLifetimeValue: LifetimeValue
    public var cohortPeriod: PeriodUnit
    public var cohorts: [CohortCell]
    public var segments: [RFMSegmentSize]
    public var revenueByPeriod: [PeriodRevenue]

    /// Computes the report.
    /// - Throws: ``MetricError`` for invalid options (an empty window, activeWithin <= 0, margin outside 0...1).
    /// - Complexity: O(*n* + *c*) for *n* orders and *c* customers: one pass over the ledger's columns (split
    ///   between two cores), one over the customers, RFM cut points by selection. ``RFMBinning/split``, an empty
    ///   ledger, data spanning over 1,000 years or cohort tables over 1,024 periods wide take the reference path,
    ///   O(*n* + *c* log *c*).
    public init(_ ledger: OrderLedger, options: Options = Options()) throws {
        if let report = try RetentionReport.fused(OrderColumns(ledger), options: options) {
            self = report
            return
        }
        try self.init(reference: ledger, options: options)
    }

    /// The reference computation: the composition of the public metrics, a few passes each. The fused kernel
    /// (`ReportKernel.swift`) must equal it; the tests compare the two.
    init(reference ledger: OrderLedger, options: Options) throws {
        let calendar = options.calendar
        let currency = ledger.currency ?? .usd
        let window = options.window ?? RetentionReport.dataWindow(ledger, calendar: calendar)
        guard !window.isEmpty else {
            throw MetricError(.emptyWindow, "the report window [\(window.lowerBound), \(window.upperBound)) is empty")
        }
        let windowSeconds = window.upperBound.secondsSince1970 - window.lowerBound.secondsSince1970
        let activeWithin = options.activeWithin ?? windowSeconds

        let inWindow = ledger.summaries(in: window)
        let aov = try AverageOrderValue(inWindow, refunds: options.refunds)
        let frequency = try PurchaseFrequency(inWindow, window: window)
        let repeatRate = RepeatPurchaseRate(inWindow)
        let periodRetention = try PeriodRetention(ledger, period: window, activeWithin: activeWithin)
        let returning = try ReturningRate(ledger, period: window)

        timeZone = calendar.identifier
        from = window.lowerBound.description
        to = window.upperBound.description
        self.currency = ledger.currency?.code
        customers = repeatRate.customers
        orders = aov.orders
        revenueMinorUnits = aov.revenue
        revenue = Money.decimalString(aov.revenue, digits: currency.minorUnitDigits)
        averageOrderValue = aov.value
        purchaseFrequency = frequency.value
        self.repeatPurchaseRate = repeatRate.rate
        returningCustomerRate = ReturningCustomerRate(ledger, in: window).rate
        spendUplift = SpendUplift(ledger).value
        retention = Retention(periodRetention, activeWithin: activeWithin)
        self.returning = Returning(existing: returning.existing, returned: returning.returned, rate: returning.rate)

        let customerValue = CustomerValue(averageOrderValue: aov, frequency: frequency)
        var lifespan = options.lifespanYears
        var lifespanSource: String? = lifespan == nil ? nil : "given"
        if lifespan == nil {
            lifespan = CustomerLifetimeValue.estimatedLifespanYears(
                churnPerPeriod: periodRetention.lostRate, period: window)
            lifespanSource = lifespan == nil ? nil : "estimatedFromChurn"
        }
        var value: Double?
        if let lifespan, let annual = customerValue.annualValue {
            value = try CustomerLifetimeValue(
                annualCustomerValue: annual, lifespanYears: lifespan, grossMargin: options.grossMargin,
                annualDiscountRate: options.annualDiscountRate
            ).value
        }
        customerLifetimeValue = LifetimeValue(
            averageOrderValue: aov.value, annualPurchaseFrequency: frequency.annualized, lifespanYears: lifespan,
            lifespanSource: lifespanSource, grossMargin: options.grossMargin,
            annualDiscountRate: options.annualDiscountRate, value: value)

        // Cohorts, RFM and the revenue series look at every order up to the end of the as-of day.
        let asOfDay =
            options.asOf ?? ledger.timestampRange.map { calendar.localDay(of: Timestamp(secondsSince1970: $0.upperBound)) }
        asOf = asOfDay?.description
        cohortPeriod = options.cohortUnit
        if let asOfDay {
            let cutoff = calendar.startOfDay(asOfDay.adding(days: 1))
            let table = CohortTable(
                ledger: ledger, unit: options.cohortUnit, calendar: calendar,
                asOf: Timestamp(secondsSince1970: cutoff.secondsSince1970 - 1))
            cohorts = table.rows.map {
                CohortCell(
                    cohort: $0.cohort.description, offset: $0.offset, active: $0.active, size: $0.size,
                    retention: $0.retention)
            }
            let rfm = RFMSummary(ledger: ledger, asOf: asOfDay, calendar: calendar, refunds: options.refunds)
            segments = options.segmentation.sizes(of: RFMScores(rfm, bins: options.bins, binning: options.binning))
            revenueByPeriod = RetentionReport.revenueSeries(
                ledger, unit: options.cohortUnit, calendar: calendar, before: cutoff.secondsSince1970,
                refunds: options.refunds, digits: currency.minorUnitDigits)
        } else {
            cohorts = []
            segments = []
            revenueByPeriod = []
        }
    }

    /// Whole local days covering every order: `[start of the first order's day, start of the day after the last)`.
    /// An empty ledger gives an empty range at the epoch.
    public static func dataWindow(_ ledger: OrderLedger, calendar: PeriodCalendar) -> Range<Timestamp> {
        dataWindow(instants: ledger.timestampRange, calendar: calendar)
    }

    /// Whole local days covering the order instants `instants` (the first and last order, refunds included); an
    /// empty range at the epoch for `nil` (no orders).
    public static func dataWindow(instants: ClosedRange<Int64>?, calendar: PeriodCalendar) -> Range<Timestamp> {
        guard let range = instants else {
            return Timestamp(secondsSince1970: 0)..<Timestamp(secondsSince1970: 0)
        }
        let first = calendar.localDay(of: Timestamp(secondsSince1970: range.lowerBound))
        let last = calendar.localDay(of: Timestamp(secondsSince1970: range.upperBound))
        return calendar.startOfDay(first)..<calendar.startOfDay(last.adding(days: 1))
    }

    /// Revenue per period split by new (the customer's first purchase period) and returning customers.
    static func revenueSeries(
        _ ledger: OrderLedger, unit: PeriodUnit, calendar: PeriodCalendar, before cutoff: Int64,
        refunds: RefundPolicy, digits: Int
    ) -> [PeriodRevenue] {
        let activity = CustomerPeriodActivity(ledger: ledger, unit: unit, calendar: calendar)
        // The series ends at the as-of day's period: orders after the cutoff are not counted, so their periods
        // are not shown either.
        let cutoffPeriod = calendar.period(unit, of: Timestamp(secondsSince1970: cutoff - 1)).index
        guard let lastPurchase = activity.lastPurchase, let firstPeriod = activity.firstPurchase.min(),
            firstPeriod <= min(lastPurchase, cutoffPeriod)
        else { return [] }
        let lastPeriod = min(lastPurchase, cutoffPeriod)
        let periodCount = Int(lastPeriod - firstPeriod) + 1
        var newRevenue = [Int64](repeating: 0, count: periodCount)
        var returningRevenue = [Int64](repeating: 0, count: periodCount)
        var newCustomers = DistinctCustomerPeriods(base: firstPeriod)
        var returningCustomers = DistinctCustomerPeriods(base: firstPeriod)
        var newCounts = [Int](repeating: 0, count: periodCount)
        var returningCounts = [Int](repeating: 0, count: periodCount)
        for row in 0..<ledger.count where activity.included[row] && ledger.timestampColumn[row] < cutoff {
            let amount = ledger.amountColumn[row]
            if amount < 0 && refunds == .exclude { continue }
            let customer = ledger.customerColumn[row]
            let period = activity.periods[row]
            let first = activity.firstPurchase[Int(customer)]
            guard first != .max, period >= first, period <= lastPeriod else { continue }
            let slot = Int(period - firstPeriod)
            if period == first {
                newRevenue[slot] += amount
                if amount >= 0, newCustomers.insert(customer: customer, period: period) { newCounts[slot] += 1 }
            } else {
                returningRevenue[slot] += amount
                if amount >= 0, returningCustomers.insert(customer: customer, period: period) {
                    returningCounts[slot] += 1
                }
            }
        }
        return (0..<periodCount).map { slot in
            PeriodRevenue(
                period: Period(unit: unit, index: firstPeriod + Int64(slot)).description,
                newCustomers: newCounts[slot], returningCustomers: returningCounts[slot],
                newCustomerRevenue: Money.decimalString(newRevenue[slot], digits: digits),
                returningCustomerRevenue: Money.decimalString(returningRevenue[slot], digits: digits))
        }
    }
}
