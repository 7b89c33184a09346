"""Plugins that each break the plugin API's contract in one way (boundary tests)."""
