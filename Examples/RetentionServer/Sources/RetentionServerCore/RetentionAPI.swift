import Foundation
import Hummingbird
import NIOCore
import RetentionMetrics
import RetentionStorage

/// The HTTP API over one ``OrderStore``: the routes, request parsing and answers, independent of how the store
/// was opened (see ``ServerConfiguration`` and ``RetentionServer`` for that).
///
/// ```swift
/// let api = RetentionAPI(store: try SQLiteOrderStore(path: "orders.sqlite"), storeName: "sqlite")
/// let app = Application(router: api.router(), configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
/// try await app.runService()
/// ```
///
/// Metrics are computed from a cached ``OrderLedger`` (``LedgerCache``): reloaded only when the store's count
/// changes, so a read costs one `count()` query plus the metric itself.
public struct RetentionAPI: Sendable {
    /// The store every route reads and writes.
    public let store: any OrderStore
    /// `"sqlite"`, `"postgres"`, `"memory"`: reported by `/health`.
    public let storeName: String
    /// The largest request body accepted, in bytes; larger ones get 413.
    public let maxBodyBytes: Int
    /// The cached ledger of the store.
    public let ledgers: LedgerCache

    public init(store: any OrderStore, storeName: String, maxBodyBytes: Int = 8 << 20) {
        self.store = store
        self.storeName = storeName
        self.maxBodyBytes = maxBodyBytes
        self.ledgers = LedgerCache(store: store)
    }

