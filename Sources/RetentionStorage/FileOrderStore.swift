#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What opening a ``CSVFileOrderStore`` or ``JSONLinesOrderStore`` found at the end of its file and cut away.
///
/// Every append writes its rows followed by a commit marker, in one `write`, then `fsync`s. Bytes after the
/// last complete commit marker belong to a batch whose append never returned (the process or the machine
/// stopped mid-write): opening the store truncates them away, so a batch is applied entirely or not at all.
///
/// ```swift
/// let store = try CSVFileOrderStore(path: "orders.csv")
/// if !store.recovery.isClean {
///     print("discarded \(store.recovery.discardedLines) lines of an unfinished append")
/// }
/// ```
public struct FileStoreRecovery: Sendable, Hashable, Codable {
    /// Bytes cut from the end of the file on open (0 for a clean file).
    public var discardedBytes: Int
    /// Physical lines among them; a last line without its line end (a torn write) counts as one.
    public var discardedLines: Int

    public init(discardedBytes: Int, discardedLines: Int) {
        self.discardedBytes = discardedBytes
        self.discardedLines = discardedLines
    }

    /// Whether nothing was discarded.
    public var isClean: Bool { discardedBytes == 0 }
}

/// The two on-disk dialects of the file stores.
enum FileStoreFormat: Sendable {
    case csv
    case jsonLines

    var name: String { self == .csv ? "CSVFileOrderStore" : "JSONLinesOrderStore" }

    /// The bytes of a newly created file: the header (CSV) and a marker committing zero orders.
    var initialBytes: [UInt8] {
        var bytes: [UInt8] = []
        if self == .csv { CSVOrderWriter.appendHeader(to: &bytes) }
        bytes += marker(orders: 0, currency: nil)
        return bytes
    }

    /// How a marker line starts.
    var markerPrefix: [UInt8] { self == .csv ? Array("#commit,".utf8) : JSONLinesOrderReader.commitPrefix }

    /// `#commit,<orders>[,<code>,<digits>]` or `{"commit":<orders>[,"currency":"<code>","minorUnitDigits":<d>]}`,
    /// with its LF. `orders` counts the data rows of the file before the marker.
    func marker(orders: Int, currency: Currency?) -> [UInt8] {
        var text: String
        switch self {
        case .csv:
            text = "#commit,\(orders)"
            if let currency { text += ",\(currency.code),\(currency.minorUnitDigits)" }
        case .jsonLines:
            text = #"{"commit":"# + "\(orders)"
            if let currency {
                text += #","currency":"\#(currency.code)","minorUnitDigits":\#(currency.minorUnitDigits)"#
            }
            text += "}"
        }
        return Array((text + "\n").utf8)
    }

