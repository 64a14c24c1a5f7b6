import RetentionMetrics
import Testing

/// Properties every metric must satisfy on any input, checked on a few hundred seeded random ledgers. A failure
/// names the seed; replay it with `propertySeeds` or by building the ledger with `SeededGenerator(seed:)`.
@Suite struct PropertyTests {
    static let seeds = propertySeeds(200)

    private static func ledger(seed: UInt64) throws -> (OrderLedger, [Order]) {
        var rng = SeededGenerator(seed: seed)
        let count = Int.random(in: 0...60, using: &rng)
        let orders = randomOrders(&rng, count: count, customers: Int.random(in: 1...15, using: &rng))
        return (try OrderLedger(orders), orders)
    }

    private static func window(seed: UInt64) -> Range<Timestamp> {
        var rng = SeededGenerator(seed: seed ^ 0xABCD)
        let start: Int64 = 1_672_531_200 + Int64.random(in: 0...300, using: &rng) * 86_400
        let length = Int64.random(in: 1...120, using: &rng) * 86_400
        return Timestamp(secondsSince1970: start)..<Timestamp(secondsSince1970: start + length)
    }

    private static func inUnitInterval(_ value: Double?) -> Bool {
        guard let value else { return true }
        return value >= 0 && value <= 1
    }

