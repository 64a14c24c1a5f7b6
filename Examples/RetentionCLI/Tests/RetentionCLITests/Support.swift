import Foundation
import RetentionCLICore
import RetentionMetrics
import RetentionModels
import RetentionStorage

/// What one run of the command printed and returned.
struct CLIResult {
    var code: Int32
    var output: String
    var errors: String
}

/// Runs `retention <arguments>` through argument parsing with in-memory output.
func retention(_ arguments: String...) async -> CLIResult {
    await retention(arguments: arguments)
}

/// Runs `retention <arguments>` with the arguments as an array.
func retention(arguments: [String]) async -> CLIResult {
    let output = MemorySink()
    let errors = MemorySink()
    let code = await RetentionCommand.run(arguments: arguments, output: output, errors: errors)
    return CLIResult(code: code, output: output.text, errors: errors.text)
}

/// The directory that holds every fixture of this test process, removed when the process exits (each test's
/// files are in a fresh subdirectory of it).
let scratchDirectory: URL = {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("retention-cli-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(at: scratchDirectory) }
    return directory
}()

/// A fresh, empty directory inside ``scratchDirectory``.
func freshDirectory() -> URL {
    let directory = scratchDirectory.appendingPathComponent(UUID().uuidString)
    try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

/// Writes `contents` to a fresh temporary file and returns its path.
func fixture(_ contents: String, name: String = "orders.csv") -> String {
    let directory = freshDirectory()
    let url = directory.appendingPathComponent(name)
    try! contents.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

/// Examples/Data/cdnow.csv.
let cdnowPath = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Data/cdnow.csv").path

/// Parses a JSON object.
func jsonObject(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
}

func rounded(_ value: Any?, _ places: Int) -> Double? {
    guard let value = value as? Double else { return nil }
    let scale = pow(10, Double(places))
    return (value * scale).rounded() / scale
}

/// lifetimes' own test fixture (`summary_data_from_transaction_data`): three customers, early 2015.
let lifetimesTinyFixture = """
    order_id,customer_id,timestamp,amount
    1,1,2015-02-01,10.00
    2,1,2015-02-06,20.00
    3,2,2015-01-01,5.00
    4,3,2015-01-01,1.00
    5,3,2015-01-02,2.00
    6,3,2015-01-05,3.00
    """

/// The CDNOW calibration split (to 1997-09-30, holdout to 1998-06-30, weeks) and the BG/NBD and Gamma-Gamma fits
/// `predict` makes on it, computed with the library directly: the command fits on the customers sorted by id bytes.
func cdnowCalibrationFits() throws -> (
    split: CalibrationHoldout<String>, bgnbd: BGNBDModel, gammaGamma: GammaGammaModel
) {
    let (ledger, _) = try CSVOrderReader.loadLedger(path: cdnowPath)
    let split = try LedgerInput.calibrationHoldout(
        ledger, calendar: .utc, calibrationEnd: CivilDate(year: 1997, month: 9, day: 30)!,
        observationEnd: CivilDate(year: 1998, month: 6, day: 30)!, unit: .week)
    let observations = split.rows.sorted { $0.customer.utf8.lexicographicallyPrecedes($1.customer.utf8) }
        .map(\.calibration)
    return (split, BGNBDModel.fit(try BTYDData(observations)).model, try GammaGammaModel.fit(observations).model)
}
