import Dispatch

// The incremental state behind `RetentionTracker(live:)`: per-customer state updated on every record, plus running
// aggregates per period, so that the default report ("as of now") is assembled from the aggregates and one pass
// over compact per-customer columns (RFM), without reading the orders.

/// Per-period (or per-day) sums indexed by an absolute index, growing on both sides.
struct OffsetSeries: Sendable {
    private(set) var base: Int64 = 0
    private(set) var values: [Int64] = []

    @inline(__always)
    subscript(index: Int64) -> Int64 {
        let slot = index &- base
        return slot >= 0 && slot < Int64(values.count) ? values[Int(slot)] : 0
    }

    /// The index range that may hold non-zero values.
    var indices: Range<Int64> { base..<(base + Int64(values.count)) }

    @inline(__always)
    mutating func add(_ index: Int64, _ delta: Int64) {
        let slot = index &- base
        if slot >= 0 && slot < Int64(values.count) {
            values.withUnsafeMutableBufferPointer { $0[Int(slot)] &+= delta }
            return
        }
        grow(toCover: index)
        values[Int(index - base)] &+= delta
    }

    private mutating func grow(toCover index: Int64) {
        if values.isEmpty {
            base = index - 8
            values = [Int64](repeating: 0, count: 32)
            return
        }
        if index < base {
            let extra = Int(max(base - index, Int64(values.count)))
            values.insert(contentsOf: repeatElement(0, count: extra), at: 0)
            base -= Int64(extra)
        } else {
            let needed = Int(index - base) + 1
            values.append(contentsOf: repeatElement(0, count: max(needed - values.count, values.count)))
        }
    }
}

/// One customer's incremental state (the kernel's `KernelCustomer` for an as-of day after every order), without
/// the RFM part (``LiveRFM``, kept apart so that the report's passes read 16 bytes per customer): 40 bytes.
struct LiveCustomer: Sendable {
    /// Earliest and latest purchase instants, `Int64.max` / `Int64.min` without purchases.
    var firstInstant: Int64 = .max
    var lastInstant: Int64 = .min
    /// Bit k: a purchase in period `firstPeriod + k` (k < 64; later periods live in `LiveState.farPeriods`).
    var bits: UInt64 = 0
    /// Absolute period index of the first purchase, `Int64.max` without purchases.
    var firstPeriod: Int64 = .max
    /// The customer's latest row (rows are chained through `LiveState.previousRow`), -1 without rows.
    var lastRow: Int32 = -1
}

/// One customer's RFM inputs: 16 bytes.
struct LiveRFM: Sendable {
    /// RFM monetary: purchases, plus refunds under `.net`.
    var amount: Int64 = 0
    /// Local day of the last purchase, relative to `LiveState.dayOrigin`.
    var lastDay: Int32 = 0
    var purchases: Int32 = 0
}

/// A customer's state recomputed from its rows (the exact path for out-of-order arrivals).
private struct RecomputedCustomer {
    var state = LiveCustomer()
    var rfm = LiveRFM()
    /// Number and sum of the purchases at the first instant.
    var firstCount: Int64 = 0
    var firstAmount: Int64 = 0
    /// Eligible amounts (purchases, plus refunds under `.net`) in the first purchase period.
    var firstPeriodAmount: Int64 = 0
    var periods: [Int64] = []
    var excluded: [(period: Int64, amount: Int64)] = []
}

/// The running aggregates for one fixed calendar, cohort unit and refund policy.
struct LiveState: Sendable {
    let calendar: PeriodCalendar
    let unit: PeriodUnit
    let net: Bool

    // Per customer.
    var customers: [LiveCustomer] = []
    var rfm: [LiveRFM] = []
    /// Periods at offset >= 64 from a customer's first period.
    var farPeriods: [Int32: Set<Int64>] = [:]
    /// Per row: the same customer's previous row, -1 for none.
    var previousRow: [Int32] = []

