/// The report from per-customer rows a database computed (push-down) instead of from the orders.
///
/// Every figure of ``RetentionReport`` except ``RetentionReport/revenueByPeriod`` is a function of per-customer
/// summaries of a few time ranges and of the distinct (customer, period) purchase pairs, which a store computes
/// with `GROUP BY` and ships as one row per customer. ``RetentionReport/init(pushedDown:options:)`` assembles
/// them; `RetentionReport.pushedDown(from:options:)` in `RetentionStorage` runs the queries against a store.
extension RetentionReport {
    /// What the push-down report is made of: summaries of the ranges the figures look at, the cohort activity,
    /// and the first and last order instants (refund rows included).
    ///
    /// With `W = [lo, hi)` the report's window and `aw` its activity window:
    ///
    ///     allTime      summaries of every order
    ///     beforeWindow summaries of [-inf, lo)       (returning rate, returning-customer rate)
    ///     inWindow     summaries of [lo, hi)          (customers, orders, revenue, AOV, frequency, repeat rate)
    ///     atStart      summaries of [lo - aw, lo)     (S of the retention rate)
    ///     atEnd        summaries of [hi - aw, hi)     (E)
    ///     upToAsOf     summaries of [-inf, end of the as-of day)   (RFM segments)
    ///     cohortActivity  distinct (customer, period) purchase pairs up to the end of the as-of day's period
    public struct PushDownInputs: Sendable {
        public var window: Range<Timestamp>
        public var activeWithin: Int64
        public var asOf: CivilDate?
        public var allTime: CustomerSummaries
        public var beforeWindow: CustomerSummaries
        public var inWindow: CustomerSummaries
        public var atStart: CustomerSummaries
        public var atEnd: CustomerSummaries
        public var upToAsOf: CustomerSummaries
        public var cohortActivity: [CohortActivity]

        public init(
            window: Range<Timestamp>, activeWithin: Int64, asOf: CivilDate?, allTime: CustomerSummaries,
            beforeWindow: CustomerSummaries, inWindow: CustomerSummaries, atStart: CustomerSummaries,
            atEnd: CustomerSummaries, upToAsOf: CustomerSummaries, cohortActivity: [CohortActivity]
        ) {
            self.window = window
            self.activeWithin = activeWithin
            self.asOf = asOf
            self.allTime = allTime
            self.beforeWindow = beforeWindow
            self.inWindow = inWindow
            self.atStart = atStart
            self.atEnd = atEnd
            self.upToAsOf = upToAsOf
            self.cohortActivity = cohortActivity
        }
    }

    /// The ranges a push-down report reads, for `options` over data whose first and last order instants are
    /// `dataRange` (`nil` for no orders).
    ///
    /// - Returns: The window, the activity window in seconds, the as-of day, and the end of the cohort range (the
    ///   start of the period after the as-of day's).
    /// - Throws: ``MetricError`` for an empty window or `activeWithin <= 0`, as ``init(_:options:)-(OrderLedger,_)`` does.
    public static func pushDownRanges(dataRange: ClosedRange<Int64>?, options: Options) throws -> (
        window: Range<Timestamp>, activeWithin: Int64, asOf: CivilDate?, cohortEnd: Timestamp?
    ) {
        let calendar = options.calendar
        let window = options.window ?? dataWindow(instants: dataRange, calendar: calendar)
        guard !window.isEmpty else {
            throw MetricError(.emptyWindow, "the report window [\(window.lowerBound), \(window.upperBound)) is empty")
        }
        let activeWithin =
            options.activeWithin ?? (window.upperBound.secondsSince1970 - window.lowerBound.secondsSince1970)
        _ = try PeriodRetention.summaryWindows(period: window, activeWithin: activeWithin)
        let asOf = options.asOf ?? dataRange.map { calendar.localDay(of: Timestamp(secondsSince1970: $0.upperBound)) }
        let cohortEnd = asOf.map { day -> Timestamp in
            let cutoff = calendar.startOfDay(day.adding(days: 1))
            let limit = calendar.period(
                options.cohortUnit, of: Timestamp(secondsSince1970: cutoff.secondsSince1970 - 1))
            return calendar.interval(of: limit).upperBound
        }
        return (window, activeWithin, asOf, cohortEnd)
    }

