internal import CRetentionPrefetch
import Dispatch

/// The per-customer BTYD summary (``BTYDSummary`` with unit `.day` or `.week`) as columns: no `String` or row
/// value per customer. Customer ids are ``idPrefix`` and ``keys``[i] in ``idDigits`` digits, in id order (see
/// ``RFMColumns``).
///
///     frequency = distinct purchase periods - 1;  recency = last - first period;  T = end - first period
///     monetary_value = repeatAmount / frequency / 10^digits  (0 when frequency == 0)
///
/// ```swift
/// if let (btyd, _) = try BTYDSummaryColumns.onePass(fromCSV: "orders.csv") {
///     print(btyd.customerID(at: 0), btyd.frequency[0], btyd.monetaryValue(at: 0))
/// }
/// ```
public struct BTYDSummaryColumns: Sendable, Codable, Hashable {
    public var unit: BTYDSummary.Unit
    public var observationEnd: CivilDate
    public var timeZone: String
    public var currency: Currency?
    public var idPrefix: String
    public var idDigits: Int
    /// Customer keys, ascending.
    public var keys: [Int64]
    public var frequency: [Int32]
    /// In periods of ``unit``.
    public var recency: [Int32]
    /// `T`, in periods of ``unit``.
    public var age: [Int32]
    public var firstPeriodAmount: [Int64]
    public var repeatAmount: [Int64]

    public var count: Int { keys.count }

    public func customerID(at index: Int) -> String {
        spelledCustomerID(prefix: idPrefix, digits: idDigits, key: keys[index])
    }

    /// Mean per-period amount over the repeat periods, major units, with ``BTYDSummary``'s arithmetic.
    public func monetaryValue(at index: Int) -> Double {
        let frequency = Int(frequency[index])
        let perMajor = Double(currency?.minorUnitsPerMajor ?? 1)
        return frequency == 0 ? 0 : Double(repeatAmount[index]) / Double(frequency) / perMajor
    }

    /// The row form, equal to `BTYDSummary(ledger:calendar:observationEnd:unit:)` over the same orders.
    public var summary: BTYDSummary {
        BTYDSummary(
            unit: unit, observationEnd: observationEnd, timeZone: timeZone, refunds: .net, currency: currency,
            rows: keys.indices.map { index in
                BTYDSummary.Row(
                    customerID: customerID(at: index), frequency: Int(frequency[index]),
                    recency: Double(recency[index]), age: Double(age[index]), monetaryValue: monetaryValue(at: index),
                    firstPeriodAmount: firstPeriodAmount[index], repeatAmount: repeatAmount[index])
            })
    }
}

extension BTYDSummary {
    init(
        unit: Unit, observationEnd: CivilDate, timeZone: String, refunds: RefundPolicy, currency: Currency?,
        rows: [Row]
    ) {
        self.unit = unit
        self.observationEnd = observationEnd
        self.timeZone = timeZone
        self.refunds = refunds
        self.currency = currency
        self.rows = rows
    }
}

/// `prefix` and `key` in at least `digits` digits (zero-padded), as ``DigitPattern`` spells ids.
func spelledCustomerID(prefix: String, digits width: Int, key: Int64) -> String {
    var prefix = prefix
    return prefix.withUTF8 { prefix in
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: prefix.count + Swift.max(width, 19)) { buffer in
            for k in 0..<prefix.count { buffer[k] = prefix[k] }
            var digits = 0
            var rest = key
            repeat {
                digits += 1
                rest /= 10
            } while rest > 0
            let length = prefix.count + Swift.max(digits, width)
            rest = key
            for k in stride(from: length - 1, through: prefix.count, by: -1) {
                buffer[k] = UInt8(0x30 + rest % 10)
                rest /= 10
            }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[0..<length]), as: UTF8.self)
        }
    }
}