    // Totals over every row.
    var minInstant: Int64 = .max
    var maxInstant: Int64 = .min
    var purchases = 0
    var purchaseAmount: Int64 = 0
    /// Purchases plus refunds under `.net`.
    var revenue: Int64 = 0
    var minPurchasePeriod: Int64 = .max
    var maxPurchasePeriod: Int64 = .min

    // Over customers.
    var purchasers = 0
    var repeaters = 0
    var firstPurchases = 0
    var firstAmount: Int64 = 0
    /// Customers by number of purchases / by local day of the last purchase (RFM cut points without sorting).
    var frequencyHistogram = OffsetSeries()
    var lastDayHistogram = OffsetSeries()

    // Per period.
    var eligible = OffsetSeries()
    var newRevenue = OffsetSeries()
    /// Eligible amounts in periods before the customer's first purchase period (or of customers without purchases).
    var excluded = OffsetSeries()
    var cohortSizes = OffsetSeries()
    var returningCounts = OffsetSeries()
    /// Active customers by cohort period, then by offset from it.
    var cohortActive: [Int64: [Int64]] = [:]

    // Local day and period of the last instants seen (orders arrive roughly in time order).
    private var cachedUTCDay: Int64 = .min
    private var cachedOffset: Int64 = 0
    private var cachedLocalDay: Int64 = .min
    private var cachedPeriod: Int64 = 0
    /// Local days further than this from the first one make the live state give up (the report then reads the
    /// columns), so that the per-day histogram stays small.
    private var dayBounds: ClosedRange<Int64>?
    /// The first local day seen (the center of `dayBounds`).
    private(set) var dayOrigin: Int64 = 0
    /// Where ``touch(_:)`` leaves its sum, so that its loads are not optimised away.
    private var touched: Int32 = 0

    init(calendar: PeriodCalendar, unit: PeriodUnit, refunds: RefundPolicy) {
        self.calendar = calendar
        self.unit = unit
        self.net = refunds == .net
    }

    /// Whether `options` asks for exactly what this state answers.
    func answers(_ options: RetentionReport.Options) -> Bool {
        guard options.window == nil, options.activeWithin == nil, options.binning == .share,
            options.cohortUnit == unit, (options.refunds == .net) == net,
            options.calendar.identifier == calendar.identifier, purchases > 0 || minInstant != .max
        else { return false }
        if let asOf = options.asOf {
            return asOf.daysSince1970 >= calendar.localDayNumber(of: maxInstant)
        }
        return true
    }

    /// The local day and period of `instant`.
    @inline(__always)
    private mutating func dayAndPeriod(_ instant: Int64) -> (day: Int64, period: Int64)? {
        let utcDay = floorDiv(instant, 86_400)
        let day: Int64
        if utcDay == cachedUTCDay {
            day = floorDiv(instant + cachedOffset, 86_400)
        } else {
            let low = calendar.utcOffset(at: utcDay * 86_400)
            let high = calendar.utcOffset(at: utcDay * 86_400 + 86_399)
            if low == high && calendar.utcOffset(at: utcDay * 86_400 + 43_200) == low {
                cachedUTCDay = utcDay
                cachedOffset = low
            }
            day = calendar.localDayNumber(of: instant)
        }
        if day != cachedLocalDay {
            if let dayBounds {
                guard dayBounds.contains(day) else { return nil }
            } else {
                dayBounds = (day - 1_000_000)...(day + 1_000_000)
                dayOrigin = day
            }
            cachedLocalDay = day
            cachedPeriod = Period.index(unit: unit, daysSince1970: day)
        }
        return (day, cachedPeriod)
    }

    /// Loads the states of `numbers` (a batch about to be recorded) in one go, so that their cache misses overlap.
    mutating func touch(_ numbers: UnsafeBufferPointer<Int32>) {
        var sum: Int32 = 0
        customers.withUnsafeBufferPointer { customers in
            rfm.withUnsafeBufferPointer { rfm in
                for number in numbers where number >= 0 {
                    sum &+= customers[Int(number)].lastRow &+ rfm[Int(number)].purchases
                }
            }
        }
        touched = sum
    }

