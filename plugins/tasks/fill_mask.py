"""task plugin: fill_mask (to be written)."""