    /// Parses a marker line (without its line end); `nil` when `line` is not exactly a marker.
    func parseMarker(_ line: ArraySlice<UInt8>) -> (orders: Int, currency: Currency?)? {
        var rest = line
        if rest.last == 0x0D { rest.removeLast() }
        guard rest.starts(with: markerPrefix) else { return nil }
        rest.removeFirst(markerPrefix.count)
        func digits(_ rest: inout ArraySlice<UInt8>, max: Int) -> Int? {
            var value = 0
            var count = 0
            while let byte = rest.first, byte >= 0x30, byte <= 0x39, count < max {
                value = value * 10 + Int(byte - 0x30)
                count += 1
                rest.removeFirst()
            }
            return count == 0 ? nil : value
        }
        func literal(_ text: String, _ rest: inout ArraySlice<UInt8>) -> Bool {
            guard rest.starts(with: text.utf8) else { return false }
            rest.removeFirst(text.utf8.count)
            return true
        }
        func code(_ rest: inout ArraySlice<UInt8>) -> String? {
            let letters = rest.prefix(3)
            guard letters.count == 3, letters.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else { return nil }
            rest.removeFirst(3)
            return String(decoding: letters, as: UTF8.self)
        }
        guard let orders = digits(&rest, max: 18) else { return nil }
        let suffix = self == .csv ? "" : "}"
        if literal(suffix, &rest), rest.isEmpty { return (orders, nil) }
        let (open, middle) = self == .csv ? (",", ",") : (#","currency":""#, #"","minorUnitDigits":"#)
        guard literal(open, &rest), let currencyCode = code(&rest), literal(middle, &rest),
            let minorDigits = digits(&rest, max: 1), minorDigits <= 4, literal(suffix, &rest), rest.isEmpty
        else { return nil }
        return (orders, Currency(currencyCode, minorUnitDigits: minorDigits))
    }

    func appendRow(_ order: Order, to bytes: inout [UInt8]) {
        switch self {
        case .csv: CSVOrderWriter.appendRow(order, to: &bytes)
        case .jsonLines: JSONLinesOrderWriter.appendLine(order, to: &bytes)
        }
    }

    /// Reads the orders of `bytes` (marker lines already blanked), with the line each starts on.
    func readOrders(_ bytes: [UInt8], currency: Currency?) throws(InputError) -> [(order: Order, line: Int)] {
        var options = OrderInputOptions()
        options.exactCurrency = currency
        var result: [(order: Order, line: Int)] = []
        switch self {
        case .csv:
            var reader = try CSVOrderReader(bytes: bytes, options: options)
            while let order = try reader.next() { result.append((order, reader.line)) }
        case .jsonLines:
            var reader = JSONLinesOrderReader(bytes: bytes, options: options)
            while let order = try reader.next() { result.append((order, reader.line)) }
        }
        return result
    }
}

/// The earliest and latest instants the file formats write and read back: 0000-01-01T00:00:00Z and
/// 9999-12-31T23:59:59Z.
let fileStoreTimestamps = Timestamp(secondsSince1970: -62_167_219_200)...Timestamp(secondsSince1970: 253_402_300_799)

/// The file and the in-memory index behind a file store. Not thread-safe: the owning actor serialises access.
final class FileOrderBackend {
    let format: FileStoreFormat
    let path: String
    private(set) var recovery = FileStoreRecovery(discardedBytes: 0, discardedLines: 0)
    private var descriptor: Int32 = -1

    // The index: every order in file order, by id, by customer, and in store order.
    private var rows: [Order] = []
    private var rowOfID: [OrderKey: Int] = [:]
    private var rowsOfCustomer: [OrderKey: [Int]] = [:]
    /// Store order of `rows[0..<sortedRows.count]`; later rows are merged in on the next read.
    private var sortedRows: [Int] = []
    private(set) var storeCurrency: Currency?

    /// Bytes of the file, all committed.
    private var fileSize = 0
    /// Data rows in the file (an adopted file may repeat an identical row; the index keeps it once).
    private var fileRows = 0
    /// Bytes to write before the next batch: for a file the store did not write (no marker yet), a line end if
    /// the file lacks one and a marker committing its existing rows, so that a torn first batch is discarded.
    private var adoptionPrefix: [UInt8]?
    /// Set when a failed append could not be rolled back; the store then refuses further appends.
    private var failure: String?

    /// Opens (or creates) the file, cuts an unfinished append off its end and indexes every order.
    init(path: String, format: FileStoreFormat) throws(StoreError) {
        self.format = format
        self.path = path
        // From here on `deinit` closes the descriptor, whether or not the initialiser throws.
        descriptor = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw FileOrderBackend.ioError(path, "cannot be opened") }
        var bytes = try FileOrderBackend.readAll(descriptor, path: path)
        // An empty file, or one torn while it was being created: (re)write the initial bytes.
        let initial = format.initialBytes
        if bytes.count < initial.count, initial.starts(with: bytes) {
            try FileOrderBackend.truncate(descriptor, to: 0, path: path)
            try FileOrderBackend.writeAll(descriptor, initial, path: path)
            try FileOrderBackend.sync(descriptor, path: path)
            FileOrderBackend.syncDirectory(of: path)
            bytes = initial
        }
        if format == .csv { try FileOrderBackend.checkHeader(bytes, path: path) }
        let scan = FileOrderBackend.scan(bytes, format: format)
        let committedEnd = scan.committedEnd
        if committedEnd < bytes.count {
            var lines = bytes[committedEnd...].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            if bytes.last != 0x0A { lines += 1 }
            try FileOrderBackend.truncate(descriptor, to: committedEnd, path: path)
            try FileOrderBackend.sync(descriptor, path: path)
            recovery = FileStoreRecovery(discardedBytes: bytes.count - committedEnd, discardedLines: lines)
        }
        fileSize = committedEnd
        // Blank the marker lines (keeping their line ends, so line numbers stay true) and read the rows.
        var data: [UInt8] = []
        data.reserveCapacity(committedEnd)
        var start = 0
        for marker in scan.markerLines {
            data += bytes[start..<marker.lowerBound]
            start = marker.upperBound
        }
        data += bytes[start..<committedEnd]
        bytes = []
        let read: [(order: Order, line: Int)]
        do throws(InputError) { read = try format.readOrders(data, currency: scan.currency) } catch {
            throw StoreError(.corruptData, "\(path): \(error)")
        }
        if let last = scan.lastMarkerOrders, last != read.count {
            throw StoreError(
                .corruptData,
                "\(path): the last commit marker counts \(last) orders but the file holds \(read.count) rows "
                    + "(was it edited by another program?)")
        }
        fileRows = read.count
        storeCurrency = scan.currency
        try index(read)
        if scan.lastMarkerOrders == nil {
            adoptionPrefix = data.last.map { $0 == 0x0A ? [] : [0x0A] } ?? []
        }
    }

