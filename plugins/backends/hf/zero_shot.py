"""zero_shot (to be written)."""
