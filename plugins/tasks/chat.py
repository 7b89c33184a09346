"""task plugin: chat (to be written)."""