    @Test func ratesBoundedByTheirDefinitionStayWithinZeroAndOne() throws {
        for seed in Self.seeds {
            let (ledger, _) = try Self.ledger(seed: seed)
            let window = Self.window(seed: seed)
            let activeWithin = Int64(seed % 90 + 1) * 86_400
            let repeatRate = RepeatPurchaseRate(ledger, in: nil).rate
            #expect(Self.inUnitInterval(repeatRate), "seed \(seed): repeat-purchase rate \(repeatRate as Any)")
            let windowRepeat = RepeatPurchaseRate(ledger, in: window).rate
            #expect(Self.inUnitInterval(windowRepeat), "seed \(seed): repeat rate in window \(windowRepeat as Any)")
            let returningCustomer = ReturningCustomerRate(ledger, in: window).rate
            #expect(
                Self.inUnitInterval(returningCustomer),
                "seed \(seed): returning-customer rate \(returningCustomer as Any)")
            let returning = try ReturningRate(ledger, period: window, activeWithin: activeWithin)
            #expect(Self.inUnitInterval(returning.rate), "seed \(seed): returning rate \(returning.rate as Any)")
            #expect(returning.returned <= returning.existing, "seed \(seed)")
            let retention = try PeriodRetention(ledger, period: window, activeWithin: activeWithin)
            // (E - N) / S counts reactivated customers too, so it may exceed 1; only its sign is bounded.
            #expect((retention.rate ?? 0) >= 0, "seed \(seed): retention rate \(retention.rate as Any)")
            #expect(Self.inUnitInterval(retention.cohortRate), "seed \(seed): cohortRate \(retention.cohortRate as Any)")
            #expect(Self.inUnitInterval(retention.lostRate), "seed \(seed): lostRate \(retention.lostRate as Any)")
            #expect((retention.start == 0) == (retention.rate == nil), "seed \(seed): rate nil iff S = 0")
            for unit in [PeriodUnit.week, .month] {
                let table = CohortTable(ledger: ledger, unit: unit, calendar: .utc)
                for row in table.rows {
                    #expect(
                        row.retention >= 0 && row.retention <= 1 && row.active <= row.size,
                        "seed \(seed): cohort \(row.cohort) offset \(row.offset) retention \(row.retention)")
                }
            }
        }
    }

    @Test func reportDoesNotDependOnTheOrderOfTheInput() throws {
        for seed in Self.seeds.prefix(100) {
            let (ledger, orders) = try Self.ledger(seed: seed)
            guard !ledger.isEmpty else { continue }
            var rng = SeededGenerator(seed: seed ^ 0x5EED)
            let shuffled = try OrderLedger(orders.shuffled(using: &rng))
            let reversed = try OrderLedger(orders.reversed())
            let options = RetentionReport.Options(cohortUnit: seed % 2 == 0 ? .month : .week)
            let expected = try RetentionReport(ledger, options: options)
            #expect(try RetentionReport(shuffled, options: options) == expected, "seed \(seed): shuffled")
            #expect(try RetentionReport(reversed, options: options) == expected, "seed \(seed): reversed")
        }
    }

    /// `BTYDSummary` counts distinct periods without hashing while a customer's purchases arrive in period order
    /// and recounts the others through a hash set: the two paths agree, in every unit and time zone.
    @Test func btydSummaryDoesNotDependOnTheOrderOfTheInput() throws {
        let calendars = [PeriodCalendar.utc, PeriodCalendar(identifier: "America/New_York")!]
        for seed in Self.seeds.prefix(100) {
            let (_, orders) = try Self.ledger(seed: seed)
            guard !orders.isEmpty else { continue }
            var rng = SeededGenerator(seed: seed ^ 0xB7D)
            // By time: every customer on the fast path. Shuffled and reversed: most of them recounted.
            let byTime = try OrderLedger(orders.sorted { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) })
            let shuffled = try OrderLedger(orders.shuffled(using: &rng))
            let reversed = try OrderLedger(orders.reversed())
            let end = CivilDate(year: 2024, month: 3, day: Int(seed % 28) + 1)!
            for calendar in calendars {
                for unit in [BTYDSummary.Unit.day, .week, .weeksFromDays] {
                    let expected = BTYDSummary(ledger: byTime, calendar: calendar, observationEnd: end, unit: unit)
                    for (name, ledger) in [("shuffled", shuffled), ("reversed", reversed)] {
                        let summary = BTYDSummary(ledger: ledger, calendar: calendar, observationEnd: end, unit: unit)
                        #expect(summary == expected, "seed \(seed), \(name), \(unit), \(calendar.identifier)")
                    }
                }
            }
        }
    }

    @Test func shardedSummariesMergedEqualOnePass() throws {
        for seed in Self.seeds {
            let (ledger, orders) = try Self.ledger(seed: seed)
            var rng = SeededGenerator(seed: seed ^ 0x5A4D)
            let shardCount = Int.random(in: 1...5, using: &rng)
            var shards = [[Order]](repeating: [], count: shardCount)
            for order in orders { shards[Int.random(in: 0..<shardCount, using: &rng)].append(order) }
            let window: Range<Timestamp>? = seed % 3 == 0 ? nil : Self.window(seed: seed)
            var merged = CustomerSummaries(customerIDs: [], summaries: [], currency: nil)
            for shard in shards { merged = merged.merging(try OrderLedger(shard).summaries(in: window)) }
            let onePass = ledger.summaries(in: window)
            #expect(keyed(merged) == keyed(onePass), "seed \(seed): \(shardCount) shards")
            #expect(merged.count == onePass.count, "seed \(seed)")
        }
    }

    @Test func rfmScoresAreMonotoneInTheirValues() {
        for seed in Self.seeds {
            var rng = SeededGenerator(seed: seed)
            let count = Int.random(in: 1...40, using: &rng)
            // Small value ranges so that ties are common.
            let rows = (0..<count).map { index in
                RFMSummary.Row(
                    customerID: "c\(index)", recency: Int.random(in: 0...20, using: &rng),
                    frequency: Int.random(in: 1...8, using: &rng),
                    monetary: Int64.random(in: -500...5_000, using: &rng))
            }
            let summary = RFMSummary(rows: rows, asOf: CivilDate(year: 2024, month: 3, day: 1)!)
            for binning in RFMBinning.allCases {
                let bins = Int.random(in: 1...6, using: &rng)
                let scores = RFMScores(summary, bins: bins, binning: binning).rows
                for a in scores {
                    #expect((1...bins).contains(a.recencyScore) && (1...bins).contains(a.frequencyScore))
                    for b in scores {
                        if a.frequency > b.frequency {
                            #expect(a.frequencyScore >= b.frequencyScore, "seed \(seed) \(binning) F \(a) \(b)")
                        }
                        if a.monetary > b.monetary {
                            #expect(a.monetaryScore >= b.monetaryScore, "seed \(seed) \(binning) M \(a) \(b)")
                        }
                        if a.recency > b.recency {
                            #expect(a.recencyScore <= b.recencyScore, "seed \(seed) \(binning) R \(a) \(b)")
                        }
                    }
                }
            }
        }
    }
}
