import RetentionStorage
import Testing

/// Round-trip and push-down properties of the readers, writers and in-memory store on seeded random data. A
/// failure names its seed.
@Suite struct StoragePropertyTests {
    static let seeds = propertySeeds(200)

    /// Characters that stress the CSV dialect: delimiters, quotes, line ends, spaces, tabs, non-ASCII.
    private static let alphabet: [Character] = [
        "a", "b", "Z", "0", "9", ",", ";", "\"", "'", "\n", "\r", "\r\n", " ", "\t", "#", "é", "ß", "訂", "😀",
        "\u{301}", "\u{FEFF}", "\\", "{", "}", ":",
    ]

    private static func randomID(_ rng: inout SeededGenerator) -> String {
        let length = Int.random(in: 1...8, using: &rng)
        return String((0..<length).map { _ in alphabet.randomElement(using: &rng)! })
    }

    private static func randomAmount(_ rng: inout SeededGenerator, digits: Int) -> Int64 {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: return Int64.random(in: (Int64.min + 1)...Int64.max, using: &rng)
        case 1: return [0, 1, -1, Int64.max, Int64.min + 1].randomElement(using: &rng)!
        case 2...3: return -Int64.random(in: 1...100_000, using: &rng)  // refunds
        default: return Int64.random(in: 0...10_000_000, using: &rng)
        }
    }

    /// Random orders with adversarial ids, amounts over the whole Int64 range (but not Int64.min, which has no
    /// magnitude), timestamps over years 0000...9999, in USD, JPY (0 digits) or KWD (3 digits).
    static func adversarialOrders(seed: UInt64) -> [Order] {
        var rng = SeededGenerator(seed: seed)
        let currency = [Currency.usd, Currency("JPY"), Currency("KWD")].randomElement(using: &rng)!
        let count = Int.random(in: 0...25, using: &rng)
        return (0..<count).map { index in
            Order(
                id: randomID(&rng) + "\(index)", customerID: randomID(&rng),
                timestamp: Timestamp(
                    secondsSince1970: Int64.random(in: -62_167_219_200...253_402_300_799, using: &rng)),
                amount: randomAmount(&rng, digits: currency.minorUnitDigits), currency: currency)
        }
    }

    @Test func csvWriteThenReadIsTheIdentity() throws {
        for seed in Self.seeds {
            let orders = Self.adversarialOrders(seed: seed)
            let text = CSVOrderWriter.string(orders)
            let chunkSize = Int(seed % 7) + 1
            var reader = try CSVOrderReader(bytes: Array(text.utf8), options: .init(chunkSize: chunkSize))
            var read: [Order] = []
            while let order = try reader.next() { read.append(order) }
            #expect(read.count == orders.count, "seed \(seed)")
            for (a, b) in zip(read, orders) {
                #expect(OrderBatchRules.identical(a, b), "seed \(seed): wrote \(b), read \(a)")
            }
        }
    }

    @Test func jsonLinesWriteThenReadIsTheIdentity() throws {
        for seed in Self.seeds {
            let orders = Self.adversarialOrders(seed: seed)
            let text = JSONLinesOrderWriter.string(orders)
            var reader = JSONLinesOrderReader(bytes: Array(text.utf8), options: .init(chunkSize: Int(seed % 5) + 1))
            var read: [Order] = []
            while let order = try reader.next() { read.append(order) }
            #expect(read.count == orders.count, "seed \(seed)")
            for (a, b) in zip(read, orders) {
                #expect(OrderBatchRules.identical(a, b), "seed \(seed): wrote \(b), read \(a)")
            }
        }
    }

    @Test func inMemoryStoreSummariesEqualTheLedgers() async throws {
        for seed in Self.seeds.prefix(100) {
            var rng = SeededGenerator(seed: seed)
            let orders = randomOrders(&rng, count: Int.random(in: 0...80, using: &rng), customers: 12)
            let store = InMemoryOrderStore()
            // Appended in random batches, to exercise the store's merge of batches.
            var rest = orders[...]
            while !rest.isEmpty {
                let size = Int.random(in: 1...max(1, rest.count), using: &rng)
                _ = try await store.append(Array(rest.prefix(size)))
                rest = rest.dropFirst(size)
            }
            let start = Timestamp(secondsSince1970: 1_672_531_200 + Int64.random(in: 0...200, using: &rng) * 86_400)
            let range = start..<Timestamp(secondsSince1970: start.secondsSince1970 + 150 * 86_400)
            let ledger = try OrderLedger(orders)
            let pushed = try await store.customerSummaries(placedIn: range)
            #expect(keyed(pushed).filter { $0.value != CustomerSummary() } == keyed(ledger.summaries(in: range))
                .filter { $0.value != CustomerSummary() }, "seed \(seed)")
        }
    }
}
