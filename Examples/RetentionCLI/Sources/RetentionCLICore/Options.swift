import ArgumentParser
import Foundation
import RetentionMetrics
import RetentionStorage

/// How results are written. `html` (a self-contained page with charts) is for `report` only.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, csv, html
}

/// A calendar day `YYYY-MM-DD` on the command line.
struct Day: ExpressibleByArgument, Hashable, CustomStringConvertible {
    var date: CivilDate

    init?(argument: String) {
        let parts = argument.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            let date = CivilDate(year: year, month: month, day: day)
        else { return nil }
        self.date = date
    }

    var description: String { date.description }
    static var defaultValueDescription: String { "YYYY-MM-DD" }
}

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("time-zone"), help: "IANA time zone of every day and period boundary.")
    var timeZone = "UTC"

    @Option(help: "Output format: text, json or csv; html for report (default depends on the subcommand).")
    var format: OutputFormat?

    /// `--format`, or `fallback`; `html` is refused unless the subcommand renders it.
    func outputFormat(default fallback: OutputFormat, allowsHTML: Bool = false) throws -> OutputFormat {
        let chosen = format ?? fallback
        if chosen == .html && !allowsHTML {
            throw ValidationError("--format html is only available for `retention report`")
        }
        return chosen
    }

    @Option(
        name: .customLong("as-of"), help: ArgumentHelp("The last observed day (default: the day of the last order).",
        valueName: "YYYY-MM-DD"))
    var asOf: Day?

    /// The calendar of `--time-zone`.
    var calendar: PeriodCalendar {
        get throws {
            guard let calendar = PeriodCalendar(identifier: timeZone) else {
                throw ValidationError(
                    "unknown time zone '\(timeZone)' (use an IANA name such as UTC or Europe/Berlin)")
            }
            return calendar
        }
    }

    func validate() throws {
        _ = try calendar
    }

    /// `--as-of`, or the local day of the ledger's last order.
    func asOfDay(_ ledger: OrderLedger, calendar: PeriodCalendar) throws -> CivilDate {
        if let asOf { return asOf.date }
        guard let range = ledger.timestampRange else { throw CLIError("the input has no orders") }
        return calendar.localDay(of: Timestamp(secondsSince1970: range.upperBound))
    }
}

/// How the order file is read.
struct InputOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Column preset (standard, shopify, woocommerce) or mapping "
                + "'order_id=Name,customer_id=Email,timestamp=Created at,amount=Total[,currency=Currency]'.",
            valueName: "preset|mapping"))
    var columns = "standard"

    @Option(help: "Currency of amounts without a currency column (ISO code, default USD).")
    var currency: String?

    @Flag(name: .customLong("skip-bad-rows"), help: "Skip malformed rows (count and first errors on stderr).")
    var skipBadRows = false

    func validate() throws {
        _ = try mapping()
        if let currency {
            guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                throw ValidationError("--currency '\(currency)' is not a three-letter currency code")
            }
        }
    }

    func mapping() throws -> ColumnMapping {
        switch columns.lowercased() {
        case "standard": return .standard
        case "shopify": return .shopify
        case "woocommerce": return .wooCommerce
        default: break
        }
        var fields: [String: [String]] = [:]
        for part in columns.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            let key = pair.first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
            guard pair.count == 2, ["order_id", "customer_id", "timestamp", "amount", "currency"].contains(key) else {
                throw ValidationError(
                    "--columns '\(columns)' is neither a preset (standard, shopify, woocommerce) nor a mapping "
                        + "such as 'order_id=Name,customer_id=Email,timestamp=Created at,amount=Total'")
            }
            fields[key] = pair[1].split(separator: "|").map(String.init)
        }
        for required in ["order_id", "customer_id", "timestamp", "amount"] where fields[required] == nil {
            throw ValidationError("--columns mapping is missing '\(required)=<column name>'")
        }
        return ColumnMapping(
            orderID: fields["order_id"]!, customerID: fields["customer_id"]!, timestamp: fields["timestamp"]!,
            amount: fields["amount"]!, currency: fields["currency"] ?? [])
    }

    /// The reader's options: mapping, `calendar`, default currency and bad-row policy.
    func orderInputOptions(calendar: PeriodCalendar) throws -> OrderInputOptions {
        OrderInputOptions(
            mapping: try mapping(), calendar: calendar, defaultCurrency: currency.map { Currency($0) } ?? .usd,
            badRows: skipBadRows ? .skip : .fail)
    }

    /// Loads the file into a ledger; skipped rows are reported on standard error.
    func load(_ path: String, calendar: PeriodCalendar) throws -> OrderLedger {
        let options = try orderInputOptions(calendar: calendar)
        return try reading(path) { () throws(InputError) in try CSVOrderReader.loadLedger(path: path, options: options) }
    }

    /// Runs `read` over the file at `path` (a line on a terminal says what is being read meanwhile), then reports
    /// its duplicates and skipped rows on standard error.
    func reading<T>(_ path: String, _ read: () throws -> (T, LoadReport)) throws -> T {
        // On a terminal, a line says what is being read while the loader runs (it reports no partial counts).
        let progress = Console.errors.isTerminal ? Console.errors : nil
        if let progress {
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
            progress.write("\r reading \(path)" + (size.map { " (\(grouped($0 / 1_000_000)) MB)" } ?? "") + "...")
        }
        let loaded: (T, LoadReport)
        do {
            loaded = try read()
            progress?.write("\r\u{1B}[K")
        } catch let error as InputError {
            progress?.write("\r\u{1B}[K")
            throw CLIError(error.description)
        } catch {
            progress?.write("\r\u{1B}[K")
            throw error
        }
        let report = loaded.1
        if report.duplicatesIgnored > 0 {
            let count = report.duplicatesIgnored
            Console.errors.write(
                "note: \(grouped(count)) row\(count == 1 ? "" : "s") of \(path) repeated an earlier order exactly "
                    + "(same id and content) and \(count == 1 ? "was" : "were") counted once\n")
        }
        if report.skippedRows > 0 {
            var message = "skipped \(report.skippedRows) bad row\(report.skippedRows == 1 ? "" : "s") of "
                + "\(report.rowsRead) in \(path)"
            message += report.errors.count < report.skippedRows ? "; the first \(report.errors.count):\n" : ":\n"
            for error in report.errors { message += "  \(error)\n" }
            Console.errors.write(message)
        }
        return loaded.0
    }
}

/// A bad input or an impossible request, reported as `error: <message>` with exit code 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
