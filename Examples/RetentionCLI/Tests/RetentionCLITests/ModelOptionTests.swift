import Foundation
import RetentionMetrics
import RetentionModels
import RetentionStorage
import Testing

@testable import RetentionCLICore

/// The models' options end to end: Pareto/NBD and Gamma-Gamma output, the discount rate, the models' input.
struct ModelOptionTests {
    /// `retention fit` on CDNOW's calibration period as JSON: the whole object and its parameters.
    static func fitCDNOW(_ model: String) async -> (fit: [String: Any], parameters: [String: Any]) {
        let result = await retention(
            "fit", cdnowPath, "--model", model, "--calibration-end", "1997-09-30", "--format", "json")
        #expect(result.code == 0, "\(result.errors)")
        let fit = jsonObject(result.output)
        return (fit, fit["parameters"] as? [String: Any] ?? [:])
    }

    @Test func paretoNBDOnCDNOWMatchesThePublishedFit() async {
        let (fit, parameters) = await Self.fitCDNOW("paretonbd")
        #expect(Set(parameters.keys) == ["r", "alpha", "s", "beta"])
        #expect(rounded(parameters["r"], 3) == 0.553)
        #expect(rounded(parameters["s"], 3) == 0.606)
        #expect(abs((parameters["alpha"] as? Double ?? 0) - 10.578) < 0.01)
        #expect(abs((parameters["beta"] as? Double ?? 0) - 11.669) < 0.03)
        #expect(rounded(fit["logLikelihood"], 1) == -9595.0)
        #expect(fit["model"] as? String == "paretonbd")
        #expect(fit["converged"] as? Bool == true)
        #expect(Set((fit["standardErrors"] as? [String: Any] ?? [:]).keys) == ["r", "alpha", "s", "beta"])
    }

    @Test func gammaGammaOnCDNOWMatchesThePublishedFit() async {
        let (fit, parameters) = await Self.fitCDNOW("gammagamma")
        #expect(Set(parameters.keys) == ["p", "q", "gamma"])
        #expect(rounded(parameters["p"], 2) == 6.25)
        #expect(rounded(parameters["q"], 2) == 3.74)
        #expect(rounded(parameters["gamma"], 2) == 15.44)
        #expect(fit["customers"] as? Int == 946)
    }

    @Test func discountRateEntersTheCLV() async throws {
        let result = await retention(
            "predict", cdnowPath, "--calibration-end", "1997-09-30", "--horizon-weeks", "39", "--discount-rate", "0.05")
        #expect(result.code == 0, "\(result.errors)")
        let (split, bgnbd, gammaGamma) = try cdnowCalibrationFits()
        let customer = try #require(split.rows.first { $0.customer == "1" }).calibration
        let clv = try #require(
            CLV.customerLifetimeValue(
                transactions: bgnbd, spend: gammaGamma, customer: customer, months: 9, monthlyDiscountRate: 0.05,
                timeUnit: .weeks))
        let undiscounted = try #require(
            CLV.customerLifetimeValue(
                transactions: bgnbd, spend: gammaGamma, customer: customer, months: 9, monthlyDiscountRate: 0,
                timeUnit: .weeks))
        #expect(clv < undiscounted)
        let line = try #require(result.output.split(separator: "\n").first { $0.hasPrefix("1,") })
        #expect(line.hasSuffix(",\(clv)"))
    }

    /// A refund between a customer's first and second purchase days goes into the first day's sum for the models
    /// (the purchase day before it), so the repeat spend is the second day's 20.00 alone.
    @Test func modelInputIsWhatTheModelsFitOn() async {
        let path = fixture(
            """
            order_id,customer_id,timestamp,amount
            1,x,2024-01-01,10.00
            2,x,2024-01-03,-4.00
            3,x,2024-01-10,20.00
            4,y,2024-01-08,7.00
            """)
        let weeks = await retention("summary", path, "--model-input", "--as-of", "2024-01-15")
        #expect(weeks.code == 0, "\(weeks.errors)")
        #expect(
            weeks.output == """
                customer_id,frequency,recency,T,monetary_value
                x,1,\(9.0 / 7),2.0,20.0
                y,0,0.0,1.0,0.0

                """)
        let days = await retention("summary", path, "--model-input", "--unit", "day", "--as-of", "2024-01-15")
        #expect(days.output.contains("\nx,1,9.0,14.0,20.0\ny,0,0.0,7.0,0.0\n"))
        let calibration = await retention(
            "summary", path, "--model-input", "--calibration-end", "2024-01-05", "--as-of", "2024-01-15")
        #expect(
            calibration.output == """
                customer_id,frequency,recency,T,monetary_value
                x,0,0.0,\(4.0 / 7),0.0

                """)
        let misuse = await retention("summary", path, "--calibration-end", "2024-01-05")
        #expect(misuse.code != 0)
        #expect(misuse.errors.contains("--calibration-end needs --model-input"))
    }
}

struct ModelErrorTests {
    /// Customer "b"'s repeat day is all refund (net -3.00): Gamma-Gamma cannot take it, and the error says who.
    @Test func gammaGammaNamesTheCustomerWithANonPositiveRepeatSpend() async {
        let path = fixture(
            """
            order_id,customer_id,timestamp,amount
            1,a,2024-01-01,10.00
            2,a,2024-01-09,12.00
            3,b,2024-01-02,10.00
            4,b,2024-01-05,0.00
            5,b,2024-01-05,-3.00
            6,c,2024-01-03,4.00
            7,c,2024-01-08,6.00
            """)
        let result = await retention("fit", path, "--model", "gammagamma", "--as-of", "2024-01-15")
        #expect(result.code == 1)
        #expect(
            result.errors
                == "error: customer b: Gamma-Gamma needs a monetary value > 0 for repeat buyers, got -3.0 "
                + "[nonPositiveMonetaryValue]\n")
    }
}
