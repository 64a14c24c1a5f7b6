// placeholder: filled in by the RetentionSQLite work
