"""task plugin: qa (to be written)."""
