"""qa (to be written)."""
