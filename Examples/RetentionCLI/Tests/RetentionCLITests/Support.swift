import Foundation
import RetentionCLICore

/// What one run of the command printed and returned.
struct CLIResult {
    var code: Int32
    var output: String
    var errors: String
}

/// Runs `retention <arguments>` through argument parsing with in-memory output.
func retention(_ arguments: String...) async -> CLIResult {
    let output = MemorySink()
    let errors = MemorySink()
    let code = await RetentionCommand.run(arguments: arguments, output: output, errors: errors)
    return CLIResult(code: code, output: output.text, errors: errors.text)
}

/// Writes `contents` to a fresh temporary file and returns its path.
func fixture(_ contents: String, name: String = "orders.csv") -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("retention-cli-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
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