    /// Adds a customer number (no rows yet).
    mutating func addCustomer() {
        customers.append(LiveCustomer())
        rfm.append(LiveRFM())
    }

    /// Records row `row` (already in the columns) of customer `customer`; `false` when the live state cannot hold
    /// it (an instant over a million days from the first), and must be dropped.
    mutating func record(
        row: Int32, customer: Int32, instant: Int64, amount: Int64, timestamps: [Int64], amounts: [Int64]
    ) -> Bool {
        guard let (day, period) = dayAndPeriod(instant) else { return false }
        let c = Int(customer)
        let previous = customers[c].lastRow
        minInstant = min(minInstant, instant)
        maxInstant = max(maxInstant, instant)
        if amount >= 0 {
            purchases += 1
            purchaseAmount += amount
            revenue += amount
            eligible.add(period, amount)
            minPurchasePeriod = min(minPurchasePeriod, period)
            maxPurchasePeriod = max(maxPurchasePeriod, period)
            let state = customers[c]
            if previous >= 0 && instant < state.firstInstant {
                // Out of order (earlier than the first purchase), or the first purchase after refunds: recompute.
                apply(recompute(customer, timestamps: timestamps, amounts: amounts), customer: customer, sign: -1)
                link(row: row, customer: c, previous: previous)
                apply(recompute(customer, timestamps: timestamps, amounts: amounts), customer: customer, sign: 1)
                return true
            }
            link(row: row, customer: c, previous: previous)
            if state.firstInstant == .max {
                recordFirstPurchase(customer: c, instant: instant, amount: amount, day: day, period: period)
            } else {
                recordRepeat(customer: c, instant: instant, amount: amount, day: day, period: period)
            }
            return true
        }
        link(row: row, customer: c, previous: previous)
        guard net else { return true }
        revenue += amount
        eligible.add(period, amount)
        rfm[c].amount += amount
        let first = customers[c].firstPeriod
        if period == first {
            newRevenue.add(period, amount)
        } else if period < first {
            excluded.add(period, amount)
        }
        return true
    }

    @inline(__always)
    private mutating func link(row: Int32, customer c: Int, previous: Int32) {
        previousRow.append(previous)
        customers[c].lastRow = row
    }

    private mutating func recordFirstPurchase(
        customer c: Int, instant: Int64, amount: Int64, day: Int64, period: Int64
    ) {
        customers.withUnsafeMutableBufferPointer { states in
            states[c].firstInstant = instant
            states[c].lastInstant = instant
            states[c].firstPeriod = period
            states[c].bits = 1
        }
        rfm[c] = LiveRFM(amount: amount, lastDay: Int32(day - dayOrigin), purchases: 1)
        purchasers += 1
        firstPurchases += 1
        firstAmount += amount
        frequencyHistogram.add(1, 1)
        lastDayHistogram.add(day, 1)
        cohortSizes.add(period, 1)
        addActive(cohort: period, offset: 0, 1)
        newRevenue.add(period, amount)
    }

    private mutating func recordRepeat(customer c: Int, instant: Int64, amount: Int64, day: Int64, period: Int64) {
        var state = customers[c]
        if instant == state.firstInstant {
            firstPurchases += 1
            firstAmount += amount
        }
        var entry = rfm[c]
        let count = Int64(entry.purchases)
        entry.purchases += 1
        frequencyHistogram.add(count, -1)
        frequencyHistogram.add(count + 1, 1)
        if count == 1 { repeaters += 1 }
        entry.amount += amount
        if instant > state.lastInstant {
            state.lastInstant = instant
            let relative = Int32(day - dayOrigin)
            if relative != entry.lastDay {
                lastDayHistogram.add(Int64(entry.lastDay) + dayOrigin, -1)
                lastDayHistogram.add(day, 1)
                entry.lastDay = relative
            }
        }
        rfm[c] = entry
        let offset = period - state.firstPeriod
        if offset == 0 {
            newRevenue.add(period, amount)
        } else if offset < 64 {
            if state.bits & (1 << UInt64(offset)) == 0 {
                state.bits |= 1 << UInt64(offset)
                returningCounts.add(period, 1)
                addActive(cohort: state.firstPeriod, offset: offset, 1)
            }
        } else if farPeriods[Int32(c), default: []].insert(period).inserted {
            returningCounts.add(period, 1)
            addActive(cohort: state.firstPeriod, offset: offset, 1)
        }
        customers[c] = state
    }

