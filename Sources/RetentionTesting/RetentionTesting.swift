// placeholder: filled in by the RetentionTesting work