/// The BTYD summary folded from rows in batches (see ``RowFold``), per customer key 32 bytes: the first and
/// last purchase period, the distinct purchase periods (up to five inline; past five, each purchase's (customer,
/// period) pair goes to the worker's log, sorted and counted once at the end), the purchases' money in the first
/// period and in all. Periods are relative to provisional tables around the first row (about 40 years each way,
/// else the fold gives up). Eligible refunds (`.net`) wait until the first periods are final, as in
/// ``ReportFold``.
package final class BTYDSummaryFold: RowFold, @unchecked Sendable {
    struct State {
        var firstAmount: Int64 = 0
        var purchaseTotal: Int64 = 0
        /// Relative period + 1 of the first purchase, 0 without purchases.
        var first: UInt16 = 0
        var last: UInt16 = 0
        /// Distinct purchase periods up to 5 (in `slots`); 6 marks a customer whose periods are in the worker's
        /// log, counted in ``BTYDSummaryFold/columns(currency:idPrefix:idDigits:)``.
        var count: UInt16 = 0
        var slots: (UInt16, UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0, 0)
    }

    struct Worker {
        var minKey = Int.max
        var maxKey = -1
        var maxInstant = Int64.min
        /// (key << 16 | period) of every purchase of a customer past five distinct periods (the first five from
        /// its slots): appended in order, sorted and counted at the end, where a set would take a cache miss per
        /// row.
        var log = PairLog()
        var refunds: [KernelEarlyRefund] = []
        var gaveUp = false
    }

    package let workers = 2
    private let keyLimit: Int
    private let unit: BTYDSummary.Unit
    private let periodUnit: PeriodUnit
    private let calendar: PeriodCalendar
    private let observationEnd: CivilDate?
    private let net: Bool
    private let mapper: PeriodMapper
    private let reachable: ClosedRange<Int64>
    /// Rows in later relative periods are ignored (`Int.max` without an observation end).
    private let endPeriod: Int
    private let stateMemory: ZeroedBuffer<State>
    private let workerMemory: UnsafeMutablePointer<Worker>

    /// A fold for keys `0...keyLimit` whose first row has instant `around`; `nil` for `.weeksFromDays`, or
    /// instants the tables cannot reach.
    package init?(
        keyLimit: Int, around instant: Int64, calendar: PeriodCalendar, observationEnd: CivilDate?,
        unit: BTYDSummary.Unit, refunds: RefundPolicy
    ) {
        guard unit != .weeksFromDays, keyLimit >= 0, keyLimit < Int(Int32.max) else { return nil }
        let periodUnit: PeriodUnit = unit == .week ? .week : .day
        // Relative periods must fit 16 bits (with the + 1 of `first`).
        let reach: Int64 = 40 * 366 * 86_400
        let (low, lowOverflow) = instant.subtractingReportingOverflow(reach)
        let (high, highOverflow) = instant.addingReportingOverflow(reach)
        guard !lowOverflow, !highOverflow,
            let mapper = PeriodMapper(range: low...high, unit: periodUnit, calendar: calendar),
            mapper.periodCount < Int(UInt16.max)
        else { return nil }
        self.keyLimit = keyLimit
        self.unit = unit
        self.periodUnit = periodUnit
        self.calendar = calendar
        self.observationEnd = observationEnd
        net = refunds == .net
        self.mapper = mapper
        reachable = low...high
        endPeriod =
            observationEnd.map {
                Int(clamping: Period(unit: periodUnit, containing: $0).index - mapper.periodBase)
            } ?? .max
        stateMemory = ZeroedBuffer<State>(count: keyLimit + 1)
        workerMemory = .allocate(capacity: workers)
        workerMemory.initialize(repeating: Worker(), count: workers)
    }

    deinit {
        for worker in 0..<workers { workerMemory[worker].log.deallocate() }
        workerMemory.deinitialize(count: workers)
        workerMemory.deallocate()
    }

    package var gaveUp: Bool { (0..<workers).contains { workerMemory[$0].gaveUp } }

    package func fold(
        worker: Int, keys: UnsafeBufferPointer<Int32>, timestamps: UnsafeBufferPointer<Int64>,
        amounts: UnsafeBufferPointer<Int64>
    ) {
        precondition(worker >= 0 && worker < workers, "no such worker")
        precondition(keys.count == timestamps.count && keys.count == amounts.count, "columns of unequal length")
        let part = workerMemory + worker
        guard !part.pointee.gaveUp else { return }
        let states = stateMemory.base
        let owner = Int32(worker)
        let (keyLimit, reachable, endPeriod, net) = (self.keyLimit, self.reachable, self.endPeriod, self.net)
        var minKey = part.pointee.minKey
        var maxKey = part.pointee.maxKey
        var maxInstant = part.pointee.maxInstant
        var gaveUp = false
        var log = part.pointee.log
        mapper.withUnsafeMapper { map in
            let rowCount = keys.count
            let ahead = Swift.max(rowCount - prefetchDistance, 0)
            var fallback = 0
            for row in 0..<rowCount {
                if row < ahead {
                    let next = keys[row + prefetchDistance]
                    retention_prefetch_for_write(states + (next % 2 == owner ? Int(next) : fallback))
                }
                let keyValue = keys[row]
                guard keyValue % 2 == owner else { continue }
                let key = Int(keyValue)
                fallback = key
                let instant = timestamps[row]
                guard key <= keyLimit, key >= 0, reachable.contains(instant) else {
                    gaveUp = true
                    break
                }
                let amount = amounts[row]
                maxInstant = Swift.max(maxInstant, instant)
                minKey = Swift.min(minKey, key)
                maxKey = Swift.max(maxKey, key)
                let period = relativePeriod(instant, map)
                guard period <= endPeriod else { continue }
                let state = states + key
                guard amount >= 0 else {
                    if net {
                        part.pointee.refunds.append(
                            KernelEarlyRefund(customer: keyValue, period: Int32(period), amount: amount))
                    }
                    continue
                }
                let stored = UInt16(truncatingIfNeeded: period)
                state.pointee.purchaseTotal += amount
                let first = state.pointee.first
                if first == 0 || stored + 1 < first {
                    state.pointee.first = stored + 1
                    state.pointee.firstAmount = amount
                } else if stored + 1 == first {
                    state.pointee.firstAmount += amount
                }
                if first == 0 || stored > state.pointee.last { state.pointee.last = stored }
                // Distinct periods: five inline, then the worker's log.
                let count = state.pointee.count
                switch count {
                case 0:
                    state.pointee.slots.0 = stored
                    state.pointee.count = 1
                case 1...5:
                    let slots = state.pointee.slots
                    let held = Int(count)
                    if stored == slots.0 || (held > 1 && stored == slots.1) || (held > 2 && stored == slots.2)
                        || (held > 3 && stored == slots.3) || (held > 4 && stored == slots.4)
                    {
                        break
                    }
                    switch held {
                    case 1: state.pointee.slots.1 = stored
                    case 2: state.pointee.slots.2 = stored
                    case 3: state.pointee.slots.3 = stored
                    case 4: state.pointee.slots.4 = stored
                    default:
                        log.append(keyValue, slots.0)
                        log.append(keyValue, slots.1)
                        log.append(keyValue, slots.2)
                        log.append(keyValue, slots.3)
                        log.append(keyValue, slots.4)
                        log.append(keyValue, stored)
                    }
                    state.pointee.count = count + 1
                default:
                    log.append(keyValue, stored)
                }
            }
        }
        part.pointee.log = log
        part.pointee.minKey = minKey
        part.pointee.maxKey = maxKey
        part.pointee.maxInstant = maxInstant
        if gaveUp { part.pointee.gaveUp = true }
    }

    /// The columns (ids `idPrefix` + key in `idDigits` digits) for ledger currency `currency`; `nil` when the
    /// fold gave up or holds no row.
    package func columns(currency: Currency?, idPrefix: String, idDigits: Int) -> BTYDSummaryColumns? {
        guard !gaveUp else { return nil }
        let parts = UnsafeMutableBufferPointer(start: workerMemory, count: workers)
        let minKey = parts.map(\.minKey).min()!
        let maxKey = parts.map(\.maxKey).max()!
        guard maxKey >= 0 else { return nil }
        let states = stateMemory.base
        // Customers past five distinct periods: their count from the sorted log (each worker's keys are its own).
        var tooMany = [Bool](repeating: false, count: workers)
        tooMany.withUnsafeMutableBufferPointer { flags in
            let (flagsOut, statesOut) = (SharedPointer(base: flags.baseAddress!), SharedPointer(base: states))
            let logs = SharedPointer(base: workerMemory)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let log = logs.base[worker].log
                guard let base = log.base, log.count > 0 else { return }
                flagsOut.base[worker] = !countDistinctPairs(
                    UnsafeMutableBufferPointer(start: base, count: log.count), into: statesOut.base)
            }
        }
        guard !tooMany.contains(true) else { return nil }
        // Refunds, now that the first periods are final: in the first period they reduce its money, later the
        // repeat money; before the first purchase (or without one) they are ignored.
        for part in parts {
            for refund in part.refunds {
                let state = states + Int(refund.customer)
                let first = Int(state.pointee.first) - 1
                guard first >= 0 else { continue }
                let period = Int(refund.period)
                // The total holds the money of every period from the first on; repeat money is the total minus
                // the first period's.
                if period >= first { state.pointee.purchaseTotal += refund.amount }
                if period == first { state.pointee.firstAmount += refund.amount }
            }
        }
        let end: CivilDate
        if let observationEnd {
            end = observationEnd
        } else {
            let maxInstant = parts.map(\.maxInstant).max()!
            end = calendar.localDay(of: Timestamp(secondsSince1970: maxInstant))
        }
        let endRelative = Int(Period(unit: periodUnit, containing: end).index - mapper.periodBase)
        var keys: [Int64] = []
        var frequency: [Int32] = []
        var recency: [Int32] = []
        var age: [Int32] = []
        var firstAmount: [Int64] = []
        var repeatAmount: [Int64] = []
        for key in minKey...maxKey {
            let state = states[key]
            guard state.first != 0 else { continue }
            let first = Int(state.first) - 1
            keys.append(Int64(key))
            frequency.append(Int32(state.count) - 1)
            recency.append(Int32(Int(state.last) - first))
            age.append(Int32(endRelative - first))
            firstAmount.append(state.firstAmount)
            repeatAmount.append(state.purchaseTotal - state.firstAmount)
        }
        return BTYDSummaryColumns(
            unit: unit, observationEnd: end, timeZone: calendar.identifier, currency: currency, idPrefix: idPrefix,
            idDigits: idDigits, keys: keys, frequency: frequency, recency: recency, age: age,
            firstPeriodAmount: firstAmount, repeatAmount: repeatAmount)
    }
}