    @inline(__always)
    private mutating func addActive(cohort: Int64, offset: Int64, _ delta: Int64) {
        let slot = Int(offset)
        cohortActive[cohort, default: []].add(at: slot, delta)
    }

    /// The customer's state from its rows.
    private func recompute(_ customer: Int32, timestamps: [Int64], amounts: [Int64]) -> RecomputedCustomer {
        var result = RecomputedCustomer()
        var rows: [(instant: Int64, amount: Int64, day: Int64, period: Int64)] = []
        var row = customers[Int(customer)].lastRow
        while row >= 0 {
            let instant = timestamps[Int(row)]
            let day = calendar.localDayNumber(of: instant)
            rows.append((instant, amounts[Int(row)], day, Period.index(unit: unit, daysSince1970: day)))
            row = previousRow[Int(row)]
        }
        result.state.lastRow = customers[Int(customer)].lastRow
        var state = result.state
        var periods = Set<Int64>()
        for entry in rows where entry.amount >= 0 {
            result.rfm.purchases += 1
            if entry.instant < state.firstInstant {
                state.firstInstant = entry.instant
                result.firstCount = 1
                result.firstAmount = entry.amount
            } else if entry.instant == state.firstInstant {
                result.firstCount += 1
                result.firstAmount += entry.amount
            }
            if entry.instant > state.lastInstant {
                state.lastInstant = entry.instant
                result.rfm.lastDay = Int32(entry.day - dayOrigin)
            }
            state.firstPeriod = min(state.firstPeriod, entry.period)
            periods.insert(entry.period)
        }
        for entry in rows where entry.amount >= 0 || net {
            result.rfm.amount += entry.amount
            if entry.period == state.firstPeriod {
                result.firstPeriodAmount += entry.amount
            } else if entry.period < state.firstPeriod {
                result.excluded.append((entry.period, entry.amount))
            }
        }
        result.periods = periods.sorted()
        for period in result.periods where period - state.firstPeriod < 64 {
            state.bits |= 1 << UInt64(period - state.firstPeriod)
        }
        result.state = state
        return result
    }

    /// Adds (`sign` 1) or removes (`sign` -1) a recomputed customer's contribution to the aggregates; adding also
    /// stores its state.
    private mutating func apply(_ customer: RecomputedCustomer, customer number: Int32, sign: Int64) {
        let c = Int(number)
        let state = customer.state
        for (period, amount) in customer.excluded { excluded.add(period, sign * amount) }
        if sign > 0 {
            customers[c] = state
            rfm[c] = customer.rfm
            let far = customer.periods.filter { $0 - state.firstPeriod >= 64 }
            farPeriods[number] = far.isEmpty ? nil : Set(far)
        }
        let purchases = customer.rfm.purchases
        guard purchases > 0 else { return }
        let first = state.firstPeriod
        purchasers += Int(sign)
        if purchases >= 2 { repeaters += Int(sign) }
        firstPurchases += Int(sign) * Int(customer.firstCount)
        firstAmount += sign * customer.firstAmount
        frequencyHistogram.add(Int64(purchases), sign)
        lastDayHistogram.add(Int64(customer.rfm.lastDay) + dayOrigin, sign)
        cohortSizes.add(first, sign)
        newRevenue.add(first, sign * customer.firstPeriodAmount)
        for period in customer.periods {
            if period != first { returningCounts.add(period, sign) }
            addActive(cohort: first, offset: period - first, sign)
        }
    }
}