    deinit { if descriptor >= 0 { _ = close(descriptor) } }

    // MARK: Open

    private struct Scan {
        /// Where the committed content ends.
        var committedEnd: Int
        /// The ranges of marker lines (without their line ends) before `committedEnd`.
        var markerLines: [Range<Int>]
        /// The order count of the last marker; `nil` when the file has none (a file the store did not write).
        var lastMarkerOrders: Int?
        /// The currency the markers record.
        var currency: Currency?
    }

    /// Finds the marker lines (only at record starts: a CSV line break inside quotes does not start a record)
    /// and the end of the committed content.
    private static func scan(_ bytes: [UInt8], format: FileStoreFormat) -> Scan {
        var result = Scan(committedEnd: bytes.count, markerLines: [], lastMarkerOrders: nil, currency: nil)
        var lastMarkerEnd: Int?
        var lineStart = 0
        var inQuotes = false
        let quoteAware = format == .csv
        let hash = format.markerPrefix[0]
        bytes.withUnsafeBufferPointer { buffer in
            for index in 0..<buffer.count {
                let byte = buffer[index]
                if byte == 0x22 && quoteAware {
                    inQuotes.toggle()
                } else if byte == 0x0A && !inQuotes {
                    if buffer[lineStart] == hash, let marker = format.parseMarker(bytes[lineStart..<index]) {
                        result.markerLines.append(lineStart..<index)
                        lastMarkerEnd = index + 1
                        result.lastMarkerOrders = marker.orders
                        if let currency = marker.currency { result.currency = currency }
                    }
                    lineStart = index + 1
                }
            }
        }
        if let lastMarkerEnd {
            result.committedEnd = lastMarkerEnd
        } else if lineStart < bytes.count {
            // No marker: a file written by another program. Its last line may lack a line end (kept), unless
            // it is the torn start of the marker of the store's first append to it (discarded).
            let tail = bytes[lineStart...]
            let prefix = format.markerPrefix
            if tail.starts(with: prefix) || prefix.starts(with: tail) { result.committedEnd = lineStart }
        }
        return result
    }

