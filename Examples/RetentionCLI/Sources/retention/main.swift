import Foundation
import RetentionCLICore

exit(await RetentionCommand.run(arguments: Array(CommandLine.arguments.dropFirst())))