extension Array where Element == Int64 {
    /// Adds `delta` at `slot`, padding the array with zeros first when it is shorter.
    @inline(__always)
    fileprivate mutating func add(at slot: Int, _ delta: Int64) {
        if count <= slot { append(contentsOf: repeatElement(0, count: Swift.max(slot + 1 - count, 8))) }
        self[slot] += delta
    }
}

extension RetentionReport {
    /// The report of a live state (``LiveState/answers(_:)`` is true for `options`): the data window, every order
    /// before the cutoff, assembled from the running aggregates and one pass over the purchasers for RFM.
    init(live: LiveState, currency code: Currency?, options: Options) throws {
        let calendar = options.calendar
        let currency = code ?? .usd
        let firstDay = calendar.localDayNumber(of: live.minInstant)
        let lastDay = calendar.localDayNumber(of: live.maxInstant)
        let window =
            calendar.startOfDay(CivilDate(daysSince1970: firstDay))
            ..< calendar.startOfDay(CivilDate(daysSince1970: lastDay + 1))
        let activeWithin = window.upperBound.secondsSince1970 - window.lowerBound.secondsSince1970
        // Every order lies in the window: nobody is active at its start or bought before it.
        _ = try PeriodRetention.summaryWindows(period: window, activeWithin: activeWithin)
        let asOfDay = options.asOf ?? CivilDate(daysSince1970: lastDay)
        let cutoff = calendar.startOfDay(asOfDay.adding(days: 1)).secondsSince1970
        let limit = calendar.period(options.cohortUnit, of: Timestamp(secondsSince1970: cutoff - 1)).index

        let purchasers = live.purchasers
        let aov = try AverageOrderValue(orders: live.purchases, revenue: live.revenue, currency: currency)
        let frequency = try PurchaseFrequency(orders: live.purchases, customers: purchasers, window: window)
        timeZone = calendar.identifier
        from = window.lowerBound.description
        to = window.upperBound.description
        self.currency = code?.code
        customers = purchasers
        orders = aov.orders
        revenueMinorUnits = aov.revenue
        revenue = Money.decimalString(aov.revenue, digits: currency.minorUnitDigits)
        averageOrderValue = aov.value
        purchaseFrequency = frequency.value
        repeatPurchaseRate = ratio(live.repeaters, purchasers)
        returningCustomerRate = ratio(0, purchasers)
        spendUplift = SpendUplift.value(
            firstPurchases: live.firstPurchases, firstAmount: live.firstAmount,
            repeatPurchases: live.purchases - live.firstPurchases, repeatAmount: live.purchaseAmount - live.firstAmount)
        // S = 0 (no purchase before the window), E = N = every purchaser.
        retention = Retention(
            start: 0, new: purchasers, end: purchasers, retained: 0, reactivated: 0, rate: ratio(0, 0),
            cohortRate: ratio(0, 0), churnRate: ratio(0, 0), lostRate: ratio(0, 0),
            activeWithinDays: Double(activeWithin) / 86_400)
        returning = Returning(existing: 0, returned: 0, rate: ratio(0, 0))
        customerLifetimeValue = try RetentionReport.lifetimeValue(
            aov: aov, frequency: frequency, lostRate: ratio(0, 0), window: window, options: options)

        asOf = asOfDay.description
        cohortPeriod = options.cohortUnit
        let unit = options.cohortUnit
        var cells: [CohortCell] = []
        for cohort in live.cohortSizes.indices where cohort <= limit {
            let size = Int(live.cohortSizes[cohort])
            guard size > 0 else { continue }
            let label = Period(unit: unit, index: cohort).description
            let actives = live.cohortActive[cohort] ?? []
            for offset in 0...Int(limit - cohort) {
                let active = offset < actives.count ? Int(actives[offset]) : 0
                cells.append(
                    CohortCell(
                        cohort: label, offset: offset, active: active, size: size,
                        retention: Double(active) / Double(size)))
            }
        }
        cohorts = cells
        segments = live.segments(options.segmentation, bins: options.bins, asOfDay: asOfDay.daysSince1970)
        var series: [PeriodRevenue] = []
        if live.minPurchasePeriod <= min(live.maxPurchasePeriod, limit) {
            let digits = currency.minorUnitDigits
            for period in live.minPurchasePeriod...min(live.maxPurchasePeriod, limit) {
                let newAmount = live.newRevenue[period]
                let returningAmount = live.eligible[period] - newAmount - live.excluded[period]
                series.append(
                    PeriodRevenue(
                        period: Period(unit: unit, index: period).description,
                        newCustomers: Int(live.cohortSizes[period]),
                        returningCustomers: Int(live.returningCounts[period]),
                        newCustomerRevenue: Money.decimalString(newAmount, digits: digits),
                        returningCustomerRevenue: Money.decimalString(returningAmount, digits: digits)))
            }
        }
        revenueByPeriod = series
    }
}

