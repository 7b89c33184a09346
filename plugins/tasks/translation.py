"""task plugin: translation (to be written)."""
