import RetentionCLICore

await RetentionCommand.main()
