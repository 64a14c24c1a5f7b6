import ArgumentParser
import RetentionMetrics

/// `retention`: retention metrics from an order file.
public struct RetentionCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Retention metrics from an online shop's order history.",
        subcommands: [
            RateCommand.self, ReportCommand.self, SummaryCommand.self, RFMCommand.self, CohortsCommand.self,
            FitCommand.self, PredictCommand.self, GenerateCommand.self,
        ]
    )

    public init() {}

    /// Parses and runs a command line, writing to `output` and `errors`.
    ///
    /// Errors are one line on `errors`, `error: <message>`; the result is the exit code: 0 on success, 1 for bad
    /// input (an unreadable file, a bad row, an undefined computation), 64 for a usage error.
    ///
    /// - Parameters:
    ///   - arguments: The arguments after the program name.
    ///   - output: Where results go (standard output by default; a ``MemorySink`` in tests).
    ///   - errors: Where diagnostics go (standard error by default).
    /// - Returns: The exit code.
    public static func run(
        arguments: [String], output: any OutputSink = StandardStream.output,
        errors: any OutputSink = StandardStream.error
    ) async -> Int32 {
        await Console.$output.withValue(output) {
            await Console.$errors.withValue(errors) {
                await runHere(arguments)
            }
        }
    }

    private static func runHere(_ arguments: [String]) async -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
            return 0
        } catch let error as CLIError {
            Console.errors.write("error: \(error.description)\n")
            return 1
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                let text = fullMessage(for: error)
                if !text.isEmpty { Console.output.write(text + "\n") }
                return 0
            }
            var message = message(for: error)
            if message.hasPrefix("Error: ") { message.removeFirst(7) }
            Console.errors.write("error: \(message)\n")
            return code.rawValue
        }
    }
}