    /// A router with every route and the JSON error middleware.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.get("/health") { _, _ in try await health() }
        router.post("/orders") { request, _ in try await postOrders(request) }
        router.get("/metrics/report") { request, _ in try json(try await report(request)) }
        router.get("/") { request, _ in try html(try await report(request)) }
        router.get("/report.html") { request, _ in try html(try await report(request)) }
        router.get("/metrics/cohorts") { request, _ in try await cohorts(request) }
        router.get("/metrics/rfm") { request, _ in try await rfm(request) }
        router.get("/customers/{id}") { request, context in try await customer(request, context: context) }
        return router
    }

    // MARK: - Routes

    func health() async throws -> Response {
        struct Health: Encodable {
            var status: String
            var store: String
            var orders: Int
        }
        do {
            let count = try await store.count()
            return try json(Health(status: "ok", store: storeName, orders: count))
        } catch {
            throw APIError(.serviceUnavailable, "the \(storeName) order store is unreachable")
        }
    }

    func postOrders(_ request: Request) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxBodyBytes {
            throw APIError(.contentTooLarge, "the request body is \(length) bytes; the limit is \(maxBodyBytes)")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "the request body exceeds the limit of \(maxBodyBytes) bytes")
        }
        let calendar = try Query(request).calendar()
        let incoming: [IncomingOrder]
        do {
            incoming = try JSONDecoder().decode([IncomingOrder].self, from: Data(buffer.readableBytesView))
        } catch DecodingError.typeMismatch {
            throw APIError.badRequest("the body must be a JSON array of orders")
        } catch {
            throw APIError.badRequest("the body is not valid JSON")
        }
        let storeCurrency = try await store.currency()
        switch OrderInput.validate(incoming, calendar: calendar, storeCurrency: storeCurrency) {
        case .failure(let problems):
            return try json(problems, status: .unprocessableContent, nulls: false)
        case .success(let orders):
            let summary: AppendSummary
            do {
                summary = try await store.append(orders)
            } catch let error as StoreError where error.code == .invalidOrder || error.code == .mixedCurrency {
                // Validation above makes these rare (another writer set the store's currency meanwhile).
                let index = orders.firstIndex { $0.id.utf8.elementsEqual((error.orderID ?? "").utf8) } ?? 0
                let field = error.code == .mixedCurrency ? "currency" : "order"
                let problem = OrderProblem(index: index, field: field, reason: error.description)
                return try json(ProblemList(errors: [problem]), status: .unprocessableContent, nulls: false)
            }
            if summary.inserted > 0 { await ledgers.invalidate() }
            return try json(summary)
        }
    }

    /// The report of the store for the request's `from`, `to`, `tz`, `activeWithin`, `lifespanYears`, `period`.
    func report(_ request: Request) async throws -> RetentionReport {
        let query = try Query(request)
        let calendar = try query.calendar()
        let from = try query.day("from")
        let to = try query.day("to")
        if let from, let to, from >= to {
            throw APIError.badRequest("from \(from) must be before to \(to): the window is [from, to)")
        }
        let activeWithin = try query.positiveInt("activeWithin")
        if let days = activeWithin, days > 365_000 { throw APIError.badRequest("activeWithin is at most 365000 days") }
        let lifespan = try query.positiveDouble("lifespanYears")
        let period = try query.cohortUnit()
        let ledger = try await ledgers.current()
        var window: Range<Timestamp>?
        if from != nil || to != nil {
            let data = RetentionReport.dataWindow(ledger, calendar: calendar)
            let lower = from.map { calendar.startOfDay($0) } ?? data.lowerBound
            let upper = to.map { calendar.startOfDay($0) } ?? data.upperBound
            guard lower < upper else {
                throw APIError.badRequest(
                    "the window [\(from?.description ?? "first order"), \(to?.description ?? "last order")) is empty")
            }
            window = lower..<upper
        }
        let options = RetentionReport.Options(
            calendar: calendar, window: window, activeWithin: activeWithin.map { Int64($0) * 86_400 },
            lifespanYears: lifespan, cohortUnit: period)
        return try RetentionReport(ledger, options: options)
    }

    func cohorts(_ request: Request) async throws -> Response {
        struct Cohorts: Encodable {
            var period: PeriodUnit
            var timeZone: String
            var lastObservedPeriod: String?
            var cohorts: [Cell]
        }
        /// The report's `cohorts` cell, field for field.
        struct Cell: Encodable {
            var cohort: String
            var offset: Int
            var active: Int
            var size: Int
            var retention: Double
        }
        let query = try Query(request)
        let calendar = try query.calendar()
        let unit = try query.cohortUnit()
        let ledger = try await ledgers.current()
        let table = CohortTable(ledger: ledger, unit: unit, calendar: calendar)
        let cells = table.rows.map {
            Cell(
                cohort: $0.cohort.description, offset: $0.offset, active: $0.active, size: $0.size,
                retention: $0.retention)
        }
        return try json(
            Cohorts(
                period: unit, timeZone: calendar.identifier,
                lastObservedPeriod: table.lastObservedPeriod?.description, cohorts: cells))
    }

    func rfm(_ request: Request) async throws -> Response {
        struct Page: Encodable {
            var asOf: String?
            var timeZone: String
            var bins: Int
            var ties: RFMBinning
            var segments: [RFMSegmentSize]
            var total: Int
            var limit: Int
            var offset: Int
            var customers: [CustomerRFM]
        }
        let query = try Query(request)
        let scoring = try RFMRequest(query)
        let limit = try query.int("limit", in: 1...1_000) ?? 100
        let offset = try query.int("offset", in: 0...Int.max) ?? 0
        let ledger = try await ledgers.current()
        let scored = scoring.score(ledger)
        let start = min(offset, scored.rows.count)
        let end = min(start + limit, scored.rows.count)
        let page = (start..<end).map { scored.row($0) }
        return try json(
            Page(
                asOf: scored.asOf?.description, timeZone: scoring.calendar.identifier, bins: scoring.bins,
                ties: scoring.ties, segments: scored.sizes, total: scored.rows.count, limit: limit, offset: offset,
                customers: page))
    }

    func customer(_ request: Request, context: BasicRequestContext) async throws -> Response {
        struct Customer: Encodable {
            var customerId: String
            var currency: String?
            var orders: Int
            var purchases: Int
            var refunds: Int
            var revenue: String
            var purchaseAmount: String
            var refundAmount: String
            var firstPurchase: String?
            var lastPurchase: String?
            var firstOrder: String?
            var lastOrder: String?
            var rfm: CustomerRFM?
        }
        guard let raw = context.parameters.get("id"), let id = raw.removingPercentEncoding, !id.isEmpty else {
            throw APIError.badRequest("the customer id is not valid percent-encoded text")
        }
        let query = try Query(request)
        let scoring = try RFMRequest(query)
        let orders = try await store.orders(ofCustomer: id)
        guard !orders.isEmpty else { throw APIError(.notFound, "no customer \(id)") }
        var summary = CustomerSummary()
        for order in orders { summary.record(timestamp: order.timestamp.secondsSince1970, amount: order.amount) }
        let currency = orders[0].currency
        let digits = currency.minorUnitDigits
        let ledger = try await ledgers.current()
        let scored = scoring.score(ledger)
        let rfm = scored.rows.firstIndex { $0.customerID.utf8.elementsEqual(id.utf8) }.map { scored.row($0) }
        let instant: (Int64?) -> String? = { $0.map { Timestamp(secondsSince1970: $0).description } }
        return try json(
            Customer(
                customerId: id, currency: currency.code, orders: orders.count, purchases: summary.purchases,
                refunds: summary.refunds, revenue: Money.decimalString(summary.revenue(.net), digits: digits),
                purchaseAmount: Money.decimalString(summary.purchaseAmount, digits: digits),
                refundAmount: Money.decimalString(summary.refundAmount, digits: digits),
                firstPurchase: instant(summary.firstPurchase), lastPurchase: instant(summary.lastPurchase),
                firstOrder: orders.first?.timestamp.description, lastOrder: orders.last?.timestamp.description,
                rfm: rfm))
    }

    // MARK: - Answers

    /// The report as one self-contained HTML page (``HTMLReport``).
    func html(_ report: RetentionReport) throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: HTMLReport(report).html)))
    }

    /// A JSON answer: sorted keys, two-space indent; `nil` figures as `null` (as the CLI prints them) unless
    /// `nulls` is false.
    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, nulls: Bool = true) throws -> Response {
        let text: String
        if nulls {
            text = try JSONValue.encode(value).rendered() + "\n"
        } else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            text = String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
        }
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// One customer's RFM values, scores and segment, as `/metrics/rfm` and `/customers/{id}` print them.
struct CustomerRFM: Encodable {
    var customerId: String
    var recencyDays: Int
    var frequency: Int
    var monetary: String
    var monetaryMinorUnits: Int64
    var recencyScore: Int
    var frequencyScore: Int
    var monetaryScore: Int
    var code: String
    var segment: String
}