/// A growing buffer of (customer key, period) pairs, each `key << 16 | period`, in memory the fold's worker owns
/// (released by ``deallocate()``; the worker's state lives in raw memory, so no class or array is involved).
struct PairLog {
    private(set) var base: UnsafeMutablePointer<UInt64>? = nil
    private(set) var count = 0
    private var capacity = 0

    @inline(__always)
    mutating func append(_ key: Int32, _ period: UInt16) {
        if count == capacity { grow() }
        base![count] = UInt64(UInt32(bitPattern: key)) << 16 | UInt64(period)
        count += 1
    }

    private mutating func grow() {
        let newCapacity = Swift.max(capacity * 2, 1 << 16)
        let grown = UnsafeMutablePointer<UInt64>.allocate(capacity: newCapacity)
        if let base {
            grown.update(from: base, count: count)
            base.deallocate()
        }
        base = grown
        capacity = newCapacity
    }

    func deallocate() { base?.deallocate() }
}

/// Sorts `pairs` (each `key << 16 | period`) and sets `states[key].count` to the number of distinct periods of
/// every key in them; `false` when a key has more than `UInt16.max` (the fold then gives up, as it did when it
/// counted row by row; periods are `UInt16` values, so the log cannot hold that many).
/// - Complexity: O(*n*) (``radixSort(_:scratch:)``).
func countDistinctPairs(
    _ pairs: UnsafeMutableBufferPointer<UInt64>, into states: UnsafeMutablePointer<BTYDSummaryFold.State>
) -> Bool {
    let n = pairs.count
    guard n > 0 else { return true }
    let scratch = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: n)
    defer { scratch.deallocate() }
    let sorted = radixSort(pairs, scratch: scratch)
    // Equal pairs are adjacent, and a key's pairs are together.
    var index = 0
    while index < n {
        let key = sorted[index] >> 16
        var distinct = 0
        var previous = UInt64.max
        while index < n && sorted[index] >> 16 == key {
            if sorted[index] != previous {
                distinct += 1
                previous = sorted[index]
            }
            index += 1
        }
        guard distinct <= Int(UInt16.max) else { return false }
        states[Int(key)].count = UInt16(distinct)
    }
    return true
}
