"""task plugin: zero_shot (to be written)."""