/// The RFM parameters of a request: `tz`, `bins` (1...100, default 5), `ties` (`share` or `split`).
struct RFMRequest {
    var calendar: PeriodCalendar
    var bins: Int
    var ties: RFMBinning

    init(_ query: Query) throws {
        calendar = try query.calendar()
        bins = try query.int("bins", in: 1...100) ?? 5
        ties = try query.choice("ties", RFMBinning.self) ?? .share
    }

    struct Scored {
        var asOf: CivilDate?
        var rows: [RFMScores.Row]
        var segments: [String]
        var sizes: [RFMSegmentSize]
        var digits: Int

        func row(_ index: Int) -> CustomerRFM {
            let row = rows[index]
            return CustomerRFM(
                customerId: row.customerID, recencyDays: row.recency, frequency: row.frequency,
                monetary: Money.decimalString(row.monetary, digits: digits), monetaryMinorUnits: row.monetary,
                recencyScore: row.recencyScore, frequencyScore: row.frequencyScore, monetaryScore: row.monetaryScore,
                code: row.code, segment: segments[index])
        }
    }

    /// Scores every customer at the day of the last order (in the request's zone), as the report does.
    func score(_ ledger: OrderLedger) -> Scored {
        guard let range = ledger.timestampRange else {
            return Scored(asOf: nil, rows: [], segments: [], sizes: [], digits: 2)
        }
        let asOf = calendar.localDay(of: Timestamp(secondsSince1970: range.upperBound))
        let summary = RFMSummary(ledger: ledger, asOf: asOf, calendar: calendar)
        let scores = RFMScores(summary, bins: bins, binning: ties)
        let segmentation = RFMSegmentation.standard
        return Scored(
            asOf: asOf, rows: scores.rows, segments: segmentation.segments(of: scores),
            sizes: segmentation.sizes(of: scores), digits: ledger.currency?.minorUnitDigits ?? 2)
    }
}

/// A request's query parameters, parsed strictly: a present but malformed value is a 400, never ignored.
struct Query {
    let parameters: [String: String]

    init(_ request: Request) throws {
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters {
            let name = String(key)
            if parameters[name] != nil { throw APIError.badRequest("query parameter \(name) is given twice") }
            parameters[name] = String(value)
        }
        self.parameters = parameters
    }

    /// `tz`: an IANA zone, default UTC.
    func calendar() throws -> PeriodCalendar {
        guard let name = parameters["tz"] else { return .utc }
        guard let calendar = PeriodCalendar(identifier: name) else {
            throw APIError.badRequest("unknown time zone \(name); use an IANA name such as Europe/Berlin")
        }
        return calendar
    }

    /// A `YYYY-MM-DD` day.
    func day(_ name: String) throws -> CivilDate? {
        guard let text = parameters[name] else { return nil }
        let bytes = Array(text.utf8)
        let digits = [0, 1, 2, 3, 5, 6, 8, 9]
        guard bytes.count == 10, bytes[4] == 0x2D, bytes[7] == 0x2D,
            digits.allSatisfy({ (0x30...0x39).contains(bytes[$0]) }),
            let date = CivilDate(
                year: Int(text.prefix(4))!, month: Int(text.dropFirst(5).prefix(2))!, day: Int(text.suffix(2))!)
        else {
            throw APIError.badRequest("\(name) must be a date YYYY-MM-DD that exists, got \(text)")
        }
        return date
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = parameters[name] else { return nil }
        guard let value = Int(text), range.contains(value) else {
            let bound =
                range.upperBound == .max
                ? "at least \(range.lowerBound)" : "in \(range.lowerBound)...\(range.upperBound)"
            throw APIError.badRequest("\(name) must be an integer \(bound), got \(text)")
        }
        return value
    }

    func positiveInt(_ name: String) throws -> Int? { try int(name, in: 1...Int.max) }

    func positiveDouble(_ name: String) throws -> Double? {
        guard let text = parameters[name] else { return nil }
        guard let value = Double(text), value.isFinite, value > 0 else {
            throw APIError.badRequest("\(name) must be a number > 0, got \(text)")
        }
        return value
    }

    func choice<T: RawRepresentable & CaseIterable>(_ name: String, _ type: T.Type) throws -> T?
    where T.RawValue == String {
        guard let text = parameters[name] else { return nil }
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw APIError.badRequest("\(name) must be one of \(allowed), got \(text)")
        }
        return value
    }

    /// `period`: the cohort period, week, month (default), quarter or year.
    func cohortUnit() throws -> PeriodUnit {
        let unit = try choice("period", PeriodUnit.self) ?? .month
        guard unit != .day else {
            throw APIError.badRequest("period must be week, month, quarter or year (day cohorts are too many)")
        }
        return unit
    }
}
