import Foundation
import Testing

@testable import RetentionMetrics

/// The live tracker (`RetentionTracker(live:)`): its incremental report equals `RetentionReport(OrderLedger(same
/// orders), options:)` at every checkpoint, whatever the arrival order, refunds, duplicates and rejected orders.
struct RetentionTrackerLiveTests {
    /// Generated orders, shuffled locally (a third of them swapped with an order up to 40 positions away, so that
    /// some customers' orders arrive before their first purchase), with identical repeats mixed in.
    static func arrivals(count: Int, seed: UInt64, years: Double, refundShare: Double) -> [Order] {
        var orders = KernelFixture.orders(count: count, seed: seed, years: years, refundShare: refundShare)
        var random = KernelFixture.Generator(state: seed ^ 0xABCD)
        for index in orders.indices where random.below(3) == 0 {
            let other = min(orders.count - 1, index + random.below(40))
            orders.swapAt(index, other)
        }
        var withRepeats: [Order] = []
        for order in orders {
            withRepeats.append(order)
            if random.below(20) == 0 { withRepeats.append(withRepeats[random.below(withRepeats.count)]) }
        }
        return withRepeats
    }

    /// Records `orders` in batches of varying size (1, 16, 7, 100...), comparing after each batch.
    static func expectLiveEqualsLedger(
        _ orders: [Order], options: RetentionReport.Options, checkpoints: Int = 6,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        var tracker = RetentionTracker(live: options)
        var ledger = OrderLedger()
        let sizes = [1, 16, 7, 100, 1, 1, 33, 250]
        var index = 0
        var batch = 0
        var compared = 0
        let every = max(1, orders.count / checkpoints)
        var nextCheck = every
        while index < orders.count {
            let size = min(sizes[batch % sizes.count], orders.count - index)
            let slice = orders[index..<(index + size)]
            if size == 1 {
                let outcome = try tracker.record(slice.first!)
                #expect(try outcome == ledger.append(slice.first!), sourceLocation: sourceLocation)
            } else {
                try tracker.record(contentsOf: slice)
                try ledger.append(contentsOf: slice)
            }
            index += size
            batch += 1
            if index >= nextCheck || index == orders.count {
                nextCheck += every
                compared += 1
                #expect(tracker.reportsLive(options), sourceLocation: sourceLocation)
                let expected = try RetentionReport(ledger, options: options)
                #expect(try tracker.report(options: options) == expected, sourceLocation: sourceLocation)
                // Report-time options (bins, segments, CLV inputs) may differ from the live ones.
                var other = options
                other.bins = 3
                other.lifespanYears = 2
                other.grossMargin = 0.4
                #expect(tracker.reportsLive(other), sourceLocation: sourceLocation)
                #expect(
                    try tracker.report(options: other) == RetentionReport(ledger, options: other),
                    sourceLocation: sourceLocation)
            }
        }
        #expect(try tracker.liveReport() == RetentionReport(ledger, options: options), sourceLocation: sourceLocation)
        #expect(compared >= checkpoints, sourceLocation: sourceLocation)
        #expect(tracker.count == ledger.count, sourceLocation: sourceLocation)
        #expect(tracker.customerCount == ledger.customerCount, sourceLocation: sourceLocation)
        #expect(tracker.duplicatesIgnored == ledger.duplicatesIgnored, sourceLocation: sourceLocation)
        #expect(tracker.duplicatesIgnored > 0, sourceLocation: sourceLocation)
        // The whole history also equals the reference composition of the public metrics.
        #expect(
            try tracker.report(options: options) == RetentionReport(reference: ledger, options: options),
            sourceLocation: sourceLocation)
    }

    static let cases: [(String, PeriodUnit, RefundPolicy)] = ReportKernelTests.zones.flatMap { zone in
        PeriodUnit.allCases.flatMap { unit in RefundPolicy.allCases.map { (zone, unit, $0) } }
    }

    @Test(arguments: cases)
    func liveReportEqualsTheLedgerReport(zone: String, unit: PeriodUnit, refunds: RefundPolicy) throws {
        let calendar = try #require(PeriodCalendar(identifier: zone))
        // Daily cohorts: one year, so that the cohort table stays small; coarser units: three years.
        let years = unit == .day ? 0.6 : 3
        let orders = Self.arrivals(count: 1_200, seed: 7, years: years, refundShare: 0.08)
        try Self.expectLiveEqualsLedger(
            orders, options: .init(calendar: calendar, cohortUnit: unit, refunds: refunds))
    }

    /// Fully shuffled arrival: most customers see an order older than their first one.
    @Test(arguments: ["UTC", "Europe/Berlin", "Australia/Lord_Howe"])
    func shuffledArrivalStaysExact(zone: String) throws {
        let calendar = try #require(PeriodCalendar(identifier: zone))
        var orders = KernelFixture.orders(count: 1_500, seed: 99, years: 2, refundShare: 0.1)
        var random = KernelFixture.Generator(state: 5)
        for index in orders.indices.reversed() { orders.swapAt(index, random.below(index + 1)) }
        orders.append(contentsOf: orders.prefix(30))
        for unit in [PeriodUnit.week, .month] {
            try Self.expectLiveEqualsLedger(orders, options: .init(calendar: calendar, cohortUnit: unit))
        }
    }

    /// Hand-made rows: a refund-only customer who later buys, refunds before the first purchase period, an order
    /// older than the first purchase arriving last, two purchases at the first instant, a zero purchase, a
    /// customer active over 64 days apart (daily periods beyond the inline bits) whose first purchase then moves
    /// earlier, and orders one second around Berlin's DST change.
    @Test(arguments: PeriodUnit.allCases)
    func adversarialArrivalsStayExact(unit: PeriodUnit) throws {
        let day: Int64 = 86_400
        let t0: Int64 = 1_711_846_800 - 10 * day  // ten days before 2024-03-31 01:00 UTC (Berlin's DST change)
        func order(_ id: String, _ customer: String, _ instant: Int64, _ amount: Int64) -> Order {
            Order(id: id, customerID: customer, timestamp: Timestamp(secondsSince1970: instant), amount: amount)
        }
        let orders = [
            order("1", "a", t0 + 40 * day, -300),  // refund-only so far
            order("2", "b", t0 + 10 * day - 1, 1_000),  // one second before the DST change
            order("3", "b", t0 + 10 * day, 500),  // at it
            order("4", "a", t0 + 2 * day, -200),
            order("5", "a", t0 + 45 * day, 2_000),  // a's first purchase, after its refunds
            order("6", "c", t0 + 100 * day, 700),
            order("7", "c", t0 + 100 * day, 300),  // second purchase at the first instant
            order("8", "c", t0 + 230 * day, 0),  // zero purchase, over 64 days later
            order("9", "c", t0 + 170 * day, -150),
            order("10", "a", t0 + 30 * day, 400),  // older than a's first purchase: a is recomputed
            order("11", "c", t0 + 3 * day, 800),  // c's first purchase moves 97 days earlier
            order("12", "d", t0 + 50 * day, -100),  // refund-only customer
            order("13", "b", t0 + 10 * day - 1, 1_000),  // same instant as b's first
            order("14", "c", t0 + 2 * day, -50),  // refund before c's first period
            order("15", "e", t0 + 400 * day, 50),
        ]
        for zone in ["UTC", "Europe/Berlin"] {
            let calendar = try #require(PeriodCalendar(identifier: zone))
            for refunds in RefundPolicy.allCases {
                let options = RetentionReport.Options(calendar: calendar, cohortUnit: unit, refunds: refunds)
                var tracker = RetentionTracker(live: options)
                var ledger = OrderLedger()
                for order in orders {
                    try tracker.record(order)
                    try ledger.append(order)
                    #expect(tracker.reportsLive(options))
                    #expect(try tracker.report(options: options) == RetentionReport(ledger, options: options))
                    #expect(
                        try tracker.report(options: options) == RetentionReport(reference: ledger, options: options))
                }
            }
        }
    }

    /// Options the live state does not answer are computed from the columns, and still equal the ledger's.
    @Test func otherOptionsFallBackToTheColumns() throws {
        let orders = Self.arrivals(count: 1_000, seed: 3, years: 2, refundShare: 0.05)
        let live = RetentionReport.Options(calendar: PeriodCalendar(identifier: "Europe/Berlin")!)
        var tracker = RetentionTracker(live: live)
        try tracker.record(contentsOf: orders)
        let ledger = try OrderLedger(orders)
        let window = orders[200].timestamp..<orders[700].timestamp
        let lastDay = PeriodCalendar(identifier: "Europe/Berlin")!.localDay(
            of: Timestamp(secondsSince1970: ledger.timestampRange!.upperBound))
        let fallbacks: [RetentionReport.Options] = [
            .init(calendar: .utc),
            .init(calendar: live.calendar, window: window),
            .init(calendar: live.calendar, activeWithin: 30 * 86_400),
            .init(calendar: live.calendar, cohortUnit: .week),
            .init(calendar: live.calendar, refunds: .exclude),
            .init(calendar: live.calendar, asOf: lastDay.adding(days: -40)),
            .init(calendar: live.calendar, binning: .split),
        ]
        for options in fallbacks {
            #expect(!tracker.reportsLive(options))
            #expect(try tracker.report(options: options) == RetentionReport(ledger, options: options))
        }
        // An as-of day on or after the last order's day is answered live.
        for days: Int64 in [0, 1, 95] {
            let options = RetentionReport.Options(calendar: live.calendar, asOf: lastDay.adding(days: days))
            #expect(tracker.reportsLive(options))
            #expect(try tracker.report(options: options) == RetentionReport(ledger, options: options))
        }
    }

    /// A rejected order or batch leaves the tracker, live state included, unchanged.
    @Test func errorsLeaveTheTrackerUnchanged() throws {
        let options = RetentionReport.Options(calendar: PeriodCalendar(identifier: "America/New_York")!)
        let orders = KernelFixture.orders(count: 300, seed: 11, years: 1, refundShare: 0.1)
        let empty = #expect(throws: MetricError.self) { try RetentionTracker(live: options).liveReport() }
        #expect(empty?.code == .emptyWindow)
        var tracker = RetentionTracker(live: options)
        try tracker.record(contentsOf: orders[0..<200])
        let before = try tracker.report(options: options)
        let expected = try RetentionReport(OrderLedger(orders[0..<200]), options: options)
        #expect(before == expected)
        func expectUnchanged(_ code: LedgerError.Code, _ body: (inout RetentionTracker) throws -> Void) throws {
            var copy = tracker
            let error = #expect(throws: LedgerError.self) { try body(&copy) }
            #expect(error?.code == code)
            #expect(copy.count == 200)
            #expect(copy.duplicatesIgnored == 0)
            #expect(try copy.report(options: options) == expected)
            // And it keeps working.
            try copy.record(contentsOf: orders[200..<300])
            #expect(try copy.report(options: options) == RetentionReport(OrderLedger(orders), options: options))
        }
        var conflicting = orders[5]
        conflicting.amount += 1
        var euro = orders[250]
        euro.currency = .eur
        var huge = orders[251]
        huge.amount = .max - 1
        var huge2 = orders[252]
        huge2.amount = .max / 2 + 1
        var huge3 = orders[253]
        huge3.amount = .max / 2 + 1
        var sameIDOtherCustomer = orders[201]
        sameIDOtherCustomer.customerID = "somebody else"
        try expectUnchanged(.conflictingDuplicate) { try $0.record(conflicting) }
        try expectUnchanged(.mixedCurrency) { try $0.record(euro) }
        try expectUnchanged(.amountOverflow) { try $0.record(huge) }
        // Batches: all or nothing, the error of the first bad order.
        try expectUnchanged(.conflictingDuplicate) {
            try $0.record(contentsOf: Array(orders[200..<210]) + [conflicting])
        }
        try expectUnchanged(.mixedCurrency) { try $0.record(contentsOf: Array(orders[200..<240]) + [euro]) }
        try expectUnchanged(.amountOverflow) { try $0.record(contentsOf: [orders[200], huge2, orders[201], huge3]) }
        // A conflict inside the batch (small batch: scan; large batch: dictionary).
        try expectUnchanged(.conflictingDuplicate) { try $0.record(contentsOf: [orders[201], sameIDOtherCustomer]) }
        try expectUnchanged(.conflictingDuplicate) {
            try $0.record(contentsOf: Array(orders[201..<260]) + [sameIDOtherCustomer])
        }
    }

    /// Copies of a live tracker share their state until one of them records: each then reports its own orders
    /// (the customers and the running sums are copied on the first write to a shared state).
    @Test func copiesOfALiveTrackerDiverge() throws {
        let options = RetentionReport.Options(calendar: PeriodCalendar(identifier: "Europe/Berlin")!, refunds: .net)
        let orders = KernelFixture.orders(count: 3_000, seed: 21, years: 2, refundShare: 0.1)
        var first = RetentionTracker(live: options)
        try first.record(contentsOf: orders[0..<1_000])
        var second = first
        let third = first
        try first.record(contentsOf: orders[1_000..<2_000])
        for order in orders[2_000..<3_000] { try second.record(order) }
        #expect(first.reportsLive(options) && second.reportsLive(options) && third.reportsLive(options))
        #expect(try first.report(options: options) == RetentionReport(OrderLedger(orders[0..<2_000]), options: options))
        let secondOrders = Array(orders[0..<1_000]) + orders[2_000..<3_000]
        #expect(try second.report(options: options) == RetentionReport(OrderLedger(secondOrders), options: options))
        #expect(try third.report(options: options) == RetentionReport(OrderLedger(orders[0..<1_000]), options: options))
    }

    /// Identical repeats inside a batch, and against recorded orders, are ignored and counted, as by the ledger.
    /// Batches of every size (the batch's own repeats are found through a hash table of its orders), with integer
    /// and string order ids: identical repeats are ignored as the ledger ignores them, and a repeat with other
    /// content anywhere in the batch rejects the whole batch.
    @Test(arguments: [1, 2, 17, 33, 1_000, 5_000])
    func batchRepeatsOfEverySizeFollowTheLedger(size: Int) throws {
        for stringIDs in [false, true] {
            var orders = KernelFixture.orders(count: size, seed: UInt64(size), years: 1, refundShare: 0.05)
            if stringIDs { for index in orders.indices { orders[index].id = "ord-\(index)-x" } }
            var random = KernelFixture.Generator(state: 11)
            var batch = orders
            for _ in 0..<(size / 3 + 1) { batch.insert(orders[random.below(size)], at: random.below(batch.count + 1)) }
            var tracker = RetentionTracker(live: .init())
            var ledger = OrderLedger()
            let appended = try tracker.record(contentsOf: batch)
            try ledger.append(contentsOf: batch)
            #expect(appended == size)
            #expect(tracker.count == ledger.count && tracker.duplicatesIgnored == ledger.duplicatesIgnored)
            #expect(try tracker.report() == RetentionReport(ledger))
            // A second batch: new orders, repeats of recorded ones and of its own, then one conflicting repeat.
            var more = KernelFixture.orders(count: size, seed: UInt64(size) + 1, years: 1, refundShare: 0)
            for index in more.indices { more[index].id = stringIDs ? "new-\(index)" : String(9_000_000 + index) }
            var second = more + orders.prefix(5) + more.prefix(3)
            var shuffler = SeededGenerator(seed: UInt64(size))
            second.shuffle(using: &shuffler)
            var conflicting = second
            var changed = more[size / 2]
            changed.amount += 1
            conflicting.insert(changed, at: random.below(conflicting.count + 1))
            let error = #expect(throws: LedgerError.self) { try tracker.record(contentsOf: conflicting) }
            #expect(error?.code == .conflictingDuplicate)
            #expect(tracker.count == size && tracker.duplicatesIgnored == ledger.duplicatesIgnored)
            #expect(try tracker.record(contentsOf: second) == size)
            try ledger.append(contentsOf: second)
            #expect(tracker.count == ledger.count && tracker.duplicatesIgnored == ledger.duplicatesIgnored)
            #expect(try tracker.report() == RetentionReport(ledger))
        }
    }

    @Test(arguments: [4, 64])
    func batchDuplicatesAreIgnored(size: Int) throws {
        let orders = KernelFixture.orders(count: size, seed: 2, years: 1, refundShare: 0)
        var tracker = RetentionTracker(live: .init())
        #expect(try tracker.record(contentsOf: orders + orders.prefix(2)) == size)
        #expect(tracker.duplicatesIgnored == 2)
        #expect(try tracker.record(contentsOf: orders.suffix(3) + [orders[0]]) == 0)
        #expect(tracker.duplicatesIgnored == 6)
        #expect(try tracker.report() == RetentionReport(OrderLedger(orders)))
    }

    /// Order ids: sequential integers, integers out of order, then strings; `"007"` and `"7"` are distinct ids.
    @Test func orderIDsOfEveryKindDeduplicate() throws {
        var tracker = RetentionTracker(live: .init())
        var ledger = OrderLedger()
        let t: Int64 = 1_700_000_000
        let ids = ["7", "8", "9", "3", "12", "007", "x-1", "8", "12", "x-1", "0", "70"]
        for (index, id) in ids.enumerated() {
            let order = Order(
                id: id, customerID: "c\(index % 4)", timestamp: Timestamp(secondsSince1970: t + Int64(index) * 3_600),
                amount: 100)
            let first = ids.firstIndex(of: id)!
            if first == index {
                #expect(try tracker.record(order) == .appended)
            } else {
                // Same id, other content: a conflict; same content: a duplicate.
                #expect(throws: LedgerError.self) { try tracker.record(order) }
                var same = order
                same.customerID = "c\(first % 4)"
                same.timestamp = Timestamp(secondsSince1970: t + Int64(first) * 3_600)
                #expect(try tracker.record(same) == .duplicateIgnored)
                continue
            }
            try ledger.append(order)
        }
        #expect(tracker.count == 9)
        #expect(tracker.duplicatesIgnored == 3)
        #expect(tracker.ledger.orders == ledger.orders)
        #expect(try tracker.report() == RetentionReport(ledger))
    }

    /// Order ids whose spelling changes the store's pattern inside a batch (the first id sets the prefix; `"0042"`
    /// fixes the width, after which `"44"` no longer fits; `"x-1"` turns the store to strings) are stored as
    /// spelled: each is found again, and the columns equal the ledger's; one at a time as well.
    @Test(arguments: [
        ["A1", "123", "A7", "A0012", "A13", "A5"], ["123", "A1", "124"], ["0042", "0043", "44", "0045"],
        ["10", "11", "x-1", "12", "013"], ["5", "50", "500", "0", "05"], ["0042", "44", "0045", "46"],
    ])
    func orderIDSpellingsThatChangeThePatternInABatch(ids: [String]) throws {
        let t: Int64 = 1_700_000_000
        func order(_ index: Int, _ id: String) -> Order {
            Order(
                id: id, customerID: "c\(index % 3)", timestamp: Timestamp(secondsSince1970: t + Int64(index) * 86_400),
                amount: 100 + Int64(index))
        }
        let head = ["A100", "200", "0300", "x", "1234"]
        for (prefix, first) in [([String](), 0)] + head.map({ ([$0], 1) }) {
            let orders = (prefix + ids).enumerated().map { order($0.offset, $0.element) }
            var tracker = RetentionTracker(live: .init())
            try tracker.record(contentsOf: orders[..<first])
            #expect(try tracker.record(contentsOf: orders[first...]) == orders.count - first)
            #expect(try tracker.ledger.orders == OrderLedger(orders).orders)
            var single = RetentionTracker(live: .init())
            for recorded in orders { #expect(try single.record(recorded) == .appended) }
            #expect(try single.ledger.orders == OrderLedger(orders).orders)
            for recorded in orders { #expect(try tracker.record(recorded) == .duplicateIgnored) }
            // "A100" is not "100" (nor anything of the batch): a new order unless it was recorded first.
            if prefix == ["A100"] {
                #expect(throws: LedgerError.self) { try tracker.record(order(99, "A100")) }
            } else {
                #expect(try tracker.record(order(99, "A100")) == .appended)
            }
            #expect(try tracker.record(order(98, "100")) == .appended)
        }
    }

    /// Customer ids: numeric ones by key until one breaks the pattern (`"05"` is not `"5"`), then hashed.
    @Test func customerIDsOfEveryKindIntern() throws {
        let customers = ["5", "6", "5", "123", "05", "abc", "6", "05", "C7", "abc", "123"]
        var tracker = RetentionTracker(live: .init())
        var ledger = OrderLedger()
        for (index, customer) in customers.enumerated() {
            let order = Order(
                id: "\(index)", customerID: customer,
                timestamp: Timestamp(secondsSince1970: 1_700_000_000 + Int64(index) * 86_400), amount: 100)
            try tracker.record(order)
            try ledger.append(order)
            #expect(tracker.customerCount == ledger.customerCount)
        }
        #expect(tracker.customerCount == 6)
        #expect(tracker.ledger.orders == ledger.orders)
        #expect(try tracker.report() == RetentionReport(ledger))
        #expect(try tracker.report().repeatPurchaseRate == 5.0 / 6)
    }

    /// Numeric customer ids whose distance to the customer numbers shifts: the live tracker's guess of a number
    /// (the last new customer's key minus its number) lands on another customer, past the last one, below zero,
    /// or on the right one; a guess is taken only when the customer's own key agrees.
    @Test func guessedCustomerNumbersAreChecked() throws {
        var random = KernelFixture.Generator(state: 11)
        var keys: [Int] = []
        var next = 1_000
        var orders: [Order] = []
        for index in 0..<6_000 {
            let key: Int
            if keys.isEmpty || random.below(3) == 0 {
                // New customers jump ahead now and then, so that the guesses of repeats shift onto neighbours.
                next += random.below(5) == 0 ? 1 + random.below(40) : 1
                key = next
                keys.append(key)
            } else if random.below(4) == 0 {
                // A key between existing ones, never seen: its guess is some other customer's number.
                key = keys[random.below(keys.count)] + 100_000
                keys.append(key)
            } else {
                key = keys[random.below(keys.count)]
            }
            orders.append(
                Order(
                    id: "\(index)", customerID: "\(key)",
                    timestamp: Timestamp(secondsSince1970: 1_700_000_000 + Int64(index) * 3_600),
                    amount: Int64(100 + random.below(900))))
        }
        for batch in [1, 16] {
            var tracker = RetentionTracker(live: .init())
            var ledger = OrderLedger()
            var index = 0
            while index < orders.count {
                let slice = orders[index..<min(index + batch, orders.count)]
                if batch == 1 { try tracker.record(slice.first!) } else { try tracker.record(contentsOf: slice) }
                try ledger.append(contentsOf: slice)
                index += batch
            }
            #expect(tracker.customerCount == ledger.customerCount)
            #expect(tracker.ledger.orders == ledger.orders)
            #expect(try tracker.report() == RetentionReport(ledger))
        }
        // The check itself: a guess holds when the customer's own key agrees, and only then.
        var state = LiveState(calendar: .utc, unit: .month, refunds: .net)
        state.addCustomer(key: 7)
        state.addCustomer(key: 9)
        state.addCustomer()
        state.addCustomer(key: Int64(UInt32.max))
        #expect(state.customer(guess: 0, key: 7) == 0)
        #expect(state.customer(guess: 1, key: 9) == 1)
        #expect(state.customer(guess: 1, key: 7) == nil)
        #expect(state.customer(guess: 2, key: -1) == nil)
        #expect(state.customer(guess: 2, key: 0) == nil)
        #expect(state.customer(guess: 3, key: Int64(UInt32.max)) == nil)
        #expect(state.customer(guess: 4, key: 7) == nil)
        #expect(state.customer(guess: -1, key: 7) == nil)
    }

    /// `Int64.min`, `Int64.max` and small values around zero.
    static let extremes: [Int64] = (0..<5_000).map { (index: Int) -> Int64 in
        if index % 3 == 0 { return .min }
        if index % 3 == 1 { return .max }
        return Int64(index) - 2_500
    }

    /// Around the bucket edges: 511/512, powers of two and their neighbours, both signs.
    static let bucketEdges: [Int64] = (0..<8_192).map { (index: Int) -> Int64 in
        let edge = Int64(1) << Int64(9 + index % 50)
        let value = edge + Int64(index % 3) - 1
        return index % 2 == 0 ? value : -value
    }

    /// The live report's monetary cut points (bucket selection) equal `shareCuts` (quickselect) exactly, with one
    /// worker and with two.
    @Test(arguments: [3, 5, 7])
    func bucketCutPointsEqualSelection(bins: Int) {
        var random = KernelFixture.Generator(state: UInt64(bins))
        let samples: [[Int64]] = [
            (0..<20_000).map { _ in Int64(random.below(1_000_000)) - 5_000 },
            (0..<9_000).map { _ in Int64(exp(random.unit() * 20)) },  // heavy tail
            (0..<5_000).map { index in index == 0 ? .max / 2 : Int64(random.below(50)) },  // one outlier
            (0..<6_000).map { index in index % 2 == 0 ? -(Int64.max / 2) : Int64.max / 2 },  // extreme span
            [Int64](repeating: 42, count: 4_500) + [43],
            Self.extremes,
            Self.bucketEdges,
            // From 2^20 values on, two workers gather the halves: ascending values put a cut's bucket in one half
            // or across both; a heavy tail spreads every bucket over both.
            (0..<1_050_000).map { Int64($0 / 3) },
            (0..<1_100_000).map { _ in Int64(exp(random.unit() * 16)) },
        ]
        for values in samples {
            let cuts = values.withUnsafeBufferPointer { bucketShareCuts($0, bins: bins) }
            #expect(cuts == shareCuts(values, bins: bins))
            #expect(cuts.count == bins - 1)
        }
    }

    /// Scoring by bucket, with the values near a cut point set aside and scored against ``MonetaryBucketScores``'s
    /// exact cut points, gives every value the score `shareCuts` gives it (the report kernel's and the live
    /// tracker's segments score this way), from one bin to 32, and sets aside only the few values near a cut.
    @Test(arguments: [1, 2, 5, 32])
    func bucketScoresEqualScoresFromAllValues(bins: Int) {
        var random = KernelFixture.Generator(state: UInt64(bins) &+ 99)
        let samples: [[Int64]] = [
            (0..<20_000).map { _ in Int64(random.below(1_000_000)) - 5_000 },
            (0..<9_000).map { _ in Int64(exp(random.unit() * 20)) },
            (0..<5_000).map { index in index == 0 ? .max / 2 : Int64(random.below(50)) },
            (0..<6_000).map { index in index % 2 == 0 ? -(Int64.max / 2) : Int64.max / 2 },
            [Int64](repeating: 42, count: 4_500) + [43],
            [7],
            Self.extremes,
            Self.bucketEdges,
        ]
        for values in samples {
            var buckets = [Int](repeating: 0, count: 65_536)
            for value in values { buckets[logBucket(value)] += 1 }
            let scores = MonetaryBucketScores(count: values.count, bins: bins) { buckets[$0] }
            let aside = values.filter { scores.scoreOfBucket[logBucket($0)] == 0 }
            #expect(scores.setAsideCount == aside.count)
            let cuts = scores.cuts(setAside: aside.reversed())
            let reference = shareCuts(values, bins: bins)
            #expect(cuts == reference)
            let expected = values.map { 1 + cutsBelow(Double($0), reference) }
            let scored = values.map { value in
                let byBucket = Int(scores.scoreOfBucket[logBucket(value)])
                return byBucket != 0 ? byBucket : 1 + cutsBelow(Double(value), cuts)
            }
            #expect(scored == expected)
            if values.count == 20_000 { #expect(aside.count < values.count / 10) }
        }
    }

    /// `logBucket` never decreases as the value grows and stays in 0..<65,536, across every power of two.
    @Test func logBucketsAreOrdered() {
        var values: Set<Int64> = [.min, .min + 1, -1, 0, 1, 510, 511, 512, 513, .max - 1, .max]
        for power in 0..<63 {
            let edge = Int64(1) << Int64(power)
            for delta: Int64 in [-1, 0, 1] { values.insert(edge + delta); values.insert(-(edge + delta)) }
        }
        let sorted = values.sorted()
        let buckets = sorted.map(logBucket)
        #expect(buckets.allSatisfy { (0..<65_536).contains($0) })
        #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(logBucket(511) != logBucket(512) && logBucket(-1) < logBucket(0))
    }

    /// Instants over a million days apart: the live state is given up, reports read the columns and stay exact.
    @Test func farApartInstantsDropTheLiveState() throws {
        let t: Int64 = 1_700_000_000
        let orders = [
            Order(id: "1", customerID: "a", timestamp: Timestamp(secondsSince1970: t), amount: 100),
            Order(id: "2", customerID: "a", timestamp: Timestamp(secondsSince1970: t + 86_400), amount: 50),
            Order(id: "3", customerID: "b", timestamp: Timestamp(secondsSince1970: t + 1_000_001 * 86_400), amount: 70),
        ]
        var tracker = RetentionTracker(live: .init(cohortUnit: .year))
        try tracker.record(contentsOf: orders.prefix(2))
        #expect(tracker.isLive)
        try tracker.record(orders[2])
        #expect(!tracker.isLive)
        #expect(tracker.count == 3)
        let options = RetentionReport.Options(cohortUnit: .year)
        #expect(try tracker.report(options: options) == RetentionReport(OrderLedger(orders), options: options))
    }

    /// Over 131,072 customers the report's RFM passes are split between two workers: still exact.
    @Test func largeTrackerSplitsTheCustomerPasses() throws {
        var orders = KernelFixture.orders(count: 400_000, seed: 18, years: 2, refundShare: 0.03)
        if Set(orders.map(\.customerID)).count % 2 == 0 {
            orders.append(Order(id: "extra", customerID: "extra", timestamp: orders[9].timestamp, amount: 1_234))
        }
        let options = RetentionReport.Options(calendar: PeriodCalendar(identifier: "Europe/Berlin")!)
        var tracker = RetentionTracker(live: options)
        var index = 0
        while index < orders.count {
            try tracker.record(contentsOf: orders[index..<min(index + 1_000, orders.count)])
            index += 1_000
        }
        #expect(tracker.customerCount > 131_072)
        #expect(tracker.customerCount % 2 == 1)  // an odd count: the two halves must not overlap
        #expect(try tracker.liveReport() == RetentionReport(OrderLedger(orders), options: options))
    }
}

/// The live report's one-pass RFM segment count: monetary scores from the live log-bucket histogram, with only the
/// customers in or next to the buckets of the wanted ranks scored against the exact cut points afterwards.
struct RetentionTrackerOnePassSegmentTests {
    /// Money piled on bucket edges (511/512 and powers of two, one either side), ties, negative monetary values
    /// (refunds over purchases under `.net`) and values beyond 2^53, where `Double` rounds: every bin count gives
    /// the ledger's segments (over 32 bins the report gathers the money first instead of the one pass).
    @Test(arguments: [1, 2, 3, 4, 5, 7, 10, 40])
    func edgesTiesAndHugeValuesScoreAsTheLedger(bins: Int) throws {
        let t0: Int64 = 1_700_000_000
        var orders: [Order] = []
        var random = KernelFixture.Generator(state: UInt64(bins) &* 77)
        var next = 0
        func add(_ customer: Int, _ amount: Int64, day: Int) {
            orders.append(
                Order(
                    id: "o\(next)", customerID: "c\(customer)",
                    timestamp: Timestamp(secondsSince1970: t0 + Int64(day) * 86_400 + Int64(next % 600)),
                    amount: amount))
            next += 1
        }
        for customer in 0..<5_000 {
            let day = random.below(400)
            switch customer % 5 {
            case 0:  // a bucket edge or a neighbour of one
                let edge = Int64(1) << Int64(9 + random.below(28))
                add(customer, edge + Int64(random.below(3)) - 1, day: day)
            case 1:  // ties
                add(customer, 4_096, day: day)
            case 2:  // net monetary below zero
                add(customer, 100, day: day)
                add(customer, -(1_000 + Int64(random.below(5_000))), day: day + 1)
            case 3:  // two purchases landing on an edge together
                let edge = Int64(1) << Int64(12 + random.below(20))
                add(customer, edge / 2, day: day)
                add(customer, edge / 2 + Int64(random.below(3)) - 1, day: day + 3)
            default:
                add(customer, Int64(1 + random.below(100_000)), day: day)
            }
        }
        // Beyond 2^53: consecutive integers that round to one Double, on both sides of a bucket edge.
        let huge = Int64(1) << 56
        for index in 0..<40 {
            add(10_000 + index, huge + Int64(index % 5) - 2 + (index >= 20 ? huge >> 9 : 0), day: index)
        }
        let options = RetentionReport.Options(calendar: .utc, bins: bins)
        var tracker = RetentionTracker(live: options)
        try tracker.record(contentsOf: orders)
        let ledger = try OrderLedger(orders)
        #expect(tracker.reportsLive(options))
        let live = try tracker.report(options: options)
        #expect(live == (try RetentionReport(ledger, options: options)))
        // Segments by monetary score alone.
        let byMoney = RFMSegmentation(
            rules: (1...bins).map {
                RFMSegmentRule("m\($0)", recency: 1...bins, frequency: 1...bins, monetary: $0...$0)
            })
        var moneyOptions = options
        moneyOptions.segmentation = byMoney
        #expect(try tracker.report(options: moneyOptions) == RetentionReport(ledger, options: moneyOptions))
        #expect(live.segments.map(\.customers).reduce(0, +) == live.customers)
        // And the same through RFMScores over the ledger's summaries, the public reference.
        let day = PeriodCalendar.utc.localDay(of: Timestamp(secondsSince1970: ledger.timestampRange!.upperBound))
        let scores = RFMScores(RFMSummary(ledger: ledger, asOf: day, calendar: .utc), bins: bins)
        let sizes = RFMSegmentation.standard.sizes(of: scores)
        #expect(live.segments == sizes)
    }

    /// A bucket edge beyond 2^53 where the last value below it and the first above it are one `Double`: 85
    /// customers at E - 1 (the wanted ranks' bucket) and 15 at E (the next bucket). The cut points are `Double(E)`
    /// and no value is above them, so scoring E by its bucket alone would give it the top score; the customers
    /// next to a rank bucket are scored exactly.
    @Test func aBucketNextToTheRanksIsScoredExactly() throws {
        let edge = (Int64(1) << 56) + (Int64(1) << 47)
        #expect(Double(edge - 1) == Double(edge))
        #expect(logBucket(edge - 1) + 1 == logBucket(edge))
        let orders = (0..<100).map { index in
            Order(
                id: "o\(index)", customerID: "c\(index)",
                timestamp: Timestamp(secondsSince1970: 1_700_000_000 + Int64(index) * 86_400),
                amount: index < 85 ? edge - 1 : edge)
        }
        // Segments by monetary score alone, so that every score shows.
        let byMoney = RFMSegmentation(
            rules: (1...5).map { RFMSegmentRule("m\($0)", recency: 1...5, frequency: 1...5, monetary: $0...$0) })
        let options = RetentionReport.Options(calendar: .utc, bins: 5, segmentation: byMoney)
        var tracker = RetentionTracker(live: options)
        try tracker.record(contentsOf: orders)
        let expected = try RetentionReport(OrderLedger(orders), options: options)
        #expect(tracker.reportsLive(options))
        #expect(try tracker.report(options: options) == expected)
        #expect(expected.segments.first { $0.name == "m1" }?.customers == 100)
    }

    /// The live state is one 64-byte line per customer.
    @Test func aCustomerIsOneCacheLine() {
        #expect(MemoryLayout<LiveCustomer>.stride == 64)
        let store = LiveCustomerStore(capacity: 3)
        #expect(Int(bitPattern: store.base) % 64 == 0)
    }
}
