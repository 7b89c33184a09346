"""fill_mask (to be written)."""
