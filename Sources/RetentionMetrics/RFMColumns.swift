internal import CRetentionPrefetch
import Dispatch

/// RFM values, 1...b scores and segments of every purchasing customer, as columns: what
/// `RFMScores(RFMSummary(ledger: ..., asOf: ..., calendar: ...), bins: b)` and
/// `RFMSegmentation.standard.segments(of:)` give (frequency = purchases, monetary = total, refunds `.net`, ties
/// `.share`), without a `String` or a row value per customer.
///
/// Customer ids are ``idPrefix`` followed by ``keys``[i] written with exactly ``idDigits`` digits (`C0000042`):
/// the shape a bulk reader's one pass takes (see `RFMColumns.onePass(fromCSV:...)` in `RetentionStorage`), and
/// the reason the rows are in customer-id order when sorted by key.
///
/// ```swift
/// if let (rfm, _) = try RFMColumns.onePass(fromCSV: "orders.csv") {
///     print(rfm.customerID(at: 0), rfm.recency[0], rfm.segmentNames[Int(rfm.segments[0])])
/// }
/// ```
public struct RFMColumns: Sendable, Codable, Hashable {
    public var asOf: CivilDate
    public var timeZone: String
    public var bins: Int
    /// The type-7 quantiles at 1/b ... (b-1)/b, as ``RFMScores`` reports them.
    public var recencyCuts: [Double]
    public var frequencyCuts: [Double]
    public var monetaryCuts: [Double]
    public var idPrefix: String
    public var idDigits: Int
    /// Customer keys, ascending (so the rows are in customer-id order).
    public var keys: [Int64]
    /// Whole days from the local day of the last purchase to the as-of day.
    public var recency: [Int32]
    /// Purchases up to the end of the as-of day.
    public var frequency: [Int32]
    /// Purchases plus refunds up to the end of the as-of day, minor units.
    public var monetary: [Int64]
    public var recencyScore: [UInt8]
    public var frequencyScore: [UInt8]
    public var monetaryScore: [UInt8]
    /// The segmentation's names in table order; ``segments`` holds indices into it.
    public var segmentNames: [String]
    public var segments: [UInt8]

    /// The number of customers.
    public var count: Int { keys.count }

    /// Customer `index`'s id: the prefix and the key in ``idDigits`` digits.
    public func customerID(at index: Int) -> String {
        spelledCustomerID(prefix: idPrefix, digits: idDigits, key: keys[index])
    }

    /// The row form, equal to `RFMScores(RFMSummary(ledger:asOf:calendar:), bins: bins)` over the same orders.
    public var scores: RFMScores {
        RFMScores(
            bins: bins, binning: .share, recencyCuts: recencyCuts, frequencyCuts: frequencyCuts,
            monetaryCuts: monetaryCuts,
            rows: keys.indices.map { index in
                RFMScores.Row(
                    customerID: customerID(at: index), recency: Int(recency[index]),
                    frequency: Int(frequency[index]), monetary: monetary[index],
                    recencyScore: Int(recencyScore[index]), frequencyScore: Int(frequencyScore[index]),
                    monetaryScore: Int(monetaryScore[index]))
            })
    }
}

extension RFMScores {
    init(
        bins: Int, binning: RFMBinning, recencyCuts: [Double], frequencyCuts: [Double], monetaryCuts: [Double],
        rows: [Row]
    ) {
        self.bins = bins
        self.binning = binning
        self.recencyCuts = recencyCuts
        self.frequencyCuts = frequencyCuts
        self.monetaryCuts = monetaryCuts
        self.rows = rows
    }
}