extension LiveState {
    /// RFM segment sizes (`.share` binning) as ``RFMSegmentation/sizes(of:)`` counts them: recency and frequency
    /// cut points from the histograms, monetary ones by selection, then one pass over the purchasers.
    func segments(_ segmentation: RFMSegmentation, bins: Int, asOfDay: Int64) -> [RFMSegmentSize] {
        precondition(bins >= 1, "RFMScores needs at least one bin")
        let (names, position) = segmentation.namesInOrder()
        var counts = [Int](repeating: 0, count: names.count)
        if purchasers > 0 {
            // Recency ascending = last purchase day descending.
            var recency: [(value: Int64, count: Int64)] = []
            for day in lastDayHistogram.indices.reversed() where lastDayHistogram[day] > 0 {
                recency.append((asOfDay - day, lastDayHistogram[day]))
            }
            var frequency: [(value: Int64, count: Int64)] = []
            for count in frequencyHistogram.indices where count > 0 && frequencyHistogram[count] > 0 {
                frequency.append((count, frequencyHistogram[count]))
            }
            let recencyCuts = histogramShareCuts(recency, count: purchasers, bins: bins)
            let frequencyCuts = histogramShareCuts(frequency, count: purchasers, bins: bins)
            // The passes over the customers are split between two workers (the kernel's split) when large.
            let customerCount = rfm.count
            let workers = customerCount >= 131_072 ? 2 : 1
            let split = customerCount / workers
            // Gather the purchasers' money: worker 0 fills from the front, worker 1 from the back.
            var monetary = [Int64](repeating: 0, count: purchasers)
            let total = purchasers
            rfm.withUnsafeBufferPointer { rfm in
                monetary.withUnsafeMutableBufferPointer { out in
                    let shared = (
                        SharedPointer(base: UnsafeMutablePointer(mutating: rfm.baseAddress!)),
                        SharedPointer(base: out.baseAddress!)
                    )
                    DispatchQueue.concurrentPerform(iterations: workers) { worker in
                        let end = worker == workers - 1 ? customerCount : split
                        let range = worker == 0 ? 0..<end : split..<end
                        var next = worker == 0 ? 0 : total - 1
                        let step = worker == 0 ? 1 : -1
                        for index in range where shared.0.base[index].purchases > 0 {
                            shared.1.base[next] = shared.0.base[index].amount
                            next += step
                        }
                    }
                }
            }
            let monetaryCuts = monetary.withUnsafeBufferPointer { bucketShareCuts($0, bins: bins) }
            monetary = []
            // Score tables by last purchase day and by purchase count, and the segment of every score triple.
            let dayBase = lastDayHistogram.indices.lowerBound
            let recencyScore = lastDayHistogram.indices.map { bins - cutsBelow(Double(asOfDay - $0), recencyCuts) }
            let countBase = frequencyHistogram.indices.lowerBound
            let frequencyScore = frequencyHistogram.indices.map { 1 + cutsBelow(Double($0), frequencyCuts) }
            let side = bins + 1
            let table = segmentation.positionTable(bins: bins, position: position)
            let dayShift = Int(dayOrigin - dayBase)
            if table.isEmpty {
                for entry in rfm where entry.purchases > 0 {
                    let r = recencyScore[Int(entry.lastDay) + dayShift]
                    let f = frequencyScore[Int(Int64(entry.purchases) - countBase)]
                    let m = 1 + cutsBelow(Double(entry.amount), monetaryCuts)
                    counts[position[segmentation.segment(recency: r, frequency: f, monetary: m)]!] += 1
                }
            } else {
                let width = names.count
                var partCounts = [Int](repeating: 0, count: workers * width)
                let segmentTable = table
                rfm.withUnsafeBufferPointer { rfm in
                    partCounts.withUnsafeMutableBufferPointer { parts in
                        let shared = (
                            SharedPointer(base: UnsafeMutablePointer(mutating: rfm.baseAddress!)),
                            SharedPointer(base: parts.baseAddress!)
                        )
                        DispatchQueue.concurrentPerform(iterations: workers) { worker in
                            let end = worker == workers - 1 ? customerCount : split
                            let range = worker == 0 ? 0..<end : split..<end
                            let counts = shared.1.base + worker * width
                            for index in range where shared.0.base[index].purchases > 0 {
                                let entry = shared.0.base[index]
                                let r = recencyScore[Int(entry.lastDay) + dayShift]
                                let f = frequencyScore[Int(Int64(entry.purchases) - countBase)]
                                let m = 1 + cutsBelow(Double(entry.amount), monetaryCuts)
                                counts[segmentTable[(r * side + f) * side + m]] += 1
                            }
                        }
                    }
                }
                for worker in 0..<workers {
                    for slot in 0..<width { counts[slot] += partCounts[worker * width + slot] }
                }
            }
        }
        return zip(names, counts).map { RFMSegmentSize(name: $0, customers: $1) }
    }
}