    private static func checkHeader(_ bytes: [UInt8], path: String) throws(StoreError) {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body.removeFirst(3) }
        let header = Array(CSVOrderWriter.header.utf8)
        guard body.starts(with: header),
            body.dropFirst(header.count).starts(with: [0x0A]) || body.dropFirst(header.count).starts(with: [0x0D])
        else {
            let first = String(decoding: body.prefix { $0 != 0x0A && $0 != 0x0D }.prefix(120), as: UTF8.self)
            throw StoreError(
                .corruptData, "\(path): the header is '\(first)', expected '\(CSVOrderWriter.header)'")
        }
    }

    /// Builds the index from the rows read on open.
    private func index(_ read: [(order: Order, line: Int)]) throws(StoreError) {
        rows.reserveCapacity(read.count)
        for (order, line) in read {
            let place = "\(path), line \(line)"
            if let currency = storeCurrency, currency != order.currency {
                throw StoreError(
                    .corruptData, orderID: order.id,
                    "\(place): order \(order.id) is in \(order.currency.code) but the file is in \(currency.code)")
            }
            storeCurrency = order.currency
            if order.amount == .min {
                throw StoreError(.corruptData, orderID: order.id, "\(place): amount Int64.min is not storable")
            }
            if let row = rowOfID[OrderKey(order.id)] {
                guard OrderBatchRules.identical(rows[row], order) else {
                    throw StoreError(
                        .corruptData, orderID: order.id,
                        "\(place): order id \(order.id) appears again with different content")
                }
                continue
            }
            insert(order)
        }
        sortedRows = rows.indices.sorted { OrderBatchRules.precedes(rows[$0], rows[$1]) }
    }

    private func insert(_ order: Order) {
        let row = rows.count
        rows.append(order)
        rowOfID[OrderKey(order.id)] = row
        rowsOfCustomer[OrderKey(order.customerID), default: []].append(row)
    }

    // MARK: Append

    func append(_ orders: [Order]) throws(StoreError) -> AppendSummary {
        if let failure { throw StoreError(.ioError, "\(path): the store is unusable after \(failure)") }
        let batch = try OrderBatchRules.prepare(orders, storeCurrency: storeCurrency)
        var fresh: [Order] = []
        fresh.reserveCapacity(batch.count)
        for order in batch {
            try FileOrderBackend.checkStorable(order)
            if let row = rowOfID[OrderKey(order.id)] {
                guard OrderBatchRules.identical(rows[row], order) else {
                    throw StoreError(
                        .conflictingDuplicate, orderID: order.id,
                        "order id \(order.id) is already stored with different content")
                }
            } else {
                fresh.append(order)
            }
        }
        guard let first = fresh.first else { return AppendSummary(inserted: 0, duplicatesIgnored: orders.count) }
        let currency = storeCurrency ?? first.currency
        var bytes: [UInt8] = []
        if let adoptionPrefix {
            bytes += adoptionPrefix
            bytes += format.marker(orders: fileRows, currency: storeCurrency)
        }
        for order in fresh { format.appendRow(order, to: &bytes) }
        bytes += format.marker(orders: fileRows + fresh.count, currency: currency)
        do {
            try FileOrderBackend.writeAll(descriptor, bytes, path: path)
            try FileOrderBackend.sync(descriptor, path: path)
        } catch {
            // Take the partial batch back out, so the next batch does not commit it.
            do {
                try FileOrderBackend.truncate(descriptor, to: fileSize, path: path)
                try FileOrderBackend.sync(descriptor, path: path)
            } catch let rollback {
                failure = "a failed append could not be rolled back (\(rollback.description))"
            }
            throw error
        }
        fileSize += bytes.count
        fileRows += fresh.count
        adoptionPrefix = nil
        storeCurrency = currency
        for order in fresh { insert(order) }
        return AppendSummary(inserted: fresh.count, duplicatesIgnored: orders.count - fresh.count)
    }

    /// Orders the file formats cannot write and read back are `invalidOrder`.
    private static func checkStorable(_ order: Order) throws(StoreError) {
        guard fileStoreTimestamps.contains(order.timestamp) else {
            throw StoreError(
                .invalidOrder, orderID: order.id,
                "order \(order.id): timestamp \(order.timestamp.secondsSince1970) s is outside years 0000...9999, "
                    + "which the file formats cannot write")
        }
        let code = order.currency.code.utf8
        guard code.count == 3, code.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
            throw StoreError(
                .invalidOrder, orderID: order.id,
                "order \(order.id): currency code '\(order.currency.code)' is not three letters")
        }
    }

    // MARK: Reads

    /// The store order of every row, merging in the rows appended since the last read.
    private func storeOrder() -> [Int] {
        guard sortedRows.count < rows.count else { return sortedRows }
        let fresh = (sortedRows.count..<rows.count).sorted { OrderBatchRules.precedes(rows[$0], rows[$1]) }
        var merged: [Int] = []
        merged.reserveCapacity(rows.count)
        var old = 0
        var new = 0
        while old < sortedRows.count, new < fresh.count {
            if OrderBatchRules.precedes(rows[fresh[new]], rows[sortedRows[old]]) {
                merged.append(fresh[new])
                new += 1
            } else {
                merged.append(sortedRows[old])
                old += 1
            }
        }
        merged += sortedRows[old...]
        merged += fresh[new...]
        sortedRows = merged
        return merged
    }

    func orders(placedIn range: Range<Timestamp>, after cursor: OrderCursor?, limit: Int) throws(StoreError)
        -> [Order]
    {
        guard limit >= 1 else { throw StoreError(.invalidArgument, "page limit \(limit) is below 1") }
        let sorted = storeOrder()
        var low = 0
        var high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            let order = rows[sorted[mid]]
            let before =
                order.timestamp < range.lowerBound || (cursor.map { !OrderBatchRules.isAfter(order, $0) } ?? false)
            if before { low = mid + 1 } else { high = mid }
        }
        var page: [Order] = []
        var position = low
        while position < sorted.count, page.count < limit {
            let order = rows[sorted[position]]
            guard order.timestamp < range.upperBound else { break }
            page.append(order)
            position += 1
        }
        return page
    }

    func orders(ofCustomer customerID: String) -> [Order] {
        (rowsOfCustomer[OrderKey(customerID)] ?? []).map { rows[$0] }.sorted(by: OrderBatchRules.precedes)
    }

    var count: Int { rows.count }

    func customerSummaries(placedIn range: Range<Timestamp>) -> CustomerSummaries {
        var ids: [String] = []
        var summaries: [CustomerSummary] = []
        for (customer, customerRows) in rowsOfCustomer.sorted(by: { $0.key < $1.key }) {
            var summary = CustomerSummary()
            var any = false
            for row in customerRows {
                let order = rows[row]
                guard range.contains(order.timestamp) else { continue }
                summary.record(timestamp: order.timestamp.secondsSince1970, amount: order.amount)
                any = true
            }
            if any {
                ids.append(customer.value)
                summaries.append(summary)
            }
        }
        return CustomerSummaries(customerIDs: ids, summaries: summaries, currency: ids.isEmpty ? nil : storeCurrency)
    }

    func purchaseActivity(placedIn range: Range<Timestamp>, unit: PeriodUnit, calendar: PeriodCalendar)
        -> PeriodActivity
    {
        var builder = PeriodActivity.Builder(unit: unit, timeZoneIdentifier: calendar.timeZone.identifier)
        for (customer, customerRows) in rowsOfCustomer.sorted(by: { $0.key < $1.key }) {
            var periods = Set<Int64>()
            for row in customerRows {
                let order = rows[row]
                guard order.amount >= 0, range.contains(order.timestamp) else { continue }
                periods.insert(calendar.period(unit, of: order.timestamp).index)
            }
            for period in periods.sorted() { builder.add(customerID: customer.value, periodIndex: period) }
        }
        return builder.build()
    }

    // MARK: System calls

    static func ioError(_ path: String, _ what: String) -> StoreError {
        let message = strerror(errno).map { String(cString: $0) } ?? "error \(errno)"
        return StoreError(.ioError, "\(path) \(what): \(message)")
    }

    private static func readAll(_ descriptor: Int32, path: String) throws(StoreError) -> [UInt8] {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw ioError(path, "cannot be inspected") }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeMutableBytes { raw in
                pread(descriptor, raw.baseAddress! + done, raw.count - done, off_t(done))
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw ioError(path, "cannot be read")
            }
            if count == 0 { break }
            done += count
        }
        if done < bytes.count { bytes.removeLast(bytes.count - done) }
        return bytes
    }

    /// One `write` (repeated only if the system writes part of the buffer) at the end of the file (O_APPEND).
    private static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], path: String) throws(StoreError) {
        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeBytes { raw in write(descriptor, raw.baseAddress! + done, raw.count - done) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ioError(path, "cannot be written")
            }
            done += count
        }
    }

    private static func sync(_ descriptor: Int32, path: String) throws(StoreError) {
        while fsync(descriptor) != 0 {
            if errno == EINTR { continue }
            throw ioError(path, "cannot be synced to disk")
        }
    }

    private static func truncate(_ descriptor: Int32, to size: Int, path: String) throws(StoreError) {
        while ftruncate(descriptor, off_t(size)) != 0 {
            if errno == EINTR { continue }
            throw ioError(path, "cannot be truncated")
        }
    }

    /// Makes a new file's directory entry durable (best effort).
    private static func syncDirectory(of path: String) {
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let descriptor = open(directory, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        _ = close(descriptor)
    }
}
