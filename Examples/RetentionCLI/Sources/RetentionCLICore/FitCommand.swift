import ArgumentParser
import Foundation
import RetentionMetrics
import RetentionModels
import RetentionStorage

extension LedgerInput.Unit: @retroactive ExpressibleByArgument {}

/// The calibration data of `fit` and `predict`: observations up to the calibration end (inclusive).
///
/// The rows are sorted by customer id (UTF-8 bytes), so that the fit does not depend on the order of the input:
/// a file and a store holding the same orders (the store reads them by time) give the same estimates to the
/// last bit, and `predict` lists customers in the same order as `summary` and `rfm`.
struct ModelInput {
    var calibrationEnd: CivilDate
    var observationEnd: CivilDate
    /// One row per customer who bought by the calibration end, ascending by customer id bytes.
    var rows: [CalibrationHoldout<String>.Row]
    /// The rows' calibration observations, in row order.
    var observations: [BTYDObservation] { rows.map(\.calibration) }

    init(
        source: OrderSource, unit: LedgerInput.Unit, calibrationEnd: Day?, global: GlobalOptions,
        input: InputOptions
    ) async throws {
        let calendar = try global.calendar
        let ledger = try await source.ledger(input: input, calendar: calendar)
        observationEnd = try global.asOfDay(ledger, calendar: calendar)
        self.calibrationEnd = calibrationEnd?.date ?? observationEnd
        guard self.calibrationEnd <= observationEnd else {
            throw ValidationError("--calibration-end \(self.calibrationEnd) is after the as-of day \(observationEnd)")
        }
        let split = try LedgerInput.calibrationHoldout(
            ledger, calendar: calendar, calibrationEnd: self.calibrationEnd, observationEnd: observationEnd,
            unit: unit)
        rows = split.rows.sorted { $0.customer.utf8.lexicographicallyPrecedes($1.customer.utf8) }
        guard !rows.isEmpty else { throw CLIError("no customer bought by \(self.calibrationEnd)") }
    }

    /// Runs a model step; an error about one observation names the customer (`customer 1042: Gamma-Gamma needs a
    /// monetary value > 0 ...`) instead of the observation's position.
    func namingCustomers<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ModelError {
            guard let index = error.index, rows.indices.contains(index) else { throw error }
            let prefix = "observation \(index): "
            let message = error.description.hasPrefix(prefix)
                ? String(error.description.dropFirst(prefix.count)) : error.description
            throw CLIError("customer \(rows[index].customer): \(message) [\(error.code)]")
        }
    }
}

/// `retention fit`: maximum-likelihood fit of a BTYD model.
struct FitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit", abstract: "Fit BG/NBD, Pareto/NBD or Gamma-Gamma to the calibration data.")

    enum Model: String, ExpressibleByArgument, CaseIterable {
        case bgnbd, paretonbd, gammagamma
    }

    @OptionGroup var source: OrderSource
    @Option(help: "bgnbd, paretonbd or gammagamma.") var model: Model
    @Option(help: "Time unit of the model: week (days / 7) or day.") var unit: LedgerInput.Unit = .week
    @Option(name: .customLong("calibration-end"), help: "Last calibration day (default: the as-of day).")
    var calibrationEnd: Day?
    @OptionGroup var global: GlobalOptions
    @OptionGroup var input: InputOptions

    func run() async throws {
        let data = try await ModelInput(
            source: source, unit: unit, calibrationEnd: calibrationEnd, global: global, input: input)
        let observations = data.observations
        let parameters: JSONValue
        let standardErrors: JSONValue
        let diagnostics: FitDiagnostics
        switch model {
        case .bgnbd:
            let fit = BGNBDModel.fit(try data.namingCustomers { try BTYDData(observations) })
            (parameters, standardErrors, diagnostics) =
                (try .encode(fit.model), try fit.standardErrors.map { try .encode($0) } ?? .null, fit.diagnostics)
        case .paretonbd:
            let fit = ParetoNBDModel.fit(try data.namingCustomers { try BTYDData(observations) })
            (parameters, standardErrors, diagnostics) =
                (try .encode(fit.model), try fit.standardErrors.map { try .encode($0) } ?? .null, fit.diagnostics)
        case .gammagamma:
            let fit = try data.namingCustomers { try GammaGammaModel.fit(observations) }
            (parameters, standardErrors, diagnostics) =
                (try .encode(fit.model), try fit.standardErrors.map { try .encode($0) } ?? .null, fit.diagnostics)
            if fit.correlationWarning, let correlation = fit.frequencyMonetaryCorrelation {
                Console.errors.write(
                    "warning: frequency and monetary value are correlated (r = \(formatted(correlation))); "
                        + "Gamma-Gamma assumes they are independent\n")
            }
        }
        let out = BufferedWriter()
        defer { out.flush() }
        switch try global.outputFormat(default: .text) {
        case .json:
            out.line(
                JSONValue.object([
                    "model": .string(model.rawValue), "parameters": parameters,
                    "logLikelihood": .double(diagnostics.logLikelihood), "standardErrors": standardErrors,
                    "converged": .bool(diagnostics.converged), "customers": .int(diagnostics.customers),
                ]).rendered())
        case .csv:
            var table = Table(columns: ["parameter", "estimate", "standard_error"])
            if case .object(let values) = parameters {
                for name in values.keys.sorted() {
                    table.rows.append([.text(name), cell(values[name]), cell(member(standardErrors, name))])
                }
            }
            table.writeCSV(to: out)
        case .text, .html:  // html is refused by outputFormat(default:)
            let names = ["bgnbd": "BG/NBD", "paretonbd": "Pareto/NBD", "gammagamma": "Gamma-Gamma"]
            out.line(
                "\(names[model.rawValue]!) fit on \(diagnostics.customers) customers, \(unit.rawValue)s, "
                    + "calibration to \(data.calibrationEnd)")
            var table = Table(columns: ["parameter", "estimate", "std. error"])
            if case .object(let values) = parameters {
                for name in values.keys.sorted() {
                    table.rows.append([.text(name), cell(values[name]), cell(member(standardErrors, name))])
                }
            }
            table.writeText(to: out)
            out.line("log-likelihood  \(String(format: "%.3f", diagnostics.logLikelihood))")
            out.line("converged       \(diagnostics.converged ? "yes" : "no")")
        }
    }

    private func member(_ value: JSONValue, _ name: String) -> JSONValue? {
        if case .object(let members) = value { return members[name] }
        return nil
    }

    private func cell(_ value: JSONValue?) -> Cell {
        if case .number(let text) = value, let number = Double(text) { return .number(number) }
        return .missing
    }
}

