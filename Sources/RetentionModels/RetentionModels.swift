// placeholder: filled in by the RetentionModels work
