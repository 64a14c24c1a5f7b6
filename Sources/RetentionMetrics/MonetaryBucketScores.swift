/// Monetary scores (`.share` binning) decided by log bucket before the one pass over the purchasers that scores
/// them, from a histogram of their money by ``logBucket(_:)``.
///
/// The monetary cut points are type-7 interpolations between the values at ranks j and j + 1 (``shareCuts(_:bins:)``),
/// so each lies between those two values. The histogram says which buckets hold the wanted ranks; a value in any
/// other bucket, and not in a bucket next to one, is further than a whole bucket from every cut point (more than an
/// ulp of `Double`, even beyond 2^53), so its score is its bucket's, known before the pass
/// (``scoreOfBucket``, non-zero). Values in the rank buckets and their neighbours score 0 there: the pass sets
/// them aside, ``cuts(setAside:)`` finds the exact values at the wanted ranks among them (quickselect within each
/// rank bucket), and they are scored with those exact cut points. Equal to scoring every value against
/// `shareCuts` of all the values.
///
/// Used by the report kernel's segments and by the live tracker's: no pass that gathers all the money first.
struct MonetaryBucketScores {
    /// Per log bucket (65,536): the monetary score of every value in it, or 0 when its values must be set aside.
    let scoreOfBucket: [UInt8]
    /// The number of values (purchasers) in the histogram.
    let count: Int
    /// How many of them a pass sets aside (their buckets score 0): the room ``cuts(setAside:)``'s input needs.
    let setAsideCount: Int
    let bins: Int
    /// The wanted ranks (j and j + 1 of every cut), ascending, and the bucket holding each.
    private let ranks: [Int]
    private let rankBucket: [Int: Int]
    /// The rank of the first value of each bucket that holds a wanted rank.
    private let bucketStart: [Int: Int]

    /// - Parameters:
    ///   - count: the number of values, at least 1; `bucketCount` must add up to it.
    ///   - bins: 1 to 255.
    ///   - bucketCount: how many values fall in each bucket `0..<65_536`.
    init(count n: Int, bins: Int, bucketCount: (Int) -> Int) {
        precondition(n >= 1 && (1...255).contains(bins), "at least one value, 1 to 255 bins")
        count = n
        self.bins = bins
        func lowerRank(_ k: Int) -> Int {
            min(Int((Double(n - 1) * (Double(k) / Double(bins))).rounded(.down)), n - 1)
        }
        var wanted: [Int] = []
        wanted.reserveCapacity(2 * bins)
        for k in 1..<Swift.max(bins, 1) {
            let j = lowerRank(k)
            wanted.append(j)
            if j + 1 < n { wanted.append(j + 1) }
        }
        var ranks: [Int] = []
        ranks.reserveCapacity(wanted.count)
        for rank in wanted.sorted() where ranks.last != rank { ranks.append(rank) }
        self.ranks = ranks
        var rankBucket: [Int: Int] = Dictionary(minimumCapacity: ranks.count)
        var bucketStart: [Int: Int] = Dictionary(minimumCapacity: ranks.count)
        var seen = 0
        var next = 0
        for bucket in 0..<65_536 where next < ranks.count {
            let size = bucketCount(bucket)
            guard size > 0 else { continue }
            while next < ranks.count && ranks[next] < seen + size {
                rankBucket[ranks[next]] = bucket
                bucketStart[bucket] = seen
                next += 1
            }
            seen += size
        }
        precondition(next == ranks.count, "the bucket counts add up to the number of values")
        // For cut k, the values in a bucket above the bucket of its upper rank are above it.
        var upperBuckets: [Int] = []
        upperBuckets.reserveCapacity(bins)
        for k in 1..<Swift.max(bins, 1) {
            let j = lowerRank(k)
            upperBuckets.append(rankBucket[j + 1 < n ? j + 1 : j]!)
        }
        var scores = [UInt8](repeating: 0, count: 65_536)
        for bucket in 0..<65_536 {
            scores[bucket] = UInt8(1 + upperBuckets.count { bucket > $0 })
        }
        var setAside = 0
        for bucket in rankBucket.values {
            for neighbour in Swift.max(bucket - 1, 0)...Swift.min(bucket + 1, 65_535) where scores[neighbour] != 0 {
                scores[neighbour] = 0
                setAside += bucketCount(neighbour)
            }
        }
        scoreOfBucket = scores
        setAsideCount = setAside
        self.rankBucket = rankBucket
        self.bucketStart = bucketStart
    }

    /// The exact monetary cut points (``shareCuts(_:bins:)`` of all the values), from the values the pass set
    /// aside: every value whose bucket scores 0 in ``scoreOfBucket``, in any order.
    func cuts(setAside: [Int64]) -> [Double] {
        var statistics: [Int: Int64] = Dictionary(minimumCapacity: ranks.count)
        for (bucket, start) in bucketStart {
            let members = setAside.filter { logBucket($0) == bucket }
            let wanted = ranks.filter { rankBucket[$0] == bucket }.map { $0 - start }
            let found = orderStatistics(members, ranks: wanted)
            for rank in wanted { statistics[start + rank] = found[rank]! }
        }
        return shareCuts(count: count, bins: bins) { statistics[$0]! }
    }
}
