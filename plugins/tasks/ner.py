"""task plugin: ner (to be written)."""