/// The RFM figures folded from rows in batches (see ``RowFold``): per customer key, the last purchase, the number
/// of purchases and the money, 24 bytes, for the orders before the end of the as-of day (or all of them).
package final class RFMFold: RowFold, @unchecked Sendable {
    struct State {
        /// `instant - lastBias` of the last purchase, 0 without purchases.
        var lastKey: Int64 = 0
        var amount: Int64 = 0
        var purchases: Int32 = 0
    }

    struct Worker {
        var minKey = Int.max
        var maxKey = -1
        var maxInstant = Int64.min
        var gaveUp = false
    }

    static let lastBias: Int64 = -(1 << 62)
    package let workers = 2
    private let keyLimit: Int
    private let cutoff: Int64
    private let net: Bool
    private let asOf: CivilDate?
    private let stateMemory: ZeroedBuffer<State>
    private let workerMemory: UnsafeMutablePointer<Worker>

    /// A fold for keys `0...keyLimit`, counting the orders up to the end of `asOf` (all of them when `nil`: the
    /// as-of day is then the local day of the latest order).
    package init?(keyLimit: Int, asOf: CivilDate?, calendar: PeriodCalendar, refunds: RefundPolicy) {
        guard keyLimit >= 0, keyLimit < Int(Int32.max) else { return nil }
        self.keyLimit = keyLimit
        self.asOf = asOf
        cutoff = asOf.map { calendar.startOfDay($0.adding(days: 1)).secondsSince1970 } ?? .max
        net = refunds == .net
        stateMemory = ZeroedBuffer<State>(count: keyLimit + 1)
        workerMemory = .allocate(capacity: workers)
        workerMemory.initialize(repeating: Worker(), count: workers)
    }

    deinit {
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
        var minKey = part.pointee.minKey
        var maxKey = part.pointee.maxKey
        var maxInstant = part.pointee.maxInstant
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
            guard key <= keyLimit, key >= 0 else {
                part.pointee.gaveUp = true
                return
            }
            let instant = timestamps[row]
            let amount = amounts[row]
            maxInstant = Swift.max(maxInstant, instant)
            minKey = Swift.min(minKey, key)
            maxKey = Swift.max(maxKey, key)
            guard instant < cutoff else { continue }
            let state = states + key
            if amount >= 0 {
                state.pointee.purchases += 1
                state.pointee.amount += amount
                let lastKey = instant - RFMFold.lastBias
                if lastKey > state.pointee.lastKey { state.pointee.lastKey = lastKey }
            } else if net {
                state.pointee.amount += amount
            }
        }
        part.pointee.minKey = minKey
        part.pointee.maxKey = maxKey
        part.pointee.maxInstant = maxInstant
    }

    /// The columns, with customer ids `idPrefix` + key in `idDigits` digits; `nil` when the fold gave up, holds
    /// no row, or `bins` is outside 1...32.
    package func columns(
        calendar: PeriodCalendar, bins: Int, segmentation: RFMSegmentation, idPrefix: String, idDigits: Int
    ) -> RFMColumns? {
        guard !gaveUp, (1...32).contains(bins), segmentation.namesInOrder().names.count < 256 else { return nil }
        let parts = UnsafeBufferPointer(start: workerMemory, count: workers)
        let minKey = parts.map(\.minKey).min()!
        let maxKey = parts.map(\.maxKey).max()!
        guard maxKey >= 0 else { return nil }
        let maxInstant = parts.map(\.maxInstant).max()!
        let asOfDay = asOf ?? calendar.localDay(of: Timestamp(secondsSince1970: maxInstant))
        let states = SharedPointer(base: stateMemory.base)
        let (segmentNames, position) = segmentation.namesInOrder()
        // Two halves of the key range, each on its own thread, in three passes: count the purchasers and the range
        // of their last purchases; write their values at their offsets (and histograms of recency and
        // frequency); score them.
        let span = maxKey - minKey + 1
        let halves = span >= 1 << 17 ? 2 : 1
        let keyRanges = (0..<halves).map { part -> Range<Int> in
            minKey + span * part / halves..<minKey + span * (part + 1) / halves
        }
        var counts = [(count: Int, lowest: Int64, highest: Int64)](repeating: (0, .max, .min), count: halves)
        counts.withUnsafeMutableBufferPointer { out in
            let out = SharedPointer(base: out.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: halves) { part in
                var (count, lowest, highest) = (0, Int64.max, Int64.min)
                for key in keyRanges[part] where states.base[key].lastKey != 0 {
                    count += 1
                    lowest = Swift.min(lowest, states.base[key].lastKey)
                    highest = Swift.max(highest, states.base[key].lastKey)
                }
                out.base[part] = (count, lowest, highest)
            }
        }
        let count = counts.reduce(0) { $0 + $1.count }
        guard count > 0 else {
            return RFMColumns(
                asOf: asOfDay, timeZone: calendar.identifier, bins: bins, recencyCuts: [], frequencyCuts: [],
                monetaryCuts: [], idPrefix: idPrefix, idDigits: idDigits, keys: [], recency: [], frequency: [],
                monetary: [], recencyScore: [], frequencyScore: [], monetaryScore: [], segmentNames: segmentNames,
                segments: [])
        }
        let lowest = counts.map { $0.lowest }.min()! + RFMFold.lastBias
        let highest = counts.map { $0.highest }.max()! + RFMFold.lastBias
        guard let days = PeriodMapper(range: lowest...highest, unit: .day, calendar: calendar) else { return nil }
        let asOfNumber = asOfDay.daysSince1970
        // Recency lies in 0...(as-of day - earliest last-purchase day); frequencies below the cap are counted.
        let recencyLimit = Int(asOfNumber - calendar.localDayNumber(of: lowest)) + 1
        let offsets = counts.indices.map { part in counts[..<part].reduce(0) { $0 + $1.count } }
        var keys = [Int64](repeating: 0, count: count)
        var recency = [Int32](repeating: 0, count: count)
        var frequency = [Int32](repeating: 0, count: count)
        var monetary = [Int64](repeating: 0, count: count)
        var recencyHistogram = [Int](repeating: 0, count: halves * recencyLimit)
        var frequencyHistogram = [Int](repeating: 0, count: halves * kernelFrequencyCap)
        var largeFrequencies = [[Int64]](repeating: [], count: halves)
        keys.withUnsafeMutableBufferPointer { keys in
            recency.withUnsafeMutableBufferPointer { recency in
                frequency.withUnsafeMutableBufferPointer { frequency in
                    monetary.withUnsafeMutableBufferPointer { monetary in
                        recencyHistogram.withUnsafeMutableBufferPointer { recencyHistogram in
                            frequencyHistogram.withUnsafeMutableBufferPointer { frequencyHistogram in
                                largeFrequencies.withUnsafeMutableBufferPointer { large in
                                    let out = (
                                        SharedPointer(base: keys.baseAddress!),
                                        SharedPointer(base: recency.baseAddress!),
                                        SharedPointer(base: frequency.baseAddress!),
                                        SharedPointer(base: monetary.baseAddress!),
                                        SharedPointer(base: recencyHistogram.baseAddress!),
                                        SharedPointer(base: frequencyHistogram.baseAddress!),
                                        SharedPointer(base: large.baseAddress!)
                                    )
                                    DispatchQueue.concurrentPerform(iterations: halves) { part in
                                        days.withUnsafeMutableMapperFill(
                                            part: part, keys: keyRanges[part], offset: offsets[part], states: states,
                                            asOf: asOfNumber, recencyLimit: recencyLimit, out: out)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Cut points exactly as RFMScores computes them (type-7 quantiles), from the histograms and by bucket
        // selection for the money.
        func pairs(_ histogram: [Int], width: Int, extra: [Int64] = []) -> [(value: Int64, count: Int64)] {
            var result: [(value: Int64, count: Int64)] = []
            for value in 0..<width {
                var total = 0
                for part in 0..<halves { total += histogram[part * width + value] }
                if total > 0 { result.append((Int64(value), Int64(total))) }
            }
            for value in extra.sorted() {
                if let last = result.last, last.value == value {
                    result[result.count - 1].count += 1
                } else {
                    result.append((value, 1))
                }
            }
            return result
        }
        let recencyCuts = histogramShareCuts(pairs(recencyHistogram, width: recencyLimit), count: count, bins: bins)
        let frequencyCuts = histogramShareCuts(
            pairs(frequencyHistogram, width: kernelFrequencyCap, extra: largeFrequencies.flatMap { $0 }), count: count,
            bins: bins)
        let monetaryCuts = monetary.withUnsafeBufferPointer { bucketShareCuts($0, bins: bins) }
        var recencyScore = [UInt8](repeating: 0, count: count)
        var frequencyScore = [UInt8](repeating: 0, count: count)
        var monetaryScore = [UInt8](repeating: 0, count: count)
        var segments = [UInt8](repeating: 0, count: count)
        let table = segmentation.positionTable(bins: bins, position: position)
        let side = bins + 1
        let scoreParts = count >= 1 << 17 ? 2 : 1
        recencyScore.withUnsafeMutableBufferPointer { rs in
            frequencyScore.withUnsafeMutableBufferPointer { fs in
                monetaryScore.withUnsafeMutableBufferPointer { ms in
                    segments.withUnsafeMutableBufferPointer { sg in
                        let out = (
                            SharedPointer(base: rs.baseAddress!), SharedPointer(base: fs.baseAddress!),
                            SharedPointer(base: ms.baseAddress!), SharedPointer(base: sg.baseAddress!)
                        )
                        recency.withUnsafeBufferPointer { recency in
                            frequency.withUnsafeBufferPointer { frequency in
                                monetary.withUnsafeBufferPointer { monetary in
                                    table.withUnsafeBufferPointer { table in
                                        let input = (
                                            ConstPointer(base: recency.baseAddress!),
                                            ConstPointer(base: frequency.baseAddress!),
                                            ConstPointer(base: monetary.baseAddress!),
                                            ConstPointer(base: table.baseAddress!)
                                        )
                                        DispatchQueue.concurrentPerform(iterations: scoreParts) { part in
                                            for index in count * part / scoreParts..<count * (part + 1) / scoreParts {
                                                let r = bins - cutsBelow(Double(input.0.base[index]), recencyCuts)
                                                let f = 1 + cutsBelow(Double(input.1.base[index]), frequencyCuts)
                                                let m = 1 + cutsBelow(Double(input.2.base[index]), monetaryCuts)
                                                out.0.base[index] = UInt8(r)
                                                out.1.base[index] = UInt8(f)
                                                out.2.base[index] = UInt8(m)
                                                out.3.base[index] = UInt8(input.3.base[(r * side + f) * side + m])
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return RFMColumns(
            asOf: asOfDay, timeZone: calendar.identifier, bins: bins, recencyCuts: recencyCuts,
            frequencyCuts: frequencyCuts, monetaryCuts: monetaryCuts, idPrefix: idPrefix, idDigits: idDigits,
            keys: keys, recency: recency, frequency: frequency, monetary: monetary, recencyScore: recencyScore,
            frequencyScore: frequencyScore, monetaryScore: monetaryScore, segmentNames: segmentNames,
            segments: segments)
    }
}

/// A read-only pointer shared by the workers of a parallel loop.
struct ConstPointer<T>: @unchecked Sendable {
    let base: UnsafePointer<T>
}

extension PeriodMapper {
    /// One worker's part of ``RFMFold/columns(calendar:bins:segmentation:idPrefix:idDigits:)``: the purchasers of
    /// `keys` written from `offset` on, and this part's recency and frequency histograms.
    func withUnsafeMutableMapperFill(
        part: Int, keys range: Range<Int>, offset: Int, states: SharedPointer<RFMFold.State>, asOf: Int64,
        recencyLimit: Int,
        out: (
            SharedPointer<Int64>, SharedPointer<Int32>, SharedPointer<Int32>, SharedPointer<Int64>, SharedPointer<Int>,
            SharedPointer<Int>, SharedPointer<[Int64]>
        )
    ) {
        withUnsafeMapper { map in
            var index = offset
            let recencyHistogram = out.4.base + part * recencyLimit
            let frequencyHistogram = out.5.base + part * kernelFrequencyCap
            for key in range {
                let state = states.base[key]
                guard state.lastKey != 0 else { continue }
                let day = map.localBase + Int64(localDayIndex(state.lastKey + RFMFold.lastBias, map))
                let recency = Int(asOf - day)
                out.0.base[index] = Int64(key)
                out.1.base[index] = Int32(truncatingIfNeeded: recency)
                out.2.base[index] = state.purchases
                out.3.base[index] = state.amount
                recencyHistogram[recency] += 1
                if Int(state.purchases) < kernelFrequencyCap {
                    frequencyHistogram[Int(state.purchases)] += 1
                } else {
                    out.6.base[part].append(Int64(state.purchases))
                }
                index += 1
            }
        }
    }
}
