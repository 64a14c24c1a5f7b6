// RetentionSQLite re-exports RetentionStorage (and through it RetentionMetrics), so `import RetentionSQLite`
// is enough to use SQLiteOrderStore with the OrderStore API.
@_exported import RetentionStorage