/// `retention predict`: per-customer predictions from BG/NBD and Gamma-Gamma.
struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "P(alive), expected purchases, expected spend and CLV per customer (BG/NBD + Gamma-Gamma).",
        discussion: """
            Both models are fitted on the purchases up to --calibration-end (default: the as-of day); every \
            customer who bought by then gets a row. expected_value is Gamma-Gamma's conditional expected spend per \
            purchase (the population mean for customers without repeat purchases). clv is lifetimes' discrete \
            monthly form over round(horizon / 4.345 weeks) months with --discount-rate per month.
            """)

    @OptionGroup var source: OrderSource
    @Option(help: "Time unit of the models: week (days / 7) or day.") var unit: LedgerInput.Unit = .week
    @Option(name: .customLong("calibration-end"), help: "Last calibration day (default: the as-of day).")
    var calibrationEnd: Day?
    @Option(name: .customLong("horizon-weeks"), help: "Prediction horizon in weeks.") var horizonWeeks: Double
    @Option(name: .customLong("discount-rate"), help: "Monthly discount rate of the CLV (lifetimes' default).")
    var discountRate: Double = 0.01
    @OptionGroup var global: GlobalOptions
    @OptionGroup var input: InputOptions

    func validate() throws {
        guard horizonWeeks > 0, horizonWeeks.isFinite else { throw ValidationError("--horizon-weeks must be > 0") }
        guard discountRate > -1 else { throw ValidationError("--discount-rate must be > -1") }
    }

    /// The CLV horizon in whole months: the horizon in model units over lifetimes' units per month.
    static func months(horizonWeeks: Double, unit: LedgerInput.Unit) -> Int {
        Int((horizonWeeks * 7 / unit.daysPerPeriod / unit.clvTimeUnit.perMonth).rounded())
    }

    func run() async throws {
        let data = try await ModelInput(
            source: source, unit: unit, calibrationEnd: calibrationEnd, global: global, input: input)
        let observations = data.observations
        let transactions = BGNBDModel.fit(try data.namingCustomers { try BTYDData(observations) }).model
        let spend = try data.namingCustomers { try GammaGammaModel.fit(observations).model }
        let horizon = horizonWeeks * 7 / unit.daysPerPeriod
        let months = PredictCommand.months(horizonWeeks: horizonWeeks, unit: unit)
        var table = Table(columns: ["customer_id", "p_alive", "expected_purchases", "expected_value", "clv"])
        table.rows.reserveCapacity(data.rows.count)
        for row in data.rows {
            let customer = row.calibration
            table.rows.append([
                .text(row.customer),
                .optional(transactions.probabilityAlive(customer)),
                .optional(transactions.conditionalExpectedPurchases(in: horizon, for: customer)),
                .optional(
                    spend.conditionalExpectedAverageValue(
                        frequency: customer.frequency, monetaryValue: customer.monetaryValue)),
                .optional(
                    CLV.customerLifetimeValue(
                        transactions: transactions, spend: spend, customer: customer, months: months,
                        monthlyDiscountRate: discountRate, timeUnit: unit.clvTimeUnit)),
            ])
        }
        let out = BufferedWriter()
        defer { out.flush() }
        table.write(try global.outputFormat(default: .csv), to: out)
    }
}
