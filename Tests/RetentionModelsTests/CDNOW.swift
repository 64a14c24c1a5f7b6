import Foundation
import RetentionMetrics
import RetentionModels
import Testing

/// The CDNOW sample as day-level purchases, and the lifetimes-convention split used by the model tests.
enum CDNOW {
    static let calibrationEnd = CivilDate(year: 1997, month: 9, day: 30)!.daysSince1970
    static let observationEnd = CivilDate(year: 1998, month: 6, day: 30)!.daysSince1970

    static let purchases: [DatedPurchase<Int>] = {
        let url = Bundle.module.url(forResource: "CDNOW_sample", withExtension: "txt", subdirectory: "Fixtures")!
        let text = try! String(contentsOf: url, encoding: .utf8)
        var result: [DatedPurchase<Int>] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let f = line.split(whereSeparator: \.isWhitespace)
            guard f.count == 5, let id = Int(f[1]), let ymd = Int(f[2]), let value = Double(f[4]) else { continue }
            let date = CivilDate(year: ymd / 10000, month: ymd / 100 % 100, day: ymd % 100)!
            result.append(DatedPurchase(customer: id, day: date.daysSince1970, amount: value))
        }
        return result
    }()

    /// Calibration to 1997-09-30, holdout to 1998-06-30, weeks (days / 7).
    static let split: CalibrationHoldout<Int> = try! CalibrationHoldout(
        purchases: purchases, calibrationEnd: calibrationEnd, observationEnd: observationEnd, daysPerPeriod: 7)

    static let data: BTYDData = try! BTYDData(split.observations)

    /// The precise BG/NBD MLE (field guide) and lifetimes 0.11.3's fits on the same data.
    static let bgnbdMLE = BGNBDModel(r: 0.2425945, alpha: 4.4136019, a: 0.7929199, b: 2.4258881)
    static let bgnbdPaper = BGNBDModel(r: 0.243, alpha: 4.414, a: 0.793, b: 2.426)
    static let paretoLifetimes = ParetoNBDModel(
        r: 0.5532591360220152, alpha: 10.577325184000768, s: 0.6062319366849129, beta: 11.668736640724243)
    static let gammaGammaLifetimes = GammaGammaModel(
        p: 6.249572277635238, q: 3.7442246747584367, gamma: 15.443521018364557)
}

/// |a - b| <= tolerance, with both values in the failure message.
func close(_ a: Double?, _ b: Double, _ tolerance: Double) -> Bool {
    guard let a else { return false }
    return abs(a - b) <= tolerance
}

/// Rounds to `places` decimals (for "to 3 decimals" checks against published tables).
func rounded(_ v: Double, _ places: Int) -> Double {
    let s = pow(10, Double(places))
    return (v * s).rounded() / s
}
