import ArgumentParser
import RetentionMetrics

public struct RetentionCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Retention metrics from an online shop's order history.",
        subcommands: []
    )
    public init() {}
}