    /// The report from pushed-down inputs; equal to ``init(_:options:)-(OrderLedger,_)`` over the same orders in every field but
    /// ``revenueByPeriod``, which needs each order's period and is left empty.
    ///
    /// ```swift
    /// let report = try await RetentionReport.pushedDown(from: sqliteStore, options: .init(calendar: berlin))
    /// ```
    ///
    /// - Parameters:
    ///   - inputs: The summaries and activity, of the ranges ``pushDownRanges(dataRange:options:)`` gives.
    ///   - options: The report's options (the same ones the ranges were computed for).
    /// - Throws: ``MetricError`` for invalid options; ``CohortTableError`` for activity of another unit.
    /// - Complexity: O(*c* log *c*) in the number of customers of the summaries (RFM sorts customer ids).
    public init(pushedDown inputs: PushDownInputs, options: Options) throws {
        let calendar = options.calendar
        let window = inputs.window
        let currency = inputs.allTime.currency ?? .usd
        let aov = try AverageOrderValue(inputs.inWindow, refunds: options.refunds)
        let frequency = try PurchaseFrequency(inputs.inWindow, window: window)
        let repeatRate = RepeatPurchaseRate(inputs.inWindow)
        let periodRetention = PeriodRetention(
            period: window, atStart: inputs.atStart, atEnd: inputs.atEnd, allTime: inputs.allTime)
        let returning = ReturningRate(before: inputs.beforeWindow, during: inputs.inWindow)

        timeZone = calendar.identifier
        from = window.lowerBound.description
        to = window.upperBound.description
        self.currency = inputs.allTime.currency?.code
        customers = repeatRate.customers
        orders = aov.orders
        revenueMinorUnits = aov.revenue
        revenue = Money.decimalString(aov.revenue, digits: currency.minorUnitDigits)
        averageOrderValue = aov.value
        purchaseFrequency = frequency.value
        repeatPurchaseRate = repeatRate.rate
        returningCustomerRate = ReturningCustomerRate(before: inputs.beforeWindow, during: inputs.inWindow).rate
        spendUplift = SpendUplift(inputs.allTime).value
        retention = Retention(periodRetention, activeWithin: inputs.activeWithin)
        self.returning = Returning(existing: returning.existing, returned: returning.returned, rate: returning.rate)
        customerLifetimeValue = try RetentionReport.lifetimeValue(
            aov: aov, frequency: frequency, lostRate: periodRetention.lostRate, window: window, options: options)

        asOf = inputs.asOf?.description
        cohortPeriod = options.cohortUnit
        revenueByPeriod = []
        guard let asOfDay = inputs.asOf else {
            cohorts = []
            segments = []
            return
        }
        let cutoff = calendar.startOfDay(asOfDay.adding(days: 1))
        let limit = calendar.period(options.cohortUnit, of: Timestamp(secondsSince1970: cutoff.secondsSince1970 - 1))
        let table = try CohortTable(
            activity: inputs.cohortActivity, unit: options.cohortUnit, lastObservedPeriod: limit)
        cohorts = table.rows.map {
            CohortCell(
                cohort: $0.cohort.description, offset: $0.offset, active: $0.active, size: $0.size,
                retention: $0.retention)
        }
        let rfm = RFMSummary(summaries: inputs.upToAsOf, asOf: asOfDay, calendar: calendar, refunds: options.refunds)
        segments = options.segmentation.sizes(of: RFMScores(rfm, bins: options.bins, binning: options.binning))
    }
}

extension RetentionReport.Retention {
    /// The report's retention block from a ``PeriodRetention``.
    init(_ retention: PeriodRetention, activeWithin: Int64) {
        self.init(
            start: retention.start, new: retention.new, end: retention.end, retained: retention.retained,
            reactivated: retention.reactivated, rate: retention.rate, cohortRate: retention.cohortRate,
            churnRate: retention.churnRate, lostRate: retention.lostRate,
            activeWithinDays: Double(activeWithin) / 86_400)
    }
}