extension RFMSegmentation {
    /// The position in `position` (from ``namesInOrder()``) of the segment of every score triple, at index
    /// `(r * (bins + 1) + f) * (bins + 1) + m`; empty when `bins` is over 32 (the table would pass 36,000 entries:
    /// look each triple up instead).
    func positionTable(bins: Int, position: [String: Int]) -> [Int] {
        guard bins <= 32 else { return [] }
        let side = bins + 1
        var table = [Int](repeating: -1, count: side * side * side)
        for r in 1...bins {
            for f in 1...bins {
                for m in 1...bins {
                    table[(r * side + f) * side + m] = position[segment(recency: r, frequency: f, monetary: m)]!
                }
            }
        }
        return table
    }
}

/// ``shareCuts(_:bins:)`` of the values a histogram holds (`pairs` ascending by value, `count` values in all).
func histogramShareCuts(_ pairs: [(value: Int64, count: Int64)], count n: Int, bins: Int) -> [Double] {
    shareCuts(count: n, bins: bins) { rank in
        var seen: Int64 = 0
        for pair in pairs {
            seen += pair.count
            if Int64(rank) < seen { return pair.value }
        }
        return pairs[pairs.count - 1].value
    }
}

/// ``shareCuts(_:bins:)`` of `values` by bucket selection: one pass counts the values in 65,536 buckets of
/// ``logBucket(_:)`` (exact below 512 in magnitude, then 512 per power of two: about 0.2% of the value wide),
/// a second gathers the few buckets that hold a wanted rank, and quickselect finishes inside them. Two streaming
/// passes instead of quickselect's copy and partitions of every value; the buckets are narrow wherever the values
/// are, so an outlier does not pile the rest into a few buckets.
///
/// `bucketCounts`, when given, is the histogram of `values` by ``logBucket(_:)`` (65,536 entries) that a caller
/// gathered while writing them; it saves the first of the two passes.
func bucketShareCuts(_ values: UnsafeBufferPointer<Int64>, bins: Int, bucketCounts: [Int]? = nil) -> [Double] {
    let n = values.count
    guard n > 0, bins > 1 else { return [] }
    guard n >= 4_096 else { return shareCuts(Array(values), bins: bins) }
    var counts: [Int]
    if let bucketCounts {
        precondition(bucketCounts.count == 65_536, "a histogram of the 65,536 log buckets")
        counts = bucketCounts
    } else {
        counts = [Int](repeating: 0, count: 65_536)
        counts.withUnsafeMutableBufferPointer { counts in
            for value in values { counts[logBucket(value)] += 1 }
        }
    }
    // The ranks shareCuts reads: j and j + 1 for each cut.
    var ranks: [Int] = []
    for k in 1..<bins {
        let j = min(Int((Double(n - 1) * (Double(k) / Double(bins))).rounded(.down)), n - 1)
        ranks.append(j)
        if j + 1 < n { ranks.append(j + 1) }
    }
    // The buckets holding a wanted rank (in `slotOf`, by bucket), the first rank of each, and its wanted ranks.
    var slotOf = [Int32](repeating: -1, count: 65_536)
    var slotStart: [Int] = []
    var slotRanks: [[Int]] = []
    var seen = 0
    var sortedRanks = Array(Set(ranks)).sorted()[...]
    for bucket in 0..<65_536 where counts[bucket] > 0 {
        while let rank = sortedRanks.first, rank < seen + counts[bucket] {
            if slotOf[bucket] < 0 {
                slotOf[bucket] = Int32(slotStart.count)
                slotStart.append(seen)
                slotRanks.append([])
            }
            slotRanks[Int(slotOf[bucket])].append(rank - seen)
            sortedRanks.removeFirst()
        }
        seen += counts[bucket]
    }
    var members = slotStart.indices.map { _ in [Int64]() }
    slotOf.withUnsafeBufferPointer { slotOf in
        for value in values {
            let slot = slotOf[logBucket(value)]
            if slot >= 0 { members[Int(slot)].append(value) }
        }
    }
    var statistics: [Int: Int64] = [:]
    for slot in slotStart.indices {
        let found = orderStatistics(members[slot], ranks: slotRanks[slot])
        for rank in slotRanks[slot] { statistics[slotStart[slot] + rank] = found[rank]! }
    }
    return shareCuts(count: n, bins: bins) { statistics[$0]! }
}

