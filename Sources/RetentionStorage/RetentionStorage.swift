@_exported import RetentionMetrics
