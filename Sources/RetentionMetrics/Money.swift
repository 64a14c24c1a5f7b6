/// An ISO 4217 currency: its code and how many digits its minor unit has (2 for USD and EUR, 0 for JPY, 3 for KWD).
///
/// Amounts are never floating point: an ``Order`` stores its amount as an `Int64` count of minor units
/// (cents for USD), and ``Money/decimalString`` renders it exactly.
public struct Currency: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The three-letter ISO 4217 code, upper case (`"USD"`).
    public var code: String
    /// Digits after the decimal point in the currency's minor unit (0...4).
    public var minorUnitDigits: Int

    /// Creates a currency. `minorUnitDigits` defaults to the ISO 4217 value for well-known codes, 2 otherwise.
    public init(_ code: String, minorUnitDigits: Int? = nil) {
        let upper = code.uppercased()
        self.code = upper
        let digits = minorUnitDigits ?? Currency.knownMinorUnitDigits[upper] ?? 2
        precondition((0...4).contains(digits), "minorUnitDigits must be in 0...4")
        self.minorUnitDigits = digits
    }

    public var description: String { code }

    /// 10^minorUnitDigits: minor units per major unit.
    public var minorUnitsPerMajor: Int64 {
        var result: Int64 = 1
        for _ in 0..<minorUnitDigits { result *= 10 }
        return result
    }

    public static let usd = Currency("USD")
    public static let eur = Currency("EUR")

    static let knownMinorUnitDigits: [String: Int] = [
        "BHD": 3, "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "IRR": 0, "ISK": 0, "JOD": 3, "JPY": 0,
        "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3, "UGX": 0, "UYI": 0,
        "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0, "CLF": 4, "UYW": 4,
    ]
}

/// An exact amount of money: minor units and a currency.
public struct Money: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The amount in minor units (cents for USD). Negative for refunds.
    public var minorUnits: Int64
    public var currency: Currency

    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// The exact decimal rendering with the currency's minor digits: `"1234.50"`, `"-0.05"`, `"1200"` for JPY.
    public var decimalString: String { Money.decimalString(minorUnits, digits: currency.minorUnitDigits) }

    public var description: String { "\(decimalString) \(currency.code)" }

    /// Renders `minorUnits` with `digits` digits after the decimal point, exactly.
    ///
    ///     Money.decimalString(123456, digits: 2)   // "1234.56"
    ///     Money.decimalString(-5, digits: 2)       // "-0.05"
    public static func decimalString(_ minorUnits: Int64, digits: Int) -> String {
        let negative = minorUnits < 0
        // magnitude avoids overflow on Int64.min
        var digitsText = String(minorUnits.magnitude)
        if digits > 0 {
            if digitsText.count <= digits {
                digitsText = String(repeating: "0", count: digits - digitsText.count + 1) + digitsText
            }
            digitsText.insert(".", at: digitsText.index(digitsText.endIndex, offsetBy: -digits))
        }
        return negative ? "-" + digitsText : digitsText
    }
}
