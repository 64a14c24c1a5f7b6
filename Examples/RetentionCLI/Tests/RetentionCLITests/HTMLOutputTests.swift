import Foundation
import Testing

@testable import RetentionCLICore

struct HTMLOutputTests {
    @Test func reportRendersTheSelfContainedPage() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("html-\(UUID().uuidString).csv")
        try """
            order_id,customer_id,timestamp,amount
            1,alice,2024-01-05,10.00
            2,alice,2024-02-10,20.00
            3,bob,2024-01-20,15.00
            """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let out = MemorySink()
        let errors = MemorySink()
        let status = await RetentionCommand.run(
            arguments: ["report", file.path, "--format", "html"], output: out, errors: errors)
        #expect(status == 0)
        let html = out.text
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<svg"))
        #expect(html.contains("45.00"))  // revenue
        #expect(!html.contains("<script"))
    }

    @Test func htmlIsRefusedForTables() async {
        let out = MemorySink()
        let errors = MemorySink()
        let status = await RetentionCommand.run(
            arguments: ["rate", "--start", "10", "--new", "1", "--end", "9", "--format", "html"], output: out,
            errors: errors)
        #expect(status == 64)
        #expect(errors.text.contains("--format html is only available for `retention report`"))
    }
}
