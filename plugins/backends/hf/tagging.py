"""tagging (to be written)."""