/// A bucket in `0..<65_536`, non-decreasing in `value`: magnitudes below 512 exactly, larger ones by their power
/// of two and the 9 bits after the leading one; negative values mirror below 32,768.
@inline(__always)
func logBucket(_ value: Int64) -> Int {
    let magnitude = value.magnitude
    let key: Int
    if magnitude < 512 {
        key = Int(magnitude)
    } else {
        let exponent = UInt64.bitWidth - 1 - magnitude.leadingZeroBitCount  // 9...63
        key = 512 + (exponent - 9) * 512 + Int((magnitude >> UInt64(exponent - 9)) & 511)
    }
    return value < 0 ? 32_767 - key : 32_768 + key
}

/// The type-7 cut points at k / bins of `n` values, given the value at each rank (ascending), with the same
/// arithmetic as ``shareCuts(_:bins:)``.
func shareCuts(count n: Int, bins: Int, statistic: (Int) -> Int64) -> [Double] {
    guard n > 0, bins > 1 else { return [] }
    return (1..<bins).map { k in
        let p = Double(k) / Double(bins)
        let h = Double(n - 1) * p
        let j = min(Int(h.rounded(.down)), n - 1)
        let g = h - Double(j)
        let a = Double(statistic(j))
        guard j + 1 < n else { return a }
        let b = Double(statistic(j + 1))
        let difference = b - a
        return g >= 0.5 ? b - difference * (1 - g) : a + difference * g
    }
}
