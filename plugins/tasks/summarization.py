"""task plugin: summarization (to be written)."""
